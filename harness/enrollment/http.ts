/**
 * The client's HTTPS leg of an enrollment (MS-MDE2 3.1: the GET probe of the discovery URL, then SOAP 1.2 POSTs
 * of Content-Type application/soap+xml to the discovery, policy and enrollment services): each bounded in time and size, each
 * recorded (redacted) for the enrollment's record. A transport failure comes back as one line naming the problem
 * and, for an untrusted server certificate, the way out.
 */
import { Agent, request } from 'undici';
import type { Identity } from '../pki';
import type { Redactor } from '../report/redact';
import type { EnrollmentStep } from './errors';
import { SOAP_CONTENT_TYPE } from './names';

export interface RecordedExchange {
  step: EnrollmentStep;
  method: 'GET' | 'POST';
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  status?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
  /** Why no answer came, when none did. */
  error?: string;
  startedAt: string;
  durationMs: number;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface EnrollmentHttpOptions {
  /** CA certificate(s) trusted for the enrollment server; the system's roots when absent. */
  ca?: string;
  /** Client certificate presented in the TLS handshake (the Certificate policy). */
  identity?: Identity;
  timeoutMs: number;
  redactor: Redactor;
}

/** The User-Agent of the Windows enrollment client in the Windows examples. */
const USER_AGENT = 'Windows Enrollment Client';
const MAX_RESPONSE_BYTES = 1024 * 1024;

const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
]);

export class EnrollmentHttp {
  readonly exchanges: RecordedExchange[] = [];
  private readonly agent: Agent;

  constructor(private readonly opts: EnrollmentHttpOptions) {
    this.agent = new Agent({
      connect: {
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.identity ? { cert: opts.identity.certPem, key: opts.identity.keyPem } : {}),
        rejectUnauthorized: true,
        timeout: opts.timeoutMs,
      },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      maxResponseSize: MAX_RESPONSE_BYTES,
    });
  }

  get(step: EnrollmentStep, url: string): Promise<HttpAnswer | { error: string }> {
    return this.send(step, 'GET', url, { 'user-agent': USER_AGENT, pragma: 'no-cache' }, '');
  }

  post(step: EnrollmentStep, url: string, body: string): Promise<HttpAnswer | { error: string }> {
    return this.send(step, 'POST', url, { 'content-type': SOAP_CONTENT_TYPE, 'user-agent': USER_AGENT, 'cache-control': 'no-cache' }, body);
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }

  private async send(step: EnrollmentStep, method: 'GET' | 'POST', url: string, headers: Record<string, string>, body: string): Promise<HttpAnswer | { error: string }> {
    const started = Date.now();
    const record: RecordedExchange = {
      step, method, url, requestHeaders: headers, requestBody: this.opts.redactor.text(body), startedAt: new Date(started).toISOString(), durationMs: 0,
    };
    this.exchanges.push(record);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      record.error = `not a URL: ${url}`;
      return { error: record.error };
    }
    if (target.protocol !== 'https:') {
      record.error = `${url} is not an https URL (MS-MDE2 services are reached over HTTPS)`;
      return { error: record.error };
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs);
    try {
      // Each step on a connection of its own (`reset`): the steps are seconds apart (a key is generated between two),
      // long enough for a server to close an idle kept-alive connection just as the next request goes out on it.
      const res = await request(target, {
        method, headers, body: method === 'POST' ? body : undefined, dispatcher: this.agent, signal: abort.signal, reset: true,
      });
      const answer: HttpAnswer = { status: res.statusCode, headers: flatHeaders(res.headers), body: Buffer.from(await res.body.arrayBuffer()) };
      record.status = answer.status;
      record.responseHeaders = answer.headers;
      record.responseBody = this.opts.redactor.text(answer.body.toString('utf8'));
      return answer;
    } catch (e) {
      record.error = abort.signal.aborted ? `no answer from ${target.host} within ${this.opts.timeoutMs} ms` : describeTransportError(e, target);
      return { error: record.error };
    } finally {
      clearTimeout(timer);
      record.durationMs = Date.now() - started;
    }
  }
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function describeTransportError(e: unknown, target: URL): string {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.cause?.code ?? err.code;
  const where = target.host;
  if (code === 'ECONNREFUSED') return `cannot connect to ${where}: connection refused`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve ${target.hostname}`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `no connection to ${where} within the timeout`;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer from ${where} within the timeout`;
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return `the answer from ${where} exceeds ${MAX_RESPONSE_BYTES} bytes`;
  if (code && UNTRUSTED_CERTIFICATE.has(code)) return `the TLS certificate of ${where} is not trusted (${code}); pass --ca FILE with the CA that issued it`;
  const message = err.cause?.message ?? err.message;
  return `cannot reach ${where}: ${message}${code ? ` (${code})` : ''}`;
}
