/**
 * Malformed replies the reference server sends on demand, to see how a client under test copes (catalogue S10,
 * column "client under test"). Each one is a single, named defect of one server message; the reference server
 * never sends any of them unless a scenario asks.
 */
import { serializeSyncML, walkCommands, type Command, type SyncML } from '../syncml';

export type MalformedReply =
  /** A body that is not XML at all. */
  | 'not-xml'
  /** A SyncML document in a namespace other than SYNCML:SYNCML1.2 (or 1.1, which Windows accepts, MDM-XML-003). */
  | 'wrong-namespace'
  /** A DOCTYPE declaring an external entity, which a client must never resolve. */
  | 'doctype'
  /** HTTP 200 with an empty body where the closing package belongs (MDM-ROB-009, A-22). */
  | 'empty-body'
  /** An element under SyncBody that is not a DM command (MDM-XML-013). */
  | 'unknown-command'
  /** The last command of the message without its CmdID (MDM-XML-014). */
  | 'missing-cmdid'
  /** The first node LocURI of the message starting with `/` instead of `./` (MDM-XML-015). */
  | 'slash-locuri'
  /** The message as an OMA DM 1.1 document: namespace SYNCML:SYNCML1.1, VerDTD 1.1, VerProto DM/1.1 (MDM-XML-003). */
  | 'old-protocol'
  /** VerProto of a DM version no client speaks, DM/9.9 (MDM-ROB-002: 513). */
  | 'unknown-protocol'
  /** A DOCTYPE naming an external entity, an external DTD subset and an external parameter entity at `entityUrl`. */
  | 'external-entities'
  /** A DOCTYPE whose ten nested entities expand to 3·10^9 characters. */
  | 'entity-expansion'
  /** CmdIDs that start at 7 and skip values, as MS-MDM's example does (MDM-ID-004). */
  | 'cmdid-gaps'
  /** A TargetRef after the Data of a Status, the order MS-MDM 2.2.6.1 prints (MDM-STS-002). */
  | 'status-refs-after-data';

export const MALFORMED_REPLIES: readonly MalformedReply[] = [
  'not-xml', 'wrong-namespace', 'doctype', 'empty-body', 'unknown-command', 'missing-cmdid', 'slash-locuri', 'old-protocol',
  'unknown-protocol', 'external-entities', 'entity-expansion', 'cmdid-gaps', 'status-refs-after-data',
];

/** VerProto of the `unknown-protocol` reply. */
export const UNKNOWN_PROTOCOL = 'DM/9.9';

/** The element name of the command `unknown-command` adds. */
export const UNKNOWN_COMMAND = 'Frobnicate';

/**
 * Whether this reply is the one to spoil: the closing package for `empty-body` (the only place a real server was
 * seen sending one), otherwise the first message that carries a command, so that the client has something to answer.
 */
export function malformsThis(kind: MalformedReply, reply: SyncML, closing: boolean): boolean {
  if (kind === 'empty-body') return closing;
  return reply.body.commands.some((c) => c.kind !== 'Status');
}

/**
 * The body to send instead of the serialized `reply`. `entityUrl` is where `external-entities` points its entities
 * (a loopback canary of the scenario); without it they point at a port nothing listens on.
 */
export function malformedBody(kind: MalformedReply, reply: SyncML, xml: string, entityUrl = 'http://127.0.0.1:9/entity'): string {
  switch (kind) {
    case 'not-xml':
      return 'this is not a SyncML message';
    case 'empty-body':
      return '';
    case 'wrong-namespace':
      return xml.replace('"SYNCML:SYNCML1.2"', '"urn:example:not-syncml"');
    case 'doctype':
      return `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY secret SYSTEM "file:///etc/passwd">]>${xml.replace('<Final/>', '<Alert><CmdID>99</CmdID><Data>&secret;</Data></Alert><Final/>')}`;
    case 'unknown-command': {
      const element = `<${UNKNOWN_COMMAND}><CmdID>${nextCmdID(reply)}</CmdID><Item><Target><LocURI>./DevDetail/SwV</LocURI></Target></Item></${UNKNOWN_COMMAND}>`;
      return xml.includes('<Final/>') ? xml.replace('<Final/>', `${element}<Final/>`) : xml.replace('</SyncBody>', `${element}</SyncBody>`);
    }
    case 'missing-cmdid': {
      const copy = structuredClone(reply);
      const last = [...copy.body.commands].reverse().find((c) => c.kind !== 'Status');
      if (last && last.kind !== 'Unknown') delete last.cmdID;
      return serializeSyncML(copy);
    }
    case 'old-protocol':
      return xml
        .replace('"SYNCML:SYNCML1.2"', '"SYNCML:SYNCML1.1"')
        .replace('<VerDTD>1.2</VerDTD>', '<VerDTD>1.1</VerDTD>')
        .replace('<VerProto>DM/1.2</VerProto>', '<VerProto>DM/1.1</VerProto>');
    case 'unknown-protocol':
      return xml.replace('<VerProto>DM/1.2</VerProto>', `<VerProto>${UNKNOWN_PROTOCOL}</VerProto>`);
    case 'external-entities': {
      const doctype = `<!DOCTYPE SyncML SYSTEM "${entityUrl}/dtd" [<!ENTITY % p SYSTEM "${entityUrl}/parameter"> %p; <!ENTITY ext SYSTEM "${entityUrl}/general">]>`;
      return `<?xml version="1.0"?>${doctype}${xml.replace('<Final/>', '<Alert><CmdID>99</CmdID><Data>&ext;</Data></Alert><Final/>')}`;
    }
    case 'entity-expansion': {
      const levels = ['<!ENTITY l0 "lol">'];
      for (let i = 1; i <= 9; i++) levels.push(`<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`);
      return `<?xml version="1.0"?><!DOCTYPE SyncML [${levels.join('')}]>${xml.replace('<Final/>', '<Alert><CmdID>99</CmdID><Data>&l9;</Data></Alert><Final/>')}`;
    }
    case 'cmdid-gaps': {
      const copy = structuredClone(reply);
      let next = 7;
      for (const { command } of walkCommands(copy.body.commands)) {
        if (command.kind === 'Unknown') continue;
        command.cmdID = String(next);
        next += 3;
      }
      return serializeSyncML(copy);
    }
    case 'status-refs-after-data':
      return refsAfterData(xml, reply.hdr.target?.locURI?.trim() ?? '');
    case 'slash-locuri': {
      const copy = structuredClone(reply);
      const target = firstNodeTarget(copy.body.commands);
      if (target) target.locURI = target.locURI!.replace(/^\.\//, '/');
      return serializeSyncML(copy);
    }
  }
}

function nextCmdID(msg: SyncML): number {
  let max = 0;
  for (const { command } of walkCommands(msg.body.commands)) max = Math.max(max, Number(command.cmdID) || 0);
  return max + 1;
}

function firstNodeTarget(commands: Command[]): { locURI?: string } | undefined {
  for (const { command } of walkCommands(commands)) {
    if (command.kind === 'Status' || command.kind === 'Unknown' || !('items' in command)) continue;
    const target = command.items.find((it) => it.target?.locURI?.startsWith('./'))?.target;
    if (target) return target;
  }
  return undefined;
}

const REF = /<(TargetRef|SourceRef)>[^<]*<\/\1>/g;

/**
 * A Status that names what it answers after its Data, the order MS-MDM 2.2.6.1 prints: the Status for the device's
 * DevInfo Replace names the Item it answers; in a reply without one (a message re-sent after an authentication
 * challenge), the Status for the device's SyncHdr names the device (SourceRef) after its Data.
 */
function refsAfterData(xml: string, deviceId: string): string {
  const statuses = [...xml.matchAll(/<Status>[\s\S]*?<\/Status>/g)];
  const replace = statuses.find((m) => m[0].includes('<Cmd>Replace</Cmd>') && !m[0].match(REF));
  const pick = replace ?? statuses.find((m) => m[0].includes('<Cmd>SyncHdr</Cmd>'));
  if (!pick || pick.index === undefined) return xml;
  const refs = replace ? '<TargetRef>./DevInfo/DevId</TargetRef>' : [...(pick[0].match(REF) ?? []), `<SourceRef>${deviceId}</SourceRef>`].join('');
  const moved = pick[0].replace(REF, '').replace(/(<Data>[^<]*<\/Data>)/, `$1${refs}`);
  return xml.slice(0, pick.index) + moved + xml.slice(pick.index + pick[0].length);
}
