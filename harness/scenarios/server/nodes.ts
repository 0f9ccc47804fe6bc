/**
 * Nodes the server scenarios have the server queue for the device: standard Windows CSP nodes, so a server whose
 * control interface accepts only real CSP paths can queue them, and nothing is harness-only. The reference device's
 * tree (fixtures/profiles/windows-device.json) holds each with Windows' access rules.
 */
const NODE_CACHE = './Device/Vendor/MSFT/NodeCache/MDMConformance';

export const NODES = {
  /** The server's NodeCache group: exists, so an Add of it is answered 418. */
  nodeCacheGroup: NODE_CACHE,
  /** A writable chr leaf. */
  cacheVersion: `${NODE_CACHE}/CacheVersion`,
  /** Where node entries are added (`Nodes/{id}`, each with NodeURI and ExpectedValue). */
  nodeEntries: `${NODE_CACHE}/Nodes`,
  /** A chr leaf of an existing entry, for values of several kilobytes. */
  expectedValue: `${NODE_CACHE}/Nodes/1/ExpectedValue`,
  /** A writable int policy (0 to 23). */
  activeHoursStart: './Device/Vendor/MSFT/Policy/Config/Update/ActiveHoursStart',
  /** An Exec that completes at once. */
  updateSignature: './Device/Vendor/MSFT/Defender/UpdateSignature',
} as const;
