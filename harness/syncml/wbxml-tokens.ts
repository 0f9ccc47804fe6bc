/**
 * The WBXML vocabulary of SyncML DM 1.2: the global tokens of WBXML 1.3 (WAP-192-WBXML section 7.1), the public
 * identifier of the SyncML 1.2 DTD, and the tag code pages of OMA SyncML RepPro 1.2 (page 0, namespace
 * `SYNCML:SYNCML1.2`) and MetInf 1.2 (page 1, namespace `syncml:metinf`). The token values are the OMA ones; the
 * same values stand in libwbxml's tables (Debian libwbxml2), which tests/unit/wbxml-libwbxml.spec.ts cross-checks.
 * SyncML defines no attribute code page.
 */
import { METINF_NS, SYNCML_NS } from './model';

/** Global tokens, the same on every code page. */
export const GLOBAL = {
  SWITCH_PAGE: 0x00,
  END: 0x01,
  ENTITY: 0x02,
  STR_I: 0x03,
  LITERAL: 0x04,
  EXT_I_0: 0x40,
  EXT_I_1: 0x41,
  EXT_I_2: 0x42,
  PI: 0x43,
  LITERAL_C: 0x44,
  EXT_T_0: 0x80,
  EXT_T_1: 0x81,
  EXT_T_2: 0x82,
  STR_T: 0x83,
  LITERAL_A: 0x84,
  EXT_0: 0xc0,
  EXT_1: 0xc1,
  EXT_2: 0xc2,
  OPAQUE: 0xc3,
  LITERAL_AC: 0xc4,
} as const;

/** Bits of a tag token: the element has attributes (0x80), the element has content (0x40). */
export const TAG_HAS_ATTRIBUTES = 0x80;
export const TAG_HAS_CONTENT = 0x40;
export const TAG_IDENTITY = 0x3f;

/** Names of the global tokens, for error messages. */
export const GLOBAL_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(GLOBAL).map(([name, value]) => [value, name]));

/** Version bytes: major - 1 in the high nibble, minor in the low one. */
export const WBXML_1_2 = 0x02;
export const WBXML_1_3 = 0x03;

/** The formal public identifier of the SyncML 1.2 DTD, and its registered WBXML public id (OMA RepPro 1.2). */
export const SYNCML_12_FPI = '-//SYNCML//DTD SyncML 1.2//EN';
export const SYNCML_12_PUBLIC_ID = 0x1201;

/** Public ids a refusal can name, so that a vendor sees which document type it sent instead. */
export const KNOWN_PUBLIC_IDS: ReadonlyMap<number, string> = new Map([
  [0x01, 'unknown or missing public identifier'],
  [0x0fd1, '-//SYNCML//DTD SyncML 1.0//EN'],
  [0x0fd2, '-//SYNCML//DTD DevInf 1.0//EN'],
  [0x0fd3, '-//SYNCML//DTD SyncML 1.1//EN'],
  [0x0fd4, '-//SYNCML//DTD DevInf 1.1//EN'],
  [0x1201, SYNCML_12_FPI],
  [0x1202, '-//SYNCML//DTD MetInf 1.2//EN'],
  [0x1203, '-//SYNCML//DTD DevInf 1.2//EN'],
]);

/** IANA MIBenum of UTF-8, the only charset SyncML DM over WBXML uses here. */
export const UTF8_MIBENUM = 106;

export interface CodePage {
  index: number;
  label: string;
  namespace: string;
  /** Tag identity (0x05..0x3F) -> element name. */
  tags: ReadonlyMap<number, string>;
  /** Element name -> tag identity. */
  tokens: ReadonlyMap<string, number>;
}

function page(index: number, label: string, namespace: string, names: readonly string[]): CodePage {
  const tags = new Map<number, string>();
  names.forEach((name, i) => {
    if (name) tags.set(0x05 + i, name);
  });
  return { index, label, namespace, tags, tokens: new Map([...tags].map(([token, name]) => [name, token])) };
}

/** OMA SyncML RepPro 1.2, WBXML code page 0, tokens 0x05.. in order; 0x30 is reserved. */
export const SYNCML_PAGE = page(0, 'SyncML', SYNCML_NS, [
  'Add', 'Alert', 'Archive', 'Atomic', 'Chal', 'Cmd', 'CmdID', 'CmdRef', 'Copy', 'Cred', 'Data', 'Delete', 'Exec',
  'Final', 'Get', 'Item', 'Lang', 'LocName', 'LocURI', 'Map', 'MapItem', 'Meta', 'MsgID', 'MsgRef', 'NoResp',
  'NoResults', 'Put', 'Replace', 'RespURI', 'Results', 'Search', 'Sequence', 'SessionID', 'SftDel', 'Source',
  'SourceRef', 'Status', 'Sync', 'SyncBody', 'SyncHdr', 'SyncML', 'Target', 'TargetRef', '', 'VerDTD', 'VerProto',
  'NumberOfChanges', 'MoreData', 'Field', 'Filter', 'Record', 'FilterType', 'SourceParent', 'TargetParent', 'Move',
  'Correlator',
]);

/** OMA SyncML MetInf 1.2, WBXML code page 1, tokens 0x05.. in order. */
export const METINF_PAGE = page(1, 'MetInf', METINF_NS, [
  'Anchor', 'EMI', 'Format', 'FreeID', 'FreeMem', 'Last', 'Mark', 'MaxMsgSize', 'Mem', 'MetInf', 'Next', 'NextNonce',
  'SharedMem', 'Size', 'Type', 'Version', 'MaxObjSize', 'FieldLevel',
]);

export const CODE_PAGES: readonly CodePage[] = [SYNCML_PAGE, METINF_PAGE];

/** Namespace -> the code page whose tags live in it. */
export const PAGE_OF_NAMESPACE: ReadonlyMap<string, CodePage> = new Map(CODE_PAGES.map((p) => [p.namespace, p]));
