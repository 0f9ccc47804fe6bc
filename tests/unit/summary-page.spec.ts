import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redactor } from '../../harness/report/redact';
import { assembleReport, type ConformanceReport } from '../../harness/report/report';
import { aggregate, rowsOf } from '../../harness/report/verdicts';
import { reproFolderName, shellQuote, writeRepro } from '../../harness/report/repro';
import { pageData, renderSummaryPage, SummaryPageWriter } from '../../harness/report/summary-page';
import { recordJson, type TestRecord } from '../../harness/report/tests-file';
import type { Exchange } from '../../harness/transport';

const HOSTILE = '</script><script>alert(1)</script><!--';

function report(evidence: string): ConformanceReport {
  const requirements = aggregate(rowsOf('server'), [{ test: 't', findings: [{ id: 'MDM-HDR-007', verdict: 'fail', check: 't', evidence }] }]);
  return assembleReport({
    mode: 'server', iut: { url: 'https://127.0.0.1:1/x' }, seed: 1, startedAt: '2026-01-01T00:00:00Z', strict: false,
    tests: { executed: 1, skipped: 0, harnessErrors: [] }, requirements,
  });
}

test.describe('summary page assembly', () => {
  test('what the implementation sent cannot end the data script or run: the page holds exactly its own two scripts', () => {
    const tests: TestRecord[] = [{ title: HOSTILE, status: 'failed', durationMs: 1, requirements: [], findings: [], notes: [HOSTILE], sessions: [], marks: [] }];
    const html = renderSummaryPage(pageData(report(`msg 2 (server->device) /SyncHdr/SessionID: ${HOSTILE}`), tests));
    expect(html.match(/<script\b/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).toContain(`content="default-src 'none'`);
    const data = JSON.parse(/<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/.exec(html)![1]);
    expect(data.report.requirements.find((r: { id: string }) => r.id === 'MDM-HDR-007').evidence).toContain(HOSTILE);
    expect(data.tests[0].notes).toEqual([HOSTILE]);
    // Coverage cells cover the whole catalogue once.
    expect(data.coverage.cells.reduce((n: number, c: { total: number }) => n + c.total, 0)).toBe(244);
  });

  test('a page written a test at a time (grade, proxy) holds the same data as one rendered whole, redacted and with line separators intact', () => {
    const redactor = new Redactor(['hunter2!']);
    const secret = '<Cred><Data>c2VjcmV0</Data></Cred> hunter2!';
    const tests: TestRecord[] = ['a\u2028b\u2029c', HOSTILE, secret].map((title) => ({ title, status: 'failed', durationMs: 1, requirements: [], findings: [], notes: [secret], sessions: [], marks: [] }));
    const dataOf = (html: string) => {
      const data = JSON.parse(/<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/.exec(html)![1]);
      delete data.generatedAt;
      return data;
    };
    const run = report('e');
    const whole = renderSummaryPage(pageData(run, tests), redactor);
    const dir = mkdtempSync(join(tmpdir(), 'mdm-page-'));
    const writer = new SummaryPageWriter(dir, run, redactor);
    for (const t of tests) writer.add(recordJson(t, redactor));
    const streamed = readFileSync(writer.close(), 'utf8');
    expect(dataOf(streamed)).toEqual(dataOf(whole));
    expect(dataOf(streamed).tests.map((t: TestRecord) => t.title)).toEqual(['a\u2028b\u2029c', HOSTILE, '<Cred><Data>[redacted]</Data></Cred> [redacted]']);
    for (const html of [whole, streamed]) {
      expect(html.match(/<\/script>/g)).toHaveLength(2);
      expect(html).not.toContain('c2VjcmV0');
      expect(html).not.toContain('hunter2!');
      expect(html).not.toMatch(/[\u2028\u2029]/);
    }
  });

  test('the page data is redacted, with the run\'s literal secrets too', () => {
    const html = renderSummaryPage(pageData(report('<Cred><Data>c2VjcmV0</Data></Cred> and hunter2!'), []), new Redactor(['hunter2!']));
    expect(html).not.toContain('c2VjcmV0');
    expect(html).not.toContain('hunter2!');
  });
});

test.describe('repro scripts', () => {
  test('names and quoting: a folder per scenario, single-quoted words survive any quote', () => {
    expect(reproFolderName('setup/minimal-session')).toBe('setup-minimal-session');
    expect(reproFolderName('../x y')).toBe('x-y');
    expect(shellQuote(`it's $HOME`)).toBe(`'it'\\''s $HOME'`);
  });

  test('a folder holds the exact request bytes (Cred data redacted), the received replies and a script that posts each request', () => {
    const body = Buffer.concat([Buffer.from('<SyncML><SyncHdr><Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic</Type></Meta><Data>dTpw</Data></Cred></SyncHdr><SyncBody>'), Buffer.from([0xc3, 0xa9, 0xff]), Buffer.from('</SyncBody></SyncML>')]);
    const x: Exchange = {
      index: 0, startedAt: 0, endedAt: 1,
      request: { method: 'POST', url: "https://127.0.0.1:9443/it's/MDM.svc?a=1", headers: { 'content-type': 'application/vnd.syncml.dm+xml', authorization: 'Basic x', host: 'h' }, rawHeaders: ['Content-Type', 'application/vnd.syncml.dm+xml', 'Authorization', 'Basic x', 'Host', 'h'], body },
      response: { status: 200, headers: {}, body: Buffer.from('<SyncML/>') },
    };
    const reports = mkdtempSync(join(tmpdir(), 'mdm-repro-unit-'));
    const script = writeRepro({
      reportsDir: reports, scenario: 'setup/minimal-session', title: 'a test', failures: ['MDM-HDR-007 (MUST): msg 2 (server->device) /SyncHdr/SessionID'],
      transcripts: [[x]], target: { cert: '/p/device.pem', key: '/p/device-key.pem', cacert: '/p/ca.pem' }, redactor: new Redactor(),
    });
    const dir = join(reports, 'repro', 'setup-minimal-session');
    expect(script).toBe(join(dir, 'repro.sh'));
    const saved = readFileSync(join(dir, 's1-msg1.xml'));
    expect(saved.toString('latin1')).toContain('<Data>[redacted]</Data>');
    expect(saved.subarray(saved.indexOf('<SyncBody>') + 10, saved.indexOf('<SyncBody>') + 13)).toEqual(Buffer.from([0xc3, 0xa9, 0xff]));
    expect(readFileSync(join(dir, 's1-msg2.recorded.xml'), 'utf8')).toBe('<SyncML/>');
    const text = readFileSync(script, 'utf8');
    expect(text).toContain('ORIGIN="${MDM_ORIGIN:-https://127.0.0.1:9443}"');
    expect(text).toContain('KEY="${MDM_KEY:-/p/device-key.pem}"');
    expect(text).toContain(`send 's1-msg2' 's1-msg1.xml' '/it'\\''s/MDM.svc?a=1' 'syncml:auth-basic' answered -H 'Content-Type: application/vnd.syncml.dm+xml'`);
    expect(text).toContain('# not replayed (secret): Authorization');
    expect(text).not.toContain('Basic x');
    expect(text).toContain('#   failed:    MDM-HDR-007 (MUST): msg 2 (server->device) /SyncHdr/SessionID');
  });
});
