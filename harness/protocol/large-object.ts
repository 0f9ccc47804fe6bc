/**
 * Large objects (OMA-DMP 7; catalogue MDM-LO-009..016): splitting an Item's Data into chunks that fit the room a
 * message has left, and reassembling received chunks against the declared Size.
 *
 * Size counts the UTF-8 bytes of the Data text as carried (the unescaped value), on both sides alike.
 */
import { escapeText } from '../syncml/xml';

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The longest prefix of `text` whose escaped UTF-8 form takes at most `budget` bytes; never splits a character
 * or a surrogate pair. Returns '' when not even one character fits.
 */
export function prefixWithin(text: string, budget: number): string {
  let used = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    const ch = text.slice(i, i + width);
    const cost = Buffer.byteLength(escapeText(ch));
    if (used + cost > budget) break;
    used += cost;
    i += width;
  }
  return text.slice(0, i);
}

/** Receiving side of one chunked object. */
export class ChunkAssembly {
  private readonly parts: string[] = [];
  private received = 0;

  constructor(
    /** The node the object is addressed to (Item Target or Source LocURI). */
    readonly uri: string,
    /** Size declared on the first chunk, if any (MDM-LO-011). */
    readonly declaredSize: number | undefined,
  ) {}

  append(chunk: string): void {
    this.parts.push(chunk);
    this.received += byteLength(chunk);
  }

  get receivedBytes(): number {
    return this.received;
  }

  get text(): string {
    return this.parts.join('');
  }

  /** True when the reassembled length equals the declared Size (MDM-LO-012: otherwise 424). */
  get sizeMatches(): boolean {
    return this.declaredSize === undefined || this.declaredSize === this.received;
  }
}
