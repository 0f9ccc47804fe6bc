/**
 * The typed SyncML message model (OMA DM 1.2 RepPro as used by MS-MDM).
 *
 * Every value is the raw text of the wire (`1.2`, `007`, `0x1A` stay strings); order is kept wherever the wire has
 * an order that means something (commands, items, meta fields, TargetRef/SourceRef). Attributes are kept on the
 * elements that carry them in practice (namespace declarations, `msft:originalerror`). Elements the codec does not
 * model are kept in `extra` so that nothing read is lost.
 */
import type { Attrs, XmlElement, XmlNode } from './xml';

export const SYNCML_NS = 'SYNCML:SYNCML1.2';
export const METINF_NS = 'syncml:metinf';
export const MSFT_NS = 'http://schemas.microsoft.com/MobileDevice/MDM';

export interface SyncML {
  attrs?: Attrs;
  hdr: SyncHdr;
  body: SyncBody;
  extra?: XmlElement[];
}

export interface SyncHdr {
  attrs?: Attrs;
  verDTD?: string;
  verProto?: string;
  sessionID?: string;
  msgID?: string;
  target?: Address;
  source?: Address;
  respURI?: string;
  noResp?: true;
  cred?: Cred;
  meta?: Meta;
  extra?: XmlElement[];
}

/** `Target` or `Source`: `LocURI, LocName?`. */
export interface Address {
  locURI?: string;
  locName?: string;
}

export interface SyncBody {
  attrs?: Attrs;
  commands: Command[];
  final?: true;
  extra?: XmlElement[];
}

/** `Data`: plain text (possibly from CDATA), or mixed content kept as nodes when it holds markup. */
export interface Data {
  text: string;
  cdata?: true;
  attrs?: Attrs;
  /** Present only when the content is not a single text run: the exact child nodes. */
  markup?: XmlNode[];
}

export interface MetaField {
  /** Element name as written, for example `Format`, `Type`, `MaxMsgSize`. */
  name: string;
  value: string;
  attrs?: Attrs;
}

export interface Meta {
  attrs?: Attrs;
  fields: MetaField[];
}

export interface Cred {
  meta?: Meta;
  data?: Data;
}

export interface Chal {
  meta?: Meta;
}

export interface Item {
  attrs?: Attrs;
  target?: Address;
  source?: Address;
  meta?: Meta;
  data?: Data;
  moreData?: true;
  extra?: XmlElement[];
}

interface CommandBase {
  attrs?: Attrs;
  cmdID?: string;
  noResp?: true;
  extra?: XmlElement[];
}

interface ItemCommand extends CommandBase {
  cred?: Cred;
  meta?: Meta;
  items: Item[];
}

export interface Add extends ItemCommand {
  kind: 'Add';
}
export interface Replace extends ItemCommand {
  kind: 'Replace';
}
export interface Delete extends ItemCommand {
  kind: 'Delete';
}
export interface Get extends ItemCommand {
  kind: 'Get';
}
export interface Exec extends ItemCommand {
  kind: 'Exec';
  correlator?: string;
}

export interface Alert extends CommandBase {
  kind: 'Alert';
  cred?: Cred;
  data?: Data;
  correlator?: string;
  items: Item[];
}

export interface Atomic extends CommandBase {
  kind: 'Atomic';
  meta?: Meta;
  commands: Command[];
}

export interface Sequence extends CommandBase {
  kind: 'Sequence';
  meta?: Meta;
  commands: Command[];
}

export interface Status extends CommandBase {
  kind: 'Status';
  msgRef?: string;
  cmdRef?: string;
  cmd?: string;
  targetRefs: string[];
  sourceRefs: string[];
  cred?: Cred;
  chal?: Chal;
  data?: Data;
  items: Item[];
}

export interface Results extends CommandBase {
  kind: 'Results';
  msgRef?: string;
  cmdRef?: string;
  /** Not in the SyncML DTD, but Windows sends `Get` here (catalogue A-05). */
  cmd?: string;
  meta?: Meta;
  targetRef?: string;
  sourceRef?: string;
  items: Item[];
}

/** An element under SyncBody, Atomic or Sequence that is not a DM command; kept whole. */
export interface UnknownCommand {
  kind: 'Unknown';
  name: string;
  cmdID?: string;
  element: XmlElement;
}

export type ItemCommandKind = 'Add' | 'Replace' | 'Delete' | 'Get' | 'Exec';
export type Command = Add | Replace | Delete | Get | Exec | Alert | Atomic | Sequence | Status | Results | UnknownCommand;
export type CommandKind = Command['kind'];
export type KnownCommand = Exclude<Command, UnknownCommand>;

/** The DM protocol elements allowed under SyncBody (catalogue MDM-XML-005). */
export const DM_COMMANDS = ['Alert', 'Add', 'Atomic', 'Delete', 'Exec', 'Get', 'Replace', 'Results', 'Sequence', 'Status'] as const;

// ---------------------------------------------------------------------------------------------------------------
// Reading helpers

/**
 * The value of the first meta field with this local name, trimmed, if any. A field may be written with a prefix
 * bound to syncml:metinf (`<m:Size>`), and its value with white space around it: both mean the same field and value.
 */
export function metaValue(meta: Meta | undefined, name: string): string | undefined {
  if (!meta) return undefined;
  const prefixed = `:${name}`;
  for (const f of meta.fields) if (f.name === name || f.name.endsWith(prefixed)) return f.value.trim();
  return undefined;
}

/** A field looked up at item level first, then at command level (catalogue MDM-RES-006). */
export function itemMeta(item: Item, command: { meta?: Meta } | undefined, name: string): string | undefined {
  return metaValue(item.meta, name) ?? metaValue(command?.meta, name);
}

export function dataText(data: Data | undefined): string | undefined {
  return data?.text;
}

/** The numeric code carried by a Status or Alert, trimmed; undefined when there is no Data. */
export function codeOf(command: Status | Alert): string | undefined {
  return command.data?.text.trim();
}

/** Commands of a container or body, depth first, with their nesting path. */
export function* walkCommands(commands: Command[], parents: Command[] = []): Generator<{ command: Command; parents: Command[] }> {
  for (const command of commands) {
    yield { command, parents };
    if (command.kind === 'Atomic' || command.kind === 'Sequence') {
      yield* walkCommands(command.commands, [...parents, command]);
    }
  }
}
