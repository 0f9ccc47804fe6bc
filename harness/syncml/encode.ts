/**
 * Typed model -> XML text, children always in SyncML DTD order (catalogue section 3.2), whatever order the model
 * was built in. No pretty-printing: whitespace between elements is never emitted, so what a peer sends is exactly
 * what the model says.
 */
import type {
  Address, Alert, Chal, Command, Cred, Data, Item, Meta, Results, Status, SyncBody, SyncHdr, SyncML,
} from './model';
import { attrsToXml, cdata, escapeText, nodeToXml, type Attrs, type XmlElement } from './xml';

function leaf(name: string, value: string | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeText(value)}</${name}>`;
}

function empty(name: string, present: true | undefined): string {
  return present ? `<${name}/>` : '';
}

function wrap(name: string, attrs: Attrs | undefined, inner: string): string {
  return `<${name}${attrsToXml(attrs)}>${inner}</${name}>`;
}

function extras(list: XmlElement[] | undefined): string {
  return list ? list.map(nodeToXml).join('') : '';
}

export function encodeSyncML(msg: SyncML): string {
  return wrap('SyncML', msg.attrs, encodeHdr(msg.hdr) + encodeBody(msg.body) + extras(msg.extra));
}

function encodeHdr(h: SyncHdr): string {
  return wrap(
    'SyncHdr',
    h.attrs,
    leaf('VerDTD', h.verDTD) +
      leaf('VerProto', h.verProto) +
      leaf('SessionID', h.sessionID) +
      leaf('MsgID', h.msgID) +
      address('Target', h.target) +
      address('Source', h.source) +
      leaf('RespURI', h.respURI) +
      empty('NoResp', h.noResp) +
      cred(h.cred) +
      meta(h.meta) +
      extras(h.extra),
  );
}

function address(name: 'Target' | 'Source', a: Address | undefined): string {
  return a ? `<${name}>${leaf('LocURI', a.locURI)}${leaf('LocName', a.locName)}</${name}>` : '';
}

function encodeBody(b: SyncBody): string {
  return wrap('SyncBody', b.attrs, b.commands.map(encodeCommand).join('') + empty('Final', b.final) + extras(b.extra));
}

export function encodeCommand(c: Command): string {
  switch (c.kind) {
    case 'Unknown':
      return nodeToXml(c.element);
    case 'Status':
      return status(c);
    case 'Results':
      return results(c);
    case 'Alert':
      return alert(c);
    case 'Atomic':
    case 'Sequence':
      return wrap(
        c.kind,
        c.attrs,
        leaf('CmdID', c.cmdID) + empty('NoResp', c.noResp) + meta(c.meta) + c.commands.map(encodeCommand).join('') + extras(c.extra),
      );
    default:
      return wrap(
        c.kind,
        c.attrs,
        leaf('CmdID', c.cmdID) +
          empty('NoResp', c.noResp) +
          cred(c.cred) +
          meta(c.meta) +
          (c.kind === 'Exec' ? leaf('Correlator', c.correlator) : '') +
          c.items.map(item).join('') +
          extras(c.extra),
      );
  }
}

function status(s: Status): string {
  return wrap(
    'Status',
    s.attrs,
    leaf('CmdID', s.cmdID) +
      empty('NoResp', s.noResp) +
      leaf('MsgRef', s.msgRef) +
      leaf('CmdRef', s.cmdRef) +
      leaf('Cmd', s.cmd) +
      s.targetRefs.map((r) => leaf('TargetRef', r)).join('') +
      s.sourceRefs.map((r) => leaf('SourceRef', r)).join('') +
      cred(s.cred) +
      chal(s.chal) +
      data(s.data) +
      s.items.map(item).join('') +
      extras(s.extra),
  );
}

function results(r: Results): string {
  return wrap(
    'Results',
    r.attrs,
    leaf('CmdID', r.cmdID) +
      empty('NoResp', r.noResp) +
      leaf('MsgRef', r.msgRef) +
      leaf('CmdRef', r.cmdRef) +
      leaf('Cmd', r.cmd) +
      meta(r.meta) +
      leaf('TargetRef', r.targetRef) +
      leaf('SourceRef', r.sourceRef) +
      r.items.map(item).join('') +
      extras(r.extra),
  );
}

function alert(a: Alert): string {
  return wrap(
    'Alert',
    a.attrs,
    leaf('CmdID', a.cmdID) +
      empty('NoResp', a.noResp) +
      cred(a.cred) +
      data(a.data) +
      leaf('Correlator', a.correlator) +
      a.items.map(item).join('') +
      extras(a.extra),
  );
}

export function item(i: Item): string {
  return wrap(
    'Item',
    i.attrs,
    address('Target', i.target) +
      address('Source', i.source) +
      meta(i.meta) +
      data(i.data) +
      empty('MoreData', i.moreData) +
      extras(i.extra),
  );
}

function meta(m: Meta | undefined): string {
  if (!m) return '';
  let inner = '';
  for (const f of m.fields) inner += `<${f.name}${attrsToXml(f.attrs)}>${escapeText(f.value)}</${f.name}>`;
  return wrap('Meta', m.attrs, inner);
}

function cred(c: Cred | undefined): string {
  return c ? `<Cred>${meta(c.meta)}${data(c.data)}</Cred>` : '';
}

function chal(c: Chal | undefined): string {
  return c ? `<Chal>${meta(c.meta)}</Chal>` : '';
}

function data(d: Data | undefined): string {
  if (!d) return '';
  const inner = d.markup ? d.markup.map(nodeToXml).join('') : d.cdata ? cdata(d.text) : escapeText(d.text);
  return wrap('Data', d.attrs, inner);
}
