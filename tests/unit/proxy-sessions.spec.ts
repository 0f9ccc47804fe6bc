/**
 * The proxy's exchanges into DM sessions: a session is judged when the server closes it, when the same device opens
 * package 1 again, when it stays idle, or when the proxy stops; a body that cannot be read stays in its connection's
 * session; a request the upstream never answered is the server's failure to answer (MDM-TERM-003).
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JudgedCapture } from '../../harness/grade/reports';
import { ProxySessions, type ProxyExchange } from '../../harness/proxy';
import type { Exchange, HttpMessage } from '../../harness/transport';

const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/messages', `${name}.xml`), 'utf8');
/** Package 1, the server's Gets, the device's Results, the server's close: one whole session. */
const SESSION = ['a-package1', 'b-package2', 'c-package3', 'd-close'].map(fixture);
const XML = 'application/vnd.syncml.dm+xml';

function message(body: string, extra: Partial<HttpMessage>): HttpMessage {
  const bytes = Buffer.from(body);
  return { headers: { 'content-type': XML, 'content-length': String(bytes.byteLength) }, body: bytes, ...extra };
}

let clock = 1_000;
function record(request: string, reply: string | undefined, peer = '10.0.0.7:50000'): ProxyExchange {
  const req = message(request, { method: 'POST', url: '/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA', headers: { 'content-type': XML, 'user-agent': 'MSFT OMA DM Client/1.2.0.1' } });
  const res = reply === undefined ? undefined : message(reply, { status: 200 });
  const leg = (r?: HttpMessage): Exchange => ({ index: 0, startedAt: clock, endedAt: ++clock, request: req, response: r, peer, httpVersion: '1.1' });
  if (!res) return { device: leg(message('upstream failed', { status: 502 })), upstream: { ...leg(), error: { kind: 'connect', message: 'connection refused' } }, failure: { status: 502, reason: 'connect: connection refused' } };
  return { device: leg(res), upstream: leg(res) };
}

function tracker(opts: { idleMs?: number } = {}): { sessions: ProxySessions; judged: JudgedCapture[] } {
  const judged: JudgedCapture[] = [];
  const sessions = new ProxySessions({ role: 'both', onSession: (j) => judged.push(j), ...opts });
  return { sessions, judged };
}

const failed = (j: JudgedCapture) => [...new Set(j.findings.filter((f) => f.verdict === 'fail').map((f) => f.id))];

test('a session is judged when the server closes it, whole and clean', () => {
  const { sessions, judged } = tracker();
  sessions.add(record(SESSION[0], SESSION[1]));
  expect(judged).toHaveLength(0);
  sessions.add(record(SESSION[2], SESSION[3]));
  expect(judged).toHaveLength(1);
  expect(sessions.pending).toBe(0);
  const [j] = judged;
  expect(j.session.complete).toBe(true);
  expect(j.session.deviceId).toBe('HARNESS-DEV-0001');
  expect(j.title).toBe('session 4A of device HARNESS-DEV-0001 (proxy exchange 1 request to exchange 2 response)');
  expect(failed(j)).toEqual([]);
  expect(j.findings.some((f) => f.id === 'MDM-TRN-011' && f.verdict === 'pass')).toBe(true);
  sessions.close();
});

test('package 1 again from the same device under the same SessionID ends the session before it; stopping judges what is open', () => {
  const { sessions, judged } = tracker();
  sessions.add(record(SESSION[0], SESSION[1]));
  sessions.add(record(SESSION[0], SESSION[1]));
  expect(judged).toHaveLength(1);
  expect(judged[0].session.view.endsMidSession).toBe(true);
  expect(failed(judged[0])).toEqual([]);
  sessions.finishAll();
  expect(judged).toHaveLength(2);
  expect(judged[1].title).toContain('proxy exchange 2 request');
  sessions.close();
});

test('an idle session is judged as far as it went', async () => {
  const { sessions, judged } = tracker({ idleMs: 30 });
  sessions.add(record(SESSION[0], SESSION[1]));
  const deadline = Date.now() + 2_000;
  while (!judged.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(judged).toHaveLength(1);
  expect(judged[0].session.complete).toBe(false);
  sessions.close();
});

test('a request body that cannot be read stays in its connection\'s session and is judged as not well-formed (MDM-XML-001)', () => {
  const { sessions, judged } = tracker();
  sessions.add(record(SESSION[0], SESSION[1]));
  sessions.add(record(SESSION[2].replace('</SyncHdr>', '</SyncHeader>'), SESSION[3]));
  expect(judged).toHaveLength(1);
  expect(judged[0].session.view.exchanges).toHaveLength(2);
  const xml001 = judged[0].findings.filter((f) => f.id === 'MDM-XML-001' && f.verdict === 'fail');
  expect(xml001.map((f) => f.evidence)).toEqual([expect.stringMatching(/^device side: msg 3 \(device->server\): not a SyncML document: not well-formed XML/)]);
});

test('a request the upstream never answered is a missing reply of the server (MDM-TERM-003), not a captured gap', () => {
  const { sessions, judged } = tracker();
  sessions.add(record(SESSION[0], undefined));
  sessions.finishAll();
  expect(judged).toHaveLength(1);
  const term003 = judged[0].findings.find((f) => f.id === 'MDM-TERM-003' && f.verdict === 'fail');
  expect(term003?.evidence).toMatch(/no reply to this message: connect: connection refused/);
  sessions.close();
});
