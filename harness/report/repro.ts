/**
 * Repro export: a failed test against a server leaves a folder under `reports/repro/` with the
 * exact request bodies the reference device posted and a shell script that replays them with curl over mutual TLS,
 * so a vendor can reproduce the failing response without the harness.
 *
 * The one deliberate difference from the wire: Cred data is redacted in the saved bodies (no report file may hold
 * it). The script puts it back when given MDM_USER and MDM_PASSWORD, computing syncml:auth-basic, or
 * syncml:auth-md5 over the latest NextNonce the replay received (or MDM_NONCE), with openssl.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sniffEncoding } from '../syncml';
import type { Exchange } from '../transport';
import type { Redactor } from './redact';
import { exchangeLists } from './transcript-export';
import { identityByFingerprint } from '../transport/identities';

export const REPRO_DIR = 'repro';
export const REPRO_SCRIPT = 'repro.sh';

/**
 * Files the replay presents and trusts: the run's device identity and the CA of the server certificate, as absolute
 * paths (the script runs from its own folder), and the fingerprint of the device certificate, which tells the
 * sessions that used it from those that presented another identity or none.
 */
export interface ReproTarget {
  cert: string;
  key: string;
  cacert: string;
  fingerprint?: string;
}

export interface ReproInput {
  /** The reports directory; the folder goes under `repro/`. */
  reportsDir: string;
  scenario: string;
  title: string;
  /** Redacted lines, `ID (LEVEL): evidence`. */
  failures: string[];
  transcripts: readonly unknown[];
  target: ReproTarget;
  redactor: Redactor;
}

/** Request headers curl sets itself, or that describe one connection rather than the message. */
const NOT_REPLAYED: ReadonlySet<string> = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'expect', 'te', 'upgrade']);
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'x-syncml-hmac']);

/** Single-quoted for sh: nothing inside is expanded. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function comment(s: string): string {
  return s.replace(/\r?\n/g, '\n#   ');
}

export function reproFolderName(scenario: string): string {
  return scenario.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|[.-]+$/g, '') || 'test';
}

const CRED = /<((?:[\w.-]+:)?)Cred\b(?:[^>]*[^>/])?>([\s\S]*?)<\/\1Cred>/;
const TYPE = /<(?:[\w.-]+:)?Type\b[^>]*>\s*([^<\s]+)\s*<\/(?:[\w.-]+:)?Type>/;

/** The scheme of a message's first Cred, read from the bytes (a body need not parse to carry one); '' without. */
export function credScheme(body: string): string {
  const cred = CRED.exec(body);
  if (!cred) return '';
  // A Cred without Meta/Type is syncml:auth-basic, SyncML's default type.
  return TYPE.exec(cred[2])?.[1] ?? 'syncml:auth-basic';
}

function headerPairs(x: Exchange): [string, string][] {
  const raw = x.request.rawHeaders;
  if (raw && raw.length) {
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
    return pairs;
  }
  return Object.entries(x.request.headers);
}

/**
 * The script lines that set the identity a session's requests present: the run's device identity, another
 * certificate the session presented (an auth case's expired or foreign identity, written beside the script), or none.
 */
function sessionIdentity(exchanges: readonly Exchange[], target: ReproTarget, dir: string, written: Map<string, string>): string[] {
  const presented = exchanges[0]?.clientCertificate;
  if (!presented) return ['# this session presented no client certificate', 'SESSION_CERT="" SESSION_KEY=""'];
  if (!target.fingerprint || presented === target.fingerprint) return ['SESSION_CERT="$CERT" SESSION_KEY="$KEY"'];
  let stem = written.get(presented);
  if (!stem) {
    const identity = identityByFingerprint(presented);
    if (!identity) return [`# this session presented a certificate (SHA-256 ${presented}) the replay does not have: the device identity is used instead`, 'SESSION_CERT="$CERT" SESSION_KEY="$KEY"'];
    stem = `identity-${written.size + 1}`;
    writeFileSync(join(dir, `${stem}.pem`), identity.certPem);
    writeFileSync(join(dir, `${stem}-key.pem`), identity.keyPem, { mode: 0o600 });
    written.set(presented, stem);
  }
  return [`# this session presented another certificate (SHA-256 ${presented}): ${stem}.pem`, `SESSION_CERT=${stem}.pem SESSION_KEY=${stem}-key.pem`];
}

/** Writes the folder and returns the script's path; an earlier folder of the same test is replaced. */
export function writeRepro(input: ReproInput): string {
  const r = input.redactor;
  const sessions = exchangeLists(input.transcripts);
  const dir = join(input.reportsDir, REPRO_DIR, reproFolderName(input.scenario));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  let origin: string | undefined;
  const steps: string[] = [];
  const notes: string[] = [];
  const identityFiles = new Map<string, string>();
  sessions.forEach((exchanges, s) => {
    steps.push('', `echo ${shellQuote(`== session ${s + 1} of ${sessions.length} ==`)}`);
    steps.push(...sessionIdentity(exchanges, input.target, dir, identityFiles));
    let n = 0;
    for (const x of exchanges) {
      const reqN = ++n;
      const hasReply = !!x.response && !(x.error && x.response.body.byteLength === 0 && x.response.status === undefined);
      const resN = hasReply ? ++n : reqN + 1;
      const stem = `s${s + 1}-msg${reqN}`;
      // A WBXML body is bytes: its secrets are masked in place (Redactor.wbxml), never rewritten as text.
      const wbxml = x.request.body.byteLength > 0 && sniffEncoding(x.request.body) === 'wbxml';
      const bodyFile = `${stem}.${wbxml ? 'wbxml' : 'xml'}`;
      if (wbxml) writeFileSync(join(dir, bodyFile), r.wbxml(x.request.body));
      else writeFileSync(join(dir, bodyFile), r.text(x.request.body.toString('latin1')), 'latin1');
      let path = '/';
      try {
        const url = new URL(x.request.url ?? '');
        origin ??= url.origin;
        path = `${url.pathname}${url.search}`;
      } catch {
        path = x.request.url && x.request.url.startsWith('/') ? x.request.url : '/';
      }
      const scheme = credScheme(x.request.body.toString('latin1'));
      const headers: string[] = [];
      const omitted: string[] = [];
      for (const [name, value] of headerPairs(x)) {
        const lower = name.toLowerCase();
        if (NOT_REPLAYED.has(lower)) continue;
        if (SECRET_HEADERS.has(lower)) {
          omitted.push(name);
          continue;
        }
        headers.push(`-H ${shellQuote(`${name}: ${value}`)}`);
      }
      const recorded = hasReply ? `HTTP ${x.response!.status ?? '?'}` : `no reply (${x.error ? `${x.error.kind}: ${x.error.message}` : 'none'})`;
      const lines = [`# msg ${reqN} (device->server); recorded answer: ${r.text(recorded)}`];
      const declared = x.request.declaredLength ?? Number(x.request.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > x.request.body.byteLength) {
        lines.push(`# the transcript kept only the first ${x.request.body.byteLength} of ${declared} bytes: this replays the kept part`);
      }
      if (omitted.length) lines.push(`# not replayed (secret): ${omitted.join(', ')}`);
      // A refused handshake was the recorded outcome: curl failing the same way reproduces it.
      const refused = !hasReply && (x.error?.kind === 'tls' || x.error?.kind === 'reset' || x.error?.kind === 'connect');
      if (hasReply) {
        const replyBody = x.response!.body;
        const replyWbxml = replyBody.byteLength > 0 && sniffEncoding(replyBody) === 'wbxml';
        const replyFile = `s${s + 1}-msg${resN}.recorded.${replyWbxml ? 'wbxml' : 'xml'}`;
        if (replyWbxml) writeFileSync(join(dir, replyFile), r.wbxml(replyBody));
        else writeFileSync(join(dir, replyFile), r.text(replyBody.toString('latin1')), 'latin1');
        lines.push(`# the reply the harness received is in ${replyFile}; this run's reply goes to $OUT/s${s + 1}-msg${resN}.xml`);
      }
      lines.push(`send ${shellQuote(`s${s + 1}-msg${resN}`)} ${shellQuote(bodyFile)} ${shellQuote(path)} ${shellQuote(scheme)} ${refused ? 'refused' : 'answered'} ${headers.join(' ')}`.trimEnd());
      steps.push(...lines);
    }
  });
  if (!sessions.length) notes.push('# the test recorded no HTTP exchange: there is nothing to replay');

  const script = [
    '#!/usr/bin/env bash',
    '# Replays, with curl alone, the requests of a failed mdm-conformance test against the server under test.',
    '#',
    `#   test:      ${comment(r.text(input.title))}`,
    `#   scenario:  ${input.scenario}`,
    ...input.failures.map((f) => `#   failed:    ${comment(r.text(f))}`),
    '#',
    '# Each request is the exact body the reference device posted (the files beside this script), sent over mutual',
    '# TLS with the identity its session used (the run\'s device identity, or the other certificate an auth case',
    '# presented, kept beside this script, or none); each reply is printed and saved in $OUT (default ./responses)',
    '# next to the reply the harness received (*.recorded.xml). Cred data is redacted in the saved bodies: set MDM_USER',
    '# and MDM_PASSWORD to send real credentials (basic, or MD5 over the latest NextNonce received, or MDM_NONCE).',
    '# Environment: MDM_ORIGIN (scheme://host:port of the server), MDM_CERT, MDM_KEY, MDM_CACERT, MDM_OUT.',
    '# Exit status: 0 when every request got the kind of answer the harness recorded (a reply, or a refused',
    '# handshake), 1 when curl failed where the harness had a reply.',
    ...notes,
    'set -u',
    'cd "$(dirname "$0")"',
    `ORIGIN="\${MDM_ORIGIN:-${origin ?? 'https://127.0.0.1:8443'}}"`,
    `CERT="\${MDM_CERT:-${input.target.cert}}"`,
    `KEY="\${MDM_KEY:-${input.target.key}}"`,
    `CACERT="\${MDM_CACERT:-${input.target.cacert}}"`,
    'OUT="${MDM_OUT:-responses}"',
    'NONCE="${MDM_NONCE:-}"',
    'SESSION_CERT="$CERT" SESSION_KEY="$KEY"',
    'FAILED=0',
    'mkdir -p "$OUT"',
    '',
    '# cred SCHEME: the Cred data MDM_USER and MDM_PASSWORD make, empty without them',
    'cred() {',
    '  [ -n "${MDM_USER:-}" ] && [ -n "${MDM_PASSWORD:-}" ] || return 0',
    '  case "$1" in',
    '    syncml:auth-basic) printf \'%s:%s\' "$MDM_USER" "$MDM_PASSWORD" | openssl base64 -A ;;',
    '    syncml:auth-md5)',
    '      local h',
    '      h=$(printf \'%s:%s\' "$MDM_USER" "$MDM_PASSWORD" | openssl dgst -md5 -binary | openssl base64 -A)',
    '      { printf \'%s:\' "$h"; printf \'%s\\n\' "$NONCE" | openssl base64 -d -A; } | openssl dgst -md5 -binary | openssl base64 -A ;;',
    '  esac',
    '}',
    '',
    '# send REPLY_NAME BODY_FILE PATH CRED_SCHEME answered|refused [CURL_ARGS...]',
    'send() {',
    '  local name=$1 file=$2 path=$3 scheme=$4 recorded=$5 code next data tls=()',
    '  shift 5',
    '  if [ -n "$SESSION_CERT" ]; then tls=(--cert "$SESSION_CERT" --key "$SESSION_KEY"); fi',
    '  if [ -n "$scheme" ]; then',
    '    data=$(cred "$scheme")',
    '    if [ -n "$data" ]; then',
    '      sed "s|\\[redacted\\]|$data|" "$file" > "$OUT/$name.request.xml"',
    '      file="$OUT/$name.request.xml"',
    '    else',
    '      echo "   ($file carries $scheme credentials, redacted: set MDM_USER and MDM_PASSWORD to send real ones)"',
    '    fi',
    '  fi',
    '  if ! code=$(curl --silent --show-error --max-time 60 "${tls[@]}" --cacert "$CACERT" "$@" \\',
    '    --data-binary "@$file" -D "$OUT/$name.headers" -o "$OUT/$name.xml" -w \'%{http_code}\' "$ORIGIN$path"); then',
    '    code="none (curl exit $?)"',
    '    if [ "$recorded" = refused ]; then code="$code, refused as recorded"; else FAILED=1; fi',
    '  fi',
    '  echo "$name <- $file: HTTP $code"',
    '  [ -f "$OUT/$name.xml" ] && cat "$OUT/$name.xml" && echo',
    '  next=$(sed -n \'s:.*<NextNonce[^>]*>\\([^<]*\\)</NextNonce>.*:\\1:p\' "$OUT/$name.xml" 2>/dev/null | tail -n 1)',
    '  if [ -n "$next" ]; then NONCE=$next; fi',
    '  return 0',
    '}',
    ...steps,
    '',
    'exit "$FAILED"',
    '',
  ].join('\n');
  const scriptPath = join(dir, REPRO_SCRIPT);
  writeFileSync(scriptPath, r.text(script));
  chmodSync(scriptPath, 0o755);
  return scriptPath;
}
