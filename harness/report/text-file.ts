/**
 * A file written piece by piece, for reports too large to build as one string (the records of a large capture hold
 * every message). Each piece is written whole before `write` returns.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export class TextFile {
  private readonly fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    // A write may take fewer bytes than it was given: go on from where it stopped.
    for (let at = 0; at < bytes.length;) at += writeSync(this.fd, bytes, at, bytes.length - at);
  }

  close(): void {
    closeSync(this.fd);
  }
}
