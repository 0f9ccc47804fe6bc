import { expect, test } from '@playwright/test';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import { runScenario } from '../../harness/scenarios/scenario';
import { mutatedRequests } from '../../harness/scenarios/server/fuzz';
import { SERVER_FAULTS } from '../../harness/server/faults';

test.describe('the fuzz suite against the reference server (MDM-ROB-006)', () => {
  const pki = createTestPki({ keyType: 'ec' });

  test('passes against the clean server', async () => {
    const server = await startEmbeddedServer({ pki });
    try {
      const { findings } = await runScenario(mutatedRequests, server.target, EMBEDDED_FEATURES);
      expect(findings.filter((f) => f.verdict === 'fail')).toEqual([]);
      expect(findings.find((f) => f.id === 'MDM-ROB-006')?.evidence).toMatch(/^seed \d+: /);
    } finally {
      await server.stop();
    }
  });

  test('reports a crash with the seed and a shrunk, minimal message when the server breaks on malformed input', async () => {
    const server = await startEmbeddedServer({ pki, faults: [faultByName(SERVER_FAULTS, 'crashes-on-malformed-input')] });
    try {
      const { findings, notes } = await runScenario(mutatedRequests, server.target, EMBEDDED_FEATURES);
      const failure = findings.find((f) => f.id === 'MDM-ROB-006' && f.verdict === 'fail');
      expect(failure?.evidence).toMatch(new RegExp(`seed \\d+, \\d+ cases, shrunk \\d+ times: mutations \\[\\{"kind":"[a-z0-9-]+","at":\\d+\\}\\] got HTTP 500`));
      expect(notes.join('\n')).toContain('minimal failing message');
    } finally {
      await server.stop();
    }
  });
});
