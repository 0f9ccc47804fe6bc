/**
 * Typed model -> element tree, in SyncML DTD order: the tree `parseXml(serializeSyncML(m))` would give, built
 * without writing and re-reading XML text. The WBXML encoder starts from it; it also keeps what XML text cannot
 * carry, such as the raw bytes of binary WBXML opaque data inside `Data`.
 *
 * It mirrors encode.ts element for element (tests/unit/wbxml.spec.ts holds the two to the same tree). Elements
 * the model keeps whole (`extra`, unknown commands, `Data` markup) are reused as they are, and attribute objects
 * are shared with the model: the tree is for encoding, not for editing.
 */
import type {
  Address, Alert, Chal, Command, Cred, Data, Item, Meta, Results, Status, SyncBody, SyncHdr, SyncML,
} from './model';
import type { Attrs, XmlElement, XmlNode } from './xml';

/** Namespace declarations in scope: prefix ('' for the default namespace) -> URI. */
type Scope = ReadonlyMap<string, string>;

/** The scope inside an element with these attributes, and the element's own namespace. */
function enter(name: string, attrs: Attrs | undefined, scope: Scope): { ns: string; inner: Scope } {
  let inner = scope;
  if (attrs) {
    for (const key of Object.keys(attrs)) {
      if (key === 'xmlns' || key.startsWith('xmlns:')) {
        if (inner === scope) inner = new Map(scope);
        (inner as Map<string, string>).set(key === 'xmlns' ? '' : key.slice(6), attrs[key]);
      }
    }
  }
  const colon = name.indexOf(':');
  return { ns: inner.get(colon < 0 ? '' : name.slice(0, colon)) ?? '', inner };
}

function element(name: string, attrs: Attrs | undefined, scope: Scope, fill: (inner: Scope) => XmlNode[]): XmlElement {
  const { ns, inner } = enter(name, attrs, scope);
  return { type: 'element', name, ns, attrs: attrs ?? {}, children: fill(inner) };
}

function textNodes(value: string): XmlNode[] {
  return value === '' ? [] : [{ type: 'text', text: value, cdata: false }];
}

/** CDATA as the XML encoder writes it: a "]]>" splits the section in two, and the parser reads two nodes. */
function cdataNodes(value: string): XmlNode[] {
  const parts = value.split(']]>');
  return parts.map((part, i) => ({
    type: 'text' as const,
    text: (i > 0 ? '>' : '') + part + (i < parts.length - 1 ? ']]' : ''),
    cdata: true,
  }));
}

class TreeBuilder {
  private readonly out: XmlElement[] = [];

  constructor(private readonly scope: Scope) {}

  leaf(name: string, value: string | undefined): this {
    if (value !== undefined) this.out.push(element(name, undefined, this.scope, () => textNodes(value)));
    return this;
  }

  empty(name: string, present: true | undefined): this {
    if (present) this.out.push(element(name, undefined, this.scope, () => []));
    return this;
  }

  add(el: XmlElement | undefined): this {
    if (el) this.out.push(el);
    return this;
  }

  addAll(list: readonly XmlElement[] | undefined): this {
    if (list) for (const el of list) this.out.push(el);
    return this;
  }

  done(): XmlElement[] {
    return this.out;
  }
}

function wrap(name: string, attrs: Attrs | undefined, scope: Scope, fill: (b: TreeBuilder, inner: Scope) => void): XmlElement {
  return element(name, attrs, scope, (inner) => {
    const b = new TreeBuilder(inner);
    fill(b, inner);
    return b.done();
  });
}

/** The element tree of a message, children in DTD order. */
export function syncMLToTree(msg: SyncML): XmlElement {
  return wrap('SyncML', msg.attrs, new Map([['', '']]), (b, s) => b.add(hdr(msg.hdr, s)).add(body(msg.body, s)).addAll(msg.extra));
}

function hdr(h: SyncHdr, scope: Scope): XmlElement {
  return wrap('SyncHdr', h.attrs, scope, (b, s) =>
    b
      .leaf('VerDTD', h.verDTD)
      .leaf('VerProto', h.verProto)
      .leaf('SessionID', h.sessionID)
      .leaf('MsgID', h.msgID)
      .add(address('Target', h.target, s))
      .add(address('Source', h.source, s))
      .leaf('RespURI', h.respURI)
      .empty('NoResp', h.noResp)
      .add(cred(h.cred, s))
      .add(meta(h.meta, s))
      .addAll(h.extra),
  );
}

function address(name: 'Target' | 'Source', a: Address | undefined, scope: Scope): XmlElement | undefined {
  return a ? wrap(name, undefined, scope, (b) => b.leaf('LocURI', a.locURI).leaf('LocName', a.locName)) : undefined;
}

function body(sb: SyncBody, scope: Scope): XmlElement {
  return wrap('SyncBody', sb.attrs, scope, (b, s) => {
    for (const c of sb.commands) b.add(command(c, s));
    b.empty('Final', sb.final).addAll(sb.extra);
  });
}

/** One command's element, as encodeCommand writes it. */
export function command(c: Command, scope: Scope): XmlElement {
  switch (c.kind) {
    case 'Unknown':
      return c.element;
    case 'Status':
      return status(c, scope);
    case 'Results':
      return results(c, scope);
    case 'Alert':
      return alert(c, scope);
    case 'Atomic':
    case 'Sequence':
      return wrap(c.kind, c.attrs, scope, (b, s) => {
        b.leaf('CmdID', c.cmdID).empty('NoResp', c.noResp).add(meta(c.meta, s));
        for (const inner of c.commands) b.add(command(inner, s));
        b.addAll(c.extra);
      });
    default:
      return wrap(c.kind, c.attrs, scope, (b, s) => {
        b.leaf('CmdID', c.cmdID).empty('NoResp', c.noResp).add(cred(c.cred, s)).add(meta(c.meta, s));
        if (c.kind === 'Exec') b.leaf('Correlator', c.correlator);
        for (const i of c.items) b.add(item(i, s));
        b.addAll(c.extra);
      });
  }
}

function status(st: Status, scope: Scope): XmlElement {
  return wrap('Status', st.attrs, scope, (b, s) => {
    b.leaf('CmdID', st.cmdID).empty('NoResp', st.noResp).leaf('MsgRef', st.msgRef).leaf('CmdRef', st.cmdRef).leaf('Cmd', st.cmd);
    for (const r of st.targetRefs) b.leaf('TargetRef', r);
    for (const r of st.sourceRefs) b.leaf('SourceRef', r);
    b.add(cred(st.cred, s)).add(chal(st.chal, s)).add(data(st.data, s));
    for (const i of st.items) b.add(item(i, s));
    b.addAll(st.extra);
  });
}

function results(r: Results, scope: Scope): XmlElement {
  return wrap('Results', r.attrs, scope, (b, s) => {
    b.leaf('CmdID', r.cmdID).empty('NoResp', r.noResp).leaf('MsgRef', r.msgRef).leaf('CmdRef', r.cmdRef).leaf('Cmd', r.cmd)
      .add(meta(r.meta, s)).leaf('TargetRef', r.targetRef).leaf('SourceRef', r.sourceRef);
    for (const i of r.items) b.add(item(i, s));
    b.addAll(r.extra);
  });
}

function alert(a: Alert, scope: Scope): XmlElement {
  return wrap('Alert', a.attrs, scope, (b, s) => {
    b.leaf('CmdID', a.cmdID).empty('NoResp', a.noResp).add(cred(a.cred, s)).add(data(a.data, s)).leaf('Correlator', a.correlator);
    for (const i of a.items) b.add(item(i, s));
    b.addAll(a.extra);
  });
}

function item(i: Item, scope: Scope): XmlElement {
  return wrap('Item', i.attrs, scope, (b, s) =>
    b
      .add(address('Target', i.target, s))
      .add(address('Source', i.source, s))
      .add(meta(i.meta, s))
      .add(data(i.data, s))
      .empty('MoreData', i.moreData)
      .addAll(i.extra),
  );
}

function meta(m: Meta | undefined, scope: Scope): XmlElement | undefined {
  if (!m) return undefined;
  return element('Meta', m.attrs, scope, (inner) => m.fields.map((f) => element(f.name, f.attrs, inner, () => textNodes(f.value))));
}

function cred(c: Cred | undefined, scope: Scope): XmlElement | undefined {
  return c ? wrap('Cred', undefined, scope, (b, s) => b.add(meta(c.meta, s)).add(data(c.data, s))) : undefined;
}

function chal(c: Chal | undefined, scope: Scope): XmlElement | undefined {
  return c ? wrap('Chal', undefined, scope, (b, s) => b.add(meta(c.meta, s))) : undefined;
}

function data(d: Data | undefined, scope: Scope): XmlElement | undefined {
  if (!d) return undefined;
  return element('Data', d.attrs, scope, () => (d.markup ? d.markup : d.cdata ? cdataNodes(d.text) : textNodes(d.text)));
}
