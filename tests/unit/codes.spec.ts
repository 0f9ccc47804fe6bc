import { test, expect } from '@playwright/test';
import {
  ALERT_CODES,
  ALERT_TYPES,
  Alert,
  AlertType,
  Code,
  STATUS_CODES,
  alertName,
  isSuccessOrAccepted,
  statusClass,
  statusName,
} from '../../harness/syncml/codes';

// Catalogue 3.4 and 3.5, listed here by hand so that the generator is checked against an independent reading.
const CATALOGUE_ALERTS = ['1100', '1101', '1102', '1103', '1104', '1200', '1201', '1222', '1223', '1224', '1225', '1226'];
const CATALOGUE_STATUSES = [
  '200', '202', '212', '213', '214', '215', '216',
  '400', '401', '403', '404', '405', '406', '407', '408', '412', '413', '414', '415', '416', '418', '420', '424', '425',
  '500', '503', '505', '507', '510', '513', '516', '517',
];

test.describe('SyncML codes (catalogue 3.4, 3.5)', () => {
  test('every alert code of 3.4 is present, the 1100–1104 range expanded per code', () => {
    expect(ALERT_CODES.map((a) => a.code)).toEqual(CATALOGUE_ALERTS);
    for (const code of ['1100', '1104']) expect(ALERT_CODES.find((a) => a.code === code)?.range).toBe('1100–1104');
    expect(ALERT_CODES.find((a) => a.code === '1201')?.range).toBeUndefined();
    expect(alertName('1201')).toBe('CLIENT-INITIATED MGMT');
    expect(alertName('1222')).toBe('NEXT MESSAGE');
    expect(alertName('1227')).toBeUndefined();
    expect(ALERT_CODES.find((a) => a.code === '1226')).toMatchObject({ direction: 'client→server', windows: 'sent' });
  });

  test('every status code of 3.5 is present with its name', () => {
    expect(STATUS_CODES.map((s) => s.code)).toEqual(CATALOGUE_STATUSES);
    expect(statusName('200')).toBe('OK');
    expect(statusName('418')).toBe('Already exists');
    expect(statusName('517')).toBe('Atomic response too large to fit');
    expect(statusName('299')).toBeUndefined();
  });

  test('the named constants cover exactly the catalogued codes', () => {
    expect(Object.values(Code).sort()).toEqual([...CATALOGUE_STATUSES].sort());
    expect(Object.values(Alert).sort()).toEqual([...CATALOGUE_ALERTS].sort());
    expect(Alert).toMatchObject({
      ServerInitiated: '1200',
      ClientInitiated: '1201',
      NextMessage: '1222',
      SessionAbort: '1223',
      ClientEvent: '1224',
      NoEndOfData: '1225',
      Generic: '1226',
    });
    expect(Code).toMatchObject({ Ok: '200', Accepted: '202', ChunkedItemAccepted: '213', SizeMismatch: '424', AtomicFailed: '507' });
    for (const [name, code] of Object.entries(Code)) expect(statusName(code), name).toBeDefined();
  });

  test('the Windows alert Type strings of 3.4 have constants', () => {
    expect(ALERT_TYPES.map((t) => t.type).sort()).toEqual(Object.values(AlertType).sort());
    expect(ALERT_TYPES.find((t) => t.type === AlertType.LoginStatus)?.data).toBe('`user`, `others`, `none`');
  });

  test('MDM-STS-023: 200/212/214 success, 202/213 accepted, 215 not executed, 216 rolled back', () => {
    expect(statusClass('200')).toBe('success');
    expect(statusClass('212')).toBe('success');
    expect(statusClass('214')).toBe('success');
    expect(statusClass('202')).toBe('accepted');
    expect(statusClass('213')).toBe('accepted');
    expect(statusClass('215')).toBe('not-executed');
    expect(statusClass('216')).toBe('rolled-back');
  });

  test('MDM-STS-023: 202 is never a failure', () => {
    expect(isSuccessOrAccepted('202')).toBe(true);
    expect(['originator-error', 'recipient-error', 'unknown']).not.toContain(statusClass('202'));
  });

  test('MDM-STS-023: 4xx originator errors, 5xx recipient errors, catalogued or not', () => {
    for (const code of CATALOGUE_STATUSES.filter((c) => c.startsWith('4'))) expect(statusClass(code), code).toBe('originator-error');
    for (const code of CATALOGUE_STATUSES.filter((c) => c.startsWith('5'))) expect(statusClass(code), code).toBe('recipient-error');
    expect(statusClass('499')).toBe('originator-error');
    expect(statusClass('599')).toBe('recipient-error');
    for (const code of ['401', '500', '507', '516']) expect(isSuccessOrAccepted(code), code).toBe(false);
  });

  test('every catalogued status has a class other than unknown', () => {
    for (const { code } of STATUS_CODES) expect(statusClass(code), code).not.toBe('unknown');
  });

  test('codes are compared as wire text, never coerced', () => {
    for (const code of ['201', '299', '101', '300', '0200', ' 200', '200 ', '2OO', '', '600', '40', '4000']) {
      expect(statusClass(code), JSON.stringify(code)).toBe('unknown');
    }
  });
});
