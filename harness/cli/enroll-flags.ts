/**
 * The options of an enrollment: `enroll`'s own, and the same under `test-server --enroll`. Apart from the commands,
 * so that a command's help and parsing need not load the enrollment client.
 */
import { EMBEDDED_ENROLLMENT_ACCOUNT } from '../iut/embedded-settings';
import type { FlagSpec } from './command';

/** The options of an enrollment, shared by `enroll` and `test-server --enroll`. */
export const ENROLL_FLAGS: readonly FlagSpec[] = [
  { name: 'discovery', value: 'URL', help: 'the discovery endpoint, e.g. https://enterpriseenrollment.example.com/EnrollmentServer/Discovery.svc' },
  { name: 'email', value: 'ADDRESS', help: 'the user who enrolls' },
  { name: 'auth-policy', value: 'OnPremise|Federated|Certificate', default: 'OnPremise', help: 'how the enrollment authenticates' },
  { name: 'user', value: 'U', help: 'OnPremise user' },
  { name: 'password', value: 'P', help: 'OnPremise password (never written to disk)' },
  { name: 'token', value: 'T', help: 'Federated token' },
  { name: 'cert', value: 'FILE', help: 'Certificate policy: the client certificate to present' },
  { name: 'key', value: 'FILE', help: 'its private key' },
  { name: 'ca', value: 'FILE', help: 'CA of the discovery and enrollment servers\' TLS certificates' },
];

/** ENROLL_FLAGS under the names test-server gives them: `--ca` would read as the DM server's CA beside --server-ca. */
const RENAMED: Readonly<Record<string, string>> = { ca: 'enroll-ca' };
/** What differs in test-server's help: the embedded reference server stands in where enroll needs a value. */
const DEFAULTS: Readonly<Record<string, string>> = {
  discovery: "the embedded reference server's enrollment service",
  email: `${EMBEDDED_ENROLLMENT_ACCOUNT.user} (the embedded enrollment service's user)`,
};

export const TEST_SERVER_ENROLL_FLAGS: readonly FlagSpec[] = [
  {
    name: 'enroll',
    help: 'enroll the device first (MS-MDE2), then test with the DM URL and identity the enrollment gave; a second device is enrolled the same way where a '
      + 'scenario needs one. Without --discovery: the embedded reference server, which then accepts only the identities its enrollment service issued',
  },
  ...ENROLL_FLAGS.map((f): FlagSpec => {
    const name = RENAMED[f.name] ?? f.name;
    const help = f.name === 'ca' ? "CA of the discovery and enrollment servers' TLS certificates (enroll's --ca)" : f.help;
    const extra = DEFAULTS[f.name] ? { default: DEFAULTS[f.name] } : {};
    return { ...f, name, help: `${help} (with --enroll)`, ...extra };
  }),
];

/** The flags of an enrollment: without --enroll they would be ignored. */
export const ENROLL_ONLY_FLAGS: readonly string[] = TEST_SERVER_ENROLL_FLAGS.map((f) => f.name).filter((n) => n !== 'enroll');
