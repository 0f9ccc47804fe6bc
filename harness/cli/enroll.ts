/**
 * `mdm-conformance enroll`: enrolls like Windows (MS-MDE2 discovery, MS-XCEP policy, MS-WSTEP enrollment) and
 * writes the issued identity as a folder `--pki DIR` of test-server and device accept. One line per step; on
 * failure one line `error: enrollment failed at <step>: <why>` and exit 2, and no folder.
 */
import { enroll, EnrollmentError, isAuthPolicy, writeEnrollment, type AuthPolicy } from '../enrollment';
import { one, UsageError, type ParsedArgs } from './args';
import { parseCommand, refuseIgnored, type CommandSpec } from './command';
import { ENROLL_FLAGS } from './enroll-flags';
import { readPem } from './identity';

export const ENROLL: CommandSpec = {
  name: 'enroll',
  summary: 'Enrolls like Windows (MS-MDE2 discovery, MS-XCEP policy, MS-WSTEP enrollment) and writes the issued identity as a folder '
    + 'that --pki of test-server and device take. One line per step; a failure says at which step and why. Exit 0 enrolled, 2 failed or bad usage.',
  flags: [
    ...ENROLL_FLAGS,
    { name: 'device-id', value: 'ID', default: 'a fresh GUID', help: 'the DeviceID the enrollment request carries' },
    { name: 'seed', value: 'N', default: '1', help: 'message ids and every random choice of the requests follow it' },
    { name: 'timeout', value: 'MS', default: '10000', help: 'per request' },
    { name: 'out', value: 'DIR', help: 'where the enrolled identity is written (required); written whole or not at all' },
  ],
};

/** The options of an enrollment as given on a command line, checked; shared by `enroll` and `test-server --enroll`. */
export interface EnrollArgs {
  discoveryUrl?: string;
  email?: string;
  authPolicy: AuthPolicy;
  user?: string;
  password?: string;
  token?: string;
  certFile?: string;
  keyFile?: string;
  caFile?: string;
}

/**
 * Reads ENROLL_FLAGS (the CA flag under the name the command gives it): a known policy, --cert with --key, and no
 * credential the chosen policy would not send.
 */
export function enrollArgsOf(args: ParsedArgs, caFlag = 'ca'): EnrollArgs {
  const policyName = one(args, 'auth-policy') ?? 'OnPremise';
  if (!isAuthPolicy(policyName)) throw new UsageError('--auth-policy takes OnPremise, Federated or Certificate');
  const authPolicy: AuthPolicy = policyName;
  const certFile = one(args, 'cert');
  const keyFile = one(args, 'key');
  if (!!certFile !== !!keyFile) throw new UsageError('--cert and --key go together');
  refuseIgnored(args, [
    { flag: 'user', when: authPolicy !== 'OnPremise', why: `the ${authPolicy} policy sends no user name` },
    { flag: 'password', when: authPolicy !== 'OnPremise', why: `the ${authPolicy} policy sends no password` },
    { flag: 'token', when: authPolicy !== 'Federated', why: `only the Federated policy sends a token` },
  ]);
  return {
    discoveryUrl: one(args, 'discovery'), email: one(args, 'email'), authPolicy, user: one(args, 'user'), password: one(args, 'password'),
    token: one(args, 'token'), certFile, keyFile, caFile: one(args, caFlag),
  };
}

/** What the chosen policy needs from the user: a usage error naming the missing flags. */
export function requirePolicyCredentials(a: EnrollArgs): void {
  if (a.authPolicy === 'OnPremise' && (a.user === undefined || a.password === undefined)) throw new UsageError('--auth-policy OnPremise needs --user U --password P');
  if (a.authPolicy === 'Federated' && a.token === undefined) throw new UsageError('--auth-policy Federated needs --token T');
  if (a.authPolicy === 'Certificate' && !a.certFile) throw new UsageError('--auth-policy Certificate needs --cert FILE --key FILE');
}

export async function enrollCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseCommand(argv, ENROLL);
  const a = enrollArgsOf(args);
  const { discoveryUrl, email, authPolicy, user, password, token, certFile, keyFile, caFile } = a;
  if (!discoveryUrl) throw new UsageError('enroll needs --discovery URL (e.g. https://enterpriseenrollment.example.com/EnrollmentServer/Discovery.svc)');
  if (!email) throw new UsageError('enroll needs --email ADDRESS (the user enrolling)');
  const outDir = one(args, 'out');
  if (!outDir) throw new UsageError('enroll needs --out DIR (where the enrolled identity is written)');
  requirePolicyCredentials(a);
  const seedText = one(args, 'seed') ?? '1';
  if (!/^\d+$/.test(seedText)) throw new UsageError('--seed takes a non-negative integer');
  const timeoutText = one(args, 'timeout') ?? '10000';
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) === 0) throw new UsageError('--timeout takes milliseconds, e.g. 10000');

  try {
    const result = await enroll({
      discoveryUrl, email, authPolicy, user, password, token,
      clientIdentity: certFile ? { certPem: readPem(certFile, '--cert'), keyPem: readPem(keyFile!, '--key') } : undefined,
      serverCa: caFile ? readPem(caFile, '--ca') : undefined,
      deviceId: one(args, 'device-id'),
      seed: Number(seedText),
      timeoutMs: Number(timeoutText),
      onStep: (step, line) => out(`${step}: ${line}`),
    });
    try {
      writeEnrollment(outDir, result);
    } catch (e) {
      out(`error: cannot write the enrollment to ${outDir}: ${(e as Error).message}`);
      return 2;
    }
    for (const a of result.advisories) out(`advisory ${a.probe} (${a.section}): ${a.evidence}`);
    out(`enrolled device ${result.deviceId} with ${result.dmUrl}; identity in ${outDir} (use --pki ${outDir})`);
    return 0;
  } catch (e) {
    if (e instanceof EnrollmentError) {
      out(`error: enrollment failed at ${e.step}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
