/**
 * A switchable fault of a reference peer: exactly one realistic violation of one or more catalogue requirements.
 * The catalogues of faults are data: the self suite runs every scenario against each faulty peer and proves that
 * the checks report the requirements the fault declares, and nothing against the clean peer.
 */
import { serializeSyncML, type SyncML, type SyncMLEncoding } from '../syncml';

/** An HTTP message as a peer is about to send it: XML text, or WBXML bytes. */
export interface WireOut {
  headers: Record<string, string>;
  body: string | Uint8Array;
  /** Content-Length to declare instead of the true one (a framing fault). */
  declaredLength?: number;
  /** HTTP status of a reply instead of 200 (a server fault). */
  status?: number;
  /** HTTP method of a request instead of POST (a device fault). */
  method?: string;
}

/**
 * How a run must be set up for a fault to show: the peers speak WBXML, or the device signs every message and the
 * server requires it (RequireMessageSigning). A run with `encoding: 'wbxml'` declares the `wbxml` feature, one with
 * `signing` the `message-signing` feature, as a vendor's profile would.
 */
export interface RunOptions {
  encoding?: SyncMLEncoding;
  signing?: boolean;
  /** The scheme of the credentials the server presents to devices; absent: md5, as Windows requires (MDM-AUTH-031). */
  serverScheme?: 'syncml:auth-basic' | 'syncml:auth-md5';
}

export interface Fault<Behaviour> {
  name: string;
  /** What the faulty peer does, in one line. */
  summary: string;
  /** Catalogue ids the fault violates; the checks must report every one of them. */
  violates: readonly string[];
  /**
   * The violation is a SHOULD, or a deviation the catalogue says to report as a warning: the checks
   * report it as a warning, which fails a run only under --strict.
   */
  warningOnly?: boolean;
  /** Security advisories (probe labels) the weakness makes a scenario report, where the catalogue is silent. */
  advises?: readonly string[];
  /** Knobs of the session engine or peer that the fault flips. */
  behaviour?: Partial<Behaviour>;
  /** Edit of each outgoing message model. */
  message?: (msg: SyncML) => void;
  /** Edit of the serialized text (order violations the model cannot express). */
  text?: (xml: string) => string;
  /** Edit of the HTTP message; `closing` is true for the message that ends the session. */
  wire?: (out: WireOut, ctx: { closing: boolean }) => void;
  /** The run the fault needs (the fault matrices set it up); absent: any run, XML and unsigned by default. */
  runsWith?: RunOptions;
}

/** Serializes an outgoing message with the faults' edits applied. */
export function render<B>(msg: SyncML, faults: readonly Fault<B>[]): string {
  const copy = faults.some((f) => f.message) ? structuredClone(msg) : msg;
  for (const f of faults) f.message?.(copy);
  let xml = serializeSyncML(copy);
  for (const f of faults) if (f.text) xml = f.text(xml);
  return xml;
}

/** The combined behaviour knobs of a set of faults. */
export function behaviourOf<B>(faults: readonly Fault<B>[]): Partial<B> {
  return Object.assign({}, ...faults.map((f) => f.behaviour ?? {}));
}

export function faultByName<B>(catalogue: readonly Fault<B>[], name: string): Fault<B> {
  const f = catalogue.find((x) => x.name === name);
  if (!f) throw new Error(`unknown fault "${name}"; known faults: ${catalogue.map((x) => x.name).join(', ')}`);
  return f;
}

/** The run a set of faults needs, every fault's needs together. */
export function runOptionsOf<B>(faults: readonly Fault<B>[]): RunOptions {
  const out: RunOptions = {};
  for (const f of faults) {
    if (f.runsWith?.encoding) out.encoding = f.runsWith.encoding;
    if (f.runsWith?.signing) out.signing = true;
    if (f.runsWith?.serverScheme) out.serverScheme = f.runsWith.serverScheme;
  }
  return out;
}
