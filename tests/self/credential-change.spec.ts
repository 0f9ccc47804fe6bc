/**
 * The credential-change scenario of both modes (MDM-AUTH-030) in the situations the fault matrices do not show: what
 * it says when it cannot judge, and that it leaves the peer's credentials as it found them.
 */
import { expect, test } from '@playwright/test';
import { CLIENT_CREDENTIAL_SECRET, accountCredentials } from '../../harness/device/dm-account';
import { EMBEDDED_CLIENT_CREDENTIALS, EMBEDDED_CLIENT_FEATURES, startEmbeddedClient } from '../../harness/iut/embedded-client';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki, type TestPki } from '../../harness/pki';
import { credentialChangeNextSession as clientScenario } from '../../harness/scenarios/client/auth-credential-change';
import { runScenario } from '../../harness/scenarios/scenario';
import { credentialChangeNextSession as serverScenario } from '../../harness/scenarios/server/auth-credential-change';
import { SERVER_VARIANTS } from '../../harness/server/faults';

const ID = 'MDM-AUTH-030';
const verdictsOf = (findings: { id: string; verdict: string; evidence: string }[]) => findings.filter((f) => f.id === ID);

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

test.describe('client mode', () => {
  test('passes a client that keeps its old secret for the session, and leaves it with the secret it came with', async () => {
    const client = await startEmbeddedClient({ pki });
    try {
      const r = await runScenario(clientScenario, client.target, EMBEDDED_CLIENT_FEATURES);
      expect(verdictsOf(r.findings).map((f) => f.verdict)).toEqual(['pass', 'pass']);
      expect(r.findings.filter((f) => f.verdict === 'fail')).toEqual([]);
      expect(accountCredentials(client.device.tree).password).toBe(EMBEDDED_CLIENT_CREDENTIALS.password);
      // A later session with the run's credentials still goes through.
      const again = await runScenario(clientScenario, client.target, EMBEDDED_CLIENT_FEATURES);
      expect(verdictsOf(again.findings).map((f) => f.verdict)).toEqual(['pass', 'pass']);
    } finally {
      await client.stop();
    }
  });

  test('is not applicable without nodes.clientCredentialSecret, and inconclusive without credentials or when the client refuses the Replace', async () => {
    const client = await startEmbeddedClient({ pki });
    try {
      const unmapped = await runScenario(clientScenario, { ...client.target, nodes: { ...client.target.nodes, clientCredentialSecret: null } }, EMBEDDED_CLIENT_FEATURES);
      expect(verdictsOf(unmapped.findings)).toEqual([expect.objectContaining({ verdict: 'not-applicable', evidence: expect.stringContaining('nodes.clientCredentialSecret') })]);
      const noCreds = await runScenario(clientScenario, { ...client.target, credentials: undefined }, EMBEDDED_CLIENT_FEATURES);
      expect(verdictsOf(noCreds.findings)).toEqual([expect.objectContaining({ verdict: 'inconclusive', evidence: expect.stringContaining('--client-credentials') })]);
      const missing = './SyncML/DMAcc/NoSuchAccount/AppAuth/CLCRED/AAuthSecret';
      const refused = await runScenario(clientScenario, { ...client.target, nodes: { ...client.target.nodes, clientCredentialSecret: missing } }, EMBEDDED_CLIENT_FEATURES);
      expect(verdictsOf(refused.findings)).toEqual([expect.objectContaining({ verdict: 'inconclusive', evidence: expect.stringMatching(/answered it 404.*did not change/) })]);
    } finally {
      await client.stop();
    }
  });
});

test.describe('server mode', () => {
  test('a server that authenticates each message passes; one that answers 212 leaves the session part inconclusive; both get the old secret back', async () => {
    for (const [faults, expected] of [[SERVER_VARIANTS.filter((v) => v.name === 'authenticates-each-message'), ['pass', 'pass']], [[], ['inconclusive']]] as const) {
      const server = await startEmbeddedServer({ pki, faults });
      try {
        const r = await runScenario(serverScenario, server.target, EMBEDDED_FEATURES);
        expect(verdictsOf(r.findings).map((f) => f.verdict)).toEqual(expected);
        expect(r.findings.filter((f) => f.verdict === 'fail')).toEqual([]);
        if (expected[0] === 'inconclusive') expect(verdictsOf(r.findings)[0].evidence).toMatch(/212.*no device message after the change carried credentials.*next session.*was accepted/);
        // The server verifies the run's own secret again: another run of the scenario starts from it.
        const again = await runScenario(serverScenario, server.target, EMBEDDED_FEATURES);
        expect(verdictsOf(again.findings).map((f) => f.verdict)).toEqual(expected);
      } finally {
        await server.stop();
      }
    }
  });

  test('is inconclusive without --control or without the device\'s credentials', async () => {
    const server = await startEmbeddedServer({ pki });
    try {
      const noControl = await runScenario(serverScenario, { ...server.target, queue: undefined }, EMBEDDED_FEATURES);
      expect(verdictsOf(noControl.findings)).toEqual([expect.objectContaining({ verdict: 'inconclusive', evidence: expect.stringContaining('--control') })]);
      const noCreds = await runScenario(serverScenario, { ...server.target, credentials: undefined }, EMBEDDED_FEATURES);
      expect(verdictsOf(noCreds.findings)).toEqual([expect.objectContaining({ verdict: 'inconclusive', evidence: expect.stringContaining('--client-credentials') })]);
      expect(server.server.pending(server.target.deviceId)).toBe(0);
      expect(CLIENT_CREDENTIAL_SECRET).toMatch(/^\.\/SyncML\/DMAcc\/[^/]+\/AppAuth\/CLCRED\/AAuthSecret$/);
    } finally {
      await server.stop();
    }
  });
});
