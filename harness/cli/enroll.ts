/**
 * `mdm-conformance enroll`: enrolls like Windows (MS-MDE2 discovery, MS-XCEP policy, MS-WSTEP enrollment) and
 * writes the issued identity as a folder `--pki DIR` of test-server and device accept. One line per step; on
 * failure one line `error: enrollment failed at <step>: <why>` and exit 2, and no folder.
 */
import { enroll, EnrollmentError, isAuthPolicy, writeEnrollment, type AuthPolicy } from '../enrollment';
import { one, parseArgs, UsageError } from './args';
import { readPem } from './identity';

export async function enrollCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, {
    values: {
      discovery: false, email: false, 'auth-policy': false, user: false, password: false, token: false, cert: false, key: false,
      ca: false, 'device-id': false, seed: false, out: false, timeout: false,
    },
  });
  const discoveryUrl = one(args, 'discovery');
  if (!discoveryUrl) throw new UsageError('enroll needs --discovery URL (e.g. https://enterpriseenrollment.example.com/EnrollmentServer/Discovery.svc)');
  const email = one(args, 'email');
  if (!email) throw new UsageError('enroll needs --email ADDRESS (the user enrolling)');
  const outDir = one(args, 'out');
  if (!outDir) throw new UsageError('enroll needs --out DIR (where the enrolled identity is written)');
  const policyName = one(args, 'auth-policy') ?? 'OnPremise';
  if (!isAuthPolicy(policyName)) throw new UsageError('--auth-policy takes OnPremise, Federated or Certificate');
  const authPolicy: AuthPolicy = policyName;
  const user = one(args, 'user');
  const password = one(args, 'password');
  const token = one(args, 'token');
  const certFile = one(args, 'cert');
  const keyFile = one(args, 'key');
  if (!!certFile !== !!keyFile) throw new UsageError('--cert and --key go together');
  if (authPolicy === 'OnPremise' && (user === undefined || password === undefined)) throw new UsageError('--auth-policy OnPremise needs --user U --password P');
  if (authPolicy === 'Federated' && token === undefined) throw new UsageError('--auth-policy Federated needs --token T');
  if (authPolicy === 'Certificate' && !certFile) throw new UsageError('--auth-policy Certificate needs --cert FILE --key FILE');
  const seedText = one(args, 'seed') ?? '1';
  if (!/^\d+$/.test(seedText)) throw new UsageError('--seed takes a non-negative integer');
  const timeoutText = one(args, 'timeout') ?? '10000';
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) === 0) throw new UsageError('--timeout takes milliseconds, e.g. 10000');
  const caFile = one(args, 'ca');

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
