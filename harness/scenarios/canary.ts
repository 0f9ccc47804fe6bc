/**
 * An HTTP listener that records every request: what an XML parser fetches when it resolves the external entities a
 * security probe names (XXE). By default it listens on loopback, where only a peer on this machine can reach it, so
 * silence is no proof of safety; a hit is proof of the weakness. `--canary-listen ADDRESS:PORT` puts it where a peer
 * on another host can reach it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** What the canary serves: a reply that quotes it has echoed a resolved entity. */
export const CANARY_TEXT = 'mdm-conformance-entity-canary';

export interface Canary {
  /** Base URL, e.g. `http://127.0.0.1:41234/entity`. */
  url: string;
  /** `METHOD path` of each request received. */
  hits: string[];
  close(): Promise<void>;
}

export async function startCanary(listen: { host: string; port: number } = { host: '127.0.0.1', port: 0 }): Promise<Canary> {
  const hits: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(CANARY_TEXT);
  });
  server.requestTimeout = 2_000;
  server.headersTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`the entity canary cannot listen on ${listen.host}:${listen.port}: ${e.code ?? e.message}`)));
    server.listen(listen.port, listen.host, resolve);
  });
  const { port } = server.address() as { port: number };
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}/entity`,
    hits,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
