/**
 * Builders for every DM command and for whole messages, so that suites and peers never write XML by hand.
 * CmdIDs are left unset unless given: the session engine numbers commands when it sends them.
 */
import type {
  Add, Alert, Atomic, Chal, Command, Cred, Data, Delete, Exec, Get, Item, Meta, MetaField, Replace, Results, Sequence,
  Status, SyncML,
} from './model';
import { METINF_NS, SYNCML_NS } from './model';

/** Meta fields in the order the MetInf DTD lists them; each declares `syncml:metinf` on itself, as Windows does. */
export interface MetaInit {
  format?: string;
  type?: string;
  mark?: string;
  size?: string | number;
  nextNonce?: string;
  maxMsgSize?: string | number;
  maxObjSize?: string | number;
}

const META_ORDER: [keyof MetaInit, string][] = [
  ['format', 'Format'], ['type', 'Type'], ['mark', 'Mark'], ['size', 'Size'], ['nextNonce', 'NextNonce'],
  ['maxMsgSize', 'MaxMsgSize'], ['maxObjSize', 'MaxObjSize'],
];

export function meta(init: MetaInit): Meta | undefined {
  const fields: MetaField[] = [];
  for (const [key, name] of META_ORDER) {
    const v = init[key];
    if (v !== undefined) fields.push({ name, value: String(v), attrs: { xmlns: METINF_NS } });
  }
  return fields.length ? { fields } : undefined;
}

export function data(text: string | number, opts: { cdata?: boolean } = {}): Data {
  const d: Data = { text: String(text) };
  if (opts.cdata) d.cdata = true;
  return d;
}

export interface ItemInit extends MetaInit {
  target?: string;
  source?: string;
  data?: string;
  moreData?: boolean;
}

export function item(init: ItemInit): Item {
  const it: Item = {};
  if (init.target !== undefined) it.target = { locURI: init.target };
  if (init.source !== undefined) it.source = { locURI: init.source };
  const m = meta(init);
  if (m) it.meta = m;
  if (init.data !== undefined) it.data = data(init.data);
  if (init.moreData) it.moreData = true;
  return it;
}

export interface ValueOptions {
  format?: string;
  type?: string;
  cmdID?: string | number;
}

function withID<T extends { cmdID?: string }>(cmd: T, cmdID: string | number | undefined): T {
  if (cmdID !== undefined) cmd.cmdID = String(cmdID);
  return cmd;
}

/** Get of one or more nodes (MDM-CMD-GET-001). */
export function get(...uris: string[]): Get {
  return { kind: 'Get', items: uris.map((target) => item({ target })) };
}

/** Add of a node; a leaf gets its value, an interior node is added with format `node` and no Data. */
export function add(uri: string, value?: string, opts: ValueOptions = {}): Add {
  const format = opts.format ?? (value === undefined ? 'node' : undefined);
  return withID<Add>({ kind: 'Add', items: [item({ target: uri, data: value, format, type: opts.type })] }, opts.cmdID);
}

export function replace(uri: string, value: string, opts: ValueOptions = {}): Replace {
  return withID<Replace>({ kind: 'Replace', items: [item({ target: uri, data: value, format: opts.format, type: opts.type })] }, opts.cmdID);
}

export function del(...uris: string[]): Delete {
  return { kind: 'Delete', items: uris.map((target) => item({ target })) };
}

export function exec(uri: string, value?: string, opts: ValueOptions = {}): Exec {
  return withID<Exec>({ kind: 'Exec', items: [item({ target: uri, data: value, format: opts.format, type: opts.type })] }, opts.cmdID);
}

/** Alert with its code and optional Items (1201 and 1222 carry none). */
export function alert(code: string | number, items: Item[] = [], cmdID?: string | number): Alert {
  return withID<Alert>({ kind: 'Alert', data: data(code), items }, cmdID);
}

/** Alert 1224/1226 with one event Item: Type (and Format, Mark, Source) describe its Data (MDM-CMD-ALT-004). */
export function eventAlert(code: '1224' | '1226', event: { type: string; data: string; format?: string; mark?: string; source?: string }): Alert {
  return alert(code, [item({ type: event.type, format: event.format, mark: event.mark, data: event.data, source: event.source })]);
}

export function atomic(...commands: Command[]): Atomic {
  return { kind: 'Atomic', commands };
}

export function sequence(...commands: Command[]): Sequence {
  return { kind: 'Sequence', commands };
}

export interface StatusInit {
  cmdID?: string | number;
  msgRef: string;
  cmdRef: string;
  cmd: string;
  code: string | number;
  targetRefs?: string[];
  sourceRefs?: string[];
  chal?: Chal;
  cred?: Cred;
  items?: Item[];
}

export function status(init: StatusInit): Status {
  const s: Status = {
    kind: 'Status',
    msgRef: init.msgRef,
    cmdRef: init.cmdRef,
    cmd: init.cmd,
    targetRefs: init.targetRefs ?? [],
    sourceRefs: init.sourceRefs ?? [],
    data: data(init.code),
    items: init.items ?? [],
  };
  if (init.chal) s.chal = init.chal;
  if (init.cred) s.cred = init.cred;
  return withID(s, init.cmdID);
}

export interface ResultsInit {
  cmdID?: string | number;
  msgRef: string;
  cmdRef: string;
  /** Windows sends `Get` here (catalogue A-05); leave undefined for the plain DTD shape. */
  cmd?: string;
  items: Item[];
  meta?: Meta;
}

export function results(init: ResultsInit): Results {
  const r: Results = { kind: 'Results', msgRef: init.msgRef, cmdRef: init.cmdRef, items: init.items };
  if (init.cmd !== undefined) r.cmd = init.cmd;
  if (init.meta) r.meta = init.meta;
  return withID(r, init.cmdID);
}

/** Challenge for an auth scheme (`syncml:auth-md5`, `syncml:auth-basic`), with a nonce for md5 (MDM-AUTH-018). */
export function chal(type: string, nextNonce?: string): Chal {
  return { meta: meta({ type, format: 'b64', nextNonce }) };
}

export function cred(type: string, value: string): Cred {
  return { meta: meta({ type, format: 'b64' }), data: data(value) };
}

export interface MessageInit {
  sessionID: string;
  msgID: string | number;
  target: string;
  source: string;
  /** LocName of the header Source (user id for MD5, MDM-AUTH-017). */
  sourceName?: string;
  commands: Command[];
  final?: boolean;
  cred?: Cred;
  meta?: Meta;
  respURI?: string;
}

/** A whole message with VerDTD 1.2 and VerProto DM/1.2 (MDM-HDR-002, MDM-HDR-003). */
export function message(init: MessageInit): SyncML {
  const msg: SyncML = {
    attrs: { xmlns: SYNCML_NS },
    hdr: {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionID: init.sessionID,
      msgID: String(init.msgID),
      target: { locURI: init.target },
      source: init.sourceName === undefined ? { locURI: init.source } : { locURI: init.source, locName: init.sourceName },
    },
    body: { commands: init.commands },
  };
  if (init.respURI !== undefined) msg.hdr.respURI = init.respURI;
  if (init.cred) msg.hdr.cred = init.cred;
  if (init.meta) msg.hdr.meta = init.meta;
  if (init.final) msg.body.final = true;
  return msg;
}
