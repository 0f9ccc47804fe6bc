/**
 * Which SyncML and DM protocol versions a peer takes (MDM-ROB-002, MDM-XML-003). A message in a version the peer
 * does not support is answered, not processed: 505 names an unsupported DTD version (VerDTD, or the version in the
 * `SYNCML:SYNCMLx.y` namespace), 513 an unsupported VerProto, and the Status Item lists what is supported.
 *
 * Only what a message states is judged: a missing VerDTD or VerProto is a header defect for the checks
 * (MDM-HDR-002, MDM-HDR-003, A-15), and a namespace that names no SyncML version is a different defect, not a
 * version to refuse.
 */
import type { SyncML } from '../syncml';

export interface SupportedVersions {
  /** VerDTD values, also the x.y of `SYNCML:SYNCMLx.y`; the first is the one listed in a 505. */
  dtd: readonly string[];
  /** VerProto values; the first is the one listed in a 513. */
  proto: readonly string[];
}

/** The reference server speaks DM 1.2 only. */
export const SERVER_VERSIONS: SupportedVersions = { dtd: ['1.2'], proto: ['DM/1.2'] };

/** Windows also takes OMA DM 1.1.2 documents (MDM-XML-003), and so does the reference device. */
export const DEVICE_VERSIONS: SupportedVersions = { dtd: ['1.2', '1.1'], proto: ['DM/1.2', 'DM/1.1'] };

export interface VersionRefusal {
  code: '505' | '513';
  /** What the refusing Status Item lists. */
  supported: string;
  /** What the message declared, for logs and evidence. */
  declared: string;
}

const VERSIONED_NS = /^SYNCML:SYNCML(\d+\.\d+)$/;

export function unsupportedVersion(msg: SyncML, versions: SupportedVersions): VersionRefusal | undefined {
  const ns = msg.attrs?.xmlns?.trim();
  const nsVersion = ns ? VERSIONED_NS.exec(ns)?.[1] : undefined;
  if (nsVersion !== undefined && !versions.dtd.includes(nsVersion)) return { code: '505', supported: versions.dtd[0], declared: `namespace ${ns}` };
  const dtd = msg.hdr.verDTD?.trim();
  if (dtd !== undefined && !versions.dtd.includes(dtd)) return { code: '505', supported: versions.dtd[0], declared: `VerDTD ${dtd}` };
  const proto = msg.hdr.verProto?.trim();
  if (proto !== undefined && !versions.proto.includes(proto)) return { code: '513', supported: versions.proto[0], declared: `VerProto ${proto}` };
  return undefined;
}
