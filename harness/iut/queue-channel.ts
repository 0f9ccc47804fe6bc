/**
 * The command queue of a reference server the CLI hosts, offered to the suites' worker processes: a loopback HTTP
 * endpoint that takes `{deviceId, commands}` as JSON and queues the commands on the server, as `--control` does
 * for a vendor's server. The CLI hosts the server when the run enrolls against it (`test-server --enroll`): the
 * identity its enrollment service issued must meet the same server in every worker.
 *
 * Only the holder of the token may queue: it travels in the run configuration, which lives in a private temporary
 * directory, never in the reports.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from '../syncml';
import type { QueueChannelConfig } from './run-config';

/** A large-object scenario queues a few hundred kilobytes; anything far beyond is not a queue request. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const QUEUE_PATH = '/queue';

export interface OpenQueueChannel extends QueueChannelConfig {
  close(): Promise<void>;
}

/** Serves `queue(deviceId, ...commands)` on 127.0.0.1, on a free port. */
export async function openQueueChannel(queue: (deviceId: string, commands: Command[]) => void): Promise<OpenQueueChannel> {
  const token = randomBytes(32).toString('hex');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((req, res) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return answer(res, 401, 'a queue request needs the run\'s token');
    if (req.method !== 'POST' || req.url !== QUEUE_PATH) return answer(res, 404, `POST ${QUEUE_PATH}`);
    readBody(req).then(
      (body) => {
        let request: { deviceId?: unknown; commands?: unknown };
        try {
          request = JSON.parse(body) as typeof request;
        } catch (e) {
          return answer(res, 400, `not JSON: ${(e as Error).message}`);
        }
        if (typeof request.deviceId !== 'string' || !Array.isArray(request.commands)) return answer(res, 400, 'expected {"deviceId": "…", "commands": [...]}');
        queue(request.deviceId, request.commands as Command[]);
        answer(res, 204, '');
      },
      (e: Error) => answer(res, 413, e.message),
    );
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${QUEUE_PATH}`,
    token,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The queue of a ServerUnderTest, through a channel the CLI opened. */
export function queueOver(channel: QueueChannelConfig, timeoutMs = 10_000): (deviceId: string, commands: Command[]) => Promise<void> {
  return async (deviceId, commands) => {
    let res: Response;
    try {
      res = await fetch(channel.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${channel.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId, commands }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new Error(`cannot queue commands on the embedded reference server (${channel.url}): ${(e as Error).message}`);
    }
    if (res.status !== 204) throw new Error(`queueing commands on the embedded reference server answered HTTP ${res.status}: ${(await res.text()).trim()}`);
  };
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text ? `${text}\n` : undefined);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`a queue request of more than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
