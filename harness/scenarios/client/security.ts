/**
 * Security probes of a client (issue "hardening", item 3): external entities and exponential expansion in server
 * replies, protocol downgrade and LocURI path tricks. The other probes of the issue bind servers (a SessionID of
 * another device, a replayed credential, oversized request bodies); LocURIs that start with "/" are covered by the
 * robustness scenarios already (MDM-XML-015).
 *
 * Which id covers what:
 * - after a hostile reply the client does not hang, and its next session starts afresh (MDM-TERM-008, as for the
 *   unreadable replies of the robustness suite); advisory `xml-external-entity`: the client fetched an entity;
 * - a message in SyncML 1.1 / DM 1.1: run it as Windows does (MDM-XML-003, a MAY) or answer 505/513; a DM version no
 *   client speaks: 513 with the supported version listed (MDM-ROB-002, a SHOULD);
 * - `%2F` is a "/" inside a node name, never a separator (MDM-XML-018: a LocURI is a URI, its escapes are data);
 * - advisory `locuri-dot-segments`: the client resolves `..` or `.` segments, so a command addressed below one node
 *   reaches another. The catalogue rules dot-segments out only for what servers send (MDM-XML-016).
 */
import type { Finding } from '../../checks/finding';
import { label, trimmed, type SessionView } from '../../checks/session';
import { codeOf, get, type Status } from '../../syncml';
import { UNKNOWN_PROTOCOL, type MalformedReply } from '../../server/malformed';
import type { Scenario } from '../scenario';
import { expectStatus, sentCommand, statusFor, type SentCommand } from './expect';
import { startCanary } from '../canary';
import { freshStart } from './robustness';
import { nodesOf, oneSession, serverFor, session, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

/** The device's Status for the SyncHdr of the server message that carried `sent`. */
function headerAnswer(view: SessionView, sent: SentCommand): { status: Status; at: string } | undefined {
  for (const x of view.exchanges) {
    const m = x.request;
    if (m.n < sent.msg.n || !m.syncml) continue;
    const s = m.syncml.body.commands.find((c): c is Status => c.kind === 'Status' && trimmed(c.cmdRef) === '0' && trimmed(c.msgRef) === sent.msgID);
    if (s) return { status: s, at: `${label(m)} /SyncBody/Status[${m.syncml.body.commands.indexOf(s) + 1}]` };
  }
  return undefined;
}

function listing(s: Status): string | undefined {
  const listed = s.items.map((it) => it.data?.text.trim()).filter(Boolean);
  return listed.length ? listed.join(', ') : undefined;
}

/** MDM-XML-003 (the client may run a DM 1.1 message) or MDM-ROB-002 (else it answers 505/513). */
function judgeOldProtocol(view: SessionView, leaf: string, check: string): Finding[] {
  const what = 'a Get in an OMA DM 1.1 document (namespace SYNCML:SYNCML1.1, VerDTD 1.1, VerProto DM/1.1)';
  const sent = sentCommand(view, { kind: 'Get', target: leaf });
  if (!sent) return [];
  const hdr = headerAnswer(view, sent);
  const code = hdr ? codeOf(hdr.status) ?? '' : '';
  const answered = statusFor(view, sent, leaf);
  if (code === '505' || code === '513') {
    const listed = listing(hdr!.status);
    return [
      listed
        ? { id: 'MDM-ROB-002', verdict: 'pass', check, evidence: `${hdr!.at}: ${what} answered ${code}, listing ${listed}` }
        : { id: 'MDM-ROB-002', verdict: 'fail', check, evidence: `${hdr!.at}: ${what} answered ${code} without listing the supported version in the Status Item` },
      { id: 'MDM-XML-003', verdict: 'not-applicable', check, evidence: `the client does not take OMA DM 1.1 documents (it answered ${code}); taking them is a MAY` },
    ];
  }
  // 212 when the client authenticated the server's credentials in that very message (MDM-AUTH-008).
  if ((code === '200' || code === '212') && answered) {
    // Taking the document (SyncHdr 200) and then refusing what it says is neither running it nor answering 505/513.
    return [answered.code.startsWith('2')
      ? { id: 'MDM-XML-003', verdict: 'pass', check, evidence: `${label(answered.msg)} ${answered.path}/Data: ${what} was run as Windows runs it (Get answered ${answered.code})` }
      : { id: 'MDM-XML-003', verdict: 'fail', check, evidence: `${label(answered.msg)} ${answered.path}/Data: the SyncHdr of ${what} was taken (200) but its Get was refused with ${answered.code}; a client that takes DM 1.1 documents runs their commands, one that does not answers 505/513` }];
  }
  const how = hdr ? `${hdr.at}: SyncHdr answered ${code || '(no code)'}${answered ? `, Get answered ${answered.code}` : ''}` : `${label(sent.msg)}: the client sent no answer to it`;
  return [
    { id: 'MDM-ROB-002', verdict: 'fail', check, evidence: `${how}; a client either runs ${what} (MDM-XML-003) or answers 505/513 naming the version it takes` },
    { id: 'MDM-XML-003', verdict: 'not-applicable', check, evidence: 'the client did not run the OMA DM 1.1 document' },
  ];
}

/** MDM-ROB-002: a VerProto no client speaks is answered 513, the Get is not run. */
function judgeUnknownProtocol(view: SessionView, leaf: string, check: string): Finding | undefined {
  const what = `a Get in a message declaring VerProto ${UNKNOWN_PROTOCOL}`;
  const sent = sentCommand(view, { kind: 'Get', target: leaf });
  if (!sent) return undefined;
  const hdr = headerAnswer(view, sent);
  const code = hdr ? codeOf(hdr.status) ?? '' : '';
  if (code === '513') {
    const listed = listing(hdr!.status);
    return listed
      ? { id: 'MDM-ROB-002', verdict: 'pass', check, evidence: `${hdr!.at}: ${what} answered 513, listing ${listed}` }
      : { id: 'MDM-ROB-002', verdict: 'fail', check, evidence: `${hdr!.at}: ${what} answered 513 without listing the supported version in the Status Item` };
  }
  const answered = statusFor(view, sent, leaf);
  const how = !hdr ? `${label(sent.msg)}: the client sent no answer to it`
    : (code === '200' || code === '212') && answered?.code.startsWith('2') ? `${hdr.at}: the client ran it (SyncHdr ${code}, Get answered ${answered.code})`
      : `${hdr.at}: SyncHdr answered ${code || '(no code)'}`;
  return { id: 'MDM-ROB-002', verdict: 'fail', check, evidence: `${how}; an unsupported VerProto is answered 513 naming the version the client takes` };
}

export const protocolDowngrade: ClientScenario = {
  id: 'security/protocol-downgrade',
  phase: 'robustness',
  title: `sends a Get in an OMA DM 1.1 document, then in a message declaring VerProto ${UNKNOWN_PROTOCOL}: the client runs the first or answers 505/513, and answers 513 to the second`,
  requirements: ['MDM-ROB-002', 'MDM-XML-003'],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const old = await oneSession(t, log, { malformedReply: 'old-protocol', rounds: [[get(n.readableLeaf)]] }, { check });
    if (old.connected) log.add(judgeOldProtocol(old.view, n.readableLeaf, check));
    const unknown = await oneSession(t, log, { malformedReply: 'unknown-protocol', rounds: [[get(n.readableLeaf)]] }, { check });
    const finding = unknown.connected ? judgeUnknownProtocol(unknown.view, n.readableLeaf, check) : undefined;
    if (finding) log.add([finding]);
  },
};

/** `./A/B/C` with `extra` inserted before its last segment. */
function beforeLast(uri: string, extra: string): string {
  const at = uri.lastIndexOf('/');
  return `${uri.slice(0, at)}/${extra}${uri.slice(at + 1)}`;
}

export const locuriTricks: ClientScenario = {
  id: 'security/locuri-tricks',
  phase: 'robustness',
  title: 'Gets nodes through LocURIs with a percent-encoded "/", with ".." segments (plain and percent-encoded) and with a "." segment: none may reach a node',
  requirements: ['MDM-XML-018'],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const escapedSeparator = (() => {
      const at = n.readableLeaf.lastIndexOf('/');
      return `${n.readableLeaf.slice(0, at)}%2F${n.readableLeaf.slice(at + 1)}`;
    })();
    const depth = n.interiorNode.replace(/^\.\//, '').split('/').length;
    const traversal = `${n.interiorNode}/${'../'.repeat(depth)}${n.readableLeaf.replace(/^\.\//, '')}`;
    const encodedTraversal = traversal.split('/..').join('/%2E%2E');
    const dotted = beforeLast(n.readableLeaf, './');
    const run = await oneSession(t, log, { rounds: [[get(escapedSeparator), get(traversal), get(encodedTraversal), get(dotted)]] }, { check });
    if (!run.connected) return;
    log.add([expectStatus(run.view, { kind: 'Get', target: escapedSeparator, label: `Get of "${escapedSeparator}" (nodes.readableLeaf with its last "/" escaped)` }, 'non-2xx', 'MDM-XML-018', check,
      `"%2F" is a "/" inside a node name, not a separator, so the URI names no node; decoding before splitting reaches ${n.readableLeaf}`)]);
    const tricks: { uri: string; what: string }[] = [
      { uri: traversal, what: '".." segments' },
      { uri: encodedTraversal, what: 'percent-encoded ".." segments' },
      { uri: dotted, what: 'a "." segment past the leading "./"' },
    ];
    for (const trick of tricks) {
      const sent = sentCommand(run.view, { kind: 'Get', target: trick.uri });
      const answer = sent && statusFor(run.view, sent, trick.uri);
      if (answer?.code.startsWith('2')) {
        log.advise('locuri-dot-segments', `${label(answer.msg)} ${answer.path}/Data: Get of "${trick.uri}" (${trick.what}) answered ${answer.code}: the client resolves dot-segments, so a command addressed below one node reaches ${n.readableLeaf}; node URIs have no dot-segments past the leading "./" (MDM-XML-016 states it for servers)`);
      } else {
        log.note(`Get of "${trick.uri}" (${trick.what}): ${answer ? `answered ${answer.code}` : 'not answered'}`);
      }
    }
  },
};

const HOSTILE_XML: { kind: MalformedReply; what: string }[] = [
  { kind: 'external-entities', what: 'a reply whose DOCTYPE names an external DTD, an external parameter entity and an external entity on a loopback canary' },
  { kind: 'entity-expansion', what: 'a reply whose DOCTYPE expands to 3·10^9 characters' },
];

export const xmlEntities: ClientScenario = {
  id: 'security/xml-entities',
  phase: 'robustness',
  title: 'answers with a DOCTYPE naming external entities on a loopback canary, then with an exponential entity expansion: the client fetches nothing, does not hang, and its next session starts afresh',
  requirements: ['MDM-TERM-008'],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const canary = await startCanary(t.canaryListen);
    try {
      for (const c of HOSTILE_XML) {
        const server = await serverFor(t, log, { malformedReply: c.kind, entityUrl: canary.url, rounds: [[get(n.readableLeaf)]] });
        try {
          const spoilt = await session(t, log, server, { check });
          if (!spoilt.connected) return;
          if (spoilt.trigger.timedOut) {
            log.add([{ id: 'MDM-TERM-008', verdict: 'fail', check, evidence: `after ${c.what} the client hung until the session timed out` }]);
            continue;
          }
          server.reference.queue(t.deviceId, get(n.readableLeaf));
          const next = await session(t, log, server, { check });
          if (next.connected) log.add([freshStart(spoilt.sessionIDs, next, c.what, check)]);
        } finally {
          await server.stop();
        }
      }
      // A parser may fetch after giving up on the reply: give a late fetch a moment to arrive.
      await new Promise((r) => setTimeout(r, 100));
      if (canary.hits.length) {
        log.advise('xml-external-entity', `the client fetched ${canary.hits.join(', ')} from the loopback canary while reading a server reply's DOCTYPE: its XML parser resolves external entities (XXE: local file disclosure to a rogue server, request forgery from the device); SyncML needs no DOCTYPE, refuse it`);
      } else {
        log.note(`no external entity was fetched from the canary ${canary.url}${t.canaryListen ? '' : ' (on loopback: only a client on this machine could reach it; see --canary-listen)'}`);
      }
    } finally {
      await canary.close();
    }
  },
};

export const SECURITY_SCENARIOS: readonly ClientScenario[] = [xmlEntities, protocolDowngrade, locuriTricks];
