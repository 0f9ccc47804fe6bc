/**
 * Reading captured traffic for offline grading: each reader on correct input and on broken input (an error naming
 * the file and the place), and grouping of captured messages into sessions and devices.
 */
import { expect, test } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_CHECKS } from '../../harness/checks/client-checks';
import { runChecks } from '../../harness/checks/finding';
import { SERVER_CHECKS } from '../../harness/checks/server-checks';
import type { AnySessionView } from '../../harness/checks/session';
import {
  GradeInputError, groupDevices, groupSessions, naturalCompare, readConcatenated, readHar, readInput, readTranscriptJson,
  readBody, readXmlFolder, REPLY_NOT_CAPTURED, type CaptureLog, type CapturedMessage,
} from '../../harness/grade';
import { syntaxErrorOffset } from '../../harness/grade/json-input';
import { judgeCaptured } from '../../harness/grade/judge';
import { parseSyncML, serializeSyncMLWbxml } from '../../harness/syncml';

const FIXTURE_DEVICE = 'HARNESS-DEV-0001';
const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/messages', `${name}.xml`), 'utf8');

/** A whole four-message session (package 1, the server's Gets, Results, the close) of `deviceId` under `sessionID`. */
function session(deviceId = FIXTURE_DEVICE, sessionID = '4A'): string[] {
  return ['a-package1', 'b-package2', 'c-package3', 'd-close'].map((n) => fixture(n).split(FIXTURE_DEVICE).join(deviceId).split('<SessionID>4A</SessionID>').join(`<SessionID>${sessionID}</SessionID>`));
}

const SYNCML_XML = 'application/vnd.syncml.dm+xml';

interface Half {
  body?: string;
  base64?: string;
  type?: string;
  status?: number;
  headers?: [string, string][];
}

function harEntry(req: Half | undefined, res: Half | undefined, i = 0): object {
  const headers = (h: Half) => [...(h.type ? [['Content-Type', h.type]] : []), ...(h.headers ?? [])].map(([name, value]) => ({ name, value }));
  const request: Record<string, unknown> = { method: 'POST', url: 'https://mdm.example.test/omadm?mode=Maintenance&Platform=WoA', httpVersion: 'HTTP/1.1', headers: req ? headers(req) : [], cookies: [], queryString: [], headersSize: -1, bodySize: -1 };
  if (req) request.postData = { mimeType: req.type ?? '', text: req.body ?? '' };
  const response: Record<string, unknown> = res
    ? { status: res.status ?? 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: headers(res), cookies: [], content: res.base64 !== undefined ? { size: -1, mimeType: res.type ?? '', text: res.base64, encoding: 'base64' } : { size: -1, mimeType: res.type ?? '', text: res.body ?? '' }, redirectURL: '', headersSize: -1, bodySize: -1 }
    : { status: 0, statusText: '', httpVersion: '', headers: [], cookies: [], content: { size: 0, mimeType: 'x-unknown' }, redirectURL: '', headersSize: -1, bodySize: -1, _error: 'net::ERR_CONNECTION_RESET' };
  return { startedDateTime: new Date(Date.UTC(2024, 4, 1, 10, 0, i)).toISOString(), time: 10, request, response, cache: {}, timings: { send: 0, wait: 10, receive: 0 } };
}

/** HAR entries from alternating device/server messages. */
function harOfMessages(messages: string[]): object[] {
  const out: object[] = [];
  for (let i = 0; i < messages.length; i += 2) out.push(harEntry({ body: messages[i], type: SYNCML_XML, headers: [['User-Agent', 'MSFT OMA DM Client/1.2.0.1']] }, messages[i + 1] !== undefined ? { body: messages[i + 1], type: SYNCML_XML } : undefined, i));
  return out;
}

let dir: string;
let files = 0;
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'grade-input-'));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer | object): string {
  const file = join(dir, `${files++}-${name}`);
  writeFileSync(file, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 1));
  return file;
}

function folder(name: string, entries: Record<string, string>): string {
  const path = join(dir, `${files++}-${name}`);
  mkdirSync(path);
  for (const [file, content] of Object.entries(entries)) writeFileSync(join(path, file), content);
  return path;
}

const har = (entries: object[]) => ({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries } });

function inputError(fn: () => unknown): GradeInputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradeInputError) return e;
    throw e;
  }
  throw new Error('expected a GradeInputError');
}

const failures = (view: AnySessionView) => [...runChecks(SERVER_CHECKS, view), ...runChecks(CLIENT_CHECKS, view)].filter((f) => f.verdict === 'fail');

test.describe('readHar', () => {
  test('a proxy export: SyncML entries paired with HTTP facts, other entries passed over and counted, base64 content decoded', () => {
    const log: CaptureLog = { skipped: [] };
    const file = join(__dirname, '../../fixtures/captures/proxy-export.har');
    const messages = readHar(file, log);
    expect(messages.map((m) => [m.source.position, m.from])).toEqual([
      ['entry 1 request', 'device'], ['entry 1 response', 'server'], ['entry 3 request', 'device'], ['entry 3 response', 'server'],
    ]);
    expect(log.skipped).toEqual([{ source: { file, position: 'entry 2' }, why: 'GET https://mdm.example.test/favicon.ico: neither body is SyncML' }]);
    expect(messages[3].body.toString('utf8')).toBe(fixture('d-close'));
    expect(messages[0].http).toMatchObject({ method: 'POST', url: 'https://mdm.example.test/omadm/mdm?mode=Maintenance&Platform=WoA' });
    expect(messages[1].http?.headers['set-cookie']).toBe('a=1, b=2');
    expect(messages[0].startedAt).toBe(Date.parse('2024-05-01T10:00:01.000Z'));
    expect(messages[0].pairedWith).toBe(messages[1].pairedWith);
    expect(messages[2].pairedWith).not.toBe(messages[0].pairedWith);

    const [s] = groupSessions(messages);
    expect(s).toMatchObject({ deviceId: FIXTURE_DEVICE, sessionID: '4A', startsAtPackage1: true, complete: true });
    expect(s.view.exchanges[0].request?.http).toMatchObject({ method: 'POST', userAgent: 'MSFT OMA DM Client/1.2.0.1', contentType: SYNCML_XML, bodyBytes: Buffer.byteLength(fixture('a-package1')) });
    expect(s.view.exchanges[0].response?.http).toMatchObject({ status: 200, contentType: `${SYNCML_XML}; charset=utf-8` });
    expect(s.view.exchanges[0].response?.http?.lengthMismatch).toBeUndefined();
    expect(failures(s.view)).toEqual([]);
  });

  test('an entry is SyncML by either media type or by how its body starts; a SyncML entry with a broken body is kept', () => {
    const [pkg1, reply] = session();
    const file = write('kinds.har', har([
      harEntry({ body: pkg1, type: 'text/plain' }, { body: reply, type: 'text/xml' }, 0), // by body
      harEntry({ body: '<SyncML><SyncHdr>', type: SYNCML_XML }, { body: 'oops', type: 'text/plain', status: 500 }, 1), // by media type
      harEntry({ body: 'hello', type: 'text/plain' }, { body: '<html/>', type: 'text/html' }, 2), // neither
    ]));
    const log: CaptureLog = { skipped: [] };
    const messages = readHar(file, log);
    expect(messages.map((m) => m.source.position)).toEqual(['entry 1 request', 'entry 1 response', 'entry 2 request', 'entry 2 response']);
    expect(log.skipped.map((s) => s.source.position)).toEqual(['entry 3']);
    const [s] = groupSessions(messages);
    expect(s.view.exchanges).toHaveLength(2);
    expect(s.view.exchanges[1].request?.parseError).toMatch(/SyncHdr|end|unclosed|closed/i);
    expect(s.view.exchanges[1].response?.http?.status).toBe(500);
  });

  test('WBXML is kept as bytes and decoded by its media type; WBXML that does not decode is reported with its offset', () => {
    const [pkg1, reply] = session();
    const wbxml = Buffer.from(serializeSyncMLWbxml(parseSyncML(reply).message));
    const broken = wbxml.subarray(0, 24); // cut inside the SyncHdr
    const file = write('wbxml.har', har([
      harEntry({ body: pkg1, type: SYNCML_XML }, { base64: wbxml.toString('base64'), type: 'application/vnd.syncml.dm+wbxml' }),
      harEntry({ body: pkg1, type: SYNCML_XML }, { base64: broken.toString('base64'), type: 'application/vnd.syncml.dm+wbxml' }),
    ]));
    const messages = readHar(file);
    expect(messages[1].body.equals(wbxml)).toBe(true);
    const [s] = groupSessions(messages);
    const first = s.view.exchanges[0].response!;
    expect(first.parseError).toBeUndefined();
    expect(first.syncml?.hdr.sessionID).toBe(parseSyncML(reply).message.hdr.sessionID);
    expect(first.http?.contentType).toBe('application/vnd.syncml.dm+wbxml');
    expect(first.http?.bodyEncoding).toBe('wbxml');
    expect(messages[3].body.equals(broken)).toBe(true);
    expect(readBody(messages[3]).parseError).toMatch(/invalid WBXML at byte offset \d+/);
  });

  test('a WBXML reply is kept as bytes and read as SyncML; a broken one is a parse error naming the byte', () => {
    const [pkg1, reply] = session();
    const wbxml = Buffer.from(serializeSyncMLWbxml(parseSyncML(reply).message));
    const file = write('wbxml.har', har([harEntry({ body: pkg1, type: SYNCML_XML }, { base64: wbxml.toString('base64'), type: 'application/vnd.syncml.dm+wbxml' })]));
    const messages = readHar(file);
    expect(messages[1].body.equals(wbxml)).toBe(true);
    const [s] = groupSessions(messages);
    expect(s.view.exchanges[0].response?.parseError).toBeUndefined();
    expect(s.view.exchanges[0].response?.syncml).toEqual(parseSyncML(reply).message);
    expect(s.view.exchanges[0].response?.http?.contentType).toBe('application/vnd.syncml.dm+wbxml');

    const cut = write('wbxml-cut.har', har([harEntry({ body: pkg1, type: SYNCML_XML }, { base64: wbxml.subarray(0, 20).toString('base64'), type: 'application/vnd.syncml.dm+wbxml' })]));
    const [t] = groupSessions(readHar(cut));
    expect(t.view.exchanges[0].response?.parseError).toMatch(/byte|offset|ends|truncated/i);
  });

  test('a request without reply records why; a reply whose request body the proxy did not keep is a lone server message', () => {
    const [pkg1, reply, results, close] = session();
    const noPostData = harEntry({ body: results, type: SYNCML_XML }, { body: close, type: SYNCML_XML }, 1) as { request: { postData?: unknown } };
    delete noPostData.request.postData;
    const file = write('halves.har', har([harEntry({ body: pkg1, type: SYNCML_XML }, undefined, 0), harEntry({ body: pkg1, type: SYNCML_XML }, { body: reply, type: SYNCML_XML }, 1), noPostData]));
    const sessions = groupSessions(readHar(file));
    // The retried package 1 is a new session: the device starts over.
    expect(sessions).toHaveLength(2);
    const [failed, retried] = sessions;
    expect(failed.view.exchanges).toEqual([expect.objectContaining({ failure: 'no response (net::ERR_CONNECTION_RESET)' })]);
    expect(failed.view.exchanges[0]).not.toHaveProperty('replyNotCaptured');
    expect(failures(failed.view).map((f) => f.id)).toContain('MDM-TERM-003');
    expect(retried.view.exchanges.map((x) => [x.request?.n, x.response?.n])).toEqual([[1, 2], [undefined, 3]]);
    expect(retried.hints.missingRequests).toBe(1);
    expect(retried.complete).toBe(false);
    expect(retried.hints.endsWithClose).toBe(true);
    // A missing request is not a server failure; the lone reply is still judged as a document.
    expect(failures(retried.view).filter((f) => f.id === 'MDM-TERM-003')).toEqual([]);
    expect(runChecks(SERVER_CHECKS, retried.view).filter((f) => f.id === 'MDM-XML-001').map((f) => f.verdict)).toEqual(['pass']);
  });

  test('a body shorter than the Content-Length the HAR records is a framing finding; one the proxy cut short is not', () => {
    const [pkg1, reply] = session();
    const length = Buffer.byteLength(reply);
    const lying = write('lying.har', har([harEntry({ body: pkg1, type: SYNCML_XML }, { body: reply, type: SYNCML_XML, headers: [['Content-Length', String(length + 10)]] })]));
    const [s] = groupSessions(readHar(lying));
    expect(s.view.exchanges[0].response?.http?.lengthMismatch).toBe(`body of ${length} bytes shorter than its Content-Length ${length + 10}`);
    expect(failures(s.view).map((f) => f.id)).toContain('MDM-XML-001');

    const cut = har([harEntry({ body: pkg1, type: SYNCML_XML }, { body: reply.slice(0, 100), type: SYNCML_XML, headers: [['Content-Length', String(length)]] })]) as { log: { entries: { response: { content: { size: number } } }[] } };
    cut.log.entries[0].response.content.size = length;
    const [t] = groupSessions(readHar(write('cut.har', cut)));
    const res = t.view.exchanges[0].response!;
    expect(res.http?.lengthMismatch).toBeUndefined();
    expect(res.http?.bodyBytes).toBe(length);
    expect(res.parseError).toMatch(new RegExp(`^the capture holds only 100 of the ${length} bytes of this body`));
  });

  test('broken HAR files: truncated, invalid JSON, no entries array, nothing SyncML, missing request', () => {
    const good = JSON.stringify(har(harOfMessages(session())), null, 1);
    const truncated = write('truncated.har', good.slice(0, 700));
    const lines = good.slice(0, 700).split('\n');
    expect(inputError(() => readHar(truncated)).message).toBe(`${truncated} (line ${lines.length} column ${lines.at(-1)!.length + 1}): the file ends in the middle of the JSON (truncated?); not a readable HAR file`);
    const invalid = write('invalid.har', '{\n  "log": {\n    "entries": [1,]\n  }\n}');
    expect(inputError(() => readHar(invalid)).message).toMatch(new RegExp(`^${invalid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(line 3 column 19\\): invalid JSON \\(.*\\); not a readable HAR file$`));
    const notHar = write('not.har', '{"entries": []}');
    expect(inputError(() => readHar(notHar)).message).toBe(`${notHar}: not a HAR file: no log.entries array (HAR 1.2); export the capture as HAR from the proxy`);
    const nothing = write('nothing.har', har([harEntry({ body: 'a=1', type: 'application/x-www-form-urlencoded' }, { body: '<html/>', type: 'text/html' })]));
    expect(inputError(() => readHar(nothing)).message).toMatch(/none of the 1 entries is SyncML/);
    const empty = write('empty.har', har([]));
    expect(inputError(() => readHar(empty)).message).toBe(`${empty}: the HAR file has no entries`);
    const damaged = write('damaged.har', har([harEntry({ body: session()[0], type: SYNCML_XML }, undefined), { response: {} }]));
    expect(inputError(() => readHar(damaged)).message).toBe(`${damaged} (entry 2): entry without a request object; the HAR file is damaged`);
    const missing = join(dir, 'missing.har');
    expect(inputError(() => readHar(missing)).message).toBe(`${missing}: no such file or directory`);
  });
});

test.describe('readXmlFolder and readConcatenated', () => {
  test('files in natural order, direction from the SyncHdr; a message that is not well-formed is kept', () => {
    const [a, b, c, d] = session();
    const dirPath = folder('natural', { 'msg10.xml': d, 'msg2.xml': b, 'msg1.xml': a, 'msg3.xml': c.slice(0, 200), 'notes.txt': 'ignored' });
    const messages = readXmlFolder(dirPath);
    expect(messages.map((m) => m.source.file.split('/').at(-1))).toEqual(['msg1.xml', 'msg2.xml', 'msg3.xml', 'msg10.xml']);
    expect(messages.map((m) => m.from)).toEqual(['device', 'server', undefined, 'server']);
    expect(messages.every((m) => m.http === undefined && m.source.position === 'whole file')).toBe(true);
    const [s] = groupSessions(messages);
    // The unreadable message takes its place by alternation: the device's, answered by the close.
    expect(s.sources.map((x) => `${x.n} ${x.from}`)).toEqual(['1 device', '2 server', '3 device', '4 server']);
    expect(s.view.exchanges[1].request?.parseError).toBeTruthy();
    expect(s.hints.unreadable).toBe(1);
    expect(s.complete).toBe(false);
    expect(failures(s.view).map((f) => f.id)).toContain('MDM-XML-001');
  });

  test('a missing device file leaves a lone server message in its place', () => {
    const [a, b, , d] = session();
    const [s] = groupSessions(readXmlFolder(folder('gap', { '001.xml': a, '002.xml': b, '004.xml': d })));
    expect(s.view.exchanges.map((x) => [x.request?.n, x.response?.n])).toEqual([[1, 2], [undefined, 3]]);
    expect(s.hints.missingRequests).toBe(1);
  });

  test('a text file with documents, declarations and log lines between them; a cut document is kept and the next still read', () => {
    const [a, b, c, d] = session();
    const text = [
      'device log 2024-05-01', '>> sending', `<?xml version="1.0"?>\n${a}`, '<< received', `${b}`, '>> sending (cut)', c.slice(0, 300), '<!-- next -->', d, 'end of log',
    ].join('\n');
    const file = write('session.txt', text);
    const messages = readConcatenated(file);
    const lineOf = (needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
    expect(messages.map((m) => m.source.position)).toEqual([`line ${lineOf('<?xml')}`, `line ${lineOf(b)}`, `line ${lineOf(c.slice(0, 300))}`, `line ${lineOf('<!-- next -->')}`]);
    expect(messages[0].body.toString()).toBe(`<?xml version="1.0"?>\n${a.trimEnd()}`);
    expect(messages[1].body.toString()).toBe(b.trimEnd());
    expect(messages[2].body.toString()).toBe(c.slice(0, 300).trimEnd());
    expect(messages[3].body.toString()).toBe(`<!-- next -->\n${d.trimEnd()}`);
    const [s] = groupSessions(messages);
    expect(s.sources.map((x) => x.from)).toEqual(['device', 'server', 'device', 'server']);
    expect(s.view.exchanges[1].request?.parseError).toBeTruthy();
  });

  test('bad folders and text files', () => {
    const empty = folder('empty', {});
    expect(inputError(() => readXmlFolder(empty)).message).toBe(`${empty}: no .xml files in this folder (it is empty); save each SyncML message as its own .xml file`);
    const html = folder('html', { '1.xml': session()[0], '2.xml': '<?xml version="1.0"?><html><body/></html>' });
    expect(inputError(() => readXmlFolder(html)).message).toBe(`${join(html, '2.xml')} (whole file): not a SyncML message: the document starts with <html>, a SyncML message with <SyncML>`);
    const missing = join(dir, 'no-such-folder');
    expect(inputError(() => readXmlFolder(missing)).message).toBe(`${missing}: no such file or directory`);
    const log = write('plain.log', 'nothing here\nbut log lines\n');
    expect(inputError(() => readConcatenated(log)).message).toBe(`${log}: no <SyncML> document in this file; not SyncML at all`);
    const blank = write('blank.txt', '');
    expect(inputError(() => readConcatenated(blank)).message).toBe(`${blank}: the file is empty`);
  });

  test('natural order compares runs of digits as numbers', () => {
    expect(['msg10.xml', 'msg2.xml', 'msg1.xml', 'Msg3.xml', '010.xml', '9.xml'].sort(naturalCompare)).toEqual(['9.xml', '010.xml', 'msg1.xml', 'msg2.xml', 'Msg3.xml', 'msg10.xml']);
  });
});

test.describe('grouping', () => {
  test('two devices interleaved in one HAR are two devices, each with its whole session', () => {
    const one = harOfMessages(session('DEV-ONE', '1'));
    const two = harOfMessages(session('DEV-TWO', '1'));
    const file = write('two-devices.har', har([one[0], two[0], two[1], one[1]]));
    const sessions = groupSessions(readHar(file));
    const devices = groupDevices(sessions);
    expect(devices.map((d) => [d.deviceId, d.sessions.length])).toEqual([['DEV-ONE', 1], ['DEV-TWO', 1]]);
    for (const d of devices) {
      const [s] = d.sessions;
      expect(s.complete).toBe(true);
      expect(s.view.exchanges.map((x) => [x.request?.n, x.response?.n])).toEqual([[1, 2], [3, 4]]);
      expect(failures(s.view)).toEqual([]);
    }
    expect(devices[1].sessions[0].sources.map((x) => x.source.position)).toEqual(['entry 2 request', 'entry 2 response', 'entry 3 request', 'entry 3 response']);
  });

  test('a SessionID reused after a completed session is two sessions; a new SessionID is a new session', () => {
    const messages: CapturedMessage[] = [...session(FIXTURE_DEVICE, '7'), ...session(FIXTURE_DEVICE, '7'), ...session(FIXTURE_DEVICE, '8')]
      .map((xml, i) => ({ source: { file: 'mem', position: `message ${i + 1}` }, body: Buffer.from(xml) }));
    const sessions = groupSessions(messages);
    expect(sessions.map((s) => [s.sessionID, s.complete, s.view.exchanges.length, s.sources[0].source.position])).toEqual([
      ['7', true, 2, 'message 1'], ['7', true, 2, 'message 5'], ['8', true, 2, 'message 9'],
    ]);
    expect(groupDevices(sessions)).toHaveLength(1);
  });

  test('a capture cut in the middle, and one that ends before the reply', () => {
    const [, , c, d] = session();
    const [s] = groupSessions([c, d].map((xml, i) => ({ source: { file: 'mem', position: `message ${i + 1}` }, body: Buffer.from(xml) })));
    expect(s.startsAtPackage1).toBe(false);
    expect(s.complete).toBe(false);
    expect(s.hints.msgIDGaps).toEqual(['device MsgID 2 where 1 was due', 'server MsgID 2 where 1 was due']);
    expect(s.view.outcome).toBe('completed');

    const [a] = session();
    const [t] = groupSessions([{ source: { file: 'mem', position: 'message 1' }, body: Buffer.from(a) }]);
    expect(t.view.exchanges).toEqual([expect.objectContaining({ failure: REPLY_NOT_CAPTURED, replyNotCaptured: true })]);
    expect(t.hints.missingReplies).toBe(1);
    expect(t.view.outcome).toBe('the capture ends mid-session');
    // Not captured is not "not sent": no MDM-TERM-003 failure for it.
    expect(failures(t.view).map((f) => f.id)).not.toContain('MDM-TERM-003');
  });

  test('an unreadable first message joins the session of the readable ones after it', () => {
    const [a, b, c, d] = session();
    const [s, ...rest] = groupSessions([a.slice(0, 120), b, c, d].map((xml, i) => ({ source: { file: 'mem', position: `message ${i + 1}` }, body: Buffer.from(xml) })));
    expect(rest).toEqual([]);
    expect(s.deviceId).toBe(FIXTURE_DEVICE);
    expect(s.sources.map((x) => `${x.n} ${x.from}`)).toEqual(['1 device', '2 server', '3 device', '4 server']);
    expect(s.startsAtPackage1).toBe(false);
    expect(s.hints.unreadable).toBe(1);
  });

  test('a lone server message at the start of a capture', () => {
    const [, b, c, d] = session();
    const [s] = groupSessions([b, c, d].map((xml, i) => ({ source: { file: 'mem', position: `message ${i + 1}` }, body: Buffer.from(xml) })));
    expect(s.view.exchanges.map((x) => [x.request?.n, x.response?.n])).toEqual([[undefined, 1], [2, 3]]);
    // The device message after it is judged as its answer: every Get of the lone message is answered.
    expect(runChecks(CLIENT_CHECKS, s.view).filter((f) => f.id === 'MDM-STS-004').map((f) => f.verdict)).toEqual(['pass']);
  });
});

test.describe('readInput and transcript JSON', () => {
  test('picks the reader by what the path is', () => {
    const messages = session();
    const harFile = write('capture.txt', har(harOfMessages(messages)));
    expect(readInput(harFile).map((m) => m.source.position)[0]).toBe('entry 1 request');
    const folderPath = folder('pick', { '1.xml': messages[0], '2.xml': messages[1] });
    expect(readInput(folderPath)).toHaveLength(2);
    const text = write('pick.log', messages.join('\n'));
    expect(readInput(text).map((m) => m.source.position)).toEqual(['line 1', `line ${messages[0].split('\n').length + 1}`, expect.any(String), expect.any(String)]);
    const other = write('other.json', { hello: 'world' });
    expect(inputError(() => readInput(other)).message).toBe(`${other}: JSON that is neither a HAR file (log.entries) nor a conformance-transcript (sessions)`);
    const missing = join(dir, 'nothing-here');
    expect(inputError(() => readInput(missing)).message).toBe(`${missing}: no such file or directory`);
  });

  test('a transcript JSON keeps the export\'s sessions and pairs; a damaged one names the place', () => {
    const [a, b] = session();
    const message = (n: number, from: 'device' | 'server', body: string) => ({
      n, from, label: `msg ${n}`, http: { headers: { 'content-type': SYNCML_XML, 'content-length': String(Buffer.byteLength(body)) } }, bytes: Buffer.byteLength(body), body, bodyEncoding: 'utf8', commands: [],
    });
    const doc = {
      scenario: 'setup/minimal-session',
      sessions: [
        { index: 0, messages: [message(1, 'device', a)], failures: [{ n: 1, text: 'timeout: no response within 3000 ms' }] },
        { index: 1, messages: [message(1, 'device', a), message(2, 'server', b)], failures: [] },
      ],
      marks: [],
    };
    const file = write('transcript.json', doc);
    const sessions = groupSessions(readTranscriptJson(file));
    expect(sessions).toHaveLength(2);
    expect(sessions[0].view.exchanges[0]).toMatchObject({ failure: 'timeout: no response within 3000 ms' });
    expect(sessions[1].view.exchanges[0].response?.http?.contentType).toBe(SYNCML_XML);
    expect(sessions[1].sources.map((s) => s.source.position)).toEqual(['session 2 msg 1', 'session 2 msg 2']);

    const damaged = write('damaged.json', { ...doc, sessions: [{ index: 0, messages: [{ n: 1, from: 'phone', body: a }] }] });
    expect(inputError(() => readTranscriptJson(damaged)).message).toBe(`${damaged} (session 1 msg 1): "from" is "phone", expected "device" or "server"`);
  });

  test('the JSON error position is found where Node does not give one', () => {
    expect(syntaxErrorOffset('{"a": tru\n}')).toBe(9);
    expect(syntaxErrorOffset('{"a":1,}')).toBe(7);
    expect(syntaxErrorOffset('[1, 2')).toBe(5);
    expect(syntaxErrorOffset('{"a": "x\u0001"}')).toBe(8);
    expect(syntaxErrorOffset('{"a": [1, 2]} x')).toBe(14);
  });
});

test.describe('judging a capture', () => {
  /** Objects of the session that carry a cache of the checks (see harness/checks/memo.ts). */
  function cached(view: AnySessionView): number {
    const holders: object[] = [view.exchanges];
    for (const x of view.exchanges) {
      for (const m of [x.request, x.response]) if (m?.syncml) holders.push(m.syncml.body, m.syncml.body.commands);
    }
    return holders.filter((h) => Object.getOwnPropertySymbols(h).length > 0).length;
  }

  test('the checks\' caches are dropped once a session is judged, and judging it again finds the same', () => {
    const messages = session().map((body, i): CapturedMessage => ({ source: { file: 'capture.txt', position: `message ${i + 1}` }, body: Buffer.from(body) }));
    const [s] = groupSessions(messages);
    // The checks alone leave their indexes on the session: a capture keeps every session until its reports are written.
    runChecks(SERVER_CHECKS, s.view);
    expect(cached(s.view)).toBeGreaterThan(0);
    const [t] = groupSessions(messages.map((m) => ({ source: m.source, body: m.body })));
    const first = judgeCaptured(t, 'both');
    expect(cached(t.view)).toBe(0);
    expect(first.some((f) => f.verdict === 'pass')).toBe(true);
    expect(judgeCaptured(t, 'both')).toEqual(first);
  });
});
