/**
 * Element tree -> typed model. Lenient by design: order is not enforced here (the content models judge it),
 * unknown children are kept in `extra`, unknown commands become `Unknown` commands. A repeated child keeps its first
 * value (`if (x.field === undefined)`), written out field by field: every message of a graded capture comes through
 * here, and a generic keyed setter was a measured cost.
 */
import type {
  Address, Alert, Atomic, Chal, Command, Cred, Data, Item, Meta, Results, Sequence, Status, SyncBody, SyncHdr, SyncML,
} from './model';
import { DM_COMMANDS } from './model';
import { childElements, textOf, type Attrs, type XmlElement } from './xml';

function attrsOf(el: XmlElement): Attrs | undefined {
  for (const _ in el.attrs) return { ...el.attrs };
  return undefined;
}


function pushExtra(target: { extra?: XmlElement[] }, el: XmlElement): void {
  (target.extra ??= []).push(el);
}

export function decodeSyncML(root: XmlElement): SyncML {
  const msg: SyncML = { hdr: {}, body: { commands: [] } };
  const attrs = attrsOf(root);
  if (attrs) msg.attrs = attrs;
  let sawHdr = false;
  let sawBody = false;
  for (const el of root.children) {
    if (el.type !== 'element') continue;
    if (el.name === 'SyncHdr' && !sawHdr) {
      msg.hdr = decodeHdr(el);
      sawHdr = true;
    } else if (el.name === 'SyncBody' && !sawBody) {
      msg.body = decodeBody(el);
      sawBody = true;
    } else pushExtra(msg, el);
  }
  return msg;
}

function decodeHdr(el: XmlElement): SyncHdr {
  const hdr: SyncHdr = {};
  const attrs = attrsOf(el);
  if (attrs) hdr.attrs = attrs;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    switch (c.name) {
      case 'VerDTD': if (hdr.verDTD === undefined) hdr.verDTD = textOf(c); break;
      case 'VerProto': if (hdr.verProto === undefined) hdr.verProto = textOf(c); break;
      case 'SessionID': if (hdr.sessionID === undefined) hdr.sessionID = textOf(c); break;
      case 'MsgID': if (hdr.msgID === undefined) hdr.msgID = textOf(c); break;
      case 'Target': if (hdr.target === undefined) hdr.target = decodeAddress(c); break;
      case 'Source': if (hdr.source === undefined) hdr.source = decodeAddress(c); break;
      case 'RespURI': if (hdr.respURI === undefined) hdr.respURI = textOf(c); break;
      case 'NoResp': if (hdr.noResp === undefined) hdr.noResp = true; break;
      case 'Cred': if (hdr.cred === undefined) hdr.cred = decodeCred(c); break;
      case 'Meta': if (hdr.meta === undefined) hdr.meta = decodeMeta(c); break;
      default: pushExtra(hdr, c);
    }
  }
  return hdr;
}

function decodeAddress(el: XmlElement): Address {
  const a: Address = {};
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'LocURI') { if (a.locURI === undefined) a.locURI = textOf(c); }
    else if (c.name === 'LocName') { if (a.locName === undefined) a.locName = textOf(c); }
  }
  return a;
}

function decodeBody(el: XmlElement): SyncBody {
  const body: SyncBody = { commands: [] };
  const attrs = attrsOf(el);
  if (attrs) body.attrs = attrs;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'Final') body.final = true;
    else body.commands.push(decodeCommand(c));
  }
  return body;
}

const KNOWN = new Set<string>(DM_COMMANDS);

export function decodeCommand(el: XmlElement): Command {
  if (!KNOWN.has(el.name)) {
    const cmdIDEl = childElements(el).find((c) => c.name === 'CmdID');
    const unknown: Command = { kind: 'Unknown', name: el.name, element: el };
    if (cmdIDEl) unknown.cmdID = textOf(cmdIDEl);
    return unknown;
  }
  switch (el.name) {
    case 'Status': return decodeStatus(el);
    case 'Results': return decodeResults(el);
    case 'Alert': return decodeAlert(el);
    case 'Atomic':
    case 'Sequence': return decodeContainer(el, el.name);
    default: return decodeItemCommand(el, el.name as 'Add' | 'Replace' | 'Delete' | 'Get' | 'Exec');
  }
}

/** Children every command may have; returns false when the child is not one of them. */
function commonChild(cmd: { cmdID?: string; noResp?: true }, c: XmlElement): boolean {
  if (c.name === 'CmdID') { if (cmd.cmdID === undefined) cmd.cmdID = textOf(c); }
  else if (c.name === 'NoResp') { if (cmd.noResp === undefined) cmd.noResp = true; }
  else return false;
  return true;
}

function decodeItemCommand(el: XmlElement, kind: 'Add' | 'Replace' | 'Delete' | 'Get' | 'Exec'): Command {
  const cmd = { kind, items: [] as Item[] } as Extract<Command, { kind: typeof kind }> & { correlator?: string };
  const attrs = attrsOf(el);
  if (attrs) cmd.attrs = attrs;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (commonChild(cmd, c)) continue;
    if (c.name === 'Item') cmd.items.push(decodeItem(c));
    else if (c.name === 'Meta') { if (cmd.meta === undefined) cmd.meta = decodeMeta(c); }
    else if (c.name === 'Cred') { if (cmd.cred === undefined) cmd.cred = decodeCred(c); }
    else if (c.name === 'Correlator' && kind === 'Exec') { if (cmd.correlator === undefined) cmd.correlator = textOf(c); }
    else pushExtra(cmd, c);
  }
  return cmd;
}

function decodeAlert(el: XmlElement): Alert {
  const cmd: Alert = { kind: 'Alert', items: [] };
  const attrs = attrsOf(el);
  if (attrs) cmd.attrs = attrs;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (commonChild(cmd, c)) continue;
    if (c.name === 'Item') cmd.items.push(decodeItem(c));
    else if (c.name === 'Data') { if (cmd.data === undefined) cmd.data = decodeData(c); }
    else if (c.name === 'Cred') { if (cmd.cred === undefined) cmd.cred = decodeCred(c); }
    else if (c.name === 'Correlator') { if (cmd.correlator === undefined) cmd.correlator = textOf(c); }
    else pushExtra(cmd, c);
  }
  return cmd;
}

function decodeContainer(el: XmlElement, kind: 'Atomic' | 'Sequence'): Atomic | Sequence {
  const cmd: Atomic | Sequence = { kind, commands: [] };
  const attrs = attrsOf(el);
  if (attrs) cmd.attrs = attrs;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (commonChild(cmd, c)) continue;
    if (c.name === 'Meta') { if (cmd.meta === undefined) cmd.meta = decodeMeta(c); }
    else cmd.commands.push(decodeCommand(c));
  }
  return cmd;
}

function decodeStatus(el: XmlElement): Status {
  const cmd: Status = { kind: 'Status', targetRefs: [], sourceRefs: [], items: [] };
  const attrs = attrsOf(el);
  if (attrs) cmd.attrs = attrs;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (commonChild(cmd, c)) continue;
    switch (c.name) {
      case 'MsgRef': if (cmd.msgRef === undefined) cmd.msgRef = textOf(c); break;
      case 'CmdRef': if (cmd.cmdRef === undefined) cmd.cmdRef = textOf(c); break;
      case 'Cmd': if (cmd.cmd === undefined) cmd.cmd = textOf(c); break;
      case 'TargetRef': cmd.targetRefs.push(textOf(c)); break;
      case 'SourceRef': cmd.sourceRefs.push(textOf(c)); break;
      case 'Cred': if (cmd.cred === undefined) cmd.cred = decodeCred(c); break;
      case 'Chal': if (cmd.chal === undefined) cmd.chal = decodeChal(c); break;
      case 'Data': if (cmd.data === undefined) cmd.data = decodeData(c); break;
      case 'Item': cmd.items.push(decodeItem(c)); break;
      default: pushExtra(cmd, c);
    }
  }
  return cmd;
}

function decodeResults(el: XmlElement): Results {
  const cmd: Results = { kind: 'Results', items: [] };
  const attrs = attrsOf(el);
  if (attrs) cmd.attrs = attrs;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (commonChild(cmd, c)) continue;
    switch (c.name) {
      case 'MsgRef': if (cmd.msgRef === undefined) cmd.msgRef = textOf(c); break;
      case 'CmdRef': if (cmd.cmdRef === undefined) cmd.cmdRef = textOf(c); break;
      case 'Cmd': if (cmd.cmd === undefined) cmd.cmd = textOf(c); break;
      case 'Meta': if (cmd.meta === undefined) cmd.meta = decodeMeta(c); break;
      case 'TargetRef': if (cmd.targetRef === undefined) cmd.targetRef = textOf(c); break;
      case 'SourceRef': if (cmd.sourceRef === undefined) cmd.sourceRef = textOf(c); break;
      case 'Item': cmd.items.push(decodeItem(c)); break;
      default: pushExtra(cmd, c);
    }
  }
  return cmd;
}

function decodeItem(el: XmlElement): Item {
  const item: Item = {};
  const attrs = attrsOf(el);
  if (attrs) item.attrs = attrs;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    switch (c.name) {
      case 'Target': if (item.target === undefined) item.target = decodeAddress(c); break;
      case 'Source': if (item.source === undefined) item.source = decodeAddress(c); break;
      case 'Meta': if (item.meta === undefined) item.meta = decodeMeta(c); break;
      case 'Data': if (item.data === undefined) item.data = decodeData(c); break;
      case 'MoreData': if (item.moreData === undefined) item.moreData = true; break;
      default: pushExtra(item, c);
    }
  }
  return item;
}

function decodeMeta(el: XmlElement): Meta {
  const meta: Meta = { fields: [] };
  const attrs = attrsOf(el);
  if (attrs) meta.attrs = attrs;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    const field: Meta['fields'][number] = { name: c.name, value: textOf(c) };
    const fieldAttrs = attrsOf(c);
    if (fieldAttrs) field.attrs = fieldAttrs;
    meta.fields.push(field);
  }
  return meta;
}

function decodeCred(el: XmlElement): Cred {
  const cred: Cred = {};
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'Meta') { if (cred.meta === undefined) cred.meta = decodeMeta(c); }
    else if (c.name === 'Data') { if (cred.data === undefined) cred.data = decodeData(c); }
  }
  return cred;
}

function decodeChal(el: XmlElement): Chal {
  const chal: Chal = {};
  const meta = childElements(el).find((c) => c.name === 'Meta');
  if (meta) chal.meta = decodeMeta(meta);
  return chal;
}

function decodeData(el: XmlElement): Data {
  const data: Data = { text: '' };
  const attrs = attrsOf(el);
  if (attrs) data.attrs = attrs;
  // A run of text pieces of one kind (split by comments, or CDATA split around "]]>") is one value.
  if (el.children.length === 0) return data;
  let plain = 0;
  let cdata = 0;
  let other = 0;
  for (const c of el.children) {
    // Binary WBXML opaque (text holds its base64) stays as nodes too, so that re-encoding writes the same bytes.
    if (c.type === 'element' || c.opaque) other++;
    else if (c.cdata) cdata++;
    else plain++;
  }
  if (!other && (!plain || !cdata)) {
    data.text = textOf(el);
    if (cdata) data.cdata = true;
    return data;
  }
  data.text = deepText(el);
  data.markup = el.children;
  return data;
}

function deepText(el: XmlElement): string {
  let s = '';
  for (const c of el.children) s += c.type === 'text' ? c.text : deepText(c);
  return s;
}
