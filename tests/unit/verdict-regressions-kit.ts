/**
 * What the verdict regression tests share: SyncML messages written out as a transcript (each parsed by the real
 * codec), the passive checks run on them, the catalogue verdict a report would give a row, and small servers and
 * clients for the scenarios that need a peer misbehaving in one precise way.
 *
 * Messages are XML text on purpose: each test shows the example on the wire, element by element, as a capture would.
 */
import { X509Certificate } from 'node:crypto';
import { CLIENT_CHECKS, type ClientSessionView } from '../../harness/checks/client-checks';
import { runChecks, type Finding } from '../../harness/checks/finding';
import { SERVER_CHECKS } from '../../harness/checks/server-checks';
import { wireMessage, type Exchange, type HttpFacts, type SessionView } from '../../harness/checks/session';
import { ReferenceDevice, type ReferenceDeviceOptions } from '../../harness/device/reference-device';
import type { TestPki } from '../../harness/pki';
import { ServerSession } from '../../harness/protocol/server-session';
import { aggregate, rowsOf, type Verdict } from '../../harness/report/verdicts';
import type { ClientUnderTest, TriggerResult } from '../../harness/scenarios/client/target';
import type { ServerUnderTest } from '../../harness/scenarios/server/target';
import { serializeSyncML, XML_MEDIA_TYPE } from '../../harness/syncml';
import { HttpsServer, type HandlerResponse, type IncomingRequest } from '../../harness/transport';

export const SERVER_URL = 'https://mdm.example.test/omadm';
export const DEVICE_ID = 'E7A1C2D3-0F1E-4B5A-8C9D-112233445566';
const METINF = 'syncml:metinf';

// ---------------------------------------------------------------------------------------------------------------
// Messages

export interface HeaderInit {
  msgID: string | number;
  sessionID?: string;
  /** Leave VerProto out (a continuation message, A-15). */
  noVerProto?: boolean;
  /** Header Target / Source LocURI instead of the defaults of the sender. */
  target?: string;
  source?: string;
  /** Header Meta fields, e.g. `{ MaxMsgSize: '10000' }`. */
  meta?: Record<string, string>;
  /** Raw `<Cred>` element. */
  cred?: string;
}

/** A Meta element whose fields each declare syncml:metinf, as Windows writes them. */
export function meta(fields: Record<string, string>): string {
  return `<Meta>${Object.entries(fields).map(([k, v]) => `<${k} xmlns="${METINF}">${v}</${k}>`).join('')}</Meta>`;
}

function header(from: 'device' | 'server', h: HeaderInit): string {
  const target = h.target ?? (from === 'device' ? SERVER_URL : DEVICE_ID);
  const source = h.source ?? (from === 'device' ? DEVICE_ID : SERVER_URL);
  return '<SyncHdr><VerDTD>1.2</VerDTD>'
    + (h.noVerProto ? '' : '<VerProto>DM/1.2</VerProto>')
    + `<SessionID>${h.sessionID ?? '1'}</SessionID><MsgID>${h.msgID}</MsgID>`
    + `<Target><LocURI>${target}</LocURI></Target><Source><LocURI>${source}</LocURI></Source>`
    + (h.cred ?? '')
    + (h.meta ? meta(h.meta) : '')
    + '</SyncHdr>';
}

/** A device message; `final` defaults to true. */
export function dev(h: HeaderInit | number, body: string, final = true): string {
  return `<SyncML xmlns="SYNCML:SYNCML1.2">${header('device', typeof h === 'number' ? { msgID: h } : h)}<SyncBody>${body}${final ? '<Final/>' : ''}</SyncBody></SyncML>`;
}

/** A server message; `final` defaults to true. */
export function srv(h: HeaderInit | number, body: string, final = true): string {
  return `<SyncML xmlns="SYNCML:SYNCML1.2">${header('server', typeof h === 'number' ? { msgID: h } : h)}<SyncBody>${body}${final ? '<Final/>' : ''}</SyncBody></SyncML>`;
}

export interface StatusInit {
  /** Omit the CmdRef element altogether (a Status for a command that had no CmdID, A-34). */
  noCmdRef?: boolean;
  /** Raw `<Chal>` element. */
  chal?: string;
  targetRef?: string;
}

/** `<Status>` in DTD order. */
export function st(cmdID: string | number, msgRef: string | number, cmdRef: string | number, cmd: string, code: string | number, o: StatusInit = {}): string {
  return `<Status><CmdID>${cmdID}</CmdID><MsgRef>${msgRef}</MsgRef>${o.noCmdRef ? '' : `<CmdRef>${cmdRef}</CmdRef>`}<Cmd>${cmd}</Cmd>`
    + (o.targetRef ? `<TargetRef>${o.targetRef}</TargetRef>` : '')
    + (o.chal ?? '')
    + `<Data>${code}</Data></Status>`;
}

/** The Status for the peer's SyncHdr. */
export function hdrSt(cmdID: string | number, msgRef: string | number, code: string | number = 200, o: StatusInit = {}): string {
  return st(cmdID, msgRef, 0, 'SyncHdr', code, o);
}

export interface ItemInit {
  target?: string;
  source?: string;
  meta?: Record<string, string>;
  data?: string;
  moreData?: boolean;
}

export function item(i: ItemInit): string {
  return '<Item>'
    + (i.target !== undefined ? `<Target><LocURI>${i.target}</LocURI></Target>` : '')
    + (i.source !== undefined ? `<Source><LocURI>${i.source}</LocURI></Source>` : '')
    + (i.meta ? meta(i.meta) : '')
    + (i.data !== undefined ? `<Data>${i.data}</Data>` : '')
    + (i.moreData ? '<MoreData/>' : '')
    + '</Item>';
}

/** A command with Items (Get, Add, Replace, Delete, Exec); `cmdID` undefined leaves CmdID out. */
export function cmd(kind: string, cmdID: string | number | undefined, ...items: ItemInit[]): string {
  return `<${kind}>${cmdID === undefined ? '' : `<CmdID>${cmdID}</CmdID>`}${items.map(item).join('')}</${kind}>`;
}

export function container(kind: 'Atomic' | 'Sequence', cmdID: string | number, ...members: string[]): string {
  return `<${kind}><CmdID>${cmdID}</CmdID>${members.join('')}</${kind}>`;
}

export function alert(cmdID: string | number, code: string | number, ...items: ItemInit[]): string {
  return `<Alert><CmdID>${cmdID}</CmdID><Data>${code}</Data>${items.map(item).join('')}</Alert>`;
}

/** `<Results>`; `msgRef` undefined leaves MsgRef out (it then refers to message 1, MDM-ID-007). */
export function results(cmdID: string | number, msgRef: string | number | undefined, cmdRef: string | number, ...items: ItemInit[]): string {
  return `<Results><CmdID>${cmdID}</CmdID>${msgRef === undefined ? '' : `<MsgRef>${msgRef}</MsgRef>`}<CmdRef>${cmdRef}</CmdRef>${items.map(item).join('')}</Results>`;
}

export const REQUEST_PENDING = 'Reversed-Domain-Name:com.microsoft.mdm.requestpending';

/** The body of a Windows package 1: Alert 1201, LoginStatus 1224 (unless left out), the DevInfo Replace. */
export function package1Body(o: { loginStatus?: boolean; devId?: string } = {}): string {
  const devInfo: [string, string][] = [['DevId', o.devId ?? DEVICE_ID], ['Man', 'Contoso'], ['Mod', 'Surface'], ['DmV', '1.3'], ['Lang', 'en-US']];
  return alert(1, 1201)
    + (o.loginStatus === false ? '' : alert(2, 1224, { meta: { Type: 'com.microsoft/MDM/LoginStatus' }, data: 'user' }))
    + cmd('Replace', 3, ...devInfo.map(([n, v]) => ({ source: `./DevInfo/${n}`, data: v })));
}

/** The server's answer to package 1's commands (header, Alert 1201, LoginStatus, Replace), all 200. */
export function package1Statuses(msgRef: string | number = 1, firstCmdID = 1): string {
  return hdrSt(firstCmdID, msgRef) + st(firstCmdID + 1, msgRef, 1, 'Alert', 200) + st(firstCmdID + 2, msgRef, 2, 'Alert', 200) + st(firstCmdID + 3, msgRef, 3, 'Replace', 200);
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions and verdicts

export type Half = string | { xml: string; http?: Partial<HttpFacts> };

/**
 * A session from alternating device and server messages (device first), each read by the real codec; a server half
 * `undefined` is a missing reply. HTTP facts, when given, default to a 200 in the DM media type with the true size.
 */
export function sessionOf(halves: (Half | undefined)[], extra: Partial<ClientSessionView> = {}): ClientSessionView {
  const exchanges: Exchange[] = [];
  const wire = (n: number, from: 'device' | 'server', h: Half) => {
    if (typeof h === 'string') return wireMessage(n, from, h);
    const http: HttpFacts = { status: from === 'server' ? 200 : undefined, contentType: XML_MEDIA_TYPE, bodyBytes: Buffer.byteLength(h.xml), ...h.http };
    return wireMessage(n, from, h.xml, http);
  };
  for (let i = 0; i < halves.length; i += 2) {
    const req = halves[i];
    if (req === undefined) break;
    const res = halves[i + 1];
    exchanges.push({ request: wire(i + 1, 'device', req), response: res === undefined ? undefined : wire(i + 2, 'server', res), failure: res === undefined ? 'no reply' : undefined });
  }
  return { exchanges, ...extra };
}

export const serverChecks = (view: SessionView): Finding[] => runChecks(SERVER_CHECKS, view);
export const clientChecks = (view: ClientSessionView): Finding[] => runChecks(CLIENT_CHECKS, view);

/** Findings about one requirement. */
export const about = (findings: readonly Finding[], id: string): Finding[] => findings.filter((f) => f.id === id);

/** Failures counted on their own (not listed under another failure). */
export const rootFailures = (findings: readonly Finding[]): Finding[] => findings.filter((f) => f.verdict === 'fail' && !f.consequenceOf);

/** The verdict a conformance report of this mode gives the catalogue row, from these findings (harness/report/verdicts). */
export function rowVerdict(mode: 'server' | 'client', findings: readonly Finding[], id: string): Verdict {
  const row = aggregate(rowsOf(mode), [{ test: 'regression', findings: [...findings] }]).find((r) => r.id === id);
  if (!row) throw new Error(`${id} is not a row of ${mode} mode`);
  return row.verdict;
}

export const CHUNKED_NODE = './Vendor/MSFT/Policy/Config/Browser/AllowCookies';

/** The server sends a 12-byte object in two chunks; `second` is the continuation chunk's Item. */
export function chunkedObject(second: { target?: string }) {
  return sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Replace', 5, { target: CHUNKED_NODE, meta: { Format: 'chr', Size: '12' }, data: 'abcdef', moreData: true }), false),
    dev(2, hdrSt(1, 1) + st(2, 1, 5, 'Replace', 213) + alert(3, 1222), false),
    srv(2, hdrSt(1, 2) + cmd('Replace', 2, { ...second, meta: { Format: 'chr' }, data: 'ghijkl' })),
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Peers

/**
 * A DM server on loopback made of the sans-IO server engine with nothing queued, behind `front`: a request `front`
 * answers never reaches the engine (a throttle, a refusal of one certificate).
 */
export async function startMiniServer(pki: TestPki, front?: (req: IncomingRequest, n: number) => HandlerResponse | undefined): Promise<{ url: string; stop: () => Promise<void> }> {
  const sessions = new Map<string, ServerSession>();
  let count = 0;
  let url = '';
  const http = new HttpsServer({
    identity: pki.server,
    ca: pki.ca.certPem,
    handler: (req) => {
      const early = front?.(req, count++);
      if (early) return early;
      const msg = req.parsed?.message;
      if (!msg) return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'not a SyncML message' };
      const key = `${msg.hdr.source?.locURI?.trim()}\u0000${msg.hdr.sessionID?.trim()}`;
      let engine = sessions.get(key);
      if (!engine) {
        engine = new ServerSession({ serverUrl: url, deviceId: msg.hdr.source?.locURI?.trim() ?? '', sessionID: msg.hdr.sessionID?.trim() ?? '', queue: { peek: () => undefined, shift: () => undefined } });
        sessions.set(key, engine);
      }
      return { status: 200, headers: { 'content-type': XML_MEDIA_TYPE }, body: serializeSyncML(engine.receive(msg)) };
    },
  });
  const listening = await http.listen();
  url = `${listening.url.replace(/\/$/, '')}/ManagementServer/MDM.svc`;
  return { url, stop: () => http.close() };
}

/** The SHA-256 fingerprint of a certificate as Node reports a peer's (colon-separated upper-case hex). */
export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** A server under test at `url` for the reference device of `pki`. */
export function serverTarget(pki: TestPki, url: string, extra: Partial<ServerUnderTest> = {}): ServerUnderTest {
  return { url, serverCa: pki.ca.certPem, deviceId: pki.deviceId, identity: pki.device, pki, timeoutMs: 3_000, ...extra };
}

/**
 * A client under test played by the reference device, with a trigger of the test's making: `run` drives one trigger
 * run (one or more sessions) and says how the process would have ended.
 */
export function clientTarget(pki: TestPki, run: (device: ReferenceDevice, url: string) => Promise<Partial<TriggerResult>>, opts: Partial<ReferenceDeviceOptions> = {}, extra: Partial<ClientUnderTest> = {}): { target: ClientUnderTest; device: ReferenceDevice; stop: () => Promise<void> } {
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, timeoutMs: 3_000, preemptiveAuth: false, ...opts });
  const target: ClientUnderTest = {
    pki,
    deviceId: pki.deviceId,
    sessionTimeoutMs: 10_000,
    trigger: async (o) => {
      const started = Date.now();
      const r = await run(device, o.url);
      return { exitCode: 0, timedOut: false, stdout: '', stderr: '', ms: Date.now() - started, ...r };
    },
    ...extra,
  };
  return { target, device, stop: () => device.close() };
}
