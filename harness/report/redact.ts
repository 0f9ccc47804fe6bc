/**
 * Redaction of everything a run writes: report files, attachments, repro bodies and printed
 * transcripts all pass through here, so there is one definition of what a secret looks like.
 *
 * Removed: private keys (any PEM `... PRIVATE KEY` block), the Data of every `Cred` element (SyncHdr, and commands
 * that carry one), the Data of an Item that sets a DMAcc `AAuthSecret`, `Authorization` header values, the `mac=` value of `x-syncml-hmac`, and literal secrets the run
 * was given (passwords and what is derived from them without a nonce). Certificates, nonces and the rest of the
 * message stay: they are what a vendor needs to read a verdict.
 *
 * Structured data is redacted by field (headers, parsed `cred`) and every serialized text by pattern as well, so a
 * secret that reaches a string some other way (an evidence line quoting a header, a JSON dump) is still caught.
 * WBXML bodies are binary: their secrets are found in the decoded document and masked in the bytes (`wbxml`).
 */
import { basicCredential, userPasswordHash } from '../protocol/auth';
import type { Credentials, RunConfig } from '../iut/run-config';
import { decodeWbxml, encodeWbxml, type XmlElement, type XmlNode } from '../syncml';

export const REDACTED = '[redacted]';

/** Header names whose whole value is a secret. */
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization']);
const HMAC_HEADER = 'x-syncml-hmac';

/** Below this length a literal "secret" would match ordinary words; such passwords are still caught structurally. */
const MIN_SECRET_LENGTH = 4;

const PEM_PRIVATE_KEY = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;
/** A key block cut short (a truncated body or log line) has no END marker: everything after BEGIN goes. */
const PEM_PRIVATE_KEY_UNTERMINATED = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----(?![\s\S]*-----END )[\s\S]*$/g;
/** `<Cred ...> ... <Data ...>SECRET</Data>`, with or without a namespace prefix, CDATA included. */
const CRED_DATA = /(<((?:[\w.-]+:)?)Cred\b(?:[^>]*[^>/])?>(?:(?!<\/\2Cred>)[\s\S])*?<\2Data\b(?:[^>]*[^>/])?>)([\s\S]*?)(<\/\2Data>)/g;
/**
 * The Data of an Item that sets a DMAcc secret (`…/AAuthSecret`, a credential change sent to a device, MDM-AUTH-030):
 * `<Item> … <LocURI>…/AAuthSecret</LocURI> … <Data>SECRET</Data>`, with or without a namespace prefix.
 */
const SECRET_NODE_DATA = /(<((?:[\w.-]+:)?)Item\b(?:[^>]*[^>/])?>(?:(?!<\/\2Item>)[\s\S])*?<\2LocURI\b[^>]*>[^<]*\/AAuthSecret\s*<\/\2LocURI>(?:(?!<\/\2Item>)[\s\S])*?<\2Data\b(?:[^>]*[^>/])?>)([\s\S]*?)(<\/\2Data>)/g;
/** `authorization: value` on a header line, or `"authorization": "value"` / `"Authorization", "value"` in JSON. */
const AUTH_LINE = /^([ \t]*(?:proxy-)?authorization[ \t]*:[ \t]*)(.+)$/gim;
const AUTH_JSON = /("(?:proxy-)?authorization"\s*[:,]\s*")((?:[^"\\]|\\.)*)(")/gi;
/** The mac parameter of `x-syncml-hmac: algorithm=MD5, username="u", mac=...`, in a header line or a JSON string. */
const HMAC_MAC = /(x-syncml-hmac\b[^\n]*?\bmac\s*=\s*(?:\\?")?)([^,\s"\\]+)/gi;
/** The words without which AUTH_LINE, AUTH_JSON and HMAC_MAC cannot match. */
const AUTHORIZATION_WORD = /authorization/i;
const HMAC_WORD = /x-syncml-hmac/i;

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string> = []) {
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...new Set([...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
  }

  /** A redactor that also knows these literal secrets. */
  with(secrets: Iterable<string>): Redactor {
    return new Redactor([...this.secrets, ...secrets]);
  }

  /**
   * Any text: XML, header lines, JSON, evidence. Each pattern runs only on text that holds its marker word (the
   * markers are case-sensitive exactly where the patterns are): most strings of a report are short values that
   * hold none, and a report has tens of thousands of them.
   */
  text(input: string): string {
    let s = input;
    if (s.includes('PRIVATE KEY-----')) {
      s = s
        .replace(PEM_PRIVATE_KEY, (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----\n${REDACTED}\n-----END ${kind}PRIVATE KEY-----`)
        .replace(PEM_PRIVATE_KEY_UNTERMINATED, (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----\n${REDACTED}`);
    }
    if (s.includes('Cred')) s = s.replace(CRED_DATA, (_m, open: string, _prefix: string, data: string, close: string) => `${open}${data.length ? REDACTED : ''}${close}`);
    if (s.includes('/AAuthSecret')) s = s.replace(SECRET_NODE_DATA, (_m, open: string, _prefix: string, data: string, close: string) => `${open}${data.length ? REDACTED : ''}${close}`);
    if (AUTHORIZATION_WORD.test(s)) s = s.replace(AUTH_LINE, `$1${REDACTED}`).replace(AUTH_JSON, `$1${REDACTED}$3`);
    if (HMAC_WORD.test(s)) s = s.replace(HMAC_MAC, `$1${REDACTED}`);
    for (const secret of this.secrets) if (s.includes(secret)) s = s.split(secret).join(REDACTED);
    return s;
  }

  /**
   * A WBXML body with its secrets masked in place: each byte of a secret becomes `*`, so lengths and string-table
   * offsets stay and the bytes still decode, to the same document with the secrets starred out. The secrets are the
   * text of every `Cred` `Data` and any text the patterns or literal secrets of `text` would change, read from the
   * decoded document. When masking cannot be shown to have removed them all (a secret split over several strings),
   * the document is re-encoded with those texts replaced instead. A body that does not decode as WBXML gets the
   * literal secrets masked.
   */
  wbxml(bytes: Uint8Array): Buffer {
    const masked = Buffer.from(bytes);
    const root = tryDecode(masked);
    if (!root) {
      for (const secret of this.secrets) mask(masked, Buffer.from(secret));
      return masked;
    }
    for (const node of this.secretNodes(root)) mask(masked, node.opaque ?? Buffer.from(node.text));
    const after = tryDecode(masked);
    if (after && this.secretNodes(after).every((n) => /^\**$/.test(n.text) || (n.opaque !== undefined && n.opaque.every((b) => b === 0x2a)))) return masked;
    for (const node of this.secretNodes(root)) {
      node.text = REDACTED;
      delete node.opaque;
    }
    return Buffer.from(encodeWbxml(root));
  }

  /** Text nodes of a decoded document that hold a secret: Cred Data, or text the patterns would change. */
  private secretNodes(root: XmlElement): Extract<XmlNode, { type: 'text' }>[] {
    const out: Extract<XmlNode, { type: 'text' }>[] = [];
    const walk = (el: XmlElement, inCred: boolean, inCredData: boolean) => {
      const local = el.name.slice(el.name.indexOf(':') + 1);
      const cred = inCred || local === 'Cred';
      const credData = inCredData || (cred && local === 'Data');
      for (const child of el.children) {
        if (child.type === 'element') walk(child, cred, credData);
        else if (child.text !== '' && (credData || this.text(child.text) !== child.text)) out.push(child);
      }
    };
    walk(root, false, false);
    return out;
  }

  /** One header value, by name (lower-case or wire case). */
  headerValue(name: string, value: string): string {
    const lower = name.toLowerCase();
    if (SECRET_HEADERS.has(lower)) return REDACTED;
    if (lower === HMAC_HEADER) return value.replace(/(\bmac\s*=\s*"?)([^,\s"]+)/gi, `$1${REDACTED}`);
    return this.text(value);
  }

  headers(headers: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) out[name] = this.headerValue(name, value);
    return out;
  }

  /** Node's flat `[name, value, name, value, ...]` list. */
  rawHeaders(list: readonly string[]): string[] {
    return list.map((v, i) => (i % 2 === 1 ? this.headerValue(list[i - 1], v) : v));
  }

  /**
   * A deep copy of JSON-like data with secrets removed: header maps by name, `cred` objects of parsed SyncML by
   * field, every string by pattern.
   */
  json<T>(value: T): T {
    return this.walk(value, undefined) as T;
  }

  private walk(value: unknown, key: string | undefined): unknown {
    if (typeof value === 'string') return key && (SECRET_HEADERS.has(key.toLowerCase()) || key.toLowerCase() === HMAC_HEADER) ? this.headerValue(key, value) : this.text(value);
    if (Array.isArray(value)) {
      // A rawHeaders-style list: a secret header name is followed by its value.
      return value.map((v, i) => (typeof v === 'string' && i % 2 === 1 && typeof value[i - 1] === 'string' && isSecretHeader(value[i - 1] as string) ? this.headerValue(value[i - 1] as string, v) : this.walk(v, undefined)));
    }
    if (value && typeof value === 'object') {
      if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out[k] = k === 'cred' && v && typeof v === 'object' ? this.redactCred(v as Record<string, unknown>) : this.walk(v, k);
      }
      return out;
    }
    return value;
  }

  private redactCred(cred: Record<string, unknown>): Record<string, unknown> {
    const out = this.walk(cred, undefined) as Record<string, unknown>;
    if (out.data !== undefined) out.data = { text: REDACTED };
    return out;
  }
}

function tryDecode(bytes: Uint8Array): XmlElement | undefined {
  try {
    return decodeWbxml(bytes);
  } catch {
    return undefined;
  }
}

/** Overwrites every occurrence of `needle` in `haystack` with `*`. */
function mask(haystack: Buffer, needle: Uint8Array): void {
  if (!needle.length) return;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) haystack.fill(0x2a, at, at + needle.length);
}

function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADERS.has(lower) || lower === HMAC_HEADER;
}

/** The literal secrets of a set of credentials: the password and what a peer could derive from it without a nonce. */
export function credentialSecrets(c: Credentials | undefined): string[] {
  if (!c) return [];
  return [c.password, basicCredential(c.user, c.password), userPasswordHash(c.user, c.password)];
}

/** Every literal secret a run configuration holds. */
export function runSecrets(config: RunConfig | undefined): string[] {
  if (!config) return [];
  return [
    ...credentialSecrets(config.server?.credentials),
    ...credentialSecrets(config.server?.serverCredentials),
    ...credentialSecrets(config.client?.credentials),
    ...credentialSecrets(config.client?.serverCredentials),
  ];
}

/** The redactor of a run: the patterns, plus the run's own credentials. */
export function redactorFor(config: RunConfig | undefined): Redactor {
  return new Redactor(runSecrets(config));
}

/** Pattern-only redaction, for writers that have no run configuration at hand. */
export const redact = new Redactor();
