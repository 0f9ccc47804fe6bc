/**
 * What the CLI hands to the Playwright workers that run the suites: one JSON file, named by an environment variable,
 * so the suites need no flags of their own and the same spec files serve every kind of run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Feature } from '../scenarios/scenario';

export const CONFIG_ENV = 'MDM_CONFORMANCE_CONFIG';

export interface Credentials {
  scheme: 'syncml:auth-md5' | 'syncml:auth-basic';
  user: string;
  password: string;
}

export interface ServerRunConfig {
  /** The embedded reference server is started by each worker; otherwise `url` is the vendor's endpoint. */
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
  server?: ServerRunConfig;
  client?: ClientRunConfig;
}

export function writeRunConfig(path: string, config: RunConfig): void {
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
}

/** The run configuration of this process, or undefined when the suites run outside a CLI run. */
export function readRunConfig(): RunConfig | undefined {
  const path = process.env[CONFIG_ENV];
  if (!path) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as RunConfig;
}
