/**
 * Server scenarios of the robustness phase (catalogue S10): malformed requests get a protocol error or an HTTP 4xx,
 * never a 5xx or a reset, and a normal session still succeeds afterwards; Windows' serialisation habits are taken.
 */
import type { Finding } from '../../checks/finding';
import { serializeSyncML, type SyncML } from '../../syncml';
import type { Exchange } from '../../transport';
import type { Scenario } from '../scenario';
import { deviceFor, reachable, session, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;

/** Just over the 16 MiB bound common to HTTP servers (the reference server's too), unless the target says otherwise. */
const OVERSIZED_BYTES = 17 * 1024 * 1024;

function malformed(pkg1: SyncML, oversized: number): { what: string; body: string | Buffer }[] {
  const xml = serializeSyncML(pkg1);
  return [
    { what: 'a body that is not XML', body: 'this is not a SyncML message' },
    { what: 'truncated XML', body: xml.slice(0, Math.floor(xml.length / 2)) },
    { what: 'the wrong namespace', body: xml.replace('SYNCML:SYNCML1.2', 'urn:not-syncml') },
    { what: 'no SyncHdr', body: xml.replace(/<SyncHdr>.*<\/SyncHdr>/, '') },
    { what: 'an unknown command element', body: xml.replace('<Final/>', '<Frobnicate><CmdID>9</CmdID></Frobnicate><Final/>') },
    { what: 'a DOCTYPE with an external entity', body: `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]>${xml.replace('<Data>1201</Data>', '<Data>&x;</Data>')}` },
    { what: 'nested entity expansion', body: `<!DOCTYPE SyncML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${xml.replace('<Data>1201</Data>', '<Data>&b;</Data>')}` },
    { what: `an oversized body (${oversized} bytes)`, body: Buffer.alloc(oversized, 0x61) },
  ];
}

/** A malformed or hostile request was survived: answered below 500 rather than crashed on or dropped. */
export function verdictOf(x: Exchange): { ok: boolean; how: string } {
  if (x.error && !x.response) return { ok: false, how: `${x.error.kind}: ${x.error.message}` };
  const status = x.response?.status ?? 0;
  return { ok: status > 0 && status < 500, how: `HTTP ${status}` };
}

export const malformedRequests: ServerScenario = {
  id: 'robustness/malformed-requests',
  phase: 'robustness',
  title: 'posts malformed, hostile and oversized bodies, then runs a normal session',
  requirements: ['MDM-ROB-006'],
  async run(t, log) {
    const findings: Finding[] = [];
    const device = deviceFor(t, log, { timeoutMs: Math.max(t.timeoutMs ?? 5_000, 10_000) });
    try {
      for (const m of malformed(device.package1(t.url), t.oversizedBodyBytes ?? OVERSIZED_BYTES)) {
        const x = await device.post(t.url, m.body);
        const { ok, how } = verdictOf(x);
        findings.push({
          id: 'MDM-ROB-006', verdict: ok ? 'pass' : 'fail', check: this.id,
          evidence: ok ? `${m.what}: answered ${how}` : `${m.what}: ${how}; a malformed request gets a protocol error or a 4xx, not a 5xx or a dropped connection`,
        });
      }
      log.transcripts.push(device.transcript.exchanges.map((x) => ({ ...x, request: { ...x.request, body: x.request.body.subarray(0, 4096) } })));
    } finally {
      await device.close();
    }
    const after = await session(t, log);
    if (reachable(log, after, this.id)) {
      findings.push({ id: 'MDM-ROB-006', verdict: 'pass', check: this.id, evidence: 'a normal session succeeded after the malformed requests' });
    }
    log.add(findings);
  },
};

export const windowsHabits: ServerScenario = {
  id: 'robustness/windows-serialisation-habits',
  phase: 'robustness',
  title: 'sends pretty-printed XML with an XML declaration, extra query parameters and msft namespace artefacts',
  requirements: ['MDM-TRN-010', 'MDM-XML-008', 'MDM-ROB-005'],
  async run(t, log) {
    const check = this.id;
    const cases: { id: string; what: string; query?: string; rewrite?: (xml: string) => string }[] = [
      { id: 'MDM-TRN-010', what: 'extra query parameters (mode, Platform and an unknown one)', query: 'mode=Machine&Platform=WoA&Harness=1' },
      { id: 'MDM-XML-008', what: 'xmlns:msft on SyncBody', rewrite: (x) => x.replace('<SyncBody>', '<SyncBody xmlns:msft="http://schemas.microsoft.com/MobileDevice/MDM">') },
      { id: 'MDM-ROB-005', what: 'an XML declaration and pretty-printing', rewrite: (x) => `<?xml version="1.0" encoding="UTF-8"?>\n${x.replace(/></g, '>\n  <')}` },
    ];
    for (const c of cases) {
      const run = await session(t, log, { query: c.query, rewrite: c.rewrite });
      const ok = run.end.reason === 'completed';
      log.add([{ id: c.id, verdict: ok ? 'pass' : 'fail', check, evidence: ok ? `${c.what}: the session completed` : `${c.what}: the session failed (${'detail' in run.end ? run.end.detail : run.end.reason})` }]);
    }
  },
};

export const ROBUSTNESS_SCENARIOS: readonly ServerScenario[] = [malformedRequests, windowsHabits];
