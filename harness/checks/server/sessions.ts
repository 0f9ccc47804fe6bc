/**
 * Passive checks of a server under test about the shape of its packages and the sessions they make: package 2 and
 * the packages after it (OMA-DMP 8.4, 8.6), how it reads the device's command numbering, Windows' Results habits, and
 * where it sends the device next.
 *
 * Packages 2 and 4 are each made of rules that have rows of their own (the SyncHdr Status, MDM-STS-003; Statuses
 * for the device's Alerts, MDM-STS-005; header fields, MDM-HDR-*; Final, MDM-LO-005). Where one of those is broken,
 * MDM-SES-007 or MDM-SES-011 is listed as its consequence (one cause, one failure); what only the package rows say
 * fails them on their own: a server package carries Statuses and the commands a server issues, never a Results (the
 * device sends no Get to answer, MDM-SES-005) nor an alert only a device sends (1200, 1201, 1224, 1226: catalogue 3.4).
 */
import { codeOf, type Command, type SyncML } from '../../syncml';
import { statusesOf } from '../common';
import { numberKey, numberOf, sameNumber } from '../compare';
import { defineCheck, type Judge } from '../finding';
import { liveExchanges, trimmed, type AnySessionView, type Exchange, type WireMessage } from '../session';

/** Alert codes that only a device sends (catalogue 3.4, Direction column). */
const DEVICE_ALERTS = new Set(['1200', '1201', '1224', '1226']);
const isAlert = (c: Command, codes: ReadonlySet<string>) => c.kind === 'Alert' && codes.has(codeOf(c) ?? '');
const SESSION_ALERTS = new Set(['1200', '1201']);
const KEEP_ALIVE = 'Reversed-Domain-Name:com.microsoft.mdm.requestpending';

interface Turn {
  x: Exchange;
  req: SyncML;
  res: SyncML;
  reply: WireMessage;
}

function* turns(session: AnySessionView): Generator<Turn> {
  for (const x of liveExchanges(session)) {
    if (x.request.syncml && x.response?.syncml) yield { x, req: x.request.syncml, res: x.response.syncml, reply: x.response };
  }
}

/** A device package 1 (sent first, or again with credentials after a challenge): it carries the session alert. */
const isPackage1 = (msg: SyncML) => msg.body.commands.some((c) => isAlert(c, SESSION_ALERTS));
const isKeepAlive = (msg: SyncML) => msg.body.commands.some((c) => c.kind === 'Alert' && codeOf(c) === '1224' && c.items.some((i) => i.meta?.fields.some((f) => f.name === 'Type' && f.value.trim() === KEEP_ALIVE)));
const hasChunk = (msg: SyncML) => msg.body.commands.some((c) => 'items' in c && c.items.some((i) => i.moreData));
const nameOf = (c: Command) => (c.kind === 'Unknown' ? c.name : c.kind);

/** What no server package may carry, with why. */
function foreignCommands(res: SyncML): { path: string; why: string }[] {
  const out: { path: string; why: string }[] = [];
  res.body.commands.forEach((c, i) => {
    const path = `/SyncBody/${nameOf(c)}[${i + 1}]`;
    if (c.kind === 'Results') out.push({ path, why: 'a Results, though the device sends no Get for a server to answer (MDM-SES-005)' });
    else if (c.kind === 'Alert' && DEVICE_ALERTS.has(codeOf(c) ?? '')) out.push({ path, why: `an Alert ${codeOf(c)}, which only a device sends (catalogue 3.4)` });
  });
  return out;
}

/**
 * The rules of a server package that have rows of their own, each reported under that row (the other checks fail
 * it): the package row is then a consequence, never a second failure.
 */
function ownRows(t: Turn, judge: Judge, id: 'MDM-SES-007' | 'MDM-SES-011'): number {
  const { req, res, reply } = t;
  let roots = 0;
  const after = (root: string, path: string, message: string) => {
    roots++;
    judge.consequence(id, root, reply, path, message);
  };
  const statuses = statusesOf(res);
  const header = statuses.find((s) => numberKey(s.status.cmdRef) === '0' && sameNumber(s.status.msgRef, req.hdr.msgID));
  if (!header) after('MDM-STS-003', '/SyncBody', `no Status for the SyncHdr of device msg ${trimmed(req.hdr.msgID)}`);
  for (const c of req.body.commands) {
    if (c.kind !== 'Alert') continue;
    const answered = statuses.some((s) => sameNumber(s.status.msgRef, req.hdr.msgID) && sameNumber(s.status.cmdRef, c.cmdID));
    if (!answered) after('MDM-STS-005', '/SyncBody', `no Status for the device's Alert ${codeOf(c)} (CmdID ${trimmed(c.cmdID)})`);
  }
  if (id === 'MDM-SES-007') {
    const hdr = res.hdr;
    if (trimmed(hdr.verProto) !== 'DM/1.2') after('MDM-HDR-003', '/SyncHdr/VerProto', `VerProto "${trimmed(hdr.verProto)}"`);
    if (trimmed(hdr.sessionID) !== trimmed(req.hdr.sessionID)) after('MDM-HDR-007', '/SyncHdr/SessionID', 'not the SessionID of package 1');
    if (trimmed(hdr.target?.locURI) !== trimmed(req.hdr.source?.locURI)) after('MDM-HDR-011', '/SyncHdr/Target/LocURI', 'Target is not the device');
  }
  return roots;
}

/** Package 2: the reply to the device's package 1 (OMA-DMP 8.4). */
export const serverPackage2 = defineCheck<AnySessionView>({
  name: 'serverPackage2',
  ids: ['MDM-SES-007'],
  when: 'the device to send package 1',
  run(session, judge) {
    for (const t of turns(session)) {
      if (!isPackage1(t.req)) continue;
      for (const f of foreignCommands(t.res)) judge.fail('MDM-SES-007', t.reply, f.path, `package 2 carries ${f.why}; it holds Statuses, optionally management commands, and Final`);
      // A package 2 that breaks only rows of their own is not judged here on its own: it is listed under them.
      if (!ownRows(t, judge, 'MDM-SES-007')) judge.saw('MDM-SES-007');
    }
  },
});

/**
 * Package 4: the first server message after a device package that was not package 1 and is complete (OMA-DMP 8.6).
 * Further messages of the server's package follow the same rule of content.
 */
export const serverLaterPackages = defineCheck<AnySessionView>({
  name: 'serverLaterPackages',
  ids: ['MDM-SES-011'],
  when: 'the device to answer a server package (a package 3)',
  run(session, judge) {
    for (const t of turns(session)) {
      if (isPackage1(t.req) || isKeepAlive(t.req) || !t.req.body.final) continue;
      for (const f of foreignCommands(t.res)) judge.fail('MDM-SES-011', t.reply, f.path, `a server package carries ${f.why}; it holds Statuses, and commands when another round follows`);
      if (!ownRows(t, judge, 'MDM-SES-011')) judge.saw('MDM-SES-011');
    }
  },
});

/**
 * MDM-ID-004: a server that reads the device's commands by position, as if every device numbered them 2, 3, 4 like
 * Windows (or 1, 2, 3), answers the wrong CmdRefs as soon as a device numbers otherwise. Every device message with
 * commands tells against one such assumption; the tell-tale is a run of Statuses whose CmdRefs count up contiguously
 * and name commands the message does not hold. MDM-ID-006 fails each such CmdRef.
 */
export const serverTakesAnyCmdIDs = defineCheck<AnySessionView>({
  name: 'serverTakesAnyCmdIDs',
  ids: ['MDM-ID-004'],
  when: 'the device to send commands for the server to answer',
  run(session, judge) {
    for (const { req, res, reply } of turns(session)) {
      // Every numbering tells against some assumption: Windows' 2, 3, 4 against "from 1", and 1, 2, 3 against "from 2".
      const commands = req.body.commands.filter((c) => c.kind !== 'Status');
      if (!commands.length) continue;
      judge.saw('MDM-ID-004');
      const answers = statusesOf(res).filter((s) => numberKey(s.status.cmdRef) !== '0' && sameNumber(s.status.msgRef, req.hdr.msgID));
      const refs = answers.map((s) => numberOf(s.status.cmdRef));
      const counting = refs.length > 1 && refs.every((r, i) => r !== undefined && r === refs[0]! + i);
      // A server may leave commands unanswered (a Results) or answer them in another order: only a CmdRef that names
      // no command of the message tells of an assumed numbering.
      const positional = answers.filter((s) => !commands.some((c) => sameNumber(s.status.cmdRef, c.cmdID)));
      if (!counting || !positional.length) continue;
      const sent = commands.map((c) => trimmed(c.cmdID)).join(', ');
      judge.warn('MDM-ID-004', reply, positional[0].path, `the Statuses count CmdRef ${refs.join(', ')} in order, but the device numbered its commands ${sent}: the server seems to assume a fixed numbering instead of reading each CmdID`);
    }
  },
});

/**
 * MDM-ROB-005: Windows writes `<Cmd>Get</Cmd>` in its Results, which a strict DTD reading would refuse. A server
 * must take them: a Results it answers 400 or 412, the codes of a command that cannot be read, was refused for a
 * Windows habit.
 */
export const serverTakesWindowsResults = defineCheck<AnySessionView>({
  name: 'serverTakesWindowsResults',
  ids: ['MDM-ROB-005'],
  when: 'the device to return Results (Windows writes Cmd in them)',
  run(session, judge) {
    for (const { req, res, reply } of turns(session)) {
      for (const r of req.body.commands) {
        if (r.kind !== 'Results' || r.cmd === undefined) continue;
        judge.saw('MDM-ROB-005');
        const st = statusesOf(res).find((s) => sameNumber(s.status.msgRef, req.hdr.msgID) && sameNumber(s.status.cmdRef, r.cmdID));
        const code = st ? codeOf(st.status) ?? '' : '';
        // 400 and 412 are how a parser refuses a command it cannot read (MDM-ROB-006); other codes say other things.
        if (st && (code === '400' || code === '412')) {
          judge.fail('MDM-ROB-005', reply, st.path, `the device's Results ${trimmed(r.cmdID)} (with <Cmd>${trimmed(r.cmd)}</Cmd>, as Windows writes it) answered ${code}; a server takes Windows' serialisation habits (A-05)`);
        }
      }
    }
  },
});

/**
 * MDM-TRN-002: the management endpoint is HTTPS, and so is every place a server sends the device within a session:
 * a RespURI that names plain HTTP moves the rest of the session off TLS (MDM-HDR-016 makes the device follow it).
 */
export const serverKeepsSessionOnHttps = defineCheck<AnySessionView>({
  name: 'serverKeepsSessionOnHttps',
  ids: ['MDM-TRN-002'],
  when: 'the server to name a RespURI',
  run(session, judge) {
    for (const { res, reply } of turns(session)) {
      const uri = trimmed(res.hdr.respURI);
      if (!uri) continue;
      judge.saw('MDM-TRN-002');
      let scheme = '';
      try {
        scheme = new URL(uri).protocol;
      } catch {
        continue; // a relative RespURI stays on the endpoint's own scheme
      }
      if (scheme !== 'https:') judge.fail('MDM-TRN-002', reply, '/SyncHdr/RespURI', `RespURI "${uri}" sends the device to ${scheme.replace(/:$/, '')}; the management endpoint is HTTPS and plain HTTP is no transport for it`);
    }
  },
});

const USER_SCOPE = /^\.\/[Uu]ser(\/|$)/;
const LOGIN_STATUS = 'com.microsoft/MDM/LoginStatus';

/** The user-scoped targets of a command and its members (WOMA: `./user/…`; CSP docs: `./User/…`). */
function userTargets(c: Command): string[] {
  if (c.kind === 'Atomic' || c.kind === 'Sequence') return c.commands.flatMap(userTargets);
  if (!('items' in c) || c.kind === 'Status' || c.kind === 'Results') return [];
  return c.items.map((i) => trimmed(i.target?.locURI)).filter((u) => USER_SCOPE.test(u));
}

/**
 * MDM-SES-019: with LoginStatus `others` or `none` in package 1, the enrolled user is not there to configure, and the
 * server sends device-wide configuration only. Only a deviation shows here (what a server held back is not on the
 * wire); the scenario that queues user configuration earns the pass.
 */
export const serverScopesToLoginStatus = defineCheck<AnySessionView>({
  name: 'serverScopesToLoginStatus',
  ids: ['MDM-SES-019'],
  when: 'the server to have user-scoped configuration for a device whose LoginStatus is others or none',
  run(session, judge) {
    let login: string | undefined;
    for (const { req, res, reply } of turns(session)) {
      for (const c of req.body.commands) {
        const it = c.kind === 'Alert' && codeOf(c) === '1224' ? c.items.find((i) => i.meta?.fields.some((f) => f.name === 'Type' && f.value.trim() === LOGIN_STATUS)) : undefined;
        if (it) login = trimmed(it.data?.text);
      }
      if (login !== 'others' && login !== 'none') continue;
      for (const [i, c] of res.body.commands.entries()) {
        const targets = userTargets(c);
        if (!targets.length) continue;
        judge.saw('MDM-SES-019');
        judge.warn('MDM-SES-019', reply, `/SyncBody/${nameOf(c)}[${i + 1}]`, `${nameOf(c)} of ${targets[0]} although package 1 reported LoginStatus "${login}": user configuration waits for a session of the enrolled user`);
      }
    }
  },
});

/**
 * MDM-TERM-005: a server may abort with Alert 1223, in a message that carries Final. When it answers a complete device
 * package, that message is also one MDM-LO-005 requires Final on, and that failure is the root.
 */
export const serverAbortsWithFinal = defineCheck<AnySessionView>({
  name: 'serverAbortsWithFinal',
  ids: ['MDM-TERM-005'],
  when: 'the server to abort the session with Alert 1223',
  run(session, judge) {
    for (const { req, res, reply } of turns(session)) {
      if (!res.body.commands.some((c) => c.kind === 'Alert' && codeOf(c) === '1223')) continue;
      const why = 'the server aborts the session with Alert 1223 in a message without Final; the aborting message carries Final (OMA-DMP 8.1)';
      if (res.body.final) judge.saw('MDM-TERM-005');
      else if (req.body.final && !hasChunk(res)) judge.consequence('MDM-TERM-005', 'MDM-LO-005', reply, '/SyncBody', why);
      else judge.fail('MDM-TERM-005', reply, '/SyncBody', why);
    }
  },
});

export const SESSION_SHAPE_CHECKS = [
  serverPackage2, serverLaterPackages, serverTakesAnyCmdIDs, serverTakesWindowsResults, serverKeepsSessionOnHttps, serverScopesToLoginStatus,
  serverAbortsWithFinal,
] as const;
