/**
 * HAR 1.2 captures (an HTTP debugging proxy's or a browser's export): every entry whose request or response is
 * SyncML becomes a device message and the server's reply, paired; other entries are passed over and counted.
 *
 * An entry is SyncML when either half declares one of the DM media types (MS-MDM 2.1) or its body starts like a
 * SyncML document. Bodies are kept as bytes (`content.encoding: "base64"` decoded; `postData.encoding` or
 * `_encoding` read the same way), so WBXML survives for the codec. HTTP facts come with every message: a HAR has
 * the headers, and its own size fields tell a body the proxy cut short (the capture's doing) from one that
 * disagreed with its Content-Length on the wire (the peer's).
 */
import { contentLength, GradeInputError, headerRecord, isSyncMLMediaType, bodyKind, type CaptureLog, type CapturedHttp, type CapturedMessage } from './capture';
import { readJsonFile } from './json-input';

/** The HAR 1.2 fields read here; anything else in an entry is ignored. */
interface HarHeader {
  name?: unknown;
  value?: unknown;
}
interface HarBody {
  mimeType?: unknown;
  text?: unknown;
  encoding?: unknown;
  _encoding?: unknown;
  size?: unknown;
}
interface HarRequest {
  method?: unknown;
  url?: unknown;
  headers?: unknown;
  postData?: HarBody;
  bodySize?: unknown;
}
interface HarResponse {
  status?: unknown;
  statusText?: unknown;
  headers?: unknown;
  content?: HarBody;
  bodySize?: unknown;
  _error?: unknown;
}
interface HarEntry {
  startedDateTime?: unknown;
  request?: HarRequest;
  response?: HarResponse;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const size = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

/** Reads a HAR file; `log` collects the entries passed over. */
export function readHar(file: string, log?: CaptureLog): CapturedMessage[] {
  return harMessages(readJsonFile(file, 'HAR file'), file, log);
}

/** Whether parsed JSON is a HAR document (what `readInput` sniffs). */
export function isHar(doc: unknown): boolean {
  return isObject(doc) && isObject(doc.log) && Array.isArray(doc.log.entries);
}

/** The messages of an already parsed HAR document read from `file`. */
export function harMessages(doc: unknown, file: string, log?: CaptureLog): CapturedMessage[] {
  if (!isHar(doc)) throw new GradeInputError(file, undefined, 'not a HAR file: no log.entries array (HAR 1.2); export the capture as HAR from the proxy');
  const entries = (doc as { log: { entries: unknown[] } }).log.entries;
  const out: CapturedMessage[] = [];
  entries.forEach((raw, i) => {
    const position = `entry ${i + 1}`;
    if (!isObject(raw) || !isObject(raw.request)) throw new GradeInputError(file, position, 'entry without a request object; the HAR file is damaged');
    const entry = raw as HarEntry;
    const req = entry.request!;
    const res = isObject(entry.response) ? (entry.response as HarResponse) : undefined;
    const reqHeaders = headersOf(req.headers);
    const resHeaders = headersOf(res?.headers);
    const reqBody = bodyOf(req.postData);
    const status = typeof res?.status === 'number' ? res.status : undefined;
    const answered = res !== undefined && status !== undefined && status > 0;
    const resBody = answered ? bodyOf(res.content) : undefined;
    const syncml = isSyncMLMediaType(reqHeaders['content-type'] ?? str(req.postData?.mimeType))
      || (answered && isSyncMLMediaType(resHeaders['content-type'] ?? str(res.content?.mimeType)))
      || (reqBody !== undefined && bodyKind(reqBody) === 'syncml')
      || (resBody !== undefined && bodyKind(resBody) === 'syncml');
    if (!syncml) {
      log?.skipped.push({ source: { file, position }, why: `${str(req.method) ?? '?'} ${str(req.url) ?? '?'}: neither body is SyncML` });
      return;
    }
    const pairedWith = `${file} ${position}`;
    const started = Date.parse(str(entry.startedDateTime) ?? '');
    const startedAt = Number.isFinite(started) ? started : undefined;

    // No postData at all: the tool did not keep the request body, so the device message is not in the capture.
    if (reqBody !== undefined) {
      const http: CapturedHttp = { headers: reqHeaders };
      const method = str(req.method);
      const url = str(req.url);
      if (method !== undefined) http.method = method;
      if (url !== undefined) http.url = url;
      const m: CapturedMessage = { source: { file, position: `${position} request` }, from: 'device', body: reqBody, http, pairedWith };
      if (startedAt !== undefined) m.startedAt = startedAt;
      sizeFacts(m, http, size(req.bodySize));
      if (!answered) m.failure = `no response${str(res?._error) ? ` (${str(res!._error)})` : status === 0 ? ' (status 0)' : ''}`;
      else if (str(res._error)) m.failure = str(res._error);
      out.push(m);
    }
    if (answered) {
      const http: CapturedHttp = { status, headers: resHeaders };
      const statusText = str(res.statusText);
      if (statusText) http.statusText = statusText;
      const m: CapturedMessage = { source: { file, position: `${position} response` }, from: 'server', body: resBody!, http, pairedWith };
      if (startedAt !== undefined) m.startedAt = startedAt;
      const encoded = (resHeaders['content-encoding'] ?? 'identity').toLowerCase() !== 'identity';
      sizeFacts(m, http, size(res.content?.size) ?? (encoded ? undefined : size(res.bodySize)));
      out.push(m);
    }
  });
  if (!out.length) {
    throw new GradeInputError(file, undefined, entries.length
      ? `none of the ${entries.length} entries is SyncML (no ${['application/vnd.syncml.dm+xml', 'application/vnd.syncml.dm+wbxml'].join(' or ')} body); was the capture taken while the device synced?`
      : 'the HAR file has no entries');
  }
  return out;
}

function headersOf(list: unknown): Record<string, string> {
  if (!Array.isArray(list)) return {};
  const pairs: [string, string][] = [];
  for (const h of list as HarHeader[]) {
    const name = str(h?.name);
    const value = str(h?.value);
    // HTTP/2 pseudo-headers (`:status`, `:path`) are not header fields.
    if (name === undefined || value === undefined || name.startsWith(':')) continue;
    pairs.push([name, value]);
  }
  return headerRecord(pairs);
}

/** The body bytes, or undefined when the HAR holds no body object at all. */
function bodyOf(body: HarBody | undefined): Buffer | undefined {
  if (!isObject(body)) return undefined;
  const text = str(body.text);
  if (text === undefined) return Buffer.alloc(0);
  const encoding = str(body.encoding) ?? str(body._encoding);
  return encoding?.toLowerCase() === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
}

/**
 * `captureSize` is what the HAR says the body measured. Larger than the bytes it holds: the capture kept only the
 * start. Otherwise a Content-Length that disagrees with the body is the peer's framing error (MDM-XML-001).
 */
function sizeFacts(m: CapturedMessage, http: CapturedHttp, captureSize: number | undefined): void {
  const bytes = m.body.byteLength;
  const encoded = (http.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity';
  let wire = bytes;
  if (captureSize !== undefined && captureSize > bytes) {
    m.truncated = true;
    http.wireBytes = captureSize;
    wire = captureSize;
  }
  const declared = contentLength(http.headers);
  // A Content-Length of an encoded body counts the encoded bytes, which the HAR does not hold.
  if (declared !== undefined && !encoded && declared !== wire) http.lengthMismatch = { declared, received: wire };
}
