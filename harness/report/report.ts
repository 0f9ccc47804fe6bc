/**
 * The conformance report (CLI contract, "The conformance report"), its JSON Schema and the exit code it implies.
 */
import Ajv from 'ajv';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REQUIREMENTS } from '../checks/registry';
import type { RunConfig } from '../iut/run-config';
import schema from './conformance-report.schema.json';
import { redact, type Redactor } from './redact';
import { aggregate, summarize, type RequirementVerdict, type TestFindings } from './verdicts';

export const REPORT_FILE = 'conformance-report.json';

export interface ConformanceReport {
  schemaVersion: 1;
  mode: 'server' | 'client';
  harness: { name: 'mdm-conformance'; version: string };
  iut: Record<string, unknown>;
  startedAt: string;
  durationMs: number;
  strict: boolean;
  summary: { passed: number; failed: number; inconclusive: number; notApplicable: number; warnings: number };
  tests: { executed: number; harnessErrors: string[] };
  coverage: {
    catalogue: number;
    /** Catalogue rows binding this side (its role or `both`). */
    forThisSide: number;
    /** Rows this run judged (the requirements list). */
    judged: number;
    /** Rows binding this side that no test of this run judged. */
    notCovered: string[];
  };
  requirements: RequirementVerdict[];
  /**
   * Security advisories: weaknesses the probes found where the catalogue has no requirement. Present only when
   * there are any; they never fail a run.
   */
  advisories?: ReportAdvisory[];
  expectations?: {
    file: string;
    expectedFailures: { id: string; reason: string; outcome: 'still-failing' | 'stale' }[];
    unexpectedFailures: string[];
  };
}

export interface ReportAdvisory {
  /** Stable label of the probe, e.g. `xml-external-entity`. */
  probe: string;
  evidence: string;
  /** Title of the test that reported it. */
  test?: string;
}

function harnessVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
}

export function buildReport(
  config: RunConfig,
  results: TestFindings[],
  run: { executedTests: number; harnessErrors: string[]; runStatus?: string },
  advisories: readonly ReportAdvisory[] = [],
): ConformanceReport {
  const requirements = aggregate([], results, config.strict);
  const role = config.mode;
  const forThisSide = REQUIREMENTS.filter((r) => r.role === role || r.role === 'both');
  const judged = new Set(requirements.map((r) => r.id));
  const report: ConformanceReport = {
    schemaVersion: 1,
    mode: config.mode,
    harness: { name: 'mdm-conformance', version: harnessVersion() },
    iut: iutOf(config),
    startedAt: config.startedAt,
    durationMs: Date.now() - Date.parse(config.startedAt),
    strict: config.strict,
    summary: summarize(requirements),
    tests: { executed: run.executedTests, harnessErrors: run.harnessErrors },
    coverage: {
      catalogue: REQUIREMENTS.length,
      forThisSide: forThisSide.length,
      judged: judged.size,
      notCovered: forThisSide.filter((r) => !judged.has(r.id)).map((r) => r.id),
    },
    requirements,
  };
  if (advisories.length) report.advisories = [...advisories];
  return report;
}

function iutOf(config: RunConfig): Record<string, unknown> {
  if (config.server) {
    const s = config.server;
    return { url: s.embedded ? 'embedded reference server' : s.url, deviceId: s.deviceId, embedded: s.embedded, control: !!s.control, auth: s.credentials?.scheme ?? 'mutual TLS only', features: config.features, profile: config.profilePath };
  }
  const c = config.client!;
  return { trigger: c.embedded ? 'embedded reference device' : c.wait ? 'waits for the client' : c.trigger, embedded: c.embedded, auth: c.credentials?.scheme ?? 'mutual TLS only', features: config.features, profile: config.profilePath };
}

const validator = new Ajv({ allErrors: true }).compile(schema);

/** Schema errors of a report, as readable lines; empty when valid. */
export function reportSchemaErrors(report: unknown): string[] {
  return validator(report) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/** Evidence quotes what peers sent, so the report goes through the run's redaction like every other file. */
export function writeReport(dir: string, report: ConformanceReport, redactor: Redactor = redact): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, REPORT_FILE);
  writeFileSync(path, `${redactor.text(JSON.stringify(redactor.json(report), null, 2))}\n`);
  return path;
}

export function readReport(dir: string): ConformanceReport {
  return JSON.parse(readFileSync(join(dir, REPORT_FILE), 'utf8')) as ConformanceReport;
}
