/**
 * What an XML parser with external entities enabled does with a DOCTYPE: it fetches every SYSTEM identifier. The
 * reference peers do this only when switched to the `resolves-external-entities` weakness, so that the security
 * probes can be shown to notice it. Only loopback http URLs are followed, so a peer never reaches past the machine
 * even when told to be vulnerable; each fetch is bounded in time and size, and there are at most eight.
 */
import { get } from 'node:http';

const LOOPBACK_SYSTEM_ID = /SYSTEM\s+["'](http:\/\/(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(?::\d+)?\/[^"']*)["']/g;

/** Fetches the loopback SYSTEM identifiers named in the first 64 KiB of `body`; returns the URLs it tried. */
export async function fetchLoopbackEntities(body: Uint8Array): Promise<string[]> {
  const head = Buffer.from(body.subarray(0, 64 * 1024)).toString('latin1');
  const urls = [...head.matchAll(LOOPBACK_SYSTEM_ID)].map((m) => m[1]).slice(0, 8);
  for (const url of urls) {
    await new Promise<void>((done) => {
      const req = get(url, { timeout: 1_000 }, (res) => {
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > 64 * 1024) req.destroy();
        });
        res.on('end', () => done());
        res.on('error', () => done());
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => done());
      req.on('close', () => done());
    });
  }
  return urls;
}
