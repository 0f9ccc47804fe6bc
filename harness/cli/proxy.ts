/**
 * `mdm-conformance proxy --listen HOST:PORT --upstream URL`: a judging reverse proxy between a real device and a real
 * server. It serves devices with a server identity they trust, forwards every request unchanged to the upstream with
 * a client identity the upstream trusts, relays every reply unchanged, groups the exchanges into DM sessions per
 * device and SessionID, judges each finished session with the passive checks of both sides, and writes the reports
 * (mode `proxy`) when stopped (Ctrl-C, SIGTERM) or after --max-sessions.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PKI_FILES } from '../pki';
import { sessionLine, writeCaptureReports } from '../grade/reports';
import { ProxySessions, ReverseProxy } from '../proxy';
import { MANAGEMENT_PATH } from '../server/reference-server';
import { listenAddress, one, UsageError } from './args';
import { parseCommand, refuseIgnored, type CommandSpec } from './command';
import { durationOf } from './duration';
import { JUDGING_FLAGS, judgingOf } from './grade';
import { readPem } from './identity';

export const PROXY: CommandSpec = {
  name: 'proxy',
  summary: 'Sits between a device and its MS-MDM server: serves the device with a server certificate it trusts, forwards every request '
    + 'unchanged to --upstream presenting a client certificate the server trusts (and verifying the server certificate), relays every reply '
    + 'unchanged, and judges each DM session of both sides with the passive checks as it ends, one line per session. Writes '
    + 'conformance-report.json (mode proxy), conformance-tests.json, junit.xml and index.html when stopped with Ctrl-C or after '
    + '--max-sessions. Exit 0 conforms, 1 a requirement failed, 2 bad usage, cannot listen, or no session went through.',
  flags: [
    { name: 'listen', value: 'HOST:PORT', default: '127.0.0.1:8443', help: 'where devices connect; a non-loopback address (0.0.0.0:8443) is allowed when named, with a warning' },
    { name: 'upstream', value: 'URL', help: 'the server the device normally talks to, e.g. https://mdm.example.com (its origin is used; the device\'s path and query are kept)' },
    { name: 'pki', value: 'DIR', help: 'a pki init folder: server.pem/server-key.pem served to devices, device.pem/device-key.pem presented upstream, ca.pem for the upstream certificate and device certificates' },
    { name: 'cert', value: 'FILE', default: 'DIR/server.pem', help: 'server certificate served to devices (the device must trust its CA)' },
    { name: 'key', value: 'FILE', default: 'DIR/server-key.pem', help: 'its private key' },
    { name: 'ca', value: 'FILE', default: 'DIR/ca.pem, else the system trust store', help: 'CA the upstream server certificate must chain to' },
    { name: 'client-cert', value: 'FILE', default: 'DIR/device.pem', help: 'client certificate presented to the upstream (one the server accepts for the device)' },
    { name: 'client-key', value: 'FILE', default: 'DIR/device-key.pem', help: 'its private key' },
    { name: 'device-ca', value: 'FILE', default: 'DIR/ca.pem', help: 'CA device certificates are checked against: recorded in the transcript, never a reason to refuse a device' },
    { name: 'http2', help: 'offer HTTP/2 to the upstream on every connection (by default the proxy speaks to the upstream in the HTTP version the device chose)' },
    { name: 'max-sessions', value: 'N', help: 'stop after N judged sessions and write the reports' },
    { name: 'idle', value: 'DURATION', default: '2m', help: 'a session with no exchange for this long is judged as far as it went' },
    ...JUDGING_FLAGS,
  ],
  examples: [
    'mdm-conformance proxy --listen 0.0.0.0:8443 --upstream https://mdm.example.com --pki proxy-pki --ca vendor-ca.pem',
    'mdm-conformance proxy --upstream https://127.0.0.1:9443 --pki pki --max-sessions 3 --reports proxied',
  ],
};

function fileOf(args: ReturnType<typeof parseCommand>, flag: string, pkiDir: string | undefined, file: string): string | undefined {
  const given = one(args, flag);
  if (given) return given;
  if (!pkiDir) return undefined;
  const path = join(pkiDir, file);
  return existsSync(path) ? path : undefined;
}

function positiveOf(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} takes a positive whole number, got "${value}"`);
  return Number(value);
}

export async function proxyCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseCommand(argv, PROXY);
  const upstream = one(args, 'upstream');
  if (!upstream) throw new UsageError('--upstream URL is required: the server the device normally talks to, e.g. --upstream https://mdm.example.com');
  let upstreamUrl: URL;
  try {
    upstreamUrl = new URL(upstream);
  } catch {
    throw new UsageError(`--upstream ${upstream} is not a URL; give the server's address, e.g. https://mdm.example.com`);
  }
  if (upstreamUrl.protocol !== 'https:' && upstreamUrl.protocol !== 'http:') throw new UsageError(`--upstream must be an https:// URL, got ${upstreamUrl.protocol}//`);
  const { role, reportsDir, strict, expectations } = judgingOf(args);
  const maxSessions = positiveOf(one(args, 'max-sessions'), '--max-sessions');
  const idleMs = durationOf(one(args, 'idle'), '--idle') ?? 120_000;
  const { host, port, exposed } = listenAddress(one(args, 'listen') ?? '127.0.0.1:8443', '--listen');
  const pkiDir = one(args, 'pki');
  if (pkiDir && !existsSync(pkiDir)) throw new UsageError(`--pki ${pkiDir}: no such folder; create one with: npx mdm-conformance pki init --out ${pkiDir}`);
  refuseIgnored(args, [{ flag: 'ca', when: upstreamUrl.protocol === 'http:', why: 'the upstream is plain HTTP: there is no certificate to verify' }]);
  const certFile = fileOf(args, 'cert', pkiDir, PKI_FILES.serverCert);
  const keyFile = fileOf(args, 'key', pkiDir, PKI_FILES.serverKey);
  if (!certFile || !keyFile) throw new UsageError('the proxy needs a server identity the device trusts: pass --pki DIR (server.pem, server-key.pem) or --cert FILE --key FILE');
  const clientCert = fileOf(args, 'client-cert', pkiDir, PKI_FILES.deviceCert);
  const clientKey = fileOf(args, 'client-key', pkiDir, PKI_FILES.deviceKey);
  if (!!clientCert !== !!clientKey) throw new UsageError('--client-cert and --client-key go together: the identity presented to the upstream needs both');
  const caFile = fileOf(args, 'ca', pkiDir, PKI_FILES.caCert);
  const deviceCaFile = fileOf(args, 'device-ca', pkiDir, PKI_FILES.caCert);

  const identity = { certPem: readPem(certFile, '--cert'), keyPem: readPem(keyFile, '--key') };
  const upstreamIdentity = clientCert && clientKey ? { certPem: readPem(clientCert, '--client-cert'), keyPem: readPem(clientKey, '--client-key') } : undefined;
  const upstreamCa = caFile ? readPem(caFile, '--ca') : undefined;
  const deviceCa = deviceCaFile ? readPem(deviceCaFile, '--device-ca') : undefined;

  let done!: () => void;
  const stopped = new Promise<void>((resolveStop) => (done = resolveStop));
  const startedAt = new Date().toISOString();
  const originAliases: Record<string, string> = {};
  const sessions = new ProxySessions({
    role,
    idleMs,
    originAliases,
    onSession: (judged) => {
      out(sessionLine(judged, strict));
      if (maxSessions !== undefined && sessions.judged.length >= maxSessions) done();
    },
  });
  let proxy: ReverseProxy;
  try {
    proxy = new ReverseProxy({
      identity, deviceCa, host, port, exposed, upstream, upstreamIdentity, upstreamCa, upstreamHttp2: args.switches.has('http2'),
      onExchange: (record) => sessions.add(record),
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let url: string;
  try {
    ({ url } = await proxy.listen());
  } catch (e) {
    sessions.close();
    out(`error: cannot listen on ${host}:${port}: ${(e as Error).message}`);
    return 2;
  }
  // The device names the proxy as its server; the server names itself: the same endpoint, not a deviation.
  // Listening on every address, the proxy does not know the name the device reaches it by: any origin stands for it.
  if (host === '0.0.0.0' || host === '::') originAliases['*'] = upstreamUrl.origin;
  else originAliases[new URL(url).origin] = upstreamUrl.origin;
  if (['127.0.0.1', '::1'].includes(host)) originAliases[`https://localhost:${new URL(url).port}`] = upstreamUrl.origin;
  if (exposed) out(`warning: listening on ${host}, reachable from other hosts; use it only on a network you trust`);
  out(`judging proxy listening on ${url}, forwarding to ${upstreamUrl.origin}`);
  const reachAt = host === '0.0.0.0' || host === '::' ? `https://<this machine's name or address>:${new URL(url).port}` : url;
  out(`point the device at ${reachAt}${MANAGEMENT_PATH} (or whatever path your server uses: it is kept); Ctrl-C writes the reports`);
  if (!upstreamIdentity) out('note: no client certificate for the upstream (--pki or --client-cert): a server that requires mutual TLS will refuse the proxy');
  if (!upstreamCa && upstreamUrl.protocol === 'https:') out('note: the upstream certificate is verified against the system trust store (pass --ca FILE for a private CA)');
  const onSignal = () => done();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await stopped;
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  await proxy.close();
  if (sessions.pending) out(`stopping: judging ${sessions.pending} unfinished session(s) as far as they went`);
  sessions.finishAll();
  sessions.close();
  return writeCaptureReports(sessions.judged, {
    mode: 'proxy', reportsDir, startedAt, strict, role, expectations, where: 'traffic through the proxy',
    iut: { upstream: upstreamUrl.origin, listen: url, role, sessions: sessions.judged.length, devices: [...new Set(sessions.judged.map((j) => j.session.deviceId ?? '(unknown)'))] },
  }, out);
}
