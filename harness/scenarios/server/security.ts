/**
 * Security probes of a server (issue "hardening", item 3): XML external entities and exponential expansion,
 * oversized bodies of unknown length, a SessionID of one device sent by another, a replayed MD5 credential and
 * protocol downgrade. Each probe judges the catalogue ids that cover it; a weakness the catalogue is silent on is
 * reported as a security advisory (ScenarioLog.advise), which never fails a run.
 *
 * Which id covers what:
 * - no 5xx, reset or silence on hostile bodies, and a normal session afterwards: MDM-ROB-006 (as the robustness suite);
 * - sessions keyed by device and SessionID: MDM-SES-021; a message of another device's session taken under one's own
 *   certificate: an advisory (the catalogue asks only that unknown certificates be refused, MDM-TRN-004);
 * - a credential made with an already-used nonce refused: MDM-AUTH-019 (the nonce is renewed per session), the
 *   refusal re-challenges with a fresh nonce: MDM-AUTH-022, nonces are 16+ octets and new each time: MDM-AUTH-021;
 * - SyncML 1.1 / DM 1.1 answered 505 / 513 with the supported version listed: MDM-ROB-002 (a SHOULD);
 * - advisories: `xml-external-entity` (the server fetched an entity a DOCTYPE named), `unbounded-request-body`
 *   (the server read a body of unknown length far past any sensible bound and then answered as usual).
 */
import { connect, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import type { Finding } from '../../checks/finding';
import { sessionFromTranscript } from '../../checks/from-transcript';
import type { DeviceRun, SteppedSession } from '../../device/reference-device';
import { mintDeviceIdentity, type Identity, type TestPki } from '../../pki';
import { decodeNonce } from '../../protocol/auth';
import { codeOf, get, metaValue, replace, serializeSyncML, type Status, type SyncML } from '../../syncml';
import type { Exchange } from '../../transport';
import { CANARY_TEXT, startCanary } from '../canary';
import { NODES } from './nodes';
import type { Scenario } from '../scenario';
import { verdictOf } from './robustness';
import { deviceFor, enrollSecondDevice, judgeSession, needsControl, reachable, secondDeviceId, session, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;

const headerStatusOf = (msg: SyncML | undefined) =>
  msg?.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');

// ---------------------------------------------------------------------------------------------------------------
// XML entities

/** Ten levels of ten references: 3·10^9 characters once expanded, under 1 KiB as sent. */
function exponentialEntities(xml: string): string {
  const levels = ['<!ENTITY l0 "lol">'];
  for (let i = 1; i <= 9; i++) levels.push(`<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?><!DOCTYPE SyncML [${levels.join('')}]>${xml.replace('<Data>1201</Data>', '<Data>&l9;</Data>')}`;
}

export const xmlEntities: ServerScenario = {
  id: 'security/xml-entities',
  phase: 'robustness',
  title: 'posts DOCTYPEs naming external entities on a loopback canary, and an exponential entity expansion: nothing fetched, no 5xx, no hang',
  requirements: ['MDM-ROB-006'],
  async run(t, log) {
    const check = this.id;
    const findings: Finding[] = [];
    const canary = await startCanary(t.canaryListen);
    const device = deviceFor(t, log, { timeoutMs: Math.max(t.timeoutMs ?? 5_000, 5_000) });
    try {
      const xml = serializeSyncML(device.package1(t.url));
      const at = (name: string) => `${canary.url}/${name}`;
      const bodies = [
        { what: 'an external general entity', body: `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY ext SYSTEM "${at('general')}">]>${xml.replace('<Data>1201</Data>', '<Data>&ext;</Data>')}` },
        { what: 'an external DTD subset', body: `<?xml version="1.0"?><!DOCTYPE SyncML SYSTEM "${at('dtd')}">${xml}` },
        { what: 'an external parameter entity', body: `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY % ext SYSTEM "${at('parameter')}"> %ext;]>${xml}` },
        { what: 'an exponential entity expansion (3·10^9 characters expanded)', body: exponentialEntities(xml) },
      ];
      for (const b of bodies) {
        const x = await device.post(t.url, b.body);
        const { ok, how } = verdictOf(x);
        const reflected = x.response?.body.toString('utf8').includes(CANARY_TEXT) ? '; the reply quotes what the canary served' : '';
        findings.push({
          id: 'MDM-ROB-006', verdict: ok ? 'pass' : 'fail', check,
          evidence: ok ? `${b.what}: answered ${how}${reflected}` : `${b.what}: ${how}; a hostile XML body gets a protocol error or a 4xx, not a 5xx or a dropped connection`,
        });
        if (reflected) log.advise('xml-external-entity', `${b.what}: the server's reply contains the text the loopback canary served, so its XML parser resolved the entity and echoed it (XXE disclosure)`);
      }
      log.transcripts.push(device.transcript.exchanges);
      // A parser may fetch after answering: give a late fetch a moment to arrive.
      await new Promise((r) => setTimeout(r, 100));
      if (canary.hits.length) {
        log.advise('xml-external-entity', `the server fetched ${canary.hits.join(', ')} from the loopback canary ${canary.url} while reading a DOCTYPE: its XML parser resolves external entities (XXE: local file disclosure, server-side request forgery); SyncML needs no DOCTYPE, refuse it`);
      } else {
        log.note(`no external entity was fetched from the canary ${canary.url}${t.canaryListen ? '' : ' (on loopback: only a server on this machine could reach it; see --canary-listen)'}`);
      }
    } finally {
      await device.close();
      await canary.close();
    }
    const after = await session(t, log);
    if (reachable(log, after, check)) findings.push({ id: 'MDM-ROB-006', verdict: 'pass', check, evidence: 'a normal session succeeded after the hostile XML bodies' });
    log.add(findings);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Oversized body of unknown length

interface ChunkedOutcome {
  /** HTTP status of the answer, when one came. */
  status?: number;
  /** Body bytes written before the server answered or cut the connection. */
  sent: number;
  /** The whole body, terminating chunk included, was handed to the connection. */
  finished: boolean;
  /** How the connection ended without an answer. */
  error?: string;
  /** The server stopped reading the body, and did not answer, for `timeoutMs`. */
  stalled?: boolean;
  ms: number;
}

/**
 * POSTs `total` bytes with `Transfer-Encoding: chunked` (no Content-Length, so a size limit cannot be read off the
 * head): a package-1 prefix, then filler inside one Data element. Stops writing as soon as the server answers or
 * closes; gives up when the server takes no bytes for `timeoutMs`, or does not answer `timeoutMs` after the end.
 */
function postChunked(t: ServerUnderTest, identity: Identity, xml: string, total: number, timeoutMs: number): Promise<ChunkedOutcome> {
  const url = new URL(t.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const started = Date.now();
  const [head, tail] = xml.split('<Data>1201</Data>');
  return new Promise((resolve) => {
    const out: ChunkedOutcome = { sent: 0, finished: false, ms: 0 };
    let response = '';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const socket: TLSSocket = connect({
      host, port: Number(url.port || 443), ca: t.serverCa, cert: identity.certPem, key: identity.keyPem,
      ...(isIP(host) ? {} : { servername: host }),
    });
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (out.status === undefined && error) out.error = error;
      out.ms = Date.now() - started;
      socket.destroy();
      resolve(out);
    };
    const stall = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        out.stalled = true;
        done(`the server took no body bytes for ${timeoutMs} ms and did not answer`);
      }, timeoutMs);
    };
    stall();
    socket.on('data', (chunk: Buffer) => {
      if (response.length < 4096) response += chunk.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      if (m && response.includes('\r\n\r\n')) {
        out.status = Number(m[1]);
        done();
      }
    });
    socket.on('error', (e) => done(`${(e as NodeJS.ErrnoException).code ?? 'error'}: ${e.message}`));
    socket.on('close', () => done('the server closed the connection without an answer'));
    socket.once('secureConnect', async () => {
      const write = (text: string | Buffer) => new Promise<boolean>((ok) => {
        if (settled || socket.destroyed) return ok(false);
        const more = socket.write(text);
        if (more) {
          stall();
          return ok(true);
        }
        const go = () => {
          socket.off('close', stop);
          if (!settled) stall();
          ok(!settled);
        };
        const stop = () => {
          socket.off('drain', go);
          ok(false);
        };
        socket.once('drain', go);
        socket.once('close', stop);
      });
      const chunk = (data: Buffer) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
      const path = `${url.pathname}${url.search}`;
      if (!(await write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/vnd.syncml.dm+xml\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`))) return;
      const filler = Buffer.alloc(64 * 1024, 0x61);
      const parts = [Buffer.from(`${head}<Data>`)];
      for (const p of parts) if (!(await write(chunk(p)))) return;
      out.sent = parts[0].length;
      while (out.sent < total) {
        if (!(await write(chunk(filler)))) return;
        out.sent += filler.length;
      }
      if (!(await write(Buffer.concat([chunk(Buffer.from(`</Data>${tail}`)), Buffer.from('0\r\n\r\n')])))) return;
      out.finished = true;
      clearTimeout(timer);
      timer = setTimeout(() => done(`no answer within ${timeoutMs} ms after the whole body was sent`), timeoutMs);
    });
  });
}

const MiB = 1024 * 1024;

export const oversizedMessages: ServerScenario = {
  id: 'security/oversized-messages',
  phase: 'robustness',
  title: 'streams a package 1 far larger than any sensible bound with no Content-Length: the server refuses or cuts it off, never crashes, and keeps serving',
  requirements: ['MDM-ROB-006'],
  async run(t, log) {
    const check = this.id;
    const findings: Finding[] = [];
    // Past the bound the robustness probe uses, and past what socket buffers on both ends can hide.
    const total = Math.max(4 * (t.oversizedBodyBytes ?? 17 * MiB), 32 * MiB);
    const device = deviceFor(t, log);
    let xml: string;
    try {
      xml = serializeSyncML(device.package1(t.url));
    } finally {
      await device.close();
    }
    const timeoutMs = Math.max(t.timeoutMs ?? 5_000, 5_000);
    const o = await postChunked(t, t.identity, xml, total, timeoutMs);
    const what = `a chunked body of ${total} bytes without Content-Length`;
    const mb = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    log.note(`${what}: ${o.status !== undefined ? `answered HTTP ${o.status}` : o.error} after ${mb(o.sent)} written, ${o.ms} ms`);
    if (o.status !== undefined && o.status >= 500) {
      findings.push({ id: 'MDM-ROB-006', verdict: 'fail', check, evidence: `${what}: answered HTTP ${o.status} after ${mb(o.sent)}; an oversized request gets a 4xx (413), not a 5xx` });
    } else if (o.status !== undefined) {
      findings.push({ id: 'MDM-ROB-006', verdict: 'pass', check, evidence: `${what}: answered HTTP ${o.status} after ${mb(o.sent)} were written` });
      if (o.finished && o.status !== 413) {
        log.advise('unbounded-request-body', `${what}: the server read all ${mb(total)} and then answered HTTP ${o.status}; it sets no bound on request bodies of unknown length, so a client can make it buffer without limit (answer 413 past a bound)`);
      }
    } else if (!o.finished && !o.stalled) {
      findings.push({ id: 'MDM-ROB-006', verdict: 'pass', check, evidence: `${what}: the server cut the connection off after ${mb(o.sent)} were written (${o.error}); a 413 first would say why` });
    } else {
      findings.push({ id: 'MDM-ROB-006', verdict: 'fail', check, evidence: `${what}: ${o.error}; the server neither refused nor answered the oversized request` });
    }
    const after = await session(t, log);
    if (reachable(log, after, check)) findings.push({ id: 'MDM-ROB-006', verdict: 'pass', check, evidence: 'a normal session succeeded after the oversized request' });
    log.add(findings);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Session isolation

export const SECOND_DEVICE_SUFFIX = '-second';

/** Minting an identity takes up to a few hundred milliseconds: the second device's is made once per PKI. */
const minted = new WeakMap<TestPki, Map<string, Identity>>();
export function validIdentity(pki: TestPki, deviceId: string): Identity {
  let forPki = minted.get(pki);
  if (!forPki) minted.set(pki, (forPki = new Map()));
  let identity = forPki.get(deviceId);
  if (!identity) forPki.set(deviceId, (identity = mintDeviceIdentity(pki, 'valid', { deviceId })));
  return identity;
}

/** Steps a session until the server's reply carries a command (the challenge round, if any, is passed). */
async function untilCommands(s: SteppedSession, maxSteps = 3): Promise<Exchange | undefined> {
  for (let i = 0; i < maxSteps && s.next; i++) {
    const x = await s.step();
    if (x?.response?.parsed?.message.body.commands.some((c) => c.kind !== 'Status')) return x;
  }
  return undefined;
}

async function toTheEnd(s: SteppedSession, maxSteps = 8): Promise<void> {
  for (let i = 0; i < maxSteps && s.next; i++) await s.step();
}

function mentions(msg: SyncML | undefined, tag: string): boolean {
  return !!msg && serializeSyncML(msg).includes(tag);
}

function refusal(x: Exchange | undefined): string | undefined {
  if (!x) return 'nothing was sent';
  if (x.error && !x.response) return `${x.error.kind}: ${x.error.message}`;
  const msg = x.response?.parsed?.message;
  if (!msg) return `HTTP ${x.response?.status}`;
  const hdr = headerStatusOf(msg);
  const code = hdr ? codeOf(hdr) : undefined;
  return code === '200' || code === '212' ? undefined : `SyncHdr Status ${code ?? '(none)'}`;
}

export const sessionIsolation: ServerScenario = {
  id: 'security/session-isolation',
  phase: 'management-multi-round',
  title: "leaves a session half-way, then a second device sends its SessionID: first as its own package 1, then as the first device's next message under its own certificate",
  requirements: ['MDM-SES-021'],
  needs: (t) => needsControl(t) ?? (t.pki || t.enrollDevice ? undefined
    : 'needs the certificate of a second device: harness-issued identities (--pki from pki init) to mint it, or --enroll to enroll it'),
  async run(t, log) {
    const check = this.id;
    const tag = `isolation-${Date.now().toString(36)}`;
    const other = secondDeviceId(t);
    // A server that trusts only the identities it enrolled knows a second device only once it enrolled it too.
    let identity: Identity;
    if (t.enrollDevice) {
      const enrolled = await enrollSecondDevice(t, other);
      if ('why' in enrolled) {
        const why = `${enrolled.why}; the server may allow only one enrollment per user, and without a second device session isolation cannot be probed`;
        log.add(this.requirements.map((id) => ({ id, verdict: 'inconclusive' as const, check, evidence: why })));
        return;
      }
      identity = enrolled.identity;
      log.note(`second device ${other} enrolled like the first`);
    } else {
      identity = validIdentity(t.pki!, other);
    }
    // A queued Get keeps the first device's session open, waiting for its Status.
    await t.queue!(t.deviceId, [get('./DevDetail/SwV')]);
    const first = deviceFor(t, log);
    const second = deviceFor(t, log, { deviceId: other, identity });
    try {
      const a = first.openSession(t.url);
      const opened = await untilCommands(a);
      if (!opened || !a.next) {
        log.transcripts.push(a.exchanges);
        const why = `the session of ${t.deviceId} never carried its queued Get (${refusal(a.exchanges.at(-1)) ?? 'the server sent no command'}), so there was no open session to probe`;
        log.add(this.requirements.map((id) => ({ id, verdict: 'inconclusive' as const, check, evidence: why })));
        return;
      }
      const lastServerMsgID = Number(opened.response?.parsed?.message.hdr.msgID ?? 0);
      // What a session taken over would hand out: a command only the first device may get, queued while it waits.
      await t.queue!(t.deviceId, [replace(NODES.cacheVersion, `${tag} for ${t.deviceId}`, { format: 'chr' })]);

      // The second device, its own certificate and header Source, the first device's SessionID.
      const b = second.openSession(t.url, { sessionID: a.sessionID });
      const bx = await b.step();
      log.transcripts.push(b.exchanges);
      const bReply = bx?.response?.parsed?.message;
      const bRefused = bReply ? undefined : refusal(bx);
      const problems: string[] = [];
      if (bReply) {
        if (bReply.hdr.msgID?.trim() !== '1') problems.push(`its reply is MsgID ${bReply.hdr.msgID?.trim()}, so it continues a session (a new one starts at 1)`);
        if (bReply.hdr.target?.locURI?.trim() !== other) problems.push(`its reply is addressed to "${bReply.hdr.target?.locURI?.trim()}"`);
        if (mentions(bReply, tag)) problems.push(`its reply carries the command queued for ${t.deviceId}`);
      }
      await toTheEnd(b);

      // The first device's next message, sent with the second device's certificate.
      const forged = await second.post(t.url, serializeSyncML(a.next));
      log.transcripts.push([forged]);
      const forgedRefused = refusal(forged);
      // What taking the forged message did; a server that goes by the header is weak, not in breach of SES-021.
      const takenOver: string[] = [];
      if (!forgedRefused && mentions(forged.response?.parsed?.message, tag)) takenOver.push(`${other}, presenting its own certificate, was handed the command queued for ${t.deviceId}`);

      // The first device carries on: its session must be where it left it.
      const ax = await a.step();
      const aReply = ax?.response?.parsed?.message;
      const aMsgID = Number(aReply?.hdr.msgID ?? NaN);
      const broken = !aReply ? `${t.deviceId}'s own next message got no SyncML reply (${refusal(ax) ?? 'empty'})`
        : aMsgID !== lastServerMsgID + 1 ? `${t.deviceId}'s session went on at server MsgID ${aMsgID} instead of ${lastServerMsgID + 1}: another device's message was taken into it` : undefined;
      if (broken) (forgedRefused ? problems : takenOver).push(broken);
      if (!forgedRefused) {
        log.advise('certificate-not-bound-to-device', `a message of ${t.deviceId}'s session ${a.sessionID} sent with the certificate of ${other} was accepted (SyncHdr Status 200/212): the server goes by the header, not by the certificate, so one enrolled device can act as another${takenOver.length ? `; ${takenOver.join('; ')}` : ''}`);
      }
      await toTheEnd(a);
      // A server that took the forged message made it part of this session: it is judged there, in its place.
      const judged = forgedRefused ? a.exchanges : [...a.exchanges.slice(0, a.exchanges.indexOf(ax!)), forged, ...a.exchanges.slice(a.exchanges.indexOf(ax!))];
      log.transcripts.push(judged);
      judgeSession(log, sessionFromTranscript(judged, a.next ? 'stopped' : 'completed'));
      log.add([problems.length
        ? { id: 'MDM-SES-021', verdict: 'fail', check, evidence: `${other} sent SessionID ${a.sessionID} of ${t.deviceId}'s open session: ${problems.join('; ')}` }
        : {
          id: 'MDM-SES-021', verdict: 'pass', check,
          evidence: bRefused
            ? `${other} sending SessionID ${a.sessionID} of ${t.deviceId}'s open session was refused (${bRefused}), and ${t.deviceId}'s session carried on intact`
            : `${other} sending SessionID ${a.sessionID} of ${t.deviceId}'s open session got a session of its own (MsgID 1, addressed to it, SyncHdr Status ${headerStatusOf(bReply)?.data?.text.trim() ?? '(none)'}, nothing of ${t.deviceId}'s), and ${t.deviceId}'s session carried on intact`,
        }]);
    } finally {
      await first.close();
      await second.close();
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Replayed MD5 credential

interface AuthStep {
  code?: string;
  nonce?: string;
  /** Cred Data of the device message this reply answers. */
  cred?: string;
}

function authSteps(run: DeviceRun): AuthStep[] {
  return run.view.exchanges.map((x) => {
    const hdr = headerStatusOf(x.response?.syncml);
    return { code: hdr && codeOf(hdr), nonce: metaValue(hdr?.chal?.meta, 'NextNonce')?.trim(), cred: x.request.syncml?.hdr.cred?.data?.text.trim() };
  });
}

function octets(nonce: string): number {
  try {
    return decodeNonce(nonce).length;
  } catch {
    return 0;
  }
}

export const replayedCredential: ServerScenario = {
  id: 'security/replayed-md5-credential',
  phase: 'auth',
  title: 'authenticates with MD5, then opens the next session with the very same credential, made with the nonce already used',
  requirements: ['MDM-AUTH-019', 'MDM-AUTH-021', 'MDM-AUTH-022'],
  feature: 'md5-auth',
  needs: (t) => (t.credentials?.scheme === 'syncml:auth-md5' ? undefined : 'needs --auth md5 with --client-credentials USER:SECRET'),
  async run(t, log) {
    const check = this.id;
    const creds = t.credentials!;
    const first = await session(t, log, { preemptiveAuth: false });
    const steps = authSteps(first);
    const challenged = steps.findIndex((s) => (s.code === '401' || s.code === '407') && s.nonce);
    const accepted = steps.findIndex((s, i) => i > challenged && (s.code === '212' || s.code === '200'));
    if (challenged < 0 || accepted < 0) {
      log.note(`the first session did not go through an MD5 challenge and an acceptance (header codes ${steps.map((s) => s.code ?? '-').join(', ')}): nothing to replay`);
      return;
    }
    const used = steps[challenged].nonce!;
    const credential = steps[accepted].cred;
    const handedOut = steps[accepted].nonce;

    // The device makes its pre-emptive Cred from the nonce it is given: the old one gives the old credential.
    const replay = await session(t, log, { preemptiveAuth: true, credentials: { ...creds, nonce: used } });
    const again = authSteps(replay);
    const sentAgain = again[0]?.cred;
    const same = sentAgain !== undefined && sentAgain === credential ? 'the byte-identical Cred of the first session' : 'a Cred made with that nonce';
    const answer = again[0]?.code;
    const findings: Finding[] = [];
    if (answer === '200' || answer === '212') {
      findings.push({
        id: 'MDM-AUTH-019', verdict: 'fail', check,
        evidence: `session ${replay.sessionID} opened with ${same} (nonce ${used}, already used in session ${first.sessionID}) and the server answered ${answer}: a captured credential can be replayed; the nonce must be renewed in every session`,
      });
    } else if (answer === '401' || answer === '407') {
      findings.push({ id: 'MDM-AUTH-019', verdict: 'pass', check, evidence: `session ${replay.sessionID} opened with ${same} (nonce ${used}, already used) and was refused ${answer}` });
      const fresh = again[0].nonce;
      const retried = again.slice(1).some((s) => s.code === '212' || s.code === '200');
      if (!fresh) {
        findings.push({ id: 'MDM-AUTH-022', verdict: 'fail', check, evidence: `the ${answer} refusing the stale credential carries no NextNonce to retry with` });
      } else if (fresh === used || fresh === handedOut) {
        findings.push({ id: 'MDM-AUTH-022', verdict: 'fail', check, evidence: `the ${answer} refusing the stale credential re-issues the nonce ${fresh}, already issued ${fresh === used ? `and used in session ${first.sessionID}` : 'with the 212 of the previous session'}; the one more challenge carries a fresh nonce` });
      } else {
        findings.push(retried
          ? { id: 'MDM-AUTH-022', verdict: 'pass', check, evidence: `the ${answer} carried the fresh nonce ${fresh}, and the credential made with it was accepted` }
          : { id: 'MDM-AUTH-022', verdict: 'fail', check, evidence: `the ${answer} carried the fresh nonce ${fresh}, but the credential made with it was not accepted (header codes ${again.map((s) => s.code ?? '-').join(', ')})` });
      }
    } else {
      log.note(`the replayed credential was answered ${answer ?? 'without a SyncHdr Status'}; neither accepted nor challenged`);
    }
    const nonces = [used, handedOut, again[0]?.nonce].filter((n): n is string => !!n);
    const short = nonces.filter((n) => octets(n) < 16);
    const repeated = nonces.filter((n, i) => nonces.indexOf(n) !== i);
    findings.push(short.length || repeated.length
      ? {
        id: 'MDM-AUTH-021', verdict: 'fail', check,
        evidence: [
          short.length && `nonce(s) ${short.map((n) => `${n} (${octets(n)} octets)`).join(', ')} shorter than 16 octets`,
          repeated.length && `nonce ${repeated[0]} issued more than once`,
        ].filter(Boolean).join('; '),
      }
      : { id: 'MDM-AUTH-021', verdict: 'pass', check, evidence: `${nonces.length} nonces seen over two sessions, each new and of ${nonces.map(octets).join('/')} octets` });
    log.add(findings);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Protocol downgrade

const DOWNGRADES: { what: string; rewrite: (xml: string) => string; expect: readonly string[] }[] = [
  {
    what: 'a SyncML 1.1 document (namespace SYNCML:SYNCML1.1, VerDTD 1.1, VerProto DM/1.1)',
    rewrite: (x) => x.replace('"SYNCML:SYNCML1.2"', '"SYNCML:SYNCML1.1"').replace('<VerDTD>1.2</VerDTD>', '<VerDTD>1.1</VerDTD>').replace('<VerProto>DM/1.2</VerProto>', '<VerProto>DM/1.1</VerProto>'),
    expect: ['505', '513'],
  },
  { what: 'VerProto DM/1.1', rewrite: (x) => x.replace('<VerProto>DM/1.2</VerProto>', '<VerProto>DM/1.1</VerProto>'), expect: ['513'] },
  { what: 'VerDTD 1.1', rewrite: (x) => x.replace('<VerDTD>1.2</VerDTD>', '<VerDTD>1.1</VerDTD>'), expect: ['505'] },
];

function judgeDowngrade(run: DeviceRun, what: string, expect: readonly string[], check: string): Finding {
  const codes = run.view.exchanges.map((x) => headerStatusOf(x.response?.syncml)).filter((s): s is Status => !!s);
  const refusal = codes.find((s) => expect.includes(codeOf(s) ?? ''));
  if (refusal) {
    const listed = refusal.items.map((it) => it.data?.text.trim()).filter(Boolean);
    return listed.length
      ? { id: 'MDM-ROB-002', verdict: 'pass', check, evidence: `${what}: answered ${codeOf(refusal)}, listing ${listed.join(', ')}` }
      : { id: 'MDM-ROB-002', verdict: 'fail', check, evidence: `${what}: answered ${codeOf(refusal)} without listing the supported version in the Status Item` };
  }
  const ran = codes.find((s) => ['200', '212'].includes(codeOf(s) ?? ''));
  const seen = codes.map((s) => codeOf(s) ?? '?').join(', ') || (run.end.reason === 'completed' ? 'nothing' : 'detail' in run.end ? run.end.detail : run.end.reason);
  return {
    id: 'MDM-ROB-002', verdict: 'fail', check,
    evidence: ran
      ? `${what}: the server ran the session (SyncHdr Status ${codeOf(ran)}) although it speaks DM 1.2; expected ${expect.join(' or ')} naming the supported version`
      : `${what}: answered ${seen}; expected SyncHdr Status ${expect.join(' or ')} naming the supported version`,
  };
}

export const protocolDowngrade: ServerScenario = {
  id: 'security/protocol-downgrade',
  phase: 'robustness',
  title: 'opens sessions in SyncML 1.1 / DM 1.1, with VerProto DM/1.1 alone and with VerDTD 1.1 alone: each is answered 505 or 513',
  requirements: ['MDM-ROB-002'],
  async run(t, log) {
    for (const d of DOWNGRADES) {
      const run = await session(t, log, { rewrite: d.rewrite });
      if (run.end.reason === 'transport-error') {
        log.add([{ id: 'MDM-ROB-002', verdict: 'fail', check: this.id, evidence: `${d.what}: ${run.end.detail}` }]);
        continue;
      }
      log.add([judgeDowngrade(run, d.what, d.expect, this.id)]);
    }
  },
};

export const SECURITY_SCENARIOS: readonly ServerScenario[] = [xmlEntities, oversizedMessages, sessionIsolation, replayedCredential, protocolDowngrade];
