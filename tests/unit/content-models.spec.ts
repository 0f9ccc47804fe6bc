import { expect, test } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSyncML } from '../../harness/syncml';

const SAMPLES = join(__dirname, '../../fixtures/messages');
const sample = (name: string) => readFileSync(join(SAMPLES, name), 'utf8');
const deviationsOf = (xml: string) => parseSyncML(xml).deviations.map((d) => `${d.id} ${d.path}`);

test.describe('content models pass the catalogue skeletons (3.7) and a Windows package 1', () => {
  for (const file of readdirSync(SAMPLES).filter((f) => f.endsWith('.xml'))) {
    test(`${file} conforms`, () => {
      expect(parseSyncML(sample(file)).deviations).toEqual([]);
    });
  }
});

test.describe('content models fail misordered messages', () => {
  test('SyncHdr children out of order (MDM-HDR-001)', () => {
    const xml = sample('a-package1.xml').replace('<SessionID>4A</SessionID><MsgID>1</MsgID>', '<MsgID>1</MsgID><SessionID>4A</SessionID>');
    const [d] = parseSyncML(xml).deviations;
    expect(d).toEqual({ id: 'MDM-HDR-001', path: '/SyncHdr/SessionID', message: expect.stringContaining('SessionID comes after MsgID') });
  });

  test('Status in the order MS-MDM prints it (Data before TargetRef) breaks the DTD order (MDM-STS-001, A-04)', () => {
    const xml = sample('d-close.xml').replace('<Data>200</Data></Status>', '<Data>200</Data><TargetRef>./A</TargetRef></Status>');
    expect(deviationsOf(xml)).toEqual(['MDM-STS-001 /SyncBody/Status/TargetRef']);
  });

  test('Chal after Data in a Status (MDM-STS-001)', () => {
    const xml = sample('e-md5-challenge.xml').replace(/(<Chal>[\s\S]*<\/Chal>)\s*(<Data>407<\/Data>)/, '$2$1');
    expect(deviationsOf(xml)).toEqual(['MDM-STS-001 /SyncBody/Status[1]/Chal']);
  });

  test('Item children out of order: Data before Target, MoreData before Data (MDM-XML-011)', () => {
    const xml = sample('g-large-object-first-chunk.xml').replace('<Data>first chunk</Data><MoreData/>', '<MoreData/><Data>first chunk</Data>');
    expect(deviationsOf(xml)).toEqual(['MDM-XML-011 /SyncBody/Replace/Item/Data']);
  });

  test('a command after Final (MDM-XML-004)', () => {
    const xml = sample('h-abort.xml').replace('<Alert><CmdID>2</CmdID><Data>1223</Data></Alert>\n    <Final/>', '<Final/><Alert><CmdID>2</CmdID><Data>1223</Data></Alert>');
    expect(deviationsOf(xml)).toEqual(['MDM-XML-004 /SyncBody/Alert']);
  });

  test('Results in the Windows shape (Cmd present) is accepted, Meta before CmdRef is not (MDM-RES-001, A-05)', () => {
    expect(deviationsOf(sample('c-package3.xml'))).toEqual([]);
    const xml = sample('c-package3.xml').replace('<Results><CmdID>7</CmdID>', '<Results><CmdID>7</CmdID><Meta><Format xmlns="syncml:metinf">chr</Format></Meta>');
    expect(deviationsOf(xml)).toEqual(['MDM-RES-001 /SyncBody/Results/MsgRef', 'MDM-RES-001 /SyncBody/Results/CmdRef', 'MDM-RES-001 /SyncBody/Results/Cmd']);
  });
});

test.describe('content models fail incomplete messages', () => {
  test('a command without CmdID (MDM-ID-001)', () => {
    const xml = sample('a-package1.xml').replace('<Alert><CmdID>2</CmdID><Data>1201</Data></Alert>', '<Alert><Data>1201</Data></Alert>');
    expect(deviationsOf(xml)).toEqual(['MDM-ID-001 /SyncBody/Alert[1]/CmdID']);
  });

  test('a header without VerDTD, VerProto or SessionID (MDM-HDR-002, MDM-HDR-003, MDM-HDR-004)', () => {
    const xml = sample('d-close.xml').replace('<VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>', '').replace('<SessionID>4A</SessionID>', '');
    expect(deviationsOf(xml)).toEqual(['MDM-HDR-002 /SyncHdr/VerDTD', 'MDM-HDR-003 /SyncHdr/VerProto', 'MDM-HDR-004 /SyncHdr/SessionID']);
  });

  test('a Status without Cmd and Data, a Get without Item (MDM-STS-001, MDM-CMD-GET-001)', () => {
    const xml = sample('b-package2.xml')
      .replace('<Cmd>Alert</Cmd><Data>200</Data>', '')
      .replace(/<Get><CmdID>10<\/CmdID>[\s\S]*?<\/Get>/, '<Get><CmdID>10</CmdID></Get>');
    expect(deviationsOf(xml)).toEqual([
      'MDM-STS-001 /SyncBody/Status[2]/Cmd',
      'MDM-STS-001 /SyncBody/Status[2]/Data',
      'MDM-CMD-GET-001 /SyncBody/Get/Item',
    ]);
  });

  test('a message without SyncBody, and a SyncBody without commands (MDM-XML-002, MDM-XML-004)', () => {
    expect(deviationsOf(sample('d-close.xml').replace(/<SyncBody>[\s\S]*<\/SyncBody>/, ''))).toEqual(['MDM-XML-002 /SyncBody']);
    expect(deviationsOf(sample('d-close.xml').replace(/<Status>.*<\/Status>/, ''))).toEqual(['MDM-XML-004 /SyncBody/Alert']);
  });

  test('duplicate singletons and meta fields outside syncml:metinf (MDM-EXE-001, MDM-XML-012)', () => {
    const xml = sample('b-package2.xml')
      .replace('<Format xmlns="syncml:metinf">int</Format>', '<Format>int</Format>')
      .replace('<Get><CmdID>10</CmdID>', '<Exec><CmdID>9</CmdID><Item><Target><LocURI>./A</LocURI></Target></Item><Item><Target><LocURI>./B</LocURI></Target></Item></Exec><Get><CmdID>10</CmdID>');
    expect(deviationsOf(xml)).toEqual(['MDM-CMD-EXE-001 /SyncBody/Exec/Item[2]', 'MDM-XML-012 /SyncBody/Replace/Item/Meta/Format']);
  });
});
