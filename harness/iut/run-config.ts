/**
 * What the CLI hands to the Playwright workers that run the suites: one JSON document in an environment variable,
 * so the suites need no flags of their own and the same spec files serve every kind of run. It travels in the
 * environment rather than in a file because it holds credentials (`--client-credentials`, keys): nothing of it is
 * written to disk.
 */
import type { SyncMLEncoding } from '../protocol/encoding';
import type { Feature } from '../scenarios/scenario';

export const CONFIG_ENV = 'MDM_CONFORMANCE_CONFIG';

export interface Credentials {
  scheme: 'syncml:auth-md5' | 'syncml:auth-basic';
  user: string;
  password: string;
}

/**
 * How the run enrolled its device (`test-server --enroll`) and what the enrollment issued. The secrets stay in the
 * CLI: a worker has another device enrolled through the run channel.
 */
export interface EnrollmentRunConfig {
  discoveryUrl: string;
  authPolicy: 'OnPremise' | 'Federated' | 'Certificate';
  /** Per enrollment request; a whole enrollment takes a few of them. */
  timeoutMs: number;
  deviceId: string;
  certificate: { subject: string; issuer: string; fingerprint256: string };
}

/** The CLI's loopback endpoint for the workers (`harness/iut/run-channel.ts`). */
export interface RunChannelConfig {
  url: string;
  token: string;
}

export interface ServerRunConfig {
  /**
   * The implementation is the reference server. Without `url` each worker starts one; with `url` the CLI hosts it
   * (`test-server --enroll`, whose enrollment must reach the same server the suites test) and its commands are
   * queued through `channel`. Otherwise `url` is the vendor's endpoint.
   */
  embedded: boolean;
  url?: string;
  /** PKI directory (pki init) holding ca.pem, device.pem, device-key.pem: identities can be minted from its CA key. */
  pkiDir?: string;
  serverCa: string;
  clientCert: string;
  clientKey: string;
  deviceId: string;
  control?: string;
  credentials?: Credentials;
  /** What the server presents to the device (`--server-auth`, `--server-credentials`); the auth scenarios' device requires it. */
  serverCredentials?: Credentials;
  /** Offer HTTP/2 (`--http2`). */
  http2?: boolean;
  /** Plain HTTP with the device certificate in this header (`--client-cert-header`). */
  clientCertHeader?: string;
  /** Per request (`--timeout`). */
  timeoutMs?: number;
  /** The device identity came from an enrollment (`--enroll`); more devices are enrolled the same way, through `channel`. */
  enrollment?: EnrollmentRunConfig;
  channel?: RunChannelConfig;
  /** What the device speaks in every scenario (`--encoding`); default XML. */
  encoding?: SyncMLEncoding;
  /** The server requires MS-Signature (`--sign`, or a profile declaring message-signing): the device signs. */
  signing?: boolean;
}

export interface ClientRunConfig {
  embedded: boolean;
  trigger?: string;
  wait?: boolean;
  /** With --wait: how long each session may take to come. */
  waitTimeoutMs?: number;
  listen?: string;
  pkiDir: string;
  credentials?: Credentials;
  /** What the reference server presents to the client in every session (`--server-auth`, `--server-credentials`). */
  serverCredentials?: Credentials;
  /** `none`: the reference server takes a client that presents no certificate (`--client-auth none`). */
  clientAuth?: 'tls' | 'none';
  /** Per request of the embedded device. */
  timeoutMs?: number;
  /** What the client was provisioned with (`--encoding`): what it must send (MDM-TRN-006); default XML. */
  encoding?: SyncMLEncoding;
  /** The client was told to sign (a profile declaring message-signing): MDM-TRN-014 is judged on every message. */
  signing?: boolean;
}

export interface CanaryListen {
  host: string;
  port: number;
}

export interface RunConfig {
  mode: 'server' | 'client';
  reportsDir: string;
  startedAt: string;
  strict: boolean;
  /** `--seed`: every random choice of the run follows it (same implementation, same seed, same verdicts). */
  seed: number;
  /** Phases selected with --suite; empty means all. */
  suites: string[];
  /** `I/N`: this run is shard I of N (Playwright's --shard); shard reports are combined with `merge`. */
  shard?: string;
  features: Feature[];
  profilePath?: string;
  /** `--canary-listen`: where the entity-fetch canary of the XXE probes listens, when the peer is not on this host. */
  canaryListen?: CanaryListen;
  server?: ServerRunConfig;
  client?: ClientRunConfig;
}

/** The environment entry that carries `config` to the workers. */
export function runConfigEnv(config: RunConfig): Record<string, string> {
  return { [CONFIG_ENV]: JSON.stringify(config) };
}

/** The run configuration of this process, or undefined when the suites run outside a CLI run. */
export function readRunConfig(): RunConfig | undefined {
  const text = process.env[CONFIG_ENV];
  return text ? (JSON.parse(text) as RunConfig) : undefined;
}
