/**
 * The SyncML codec: bytes <-> typed message model.
 *
 *   parseSyncML(bytes)  -> { message, deviations, root }   (throws SyncMLParseError when it is not a SyncML document)
 *   serializeSyncML(m)  -> XML text in DTD order
 *   parseSyncMLWbxml(bytes) / serializeSyncMLWbxml(m)     the same over WBXML (application/vnd.syncml.dm+wbxml)
 *   parseSyncMLBody(bytes, contentType?)                  either, chosen by media type or by the first bytes
 */
import { checkContentModels, type Deviation } from './content-models';
import { decodeSyncML } from './decode';
import { encodeSyncML } from './encode';
import { syncMLToTree } from './model-tree';
import { decodeWbxml, encodeWbxml, type WbxmlEncodeOptions } from './wbxml';
import type { SyncML } from './model';
import { DEFAULT_XML_LIMITS, parseXml, XmlError, type XmlElement, type XmlErrorCode, type XmlLimits } from './xml';

export * from './model';
export * from './builders';
export { checkContentModels, indexedPaths, CONTENT_MODELS, type Deviation } from './content-models';
export { encodeCommand } from './encode';
export { DEFAULT_XML_LIMITS, type XmlElement, type XmlLimits, type XmlNode, type Attrs } from './xml';
export { decodeWbxml, encodeWbxml, SYNCML_12_FPI, SYNCML_12_PUBLIC_ID, type WbxmlEncodeOptions } from './wbxml';
export { syncMLToTree } from './model-tree';

/** Media types of SyncML DM over HTTP (OMA SyncML HTTP binding; MS-MDM 2.1 supports both, XML by default). */
export const XML_MEDIA_TYPE = 'application/vnd.syncml.dm+xml';
export const WBXML_MEDIA_TYPE = 'application/vnd.syncml.dm+wbxml';

export type SyncMLErrorCode = XmlErrorCode | 'not-syncml';

/** The bytes are not a SyncML document at all; `message` names the problem (never a stack trace for users). */
export class SyncMLParseError extends Error {
  constructor(
    readonly code: SyncMLErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SyncMLParseError';
  }
}

export interface ParsedSyncML {
  message: SyncML;
  /** Content-model deviations (order, missing or unknown elements, namespaces), each with its requirement id. */
  deviations: Deviation[];
  /** The element tree the model was read from, for checks that need exact document order. */
  root: XmlElement;
}

export function parseSyncML(input: Uint8Array | string, limits: XmlLimits = DEFAULT_XML_LIMITS): ParsedSyncML {
  let root: XmlElement;
  try {
    root = parseXml(input, limits);
  } catch (e) {
    if (e instanceof XmlError) throw new SyncMLParseError(e.code, e.message);
    throw e;
  }
  return fromRoot(root);
}

function fromRoot(root: XmlElement): ParsedSyncML {
  if (root.name !== 'SyncML') {
    throw new SyncMLParseError('not-syncml', `root element is <${root.name}>, a SyncML message starts with <SyncML>`);
  }
  return { message: decodeSyncML(root), deviations: checkContentModels(root), root };
}

/** A WBXML SyncML DM 1.2 message; the same model, deviations and tree as its XML form would give. */
export function parseSyncMLWbxml(input: Uint8Array, limits: XmlLimits = DEFAULT_XML_LIMITS): ParsedSyncML {
  let root: XmlElement;
  try {
    root = decodeWbxml(input, limits);
  } catch (e) {
    if (e instanceof XmlError) throw new SyncMLParseError(e.code, e.message);
    throw e;
  }
  return fromRoot(root);
}

export function serializeSyncMLWbxml(message: SyncML, opts?: WbxmlEncodeOptions): Uint8Array {
  return encodeWbxml(syncMLToTree(message), opts);
}

export type SyncMLEncoding = 'xml' | 'wbxml';

/** WBXML opens with its version byte (0x01..0x03); XML with `<`, a byte order mark or whitespace. */
export function sniffEncoding(bytes: Uint8Array): SyncMLEncoding {
  return bytes.length > 0 && bytes[0] >= 0x01 && bytes[0] <= 0x03 ? 'wbxml' : 'xml';
}

/** The encoding a Content-Type names (a DM media type, or any `+wbxml` / `+xml` / `/xml` type); undefined when it names none. */
export function declaredEncoding(contentType: string | undefined): SyncMLEncoding | undefined {
  const mediaType = contentType?.split(';')[0].trim().toLowerCase();
  if (!mediaType) return undefined;
  if (mediaType === WBXML_MEDIA_TYPE || mediaType.endsWith('+wbxml')) return 'wbxml';
  if (mediaType === XML_MEDIA_TYPE || mediaType.endsWith('+xml') || mediaType.endsWith('/xml')) return 'xml';
  return undefined;
}

/**
 * An HTTP body in either encoding: the media type decides when it names one, the first bytes otherwise. When the
 * declared type and the bytes disagree and the parse fails, the error says so.
 */
export function parseSyncMLBody(
  bytes: Uint8Array,
  contentType?: string,
  limits: XmlLimits = DEFAULT_XML_LIMITS,
): ParsedSyncML & { encoding: SyncMLEncoding } {
  const sniffed = sniffEncoding(bytes);
  const encoding = declaredEncoding(contentType) ?? sniffed;
  try {
    return { ...(encoding === 'wbxml' ? parseSyncMLWbxml(bytes, limits) : parseSyncML(bytes, limits)), encoding };
  } catch (e) {
    if (e instanceof SyncMLParseError && sniffed !== encoding) {
      const looksLike = sniffed === 'wbxml' ? `WBXML (first byte ${bytes[0]})` : 'XML';
      throw new SyncMLParseError(e.code, `${e.message} (the body is declared ${contentType} but starts like ${looksLike})`);
    }
    throw e;
  }
}

export function serializeSyncML(message: SyncML): string {
  return encodeSyncML(message);
}
