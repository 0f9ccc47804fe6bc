/**
 * A loopback HTTP listener that records every request: what an XML parser fetches when it resolves the external
 * entities a security probe names (XXE). Only a peer on this machine can reach it, so silence is no proof of safety;
 * a hit is proof of the weakness.
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

export async function startCanary(): Promise<Canary> {
  const hits: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(CANARY_TEXT);
  });
  server.requestTimeout = 2_000;
  server.headersTimeout = 2_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/entity`,
    hits,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
