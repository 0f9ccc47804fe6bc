/**
 * Captures of real sessions read back for offline grading: a reference-pair session exported as HAR, saved as a
 * folder of .xml files and as one text file, and a scenario's conformance-transcript JSON, each grouped into the
 * same session the live run judged, with the same findings where the capture holds the same facts.
 */
import { expect, test } from '@playwright/test';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_CHECKS } from '../../harness/checks/client-checks';
import { runChecks } from '../../harness/checks/finding';
import { sessionFromTranscript } from '../../harness/checks/from-transcript';
import { SERVER_CHECKS } from '../../harness/checks/server-checks';
import type { AnySessionView } from '../../harness/checks/session';
import { ReferenceDevice } from '../../harness/device/reference-device';
import {
  groupSessions, readAllureResults, readConcatenated, readHar, readInput, readTranscriptJson, readXmlFolder, toHar,
  type CapturedMessage,
} from '../../harness/grade';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki, type TestPki } from '../../harness/pki';
import { Redactor } from '../../harness/report/redact';
import { exchangeLists, exportSessions, TRANSCRIPT_ATTACHMENT, type TranscriptExport } from '../../harness/report/transcript-export';
import { runScenario } from '../../harness/scenarios/scenario';
import { getResults } from '../../harness/scenarios/server/sessions';
import { ReferenceServer } from '../../harness/server/reference-server';
import { get, replace } from '../../harness/syncml';
import type { Exchange } from '../../harness/transport';

test.describe.configure({ mode: 'serial' });

let pki: TestPki;
let dir: string;
/** A reference-pair session of several round trips (Gets and Replaces spread by a small MaxMsgSize). */
let live: Exchange[];

test.beforeAll(async () => {
  pki = createTestPki({ keyType: 'ec' });
  dir = mkdtempSync(join(tmpdir(), 'grade-capture-'));
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem });
  const url = await server.start();
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, maxMsgSize: 1000 });
  try {
    server.queue(
      pki.deviceId,
      get('./DevDetail/SwV'), get('./DevInfo'), replace('./Device/Vendor/MSFT/NodeCache/MDMConformance/CacheVersion', 'captured', { format: 'chr' }),
      get('./DevInfo/Lang'), get('./DevDetail/HwV'), get('./DevInfo/Man'), get('./DevInfo/Mod'), get('./DevInfo/DmV'),
      get('./Device/Vendor/MSFT/NodeCache/MDMConformance/CacheVersion'), get('./DevDetail/OEM'),
    );
    const run = await device.runSession(url);
    expect(run.end).toEqual({ reason: 'completed' });
    live = run.exchanges;
  } finally {
    await device.close();
    await server.stop();
  }
  expect(live.length).toBeGreaterThanOrEqual(3);
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The live messages in order, with their direction. */
function liveMessages(): { from: 'device' | 'server'; body: Buffer }[] {
  return live.flatMap((x) => [{ from: 'device' as const, body: x.request.body }, ...(x.response ? [{ from: 'server' as const, body: x.response.body }] : [])]);
}

function capturedMessages(view: AnySessionView): { from: 'device' | 'server'; body: string }[] {
  return view.exchanges.flatMap((x) => [x.request, x.response]).filter((m) => m !== undefined).map((m) => ({ from: m!.from, body: m!.syncml ? 'parsed' : m!.parseError ?? '' }));
}

function bodiesByN(messages: CapturedMessage[], sources: { n: number; source: { position: string } }[]): Buffer[] {
  return sources.map((s) => messages.find((m) => m.source.position === s.source.position)!.body);
}

const judge = (view: AnySessionView) => [...runChecks(SERVER_CHECKS, view), ...runChecks(CLIENT_CHECKS, view)].map((f) => `${f.id} ${f.verdict} ${f.evidence}`).sort();

test('a reference-pair session exported with toHar reads back as one whole session, byte for byte, judged the same as live', () => {
  const file = join(dir, 'session.har');
  writeFileSync(file, JSON.stringify(toHar(live), null, 2));
  const messages = readHar(file);
  expect(messages).toHaveLength(liveMessages().length);
  const sessions = groupSessions(messages);
  expect(sessions).toHaveLength(1);
  const [s] = sessions;
  expect(s.deviceId).toBe(pki.deviceId);
  expect(s.startsAtPackage1).toBe(true);
  expect(s.complete).toBe(true);
  expect(s.hints).toMatchObject({ endsWithClose: true, missingRequests: 0, missingReplies: 0, msgIDGaps: [] });
  expect(s.view.exchanges).toHaveLength(live.length);
  const bodies = bodiesByN(messages, s.sources);
  expect(bodies.map((b) => b.toString('base64'))).toEqual(liveMessages().map((m) => m.body.toString('base64')));
  expect(s.sources.map((x) => x.from)).toEqual(liveMessages().map((m) => m.from));
  // HTTP facts come with every message: method, URL, status, content type, user agent, the headers.
  const first = s.view.exchanges[0];
  expect(first.request?.http).toMatchObject({ method: 'POST', contentType: 'application/vnd.syncml.dm+xml', userAgent: 'MSFT OMA DM Client/1.2.0.1' });
  expect(first.request?.http?.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
  expect(first.response?.http).toMatchObject({ status: 200, contentType: expect.stringContaining('application/vnd.syncml.dm+xml') });
  expect(first.response?.http?.bodyBytes).toBe(live[0].response!.body.byteLength);
  // The same facts give the same findings as the live view.
  expect(judge(s.view)).toEqual(judge(sessionFromTranscript(live)));
  expect(judge(s.view).filter((f) => /^MDM-TRN-0(05|08|11|25) /.test(f)).map((f) => f.split(" ").slice(0, 2).join(" "))).toEqual(["MDM-TRN-005 pass", "MDM-TRN-005 pass", "MDM-TRN-008 pass", "MDM-TRN-011 pass", "MDM-TRN-025 pass"]);
  expect(judge(s.view).filter((f) => / fail /.test(f))).toEqual([]);
});

test('a capture cut in the middle: the first two exchanges dropped from the HAR', () => {
  const har = toHar(live);
  har.log.entries.splice(0, 2);
  const file = join(dir, 'middle.har');
  writeFileSync(file, JSON.stringify(har));
  const [s, ...rest] = groupSessions(readHar(file));
  expect(rest).toEqual([]);
  expect(s.startsAtPackage1).toBe(false);
  expect(s.complete).toBe(false);
  expect(s.hints.msgIDGaps).toEqual(['device MsgID 3 where 1 was due', 'server MsgID 3 where 1 was due']);
  expect(s.view.exchanges).toHaveLength(live.length - 2);
  expect(s.view.exchanges[0].request?.n).toBe(1);
  expect(s.sources[0].source.position).toBe('entry 1 request');
});

test('a HAR from a proxy that cut a body short says so, and a Content-Length that disagrees with the body is a framing finding', () => {
  const har = toHar(live.slice(0, 1));
  const res = har.log.entries[0].response;
  // The proxy kept 40 bytes of the reply but knew its size: the capture's doing, not the server's.
  res.content.text = res.content.text!.slice(0, 40);
  const file = join(dir, 'cut.har');
  writeFileSync(file, JSON.stringify(har));
  const [s] = groupSessions(readHar(file));
  const reply = s.view.exchanges[0].response!;
  expect(reply.parseError).toMatch(new RegExp(`^the capture holds only 40 of the ${live[0].response!.body.byteLength} bytes of this body`));
  expect(reply.http?.lengthMismatch).toBeUndefined();

  const lying = toHar(live.slice(0, 1));
  const length = lying.log.entries[0].response.headers.find((h) => h.name.toLowerCase() === 'content-length')!;
  length.value = String(Number(length.value) + 7);
  const file2 = join(dir, 'lying.har');
  writeFileSync(file2, JSON.stringify(lying));
  const [t] = groupSessions(readHar(file2));
  expect(t.view.exchanges[0].response?.http?.lengthMismatch).toBe(`body of ${live[0].response!.body.byteLength} bytes shorter than its Content-Length ${Number(length.value)}`);
  expect(runChecks(SERVER_CHECKS, t.view).filter((f) => f.verdict === 'fail').map((f) => f.id)).toContain('MDM-XML-001');
});

test('the same session as a folder of .xml files (numbered, or shuffled names in natural order) and as one text file', () => {
  const messages = liveMessages();
  const numbered = join(dir, 'numbered');
  mkdirSync(numbered);
  messages.forEach((m, i) => writeFileSync(join(numbered, `${String(i + 1).padStart(3, '0')}.xml`), m.body));
  // Written in a shuffled order, named msg1 … msg10 …: natural order puts msg2 before msg10.
  const natural = join(dir, 'natural');
  mkdirSync(natural);
  const order = messages.map((_, i) => i).reverse();
  for (const i of order) writeFileSync(join(natural, `msg${i + 1}.xml`), messages[i].body);
  expect(readdirSync(natural).length).toBe(messages.length);
  // One text file: a log with declarations, separators and lines between the documents.
  const text = join(dir, 'session.log');
  writeFileSync(text, messages.map((m, i) => `2024-05-01T10:00:0${i}Z ${m.from === 'device' ? 'sent' : 'received'}:\n<?xml version="1.0" encoding="UTF-8"?>\n${m.body.toString('utf8')}\n-----`).join('\n'));

  for (const [what, read] of [['numbered folder', () => readXmlFolder(numbered)], ['natural folder', () => readXmlFolder(natural)], ['text', () => readConcatenated(text)], ['readInput folder', () => readInput(natural)], ['readInput text', () => readInput(text)]] as const) {
    const captured = read();
    expect(captured.map((m) => m.from), what).toEqual(messages.map((m) => m.from));
    const sessions = groupSessions(captured);
    expect(sessions, what).toHaveLength(1);
    const [s] = sessions;
    expect(s.startsAtPackage1, what).toBe(true);
    expect(s.complete, what).toBe(true);
    expect(capturedMessages(s.view), what).toEqual(messages.map((m) => ({ from: m.from, body: 'parsed' })));
    expect(s.view.exchanges.every((x) => x.request?.http === undefined && x.response?.http === undefined), what).toBe(true);
    // Bodies: the exact bytes for the folders; the text file's documents from "<?xml" to "</SyncML>".
    const bodies = captured.map((m) => m.body.toString('utf8').replace(/^<\?xml[^>]*>\n/, ''));
    expect(bodies, what).toEqual(messages.map((m) => m.body.toString('utf8')));
  }
  const lines = readConcatenated(text).map((m) => m.source.position);
  expect(lines[0]).toBe('line 2');
  expect(lines[1]).toBe(`line ${2 + messages[0].body.toString('utf8').split('\n').length + 3}`);
  expect(readXmlFolder(natural).map((m) => m.source.file.split('/').at(-1))).toEqual(messages.map((_, i) => `msg${i + 1}.xml`));
  // Without HTTP facts the HTTP rules are not judged at all, rather than failed.
  const view = groupSessions(readXmlFolder(numbered))[0].view;
  const ids = runChecks(SERVER_CHECKS, view).map((f) => f.id);
  expect(ids).not.toContain('MDM-TRN-005');
  expect(ids).toContain('MDM-HDR-007');
});

test('a scenario\'s conformance-transcript JSON, and the Allure results folder it lands in, read back to the sessions that ran', async () => {
  const server = await startEmbeddedServer({ pki });
  let transcripts: unknown[];
  try {
    const result = await runScenario(getResults, server.target, EMBEDDED_FEATURES);
    expect(result.findings.filter((f) => f.verdict === 'fail')).toEqual([]);
    transcripts = result.transcripts;
  } finally {
    await server.stop();
  }
  const redactor = new Redactor();
  const exported: TranscriptExport = { scenario: getResults.id, sessions: exportSessions(transcripts, redactor), marks: [] };
  const file = join(dir, 'transcript.json');
  writeFileSync(file, JSON.stringify(exported));

  const runs = exchangeLists(transcripts);
  const sessions = groupSessions(readTranscriptJson(file));
  expect(sessions).toHaveLength(runs.length);
  sessions.forEach((s, i) => {
    const liveView = sessionFromTranscript(runs[i]);
    expect(s.view.exchanges).toHaveLength(liveView.exchanges.length);
    expect(s.deviceId).toBe(pki.deviceId);
    // Bodies are the redacted text the export holds (MD5 Cred data reads [redacted]); sizes are the wire's.
    const liveBodies = runs[i].flatMap((x) => [x.request.body, ...(x.response ? [x.response.body] : [])]);
    const read = readTranscriptJson(file).filter((m) => m.source.position.startsWith(`session ${i + 1} `));
    expect(read.map((m) => m.body.toString('utf8'))).toEqual(liveBodies.map((b) => redactor.text(b.toString('utf8'))));
    expect(s.view.exchanges.map((x) => x.request?.http?.bodyBytes)).toEqual(liveView.exchanges.map((x) => x.request.http?.bodyBytes));
    expect(s.view.exchanges.map((x) => x.response?.http?.status)).toEqual(liveView.exchanges.map((x) => x.response?.http?.status));
  });
  expect(sessions.some((s) => s.startsAtPackage1 && s.hints.endsWithClose)).toBe(true);

  // The folder a test-server run leaves: result files naming the transcript attachment, next to other attachments.
  const allure = join(dir, 'allure-results');
  mkdirSync(allure);
  writeFileSync(join(allure, 'aaa-attachment.json'), JSON.stringify(exported));
  writeFileSync(join(allure, 'bbb-attachment.json'), JSON.stringify({ scenario: getResults.id, findings: [] }));
  writeFileSync(join(allure, 'ccc-result.json'), JSON.stringify({
    name: getResults.title, start: 1, steps: [
      { name: 'conformance-findings', attachments: [{ name: 'conformance-findings', source: 'bbb-attachment.json', type: 'application/json' }] },
      { name: TRANSCRIPT_ATTACHMENT, attachments: [{ name: TRANSCRIPT_ATTACHMENT, source: 'aaa-attachment.json', type: 'application/json' }] },
    ],
  }));
  const fromFolder = groupSessions(readAllureResults(allure));
  expect(fromFolder.map((s) => s.view.exchanges.length)).toEqual(sessions.map((s) => s.view.exchanges.length));
  expect(groupSessions(readInput(allure)).length).toBe(sessions.length);
  expect(groupSessions(readInput(file)).length).toBe(sessions.length);
});
