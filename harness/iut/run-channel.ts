/**
 * What the CLI keeps for itself during a run and lends to the suites' worker processes, over a loopback HTTP
 * endpoint only the run's token opens:
 *
 * - `POST /queue {deviceId, commands}`: queues commands on the reference server the CLI hosts (`test-server --enroll`
 *   without --discovery: the identity its enrollment service issued must meet the same server in every worker), as
 *   `--control` does for a vendor's server;
 * - `POST /enroll {deviceId}`: enrolls another device the way the run enrolled its own (`test-server --enroll`),
 *   so the enrollment secrets stay in the CLI's memory, never in a file, and a device is enrolled once per run even
 *   when a worker restarts. A refusal comes back as the EnrollmentError it was, step and reason.
 *
 * The token travels in the run configuration, which lives in a private temporary directory, never in the reports.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnrollmentError, type EnrollmentStep } from '../enrollment/errors';
import type { Identity } from '../pki';
import type { Command } from '../syncml';
import type { RunChannelConfig } from './run-config';

/** A large-object scenario queues a few hundred kilobytes; anything far beyond is not a queue request. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface RunChannelHandlers {
  queue?: (deviceId: string, commands: Command[]) => void;
  enroll?: (deviceId: string) => Promise<Identity>;
}

export interface OpenRunChannel extends RunChannelConfig {
  close(): Promise<void>;
}

/** Serves the handlers given on 127.0.0.1, on a free port; an endpoint without a handler answers 404. */
export async function openRunChannel(handlers: RunChannelHandlers): Promise<OpenRunChannel> {
  const token = randomBytes(32).toString('hex');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((req, res) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return answer(res, 401, 'a request to the run channel needs the run\'s token');
    const handle = req.method === 'POST' && req.url === '/queue' ? handlers.queue && queueHandler(handlers.queue)
      : req.method === 'POST' && req.url === '/enroll' ? handlers.enroll && enrollHandler(handlers.enroll)
        : undefined;
    if (!handle) return answer(res, 404, `nothing at ${req.method} ${req.url} in this run`);
    readBody(req).then(
      (body) => {
        let request: Record<string, unknown>;
        try {
          request = JSON.parse(body) as Record<string, unknown>;
        } catch (e) {
          return answer(res, 400, `not JSON: ${(e as Error).message}`);
        }
        handle(request, res).catch((e: Error) => answer(res, 500, e.message));
      },
      (e: Error) => answer(res, 413, e.message),
    );
  });
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

type Handler = (request: Record<string, unknown>, res: ServerResponse) => Promise<void>;

function queueHandler(queue: NonNullable<RunChannelHandlers['queue']>): Handler {
  return async (request, res) => {
    if (typeof request.deviceId !== 'string' || !Array.isArray(request.commands)) return answer(res, 400, 'expected {"deviceId": "…", "commands": [...]}');
    queue(request.deviceId, request.commands as Command[]);
    answer(res, 204, '');
  };
}

function enrollHandler(enroll: NonNullable<RunChannelHandlers['enroll']>): Handler {
  return async (request, res) => {
    if (typeof request.deviceId !== 'string' || !request.deviceId) return answer(res, 400, 'expected {"deviceId": "…"}');
    try {
      json(res, 200, await enroll(request.deviceId));
    } catch (e) {
      if (!(e instanceof EnrollmentError)) throw e;
      json(res, 422, { step: e.step, message: e.message });
    }
  };
}

/** The queue of a ServerUnderTest, through the channel of the CLI that hosts the server. */
export function queueOver(channel: RunChannelConfig, timeoutMs = 10_000): (deviceId: string, commands: Command[]) => Promise<void> {
  return async (deviceId, commands) => {
    const res = await post(channel, '/queue', { deviceId, commands }, timeoutMs, 'cannot queue commands on the embedded reference server');
    if (res.status !== 204) throw new Error(`queueing commands on the embedded reference server answered HTTP ${res.status}: ${(await res.text()).trim()}`);
  };
}

/** `enrollDevice` of a ServerUnderTest: the CLI enrolls the device; a refusal is thrown as the EnrollmentError it was. */
export function enrollOver(channel: RunChannelConfig, timeoutMs: number): (deviceId: string) => Promise<Identity> {
  return async (deviceId) => {
    const res = await post(channel, '/enroll', { deviceId }, timeoutMs, `cannot have device ${deviceId} enrolled`);
    if (res.status === 422) {
      const refused = (await res.json()) as { step: EnrollmentStep; message: string };
      throw new EnrollmentError(refused.step, refused.message);
    }
    if (res.status !== 200) throw new Error(`enrolling device ${deviceId} answered HTTP ${res.status}: ${(await res.text()).trim()}`);
    return (await res.json()) as Identity;
  };
}

async function post(channel: RunChannelConfig, path: string, body: unknown, timeoutMs: number, what: string): Promise<Response> {
  try {
    return await fetch(`${channel.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${channel.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new Error(`${what} (run channel ${channel.url}${path}): ${(e as Error).message}`);
  }
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text ? `${text}\n` : undefined);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`a request of more than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
