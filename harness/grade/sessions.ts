/**
 * Captured messages into DM sessions the checks can judge, numbered like a live session view.
 *
 * Messages are taken in capture order. A session is one device (the device's SyncHdr Source, the server's Target)
 * and one SessionID (MS-MDM 2.2.2; MDM-HDR-005, MDM-HDR-007); a new package 1 (MsgID 1 with Alert 1200 or 1201,
 * MDM-CMD-ALT-001) from a device that already spoke under that SessionID starts a new session, as does the
 * capture's own session boundary when it has one (harness transcripts). Within a session a device message and the
 * server message after it form an exchange; a HAR entry's request and response stay paired whatever lies between.
 * A message whose body cannot be read belongs to the session of the message before it (or of its HAR partner).
 *
 * What the capture lacks stays visible: a server message without its device message is a `ReplyOnlyExchange`, a
 * device message without a reply is marked `replyNotCaptured`. `hints` say how whole the session looks.
 */
import { retryAfterOf } from '../checks/from-transcript';
import type { AnyExchange, AnySessionView, Exchange, Party, ReplyOnlyExchange, WireMessage } from '../checks/session';
import { headerOf, wireOf, type HeaderFacts } from './body';
import type { CaptureSource, CapturedMessage } from './capture';

export const REPLY_NOT_CAPTURED = 'the capture holds no reply to this message';

export interface SessionHints {
  /** The last message is the server's, with Final and no command but Status: the session is over (MDM-TERM-001). */
  endsWithClose: boolean;
  /** Either side sent Alert 1223 (MDM-TERM-006, MDM-TERM-007). */
  aborted: boolean;
  /** Server messages whose device message is not in the capture. */
  missingRequests: number;
  /** Device messages whose reply is not in the capture. */
  missingReplies: number;
  /** MsgIDs that do not run 1, 2, 3… on one side, e.g. "device MsgID 4 after 2" (MDM-HDR-008, MDM-HDR-009). */
  msgIDGaps: string[];
  /** Messages whose body is not readable SyncML (their session was inferred from the neighbours). */
  unreadable: number;
}

export interface CapturedSession {
  /** Undefined when no message of the session could be read. */
  deviceId?: string;
  sessionID?: string;
  view: AnySessionView;
  /** The first device message is MsgID 1 carrying Alert 1200 or 1201: the capture has the session from its start. */
  startsAtPackage1: boolean;
  /** From package 1 to the close or an abort, with nothing missing in between. */
  complete: boolean;
  hints: SessionHints;
  /** Where each message of the view came from, by its number `n`, with the message as captured. */
  sources: { n: number; from: Party; source: CaptureSource; message: CapturedMessage }[];
  startedAt?: number;
}

export interface CapturedDevice {
  deviceId?: string;
  sessions: CapturedSession[];
}

/** One HTTP exchange as captured: both halves when the capture paired them, else one message. */
interface Unit {
  device?: CapturedMessage;
  server?: CapturedMessage;
  /** The capture paired the halves (a HAR entry): nothing else may complete it. */
  paired: boolean;
}

interface Slot {
  device?: CapturedMessage;
  server?: CapturedMessage;
  closed: boolean;
}

interface Building {
  deviceId?: string;
  sessionID?: string;
  hint?: string;
  slots: Slot[];
  hasDevice: boolean;
  /** Whether a readable SyncHdr gave it its device and SessionID yet. */
  keyed: boolean;
}

function unitsOf(messages: readonly CapturedMessage[]): Unit[] {
  const units: Unit[] = [];
  const byPair = new Map<string, Unit>();
  for (const m of messages) {
    let unit = m.pairedWith !== undefined ? byPair.get(m.pairedWith) : undefined;
    const from = m.from;
    if (unit && from && !unit[from]) {
      unit[from] = m;
      continue;
    }
    unit = { paired: m.pairedWith !== undefined };
    if (from) unit[from] = m;
    else unit.device = m; // direction settled when grouping; kept in `device` until then
    if (m.pairedWith !== undefined) byPair.set(m.pairedWith, unit);
    units.push(unit);
  }
  return units;
}

const factsOf = (m: CapturedMessage | undefined): HeaderFacts | undefined => (m ? headerOf(m) : undefined);

const keyOf = (deviceId: string | undefined, sessionID: string | undefined) => `${deviceId ?? ''}\u0000${sessionID ?? ''}`;

export function groupSessions(messages: readonly CapturedMessage[]): CapturedSession[] {
  const sessions: Building[] = [];
  const open = new Map<string, Building>();
  let last: Building | undefined;
  let lastFrom: Party | undefined;
  /** Each device's latest session. */
  const lastOfDevice = new Map<string, Building>();

  for (const unit of unitsOf(messages)) {
    // A lone message of unknown direction: its SyncHdr, a session it would continue, or alternation decides.
    if (!unit.paired && unit.device && !unit.device.from) {
      const m = unit.device;
      const f = factsOf(m);
      let from = f?.from;
      if (!from && f) {
        if (open.has(keyOf(f.source, f.sessionID))) from = 'device';
        else if (open.has(keyOf(f.target, f.sessionID))) from = 'server';
      }
      from ??= lastFrom === 'device' ? 'server' : 'device';
      if (from === 'server') {
        unit.device = undefined;
        unit.server = m;
      }
    }
    const lead = unit.device ?? unit.server!;
    const facts = factsOf(unit.device) ?? factsOf(unit.server);
    const leadFrom: Party = unit.device ? 'device' : 'server';
    const factsFrom: Party = factsOf(unit.device) ? 'device' : 'server';
    const deviceId = facts ? (factsFrom === 'device' ? facts.source : facts.target) || undefined : undefined;
    const sessionID = facts?.sessionID;
    const hint = lead.sessionHint;

    let building: Building | undefined;
    if (facts) {
      building = open.get(keyOf(deviceId, sessionID));
      const newPackage1 = !!unit.device && factsOf(unit.device)?.package1 === true && building?.hasDevice === true;
      if (building && (newPackage1 || building.hint !== hint)) building = undefined;
      // Unreadable messages just before it (a capture whose first message is broken) belong to this session.
      if (!building && !newPackage1 && last && !last.keyed && last.hint === hint) {
        building = last;
        Object.assign(building, { deviceId, sessionID, keyed: true });
        open.set(keyOf(deviceId, sessionID), building);
      }
      // A device that changes its SessionID in the middle of a session (MDM-HDR-005): a message under a SessionID
      // not seen before, that is no package 1 and carries on the MsgIDs of the device's unfinished session, is still
      // that session, so that the change is judged rather than hidden by the grouping.
      const previous = deviceId !== undefined ? lastOfDevice.get(deviceId) : undefined;
      const deviceFacts = factsOf(unit.device);
      if (!building && !newPackage1 && previous && previous.hint === hint && deviceFacts && !deviceFacts.package1
        && !hasEnded(previous) && Number(deviceFacts.msgID) === lastDeviceMsgID(previous) + 1) {
        building = previous;
        open.set(keyOf(deviceId, sessionID), building);
      }
    } else if (last && last.hint === hint) {
      building = last;
    }
    if (!building) {
      building = { deviceId, sessionID, hint, slots: [], hasDevice: false, keyed: !!facts };
      sessions.push(building);
      if (facts) open.set(keyOf(deviceId, sessionID), building);
    }

    const tail = building.slots.at(-1);
    if (!unit.paired && !unit.device && tail && tail.device && !tail.server && !tail.closed) {
      tail.server = unit.server; // the reply to the device message before it
    } else {
      building.slots.push({ device: unit.device, server: unit.server, closed: unit.paired || (!!unit.device && unit.device.failure !== undefined) });
    }
    if (unit.device) building.hasDevice = true;
    if (building.deviceId !== undefined) lastOfDevice.set(building.deviceId, building);
    last = building;
    lastFrom = unit.server ? 'server' : leadFrom;
  }
  return sessions.map(finish);
}

/** The session was closed by the server (a package with no command, MDM-TERM-001) or aborted (Alert 1223). */
function hasEnded(b: Building): boolean {
  const end = factsOf(b.slots.at(-1)?.server);
  if (end && end.final && end.commands === 0) return true;
  return b.slots.some((slot) => factsOf(slot.device)?.abort || factsOf(slot.server)?.abort);
}

/** The MsgID of the last readable device message of the session, or NaN. */
function lastDeviceMsgID(b: Building): number {
  for (let i = b.slots.length - 1; i >= 0; i--) {
    const f = factsOf(b.slots[i].device);
    if (f) return Number(f.msgID);
  }
  return NaN;
}

function finish(b: Building): CapturedSession {
  let n = 0;
  const sources: CapturedSession['sources'] = [];
  const exchanges: AnyExchange[] = [];
  let startedAt: number | undefined;
  for (const slot of b.slots) {
    for (const m of [slot.device, slot.server]) if (m?.startedAt !== undefined) startedAt ??= m.startedAt;
    const wire = (m: CapturedMessage, from: Party): WireMessage => {
      const w = wireOf(m, ++n, from);
      sources.push({ n: w.n, from, source: m.source, message: m });
      return w;
    };
    if (slot.device) {
      const x: Exchange = { request: wire(slot.device, 'device') };
      if (slot.server) x.response = wire(slot.server, 'server');
      const retryAfter = retryAfterOf(slot.server?.http);
      if (retryAfter !== undefined) x.throttled = retryAfter;
      if (slot.device.failure !== undefined) x.failure = slot.device.failure;
      else if (!slot.server) {
        x.failure = REPLY_NOT_CAPTURED;
        x.replyNotCaptured = true;
      }
      exchanges.push(x);
    } else if (slot.server) {
      const x: ReplyOnlyExchange = { response: wire(slot.server, 'server') };
      exchanges.push(x);
    }
  }
  const hints = hintsOf(b.slots);
  const firstDevice = b.slots[0]?.device;
  const startsAtPackage1 = factsOf(firstDevice)?.package1 === true;
  const complete = startsAtPackage1 && (hints.endsWithClose || hints.aborted) && !hints.missingRequests && !hints.missingReplies && !hints.msgIDGaps.length && !hints.unreadable;
  const outcome = hints.endsWithClose ? 'completed' : hints.aborted ? 'aborted (Alert 1223)' : 'the capture ends mid-session';
  const view: CapturedSession['view'] = { exchanges, outcome };
  if (!hints.endsWithClose && !hints.aborted) view.endsMidSession = true;
  const session: CapturedSession = { view, startsAtPackage1, complete, hints, sources };
  if (b.deviceId !== undefined) session.deviceId = b.deviceId;
  if (b.sessionID !== undefined) session.sessionID = b.sessionID;
  if (startedAt !== undefined) session.startedAt = startedAt;
  return session;
}

function hintsOf(slots: readonly Slot[]): SessionHints {
  const hints: SessionHints = { endsWithClose: false, aborted: false, missingRequests: 0, missingReplies: 0, msgIDGaps: [], unreadable: 0 };
  const expected: Record<Party, number> = { device: 1, server: 1 };
  for (const slot of slots) {
    if (!slot.device) hints.missingRequests++;
    if (slot.device && !slot.server && slot.device.failure === undefined) hints.missingReplies++;
    for (const [from, m] of [['device', slot.device], ['server', slot.server]] as const) {
      if (!m) continue;
      const f = factsOf(m);
      if (!f) {
        hints.unreadable++;
        continue;
      }
      if (f.abort) hints.aborted = true;
      const id = Number(f.msgID);
      if (!Number.isInteger(id) || id <= 0) continue;
      if (id !== expected[from]) hints.msgIDGaps.push(`${from} MsgID ${id} where ${expected[from]} was due`);
      expected[from] = id + 1;
    }
  }
  const end = slots.at(-1)?.server;
  const f = factsOf(end);
  hints.endsWithClose = !!f && f.final && f.commands === 0;
  return hints;
}

/** Sessions by device, devices in the order they first appear, each device's sessions in capture order. */
export function groupDevices(sessions: readonly CapturedSession[]): CapturedDevice[] {
  const devices = new Map<string, CapturedDevice>();
  for (const s of sessions) {
    const key = s.deviceId ?? '';
    let d = devices.get(key);
    if (!d) {
      d = s.deviceId === undefined ? { sessions: [] } : { deviceId: s.deviceId, sessions: [] };
      devices.set(key, d);
    }
    d.sessions.push(s);
  }
  return [...devices.values()];
}
