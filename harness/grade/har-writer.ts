/**
 * A live transcript as a HAR 1.2 file, so a run can be exported, opened in any HAR viewer, and graded again
 * offline (`readHar` reads it back byte for byte).
 *
 * Bodies are written as UTF-8 text when they are valid UTF-8 and as base64 otherwise (`content.encoding`, and the
 * same as `postData._encoding`, a custom field, since HAR 1.2 gives postData no encoding). An exchange with no
 * usable reply gets status 0 and `_error`, as browsers export failed requests; headers keep their wire order and
 * spelling. Nothing is redacted unless a Redactor is given.
 */
import type { Redactor } from '../report/redact';
import { harnessVersion } from '../paths';
import type { Exchange, HttpMessage } from '../transport';

export interface HarOptions {
  /**
   * Prefix for request URLs that are only a path (the reference server records the request-target as received),
   * e.g. `https://127.0.0.1:8443`; HAR wants absolute URLs. Default `https://localhost`.
   */
  origin?: string;
  /** Redacts header values and bodies (Cred data, Authorization) for export; a redacted HAR is no longer byte-exact. */
  redactor?: Redactor;
}

export interface HarHeader {
  name: string;
  value: string;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: never[];
    headers: HarHeader[];
    queryString: HarHeader[];
    postData?: { mimeType: string; text: string; _encoding?: 'base64' };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: never[];
    headers: HarHeader[];
    content: { size: number; mimeType: string; text?: string; encoding?: 'base64' };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
    _error?: string;
  };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  serverIPAddress?: string;
}

export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    entries: HarEntry[];
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function bodyText(body: Buffer, r?: Redactor): { text: string; base64: boolean } {
  try {
    const text = strictUtf8.decode(body);
    return { text: r ? r.text(text) : text, base64: false };
  } catch {
    return { text: body.toString('base64'), base64: true };
  }
}

function headersOf(m: HttpMessage, r?: Redactor): HarHeader[] {
  const raw = m.rawHeaders && m.rawHeaders.length ? m.rawHeaders : Object.entries(m.headers).flat();
  const list = r ? r.rawHeaders(raw) : raw;
  const out: HarHeader[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push({ name: list[i], value: list[i + 1] });
  return out;
}

function absoluteUrl(url: string | undefined, origin: string): string {
  if (!url) return `${origin}/`;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `${origin}${url.startsWith('/') ? '' : '/'}${url}`;
}

function queryOf(url: string): HarHeader[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

/** HAR 1.2 of a live transcript (client or server side), one entry per exchange, in transcript order. */
export function toHar(exchanges: readonly Exchange[], opts: HarOptions = {}): Har {
  const origin = (opts.origin ?? 'https://localhost').replace(/\/+$/, '');
  const r = opts.redactor;
  const entries = exchanges.map((x): HarEntry => {
    const req = x.request;
    const url = absoluteUrl(r ? r.text(req.url ?? '') : req.url, origin);
    const reqBody = bodyText(req.body, r);
    const request: HarEntry['request'] = {
      method: req.method ?? 'POST',
      url,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: headersOf(req, r),
      queryString: queryOf(url),
      headersSize: -1,
      bodySize: req.body.byteLength,
    };
    request.postData = { mimeType: req.headers['content-type'] ?? '', text: reqBody.text };
    if (reqBody.base64) request.postData._encoding = 'base64';
    const res = x.response;
    let response: HarEntry['response'];
    // As sessionFromTranscript judges it: a reply counts unless the exchange failed before one was read.
    if (res && res.status !== undefined && (!x.error || x.error.kind === 'protocol')) {
      const resBody = bodyText(res.body, r);
      response = {
        status: res.status,
        statusText: res.statusText ?? '',
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: headersOf(res, r),
        content: { size: res.body.byteLength, mimeType: res.headers['content-type'] ?? '', text: resBody.text },
        redirectURL: '',
        headersSize: -1,
        bodySize: res.body.byteLength,
      };
      if (resBody.base64) response.content.encoding = 'base64';
    } else {
      response = {
        status: 0, statusText: '', httpVersion: '', cookies: [], headers: [], content: { size: 0, mimeType: 'x-unknown' },
        redirectURL: '', headersSize: -1, bodySize: -1,
      };
    }
    if (x.error) response._error = `${x.error.kind}: ${r ? r.text(x.error.message) : x.error.message}`;
    const time = Math.max(0, x.endedAt - x.startedAt);
    const entry: HarEntry = {
      startedDateTime: new Date(x.startedAt).toISOString(),
      time,
      request,
      response,
      cache: {},
      timings: { send: 0, wait: time, receive: 0 },
    };
    const ip = x.peer?.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (ip) entry.serverIPAddress = ip;
    return entry;
  });
  return { log: { version: '1.2', creator: { name: 'mdm-conformance', version: harnessVersion() }, entries } };
}
