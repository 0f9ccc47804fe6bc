/**
 * Server scenarios of the robustness phase (catalogue S10): malformed requests get a protocol error or an HTTP 4xx,
 * never a 5xx or a reset, and a normal session still succeeds afterwards; Windows' serialisation habits are taken.
 */
import type { Finding } from '../../checks/finding';
import { label } from '../../checks/session';
import { sameNumber } from '../../checks/compare';
import { alert, codeOf, eventAlert, get, item, serializeSyncML, type Command, type Status, type SyncML } from '../../syncml';
import type { Exchange } from '../../transport';
import type { Scenario } from '../scenario';
import { NODES } from './nodes';
import { deviceFor, NO_REPLY, session, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;

/** Just over the 16 MiB bound common to HTTP servers (the reference server's too), unless the target says otherwise. */
const OVERSIZED_BYTES = 17 * 1024 * 1024;

/** Bodies that are not SyncML at all: no Status can answer them, but none may crash the server (5xx, reset). */
function notSyncML(pkg1: SyncML, oversized: number): { what: string; body: string | Buffer }[] {
  const xml = serializeSyncML(pkg1);
  return [
    { what: 'a body that is not XML', body: 'this is not a SyncML message' },
    { what: 'truncated XML', body: xml.slice(0, Math.floor(xml.length / 2)) },
    { what: 'the wrong namespace', body: xml.replace('SYNCML:SYNCML1.2', 'urn:not-syncml') },
    { what: 'no SyncHdr', body: xml.replace(/<SyncHdr>.*<\/SyncHdr>/, '') },
    { what: 'a DOCTYPE with an external entity', body: `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]>${xml.replace('<Data>1201</Data>', '<Data>&x;</Data>')}` },
    { what: 'nested entity expansion', body: `<!DOCTYPE SyncML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${xml.replace('<Data>1201</Data>', '<Data>&b;</Data>')}` },
    { what: `an oversized body (${oversized} bytes)`, body: Buffer.alloc(oversized, 0x61) },
  ];
}

/**
 * Package 1 carrying one malformed or incomplete command (MDM-ROB-006): the reply must be SyncML with Status 400
 * or 412 for that command, named by its CmdID (blank when it had none, A-34) and its Cmd. The element rides in a
 * normal session, so a server that asks for credentials first sees it again in package 1 re-sent with them.
 */
const MALFORMED_COMMANDS: { what: string; element: string; cmd: string; cmdRef: string }[] = [
  { what: 'an element that is not a DM command', element: '<Frobnicate><CmdID>90</CmdID></Frobnicate>', cmd: 'Frobnicate', cmdRef: '90' },
  { what: 'an Alert without its code', element: '<Alert><CmdID>91</CmdID></Alert>', cmd: 'Alert', cmdRef: '91' },
  { what: 'an Alert without CmdID', element: '<Alert><Data>1224</Data><Item><Meta><Type xmlns="syncml:metinf">com.microsoft/MDM/LoginStatus</Type></Meta><Data>none</Data></Item></Alert>', cmd: 'Alert', cmdRef: '' },
];

/** A malformed or hostile request was survived: answered below 500 rather than crashed on or dropped. */
export function verdictOf(x: Exchange): { ok: boolean; how: string } {
  if (x.error && !x.response) return { ok: false, how: `${x.error.kind}: ${x.error.message}` };
  const status = x.response?.status ?? 0;
  return { ok: status > 0 && status < 500, how: `HTTP ${status}` };
}

/** The Status a reply gave a malformed command of the message it answers, if any. */
function statusFor(x: Exchange, cmd: string, cmdRef: string): Status | undefined {
  const msgID = x.request.parsed?.message.hdr.msgID;
  return x.response?.parsed?.message.body.commands.find((c): c is Status =>
    c.kind === 'Status' && sameNumber(c.msgRef, msgID) && (cmdRef ? sameNumber(c.cmdRef, cmdRef) : !c.cmdRef?.trim() && c.cmd?.trim() === cmd));
}

/** The exchange in which the server processed package 1: its SyncHdr Status is neither a challenge nor a refusal. */
function processed(exchanges: readonly Exchange[]): Exchange | undefined {
  return exchanges.find((x) => {
    const hdr = x.response?.parsed?.message.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
    return hdr && !['401', '407', '403'].includes(codeOf(hdr) ?? '');
  });
}

export const malformedRequests: ServerScenario = {
  id: 'robustness/malformed-requests',
  phase: 'robustness',
  title: 'posts messages with malformed commands, and bodies that are not SyncML, hostile or oversized, then runs a normal session',
  requirements: ['MDM-ROB-006'],
  async run(t, log) {
    const findings: Finding[] = [];
    const check = this.id;
    for (const m of MALFORMED_COMMANDS) {
      const run = await session(t, log, { rewrite: (xml) => (/<MsgID>[0-2]<\/MsgID>/.test(xml) ? xml.replace('<Final/>', `${m.element}<Final/>`) : xml) });
      const x = processed(run.exchanges) ?? run.exchanges.at(-1);
      const { ok, how } = x ? verdictOf(x) : { ok: false, how: 'nothing was exchanged' };
      const st = x && statusFor(x, m.cmd, m.cmdRef);
      const code = st ? codeOf(st) : undefined;
      findings.push(
        !ok ? { id: 'MDM-ROB-006', verdict: 'fail', check, evidence: `${m.what}: ${how}; a malformed command gets Status 400 or 412, not an aborted exchange` }
          : !x?.response?.parsed ? { id: 'MDM-ROB-006', verdict: 'fail', check, evidence: `${m.what}: ${how} without a SyncML reply; the malformed command gets Status 400 or 412 in the reply, and the rest of the message its answers` }
            : code === '400' || code === '412' ? { id: 'MDM-ROB-006', verdict: 'pass', check, evidence: `${m.what}: answered Status ${code}` }
              : { id: 'MDM-ROB-006', verdict: 'fail', check, evidence: `${m.what}: ${st ? `answered Status ${code}` : `no Status for ${m.cmd}${m.cmdRef ? ` ${m.cmdRef}` : ' without CmdID'}`}; expected 400 or 412` },
      );
    }
    const device = deviceFor(t, log, { timeoutMs: Math.max(t.timeoutMs ?? 5_000, 10_000) });
    try {
      for (const m of notSyncML(device.package1(t.url), t.oversizedBodyBytes ?? OVERSIZED_BYTES)) {
        const x = await device.post(t.url, m.body);
        const { ok, how } = verdictOf(x);
        // No Status can answer a body that is not SyncML: only a crash says something, and it says enough.
        if (!ok) findings.push({ id: 'MDM-ROB-006', verdict: 'fail', check, evidence: `${m.what}: ${how}; malformed input gets an error answer, not a crash or a dropped connection` });
        else log.note(`${m.what}: answered ${how}`);
      }
      log.transcripts.push(device.transcript.exchanges.map((x) => ({ ...x, request: { ...x.request, body: x.request.body.subarray(0, 4096) } })));
    } finally {
      await device.close();
    }
    const after = await session(t, log);
    if (NO_REPLY.has(after.end.reason) && 'detail' in after.end) {
      findings.push({ id: 'MDM-ROB-006', verdict: 'fail', check, evidence: `after the malformed requests a normal session failed: ${after.end.detail}` });
    }
    log.add(findings);
  },
};

/** SessionIDs of forms a server might wrongly parse as numbers: all opaque text of at most 4 bytes (MDM-ROB-007). */
function sessionIdForms(hex: string): { id: string; what: string }[] {
  const letters = hex.replace(/^[0-9]/, 'A');
  return [
    { id: letters.slice(0, 3), what: 'a hexadecimal-looking SessionID' },
    { id: 'FFFF', what: 'a 4-byte SessionID' },
    { id: `00${hex.replace(/[A-F]/g, '7').slice(0, 2)}`, what: 'a SessionID with leading zeros' },
    { id: 'x-9', what: 'a SessionID that is no number at all' },
  ];
}

export const sessionIdsAreOpaque: ServerScenario = {
  id: 'robustness/sessionid-forms',
  phase: 'robustness',
  title: 'opens sessions whose SessionIDs are hexadecimal, four bytes long, with leading zeros, and not a number at all',
  requirements: ['MDM-ROB-007'],
  async run(t, log) {
    const check = this.id;
    const echoes = (run: Awaited<ReturnType<typeof session>>, id: string) => run.view.exchanges.every((x) => !x.response?.syncml || x.response.syncml.hdr.sessionID?.trim() === id);
    // The control: a decimal SessionID, as Windows sends. A server that changes even that one fails MDM-HDR-007 (its
    // own check says so); the forms below would show nothing more.
    const control = await session(t, log);
    if (control.end.reason !== 'completed' || !echoes(control, control.sessionID)) {
      log.add([{ id: 'MDM-ROB-007', verdict: 'inconclusive', check, evidence: `a decimal SessionID ("${control.sessionID}") was not carried through a session either (${control.end.reason === 'completed' ? 'the reply changed it' : 'detail' in control.end ? control.end.detail : control.end.reason}), so other forms would prove nothing` }]);
      return;
    }
    for (const form of sessionIdForms(log.rng.hex(2))) {
      const run = await session(t, log, {}, (d) => d.runSession(t.url, { sessionID: form.id }));
      const echoed = echoes(run, form.id);
      const completed = run.end.reason === 'completed';
      if (!completed || !echoed) log.blame('MDM-ROB-007');
      log.add([completed && echoed
        ? { id: 'MDM-ROB-007', verdict: 'pass', check, evidence: `${form.what} ("${form.id}"): the session completed` }
        : { id: 'MDM-ROB-007', verdict: 'fail', check, evidence: `${form.what} ("${form.id}"): ${completed ? 'the reply changed the SessionID' : `the session failed (${'detail' in run.end ? run.end.detail : run.end.reason})`}; a SessionID is opaque text of up to 4 bytes, never necessarily a number` }]);
    }
  },
};

const MSFT = 'xmlns:msft="http://schemas.microsoft.com/MobileDevice/MDM"';

export const windowsHabits: ServerScenario = {
  id: 'robustness/windows-serialisation-habits',
  phase: 'robustness',
  title: 'sends pretty-printed XML with an XML declaration, extra query parameters, the msft namespace and msft:originalerror on a failure Status',
  requirements: ['MDM-TRN-010', 'MDM-XML-008', 'MDM-ROB-005'],
  async run(t, log) {
    const check = this.id;
    const cases: { id: string; what: string; query?: string; rewrite?: (xml: string) => string; queue?: Command[] }[] = [
      { id: 'MDM-TRN-010', what: 'extra query parameters (mode, Platform and an unknown one)', query: 'mode=Machine&Platform=WoA&Harness=1' },
      { id: 'MDM-ROB-005', what: 'an XML declaration and pretty-printing', rewrite: (x) => `<?xml version="1.0" encoding="UTF-8"?>\n${x.replace(/></g, '>\n  <')}` },
    ];
    // MDM-XML-008: Windows 10 1903+ declares msft on SyncBody and puts msft:originalerror on the Data of a failure
    // Status; the server must read the code from the Data text regardless. A queued Get of a missing node makes the
    // device answer 404 with it.
    if (t.queue) {
      cases.push({
        id: 'MDM-XML-008', what: `xmlns:msft on SyncBody and msft:originalerror on the Data of a 404 Status`,
        queue: [get(`${NODES.nodeEntries}/404`)],
        rewrite: (x) => x.replace('<SyncBody>', `<SyncBody ${MSFT}>`).replace(/(<Status>(?:(?!<\/Status>).)*?)<Data>404<\/Data>/g, '$1<Data msft:originalerror="0x86000002">404</Data>'),
      });
    } else {
      log.add([{ id: 'MDM-XML-008', verdict: 'inconclusive', check, evidence: 'msft:originalerror goes on the Data of a failure Status, and only a command queued through --control gets one; pass --control' }]);
    }
    for (const c of cases) {
      if (c.queue) await t.queue!(t.deviceId, c.queue);
      const run = await session(t, log, { query: c.query, rewrite: c.rewrite });
      const ok = run.end.reason === 'completed';
      const carried = !c.queue || run.exchanges.some((x) => x.request.body.includes('msft:originalerror'));
      if (carried && !ok) log.blame(c.id); // what else failed in that session follows from the habit refused
      log.add([!carried
        ? { id: c.id, verdict: 'inconclusive', check, evidence: `${c.what}: the queued Get never reached the device, so no failure Status carried the attribute` }
        : { id: c.id, verdict: ok ? 'pass' : 'fail', check, evidence: ok ? `${c.what}: the session completed` : `${c.what}: the session failed (${'detail' in run.end ? run.end.detail : run.end.reason})` }]);
    }
  },
};

/** An alert code that no OMA DM document or MS-MDM assigns. */
const UNKNOWN_ALERT_CODE = '1299';
/** The data formats of the OMA DM tree (catalogue 3.3). */
const OMA_FORMATS = ['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float'];

/**
 * MDM-ROB-001 and MDM-ROB-008: package 1 carries an alert code the server cannot support (none is assigned to it) and
 * a generic alert whose Type no server can know and whose Format is none of OMA DM's. The server answers them 406 and
 * 415, and goes on with the session.
 */
export const unsupportedAlerts: ServerScenario = {
  id: 'robustness/unsupported-alerts',
  phase: 'robustness',
  title: `sends, in package 1, Alert ${UNKNOWN_ALERT_CODE} (no such code) and a generic alert of an unknown Type in a Format that is no OMA DM format`,
  requirements: ['MDM-ROB-001', 'MDM-ROB-008'],
  async run(t, log) {
    const check = this.id;
    const format = `x-${log.rng.hex(2).toLowerCase()}`;
    const odd = alert(UNKNOWN_ALERT_CODE, [item({ data: '1' })]);
    const generic = eventAlert('1226', { type: 'org.example.mdm-conformance/unsupported-event', format, data: 'AQID' });
    const run = await session(t, log, {}, (d) => d.runSession(t.url, { alerts: [odd, generic] }));
    const x = processed(run.exchanges);
    const reply = x?.response?.parsed?.message;
    const sent = x?.request.parsed?.message;
    if (!x || !reply || !sent) {
      const why = run.exchanges.at(-1) ? verdictOf(run.exchanges.at(-1)!).how : 'nothing was exchanged';
      log.add([
        { id: 'MDM-ROB-001', verdict: 'fail', check, evidence: `a package 1 carrying Alert ${UNKNOWN_ALERT_CODE} got no SyncML reply (${why}); an alert the server does not support is answered 406, not by dropping the session` },
        { id: 'MDM-ROB-008', verdict: 'fail', check, evidence: `a package 1 carrying a generic alert in Format ${format} got no SyncML reply (${why}); it is answered 415`, consequenceOf: 'MDM-ROB-001' },
      ]);
      log.blame('MDM-ROB-001');
      return;
    }
    const answer = (code: string) => {
      const a = sent.body.commands.find((c) => c.kind === 'Alert' && codeOf(c) === code);
      const st = a && reply.body.commands.find((c): c is Status => c.kind === 'Status' && sameNumber(c.msgRef, sent.hdr.msgID) && sameNumber(c.cmdRef, a.cmdID));
      return { cmdID: a?.cmdID?.trim(), code: st ? codeOf(st) : undefined };
    };
    const unknown = answer(UNKNOWN_ALERT_CODE);
    const gen = answer('1226');
    const replyMsg = run.view.exchanges[run.exchanges.indexOf(x)]?.response;
    const at = replyMsg ? `${label(replyMsg)} /SyncBody: ` : '';
    log.add([
      !unknown.code
        ? { id: 'MDM-ROB-001', verdict: 'fail', check, evidence: `${at}no Status for Alert ${UNKNOWN_ALERT_CODE} (CmdID ${unknown.cmdID}); an alert the server does not support is answered 406`, consequenceOf: 'MDM-STS-005' }
        : unknown.code === '406'
          ? { id: 'MDM-ROB-001', verdict: 'pass', check, evidence: `${at}Alert ${UNKNOWN_ALERT_CODE} (CmdID ${unknown.cmdID}) answered 406` }
          : { id: 'MDM-ROB-001', verdict: 'fail', check, evidence: `${at}Alert ${UNKNOWN_ALERT_CODE} (CmdID ${unknown.cmdID}), a code no OMA DM document assigns, answered ${unknown.code}; an alert the server does not support is answered 406` },
      !gen.code
        ? { id: 'MDM-ROB-008', verdict: 'fail', check, evidence: `${at}no Status for the generic alert (CmdID ${gen.cmdID}); one whose Type/Format is not supported is answered 415`, consequenceOf: 'MDM-STS-005' }
        : gen.code === '415'
          ? { id: 'MDM-ROB-008', verdict: 'pass', check, evidence: `${at}the generic alert of Type org.example.mdm-conformance/unsupported-event in Format ${format} (CmdID ${gen.cmdID}) answered 415` }
          : { id: 'MDM-ROB-008', verdict: 'fail', check, evidence: `${at}the generic alert of Type org.example.mdm-conformance/unsupported-event in Format ${format}, which is none of OMA DM's (${OMA_FORMATS.join(', ')}), answered ${gen.code} (CmdID ${gen.cmdID}); expected 415` },
    ]);
  },
};

export const ROBUSTNESS_SCENARIOS: readonly ServerScenario[] = [malformedRequests, sessionIdsAreOpaque, windowsHabits, unsupportedAlerts];
