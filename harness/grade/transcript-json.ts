/**
 * The harness's own transcripts: the `conformance-transcript` JSON that every conformance test attaches
 * (`TranscriptExport`, harness/report/transcript-export.ts), read back as captured messages with their HTTP facts.
 *
 * Where vendors find them: a run leaves each attachment in `reports/allure-results/` as `<uuid>-attachment.json`,
 * named `conformance-transcript` by the test's `<uuid>-result.json`. `readTranscriptJson` takes one such file (or
 * any file holding a TranscriptExport); `readAllureResults` takes the whole folder and reads every transcript in the
 * order the tests started. (Playwright's HTML report keeps the same attachments zipped inside index.html, which is
 * no place to read from.)
 *
 * The export is redacted: Cred data and Authorization values read `[redacted]`, so those bodies differ from what
 * crossed the wire, while `bytes` (used for the HTTP facts) is the size on the wire. Bodies over 64 KiB were cut by
 * the export and are marked truncated.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageExport, SessionExport, TranscriptExport } from '../report/transcript-export';
import { TRANSCRIPT_ATTACHMENT } from '../report/transcript-export';
import { contentLength, GradeInputError, type CapturedHttp, type CapturedMessage } from './capture';
import { readJsonFile } from './json-input';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether parsed JSON is a TranscriptExport (what `readInput` sniffs). */
export function isTranscriptExport(doc: unknown): doc is TranscriptExport {
  return isObject(doc) && Array.isArray(doc.sessions);
}

export function readTranscriptJson(file: string): CapturedMessage[] {
  return transcriptMessages(readJsonFile(file, 'conformance-transcript JSON'), file);
}

/** The messages of an already parsed TranscriptExport read from `file`. */
export function transcriptMessages(doc: unknown, file: string, label = ''): CapturedMessage[] {
  if (!isTranscriptExport(doc)) throw new GradeInputError(file, undefined, 'not a conformance-transcript JSON: no "sessions" array');
  const out: CapturedMessage[] = [];
  const scenario = typeof doc.scenario === 'string' ? doc.scenario : '';
  doc.sessions.forEach((raw, s) => {
    const where = `${label}session ${s + 1}`;
    if (!isObject(raw) || !Array.isArray(raw.messages)) throw new GradeInputError(file, where, 'session without a "messages" array; the transcript is damaged');
    const session = raw as unknown as SessionExport;
    const failures = new Map((Array.isArray(session.failures) ? session.failures : []).map((f) => [f.n, f.text]));
    const hint = `${file}#${scenario}#${s}`;
    let pendingRequest: CapturedMessage | undefined;
    session.messages.forEach((rawMessage, i) => {
      const position = `${where} msg ${isObject(rawMessage) && typeof rawMessage.n === 'number' ? rawMessage.n : `#${i + 1}`}`;
      const m = messageOf(rawMessage, { file, position }, session.startedAt);
      m.sessionHint = hint;
      const n = (rawMessage as MessageExport).n;
      if (m.from === 'device') {
        m.pairedWith = `${file} ${where} exchange ${n}`;
        const failure = failures.get(n);
        if (failure !== undefined) m.failure = failure;
        pendingRequest = m;
      } else if (pendingRequest) {
        // The export lists a reply right after the request it answers (sessionFromTranscript numbering).
        m.pairedWith = pendingRequest.pairedWith;
        pendingRequest = undefined;
      }
      out.push(m);
    });
  });
  return out;
}

function messageOf(raw: unknown, source: { file: string; position: string }, startedAt: unknown): CapturedMessage {
  if (!isObject(raw)) throw new GradeInputError(source.file, source.position, 'message is not an object; the transcript is damaged');
  const m = raw as unknown as MessageExport;
  if (m.from !== 'device' && m.from !== 'server') throw new GradeInputError(source.file, source.position, `"from" is ${JSON.stringify(m.from)}, expected "device" or "server"`);
  if (typeof m.body !== 'string') throw new GradeInputError(source.file, source.position, 'message without a "body" string; the transcript is damaged');
  const body = m.bodyEncoding === 'base64' ? Buffer.from(m.body, 'base64') : Buffer.from(m.body, 'utf8');
  const h = isObject(m.http) ? m.http : { headers: {} };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(isObject(h.headers) ? h.headers : {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  const http: CapturedHttp = { headers };
  if (typeof h.method === 'string') http.method = h.method;
  if (typeof h.url === 'string') http.url = h.url;
  if (typeof h.status === 'number') http.status = h.status;
  if (typeof h.statusText === 'string') http.statusText = h.statusText;
  const out: CapturedMessage = { source, from: m.from, body, http };
  // `bytes` is the size on the wire; the text may be shorter (cut at the export limit) or differ (redacted).
  const wire = typeof m.bytes === 'number' ? m.bytes : body.byteLength;
  if (m.truncated) {
    out.truncated = true;
    http.wireBytes = wire;
  } else if (wire !== body.byteLength) {
    http.wireBytes = wire;
  }
  const declared = contentLength(headers);
  const encoded = (headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity';
  if (declared !== undefined && !encoded && declared !== wire) http.lengthMismatch = { declared, received: wire };
  if (typeof startedAt === 'number') out.startedAt = startedAt;
  return out;
}

interface AllureAttachment {
  name?: unknown;
  source?: unknown;
}
interface AllureStep {
  attachments?: AllureAttachment[];
  steps?: AllureStep[];
}

function* attachmentsOf(step: AllureStep): Generator<AllureAttachment> {
  if (Array.isArray(step.attachments)) yield* step.attachments;
  if (Array.isArray(step.steps)) for (const s of step.steps) if (isObject(s)) yield* attachmentsOf(s as AllureStep);
}

/** Whether `dir` is an Allure results folder (it holds `*-result.json` files). */
export function isAllureResults(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => n.endsWith('-result.json'));
  } catch {
    return false;
  }
}

/** Every conformance-transcript of an Allure results folder, tests in the order they started. */
export function readAllureResults(dir: string): CapturedMessage[] {
  const results = readdirSync(dir).filter((n) => n.endsWith('-result.json'));
  const tests: { start: number; name: string; transcripts: string[] }[] = [];
  for (const name of results) {
    const doc = readJsonFile(join(dir, name), 'Allure result');
    if (!isObject(doc)) continue;
    const transcripts: string[] = [];
    for (const a of attachmentsOf(doc as AllureStep)) {
      if (a.name === TRANSCRIPT_ATTACHMENT && typeof a.source === 'string') transcripts.push(a.source);
    }
    if (transcripts.length) tests.push({ start: typeof doc.start === 'number' ? doc.start : 0, name: typeof doc.name === 'string' ? doc.name : name, transcripts });
  }
  if (!tests.length) {
    throw new GradeInputError(dir, undefined, `no ${TRANSCRIPT_ATTACHMENT} attachment in these Allure results; point at the reports/allure-results folder of a test-server or test-client run`);
  }
  tests.sort((a, b) => a.start - b.start || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: CapturedMessage[] = [];
  for (const t of tests) {
    for (const source of t.transcripts) {
      const file = join(dir, source);
      try {
        statSync(file);
      } catch {
        throw new GradeInputError(file, undefined, `the attachment named by the results of "${t.name}" is missing from the folder`);
      }
      out.push(...transcriptMessages(readJsonFile(file, 'conformance-transcript JSON'), file));
    }
  }
  return out;
}
