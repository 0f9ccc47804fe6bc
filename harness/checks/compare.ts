/**
 * How checks compare what a peer wrote with what it should be: by meaning, not by spelling. A MsgID written `01`
 * is message 1; `https://MDM.example.test:443/omadm` is the URL `https://mdm.example.test/omadm`. Judging the
 * spelling would fail behaviour the catalogue allows.
 */
import { trimmed } from './session';

const DIGITS = /^\d+$/;

/** A reference number (MsgID, MsgRef, CmdID, CmdRef) in one canonical spelling: `007` -> `7`; other text trimmed. */
export function numberKey(value: string | undefined): string {
  const t = trimmed(value);
  // The common spelling is already canonical: digits without a leading zero.
  if (t.charCodeAt(0) !== 0x30 || t.length === 1) return t;
  return DIGITS.test(t) ? String(Number(t)) : t;
}

/** Two reference numbers are the same number (`01` and `1`), or the same text when either is not a number. */
export function sameNumber(a: string | undefined, b: string | undefined): boolean {
  return numberKey(a) === numberKey(b);
}

/** The numeric value of a reference number, or undefined when it is not one. */
export function numberOf(value: string | undefined): number | undefined {
  const t = trimmed(value);
  return DIGITS.test(t) ? Number(t) : undefined;
}

const DEFAULT_PORTS: Record<string, string> = { 'https:': '443', 'http:': '80' };

/**
 * A URL in a canonical form for comparison: scheme and host lower-case, the default port dropped, the query left
 * out (Windows appends `mode` and `Platform` to the URL it posts to, MS-MDM 2.1). Text that is not a URL is trimmed.
 */
export function urlKey(value: string | undefined): string {
  const t = trimmed(value);
  // Every message of a session names the same URL: parsing it once is enough.
  const known = URL_KEYS.get(t);
  if (known !== undefined) return known;
  const key = computeUrlKey(t);
  if (URL_KEYS.size >= URL_KEYS_KEPT) URL_KEYS.clear();
  URL_KEYS.set(t, key);
  return key;
}

const URL_KEYS = new Map<string, string>();
const URL_KEYS_KEPT = 256;

function computeUrlKey(t: string): string {
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return t.split('?')[0];
  }
  const port = u.port && u.port !== DEFAULT_PORTS[u.protocol] ? `:${u.port}` : '';
  return `${u.protocol}//${u.hostname.toLowerCase()}${port}${u.pathname}`;
}

export function sameUrl(a: string | undefined, b: string | undefined): boolean {
  return urlKey(a) === urlKey(b);
}

/** The URL with an aliased origin replaced by the one it stands for (see AnySessionView.originAliases). */
export function unaliased(url: string | undefined, aliases: Readonly<Record<string, string>> | undefined): string | undefined {
  if (!aliases || url === undefined) return url;
  const t = url.trim();
  const replaced = (origin: string) => {
    try {
      const u = new URL(t);
      return `${origin.replace(/\/+$/, '')}${u.pathname}${u.search}`;
    } catch {
      return t;
    }
  };
  for (const [alias, origin] of Object.entries(aliases)) {
    if (alias !== '*' && urlKey(t).startsWith(urlKey(alias))) return replaced(origin);
  }
  // `*`: whatever origin the device used stands for this one (a proxy reached under names it cannot know).
  return aliases['*'] !== undefined ? replaced(aliases['*']) : t;
}
