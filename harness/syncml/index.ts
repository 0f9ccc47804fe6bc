/**
 * The SyncML codec: bytes <-> typed message model.
 *
 *   parseSyncML(bytes)  -> { message, deviations, root }   (throws SyncMLParseError when it is not a SyncML document)
 *   serializeSyncML(m)  -> XML text in DTD order
 */
import { checkContentModels, type Deviation } from './content-models';
import { decodeSyncML } from './decode';
import { encodeSyncML } from './encode';
import type { SyncML } from './model';
import { DEFAULT_XML_LIMITS, parseXml, XmlError, type XmlElement, type XmlErrorCode, type XmlLimits } from './xml';

export * from './model';
export * from './builders';
export { checkContentModels, indexedPaths, CONTENT_MODELS, type Deviation } from './content-models';
export { encodeCommand } from './encode';
export { DEFAULT_XML_LIMITS, type XmlElement, type XmlLimits, type XmlNode, type Attrs } from './xml';

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
  if (root.name !== 'SyncML') {
    throw new SyncMLParseError('not-syncml', `root element is <${root.name}>, a SyncML message starts with <SyncML>`);
  }
  return { message: decodeSyncML(root), deviations: checkContentModels(root), root };
}

export function serializeSyncML(message: SyncML): string {
  return encodeSyncML(message);
}
