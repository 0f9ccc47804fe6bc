/**
 * One-violation edits of an outgoing message, shared by the two peers' fault catalogues. Each edit changes the
 * message only where the construct it breaks is present, so a fault shows exactly where its rule applies.
 */
import type { Command, Status, SyncML } from '../syncml';

const isHeaderStatus = (c: Command): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0';
const otherStatuses = (msg: SyncML) => msg.body.commands.filter((c): c is Status => c.kind === 'Status' && !isHeaderStatus(c));

export type Mutation = (msg: SyncML) => void;

export const mutations = {
  dropHeaderStatus: (msg) => {
    msg.body.commands = msg.body.commands.filter((c) => !isHeaderStatus(c));
  },
  headerStatusSecond: (msg) => {
    const cmds = msg.body.commands;
    if (cmds.length > 1 && isHeaderStatus(cmds[0])) [cmds[0], cmds[1]] = [cmds[1], cmds[0]];
  },
  wrongHeaderStatusMsgRef: (msg) => {
    const hdr = msg.body.commands.find(isHeaderStatus);
    if (hdr) hdr.msgRef = String(Number(hdr.msgRef) + 1);
  },
  wrongStatusMsgRef: (msg) => {
    const s = otherStatuses(msg)[0];
    if (s) s.msgRef = String(Number(s.msgRef) + 40);
  },
  wrongStatusCmdRef: (msg) => {
    const s = otherStatuses(msg)[0];
    if (s) s.cmdRef = String(Number(s.cmdRef) + 1);
  },
  wrongStatusCmd: (msg) => {
    const s = otherStatuses(msg)[0];
    if (s) s.cmd = s.cmd === 'Replace' ? 'Add' : 'Replace';
  },
  statusForUnsentCommand: (msg) => {
    const s = otherStatuses(msg)[0] ?? msg.body.commands.find(isHeaderStatus);
    if (!s) return;
    const extra: Status = { ...structuredClone(s), cmdRef: '97', cmd: 'Get', cmdID: '98' };
    msg.body.commands.splice(msg.body.commands.indexOf(s) + 1, 0, extra);
  },
  reverseStatuses: (msg) => {
    const statuses = otherStatuses(msg);
    if (statuses.length < 2) return;
    const slots = statuses.map((s) => msg.body.commands.indexOf(s));
    statuses.reverse().forEach((s, i) => (msg.body.commands[slots[i]] = s));
  },
  duplicateCmdID: (msg) => {
    const [a, b] = msg.body.commands;
    if (a && b && a.kind !== 'Unknown' && b.kind !== 'Unknown') b.cmdID = a.cmdID;
  },
  zeroCmdID: (msg) => {
    const last = msg.body.commands.at(-1);
    if (last && last.kind !== 'Unknown') last.cmdID = '0';
  },
  dropCmdID: (msg) => {
    const last = msg.body.commands.at(-1);
    if (last && last.kind !== 'Unknown') delete last.cmdID;
  },
  changeSessionID: (msg) => {
    msg.hdr.sessionID = msg.hdr.sessionID === 'FFFF' ? 'FFFE' : 'FFFF';
  },
  freezeMsgID: (msg) => {
    msg.hdr.msgID = '1';
  },
  startMsgIDAtZero: (msg) => {
    msg.hdr.msgID = String(Number(msg.hdr.msgID) - 1);
  },
  swapTargetAndSource: (msg) => {
    [msg.hdr.target, msg.hdr.source] = [msg.hdr.source, msg.hdr.target];
  },
  oldVerDTD: (msg) => {
    msg.hdr.verDTD = '1.1';
  },
  dropVerProto: (msg) => {
    delete msg.hdr.verProto;
  },
  oldNamespace: (msg) => {
    msg.attrs = { ...msg.attrs, xmlns: 'SYNCML:SYNCML1.1' };
  },
  dropFinal: (msg) => {
    delete msg.body.final;
  },
  addFinal: (msg) => {
    msg.body.final = true;
  },
  metinfWithoutNamespace: (msg) => {
    for (const c of msg.body.commands) {
      for (const it of 'items' in c ? c.items : []) {
        for (const f of it.meta?.fields ?? []) delete f.attrs;
      }
    }
  },
} satisfies Record<string, Mutation>;

/** Edits of the serialized text, for order violations the model cannot express (it always writes DTD order). */
export const textMutations = {
  /** MsgID before SessionID in the SyncHdr (MDM-HDR-001). */
  headerOutOfOrder: (xml: string) => xml.replace(/(<SessionID>[^<]*<\/SessionID>)(<MsgID>[^<]*<\/MsgID>)/, '$2$1'),
  /** Status children in the order MS-MDM prints them: Data before Cmd's successors, i.e. not DTD order (MDM-STS-001). */
  statusDataBeforeCmd: (xml: string) => xml.replace(/(<Cmd>[^<]*<\/Cmd>)(<Data>[^<]*<\/Data>)/g, '$2$1'),
  /** Item Data before its Target (MDM-XML-011). */
  itemDataFirst: (xml: string) => xml.replace(/<Item>(<Target>(?:(?!<\/Target>).)*<\/Target>)((?:<Meta>(?:(?!<\/Meta>).)*<\/Meta>)?)(<Data>[^<]*<\/Data>)/g, '<Item>$3$1$2'),
} satisfies Record<string, (xml: string) => string>;

export type MutationName = keyof typeof mutations;
export type TextMutationName = keyof typeof textMutations;
