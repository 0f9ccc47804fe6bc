/**
 * The per-test line of the conformance log names the requirements the test failed; a failure that follows from
 * another one (a consequence) is listed under its root in the failures, never on the test's line.
 */
import { expect, test } from '@playwright/test';
import type { TestResult } from '@playwright/test/reporter';
import type { Finding } from '../../harness/checks/finding';
import { testVerdict } from '../../harness/report/console-reporter';

const resultWith = (findings: Finding[]): TestResult =>
  ({ status: 'passed', annotations: [], attachments: [{ name: 'conformance-findings', contentType: 'application/json', body: Buffer.from(JSON.stringify({ findings })) }] }) as unknown as TestResult;

test('a test line names its own failures (MDM-HDR-007), not their consequences (MDM-SES-007)', () => {
  const root: Finding = { id: 'MDM-HDR-007', verdict: 'fail', check: 'serverHeader', evidence: 'msg 2: SessionID "FFFF", the device\'s is "63"' };
  const consequence: Finding = { ...root, id: 'MDM-SES-007', evidence: 'msg 2: not the SessionID of package 1', consequenceOf: 'MDM-HDR-007' };
  expect(testVerdict(resultWith([root, consequence]), false)).toEqual({ mark: '✗', word: 'fail', detail: 'MDM-HDR-007' });
  expect(testVerdict(resultWith([{ ...root, verdict: 'pass', evidence: 'no deviation observed' }]), false)).toEqual({ mark: '✓', word: 'pass' });
});
