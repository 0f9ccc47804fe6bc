/**
 * The conformance report (CLI contract, "The conformance report"), its JSON Schema and the exit code it implies.
 */
import type { ValidateFunction } from 'ajv';
import { newAjv } from '../json-schema';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../iut/run-config';
import schema from './conformance-report.schema.json';
import { redact, type Redactor } from './redact';
import { judgeability } from '../scenarios/catalog';
import { harnessVersion } from '../paths';
import {
  aggregate, coverageOf, rowsOf, summarize, type Coverage, type ReportMode, type RequirementVerdict, type RunContext, type Summary,
  type TestFindings,
} from './verdicts';

export const REPORT_FILE = 'conformance-report.json';

export interface ConformanceReport {
  schemaVersion: 2;
  mode: ReportMode;
  harness: { name: 'mdm-conformance'; version: string };
  iut: Record<string, unknown>;
  /** The run's seed: the same implementation and seed give the same verdicts. */
  seed: number;
  startedAt: string;
  durationMs: number;
  strict: boolean;
  /** Counts over every row of the mode; they add up to `requirements.length`. */
  summary: Summary;
  /** Judged, not judged and out of scope, over all rows and by level. */
  coverage: Coverage;
  tests: { executed: number; skipped: number; harnessErrors: string[] };
  /** Every catalogue row of the mode, judged or not (with the reason). */
  requirements: RequirementVerdict[];
  /**
   * Security advisories: weaknesses the probes found where the catalogue has no requirement. Present only when
   * there are any; they never fail a run.
   */
  advisories?: ReportAdvisory[];
  expectations?: ExpectationsOutcome;
}

/** `--expect FILE` applied to the run (CLI contract, "Expected failures"). */
export interface ExpectationsOutcome {
  file: string;
  /** Listed and failing: expected, does not fail the run. */
  met: { id: string; reason: string }[];
  /** Failing and not listed: fails the run. */
  unexpected: string[];
  /** Listed, judged in this run, and no longer failing: fails the run until removed. */
  stale: { id: string; reason: string }[];
  /** Listed, but this run did not judge the requirement (another suite, shard, no --control): neither met nor stale. */
  notJudged: { id: string; reason: string }[];
}

export interface ReportAdvisory {
  /** Stable label of the probe, e.g. `xml-external-entity`. */
  probe: string;
  evidence: string;
  /** Title of the test that reported it. */
  test?: string;
}

export interface RunFacts {
  executedTests: number;
  skippedTests?: number;
  harnessErrors: string[];
  /** Scenario ids that ran, to tell a suite that was not selected from a situation that did not arise. */
  ran?: ReadonlySet<string>;
  cutShort?: string;
}

/** How the run was narrowed, to name in the reasons of rows it did not judge. */
function selectionOf(config: RunConfig): string | undefined {
  const parts = [config.suites.length ? `--suite ${config.suites.join(' --suite ')}` : '', config.shard ? `shard ${config.shard}` : ''].filter(Boolean);
  return parts.length ? parts.join(', ') : undefined;
}

export function buildReport(config: RunConfig, results: TestFindings[], run: RunFacts, advisories: readonly ReportAdvisory[] = []): ConformanceReport {
  const ctx: RunContext = { judgeability: judgeability(config.mode), ran: run.ran, cutShort: run.cutShort, selection: selectionOf(config), mode: config.mode };
  const requirements = aggregate(rowsOf(config.mode), results, config.strict, ctx);
  return assembleReport({
    mode: config.mode, iut: iutOf(config), seed: config.seed, startedAt: config.startedAt, strict: config.strict,
    tests: { executed: run.executedTests, skipped: run.skippedTests ?? 0, harnessErrors: run.harnessErrors }, requirements, advisories,
  });
}

/** A report from judged rows, for every producer (suites, load, grade, proxy, merge). */
export function assembleReport(parts: {
  mode: ReportMode; iut: Record<string, unknown>; seed: number; startedAt: string; strict: boolean;
  tests: ConformanceReport['tests']; requirements: RequirementVerdict[]; advisories?: readonly ReportAdvisory[];
}): ConformanceReport {
  const report: ConformanceReport = {
    schemaVersion: 2,
    mode: parts.mode,
    harness: { name: 'mdm-conformance', version: harnessVersion() },
    iut: parts.iut,
    seed: parts.seed,
    startedAt: parts.startedAt,
    durationMs: Math.max(0, Date.now() - Date.parse(parts.startedAt)),
    strict: parts.strict,
    summary: summarize(parts.requirements),
    coverage: coverageOf(parts.requirements),
    tests: parts.tests,
    requirements: parts.requirements,
  };
  if (parts.advisories?.length) report.advisories = [...parts.advisories];
  return report;
}

/**
 * What a run comes to, before expectations: `nothing-judged` when no row was exercised (every row inconclusive or
 * not applicable): such a run conforms to nothing and is exit 2, never a green "Conforms".
 */
export function outcomeOf(report: Pick<ConformanceReport, 'summary'>): 'fails' | 'conforms' | 'nothing-judged' {
  const s = report.summary;
  if (s.failed) return 'fails';
  if (s.passed + s.warned === 0) return 'nothing-judged';
  return 'conforms';
}

function iutOf(config: RunConfig): Record<string, unknown> {
  if (config.server) {
    const s = config.server;
    const iut: Record<string, unknown> = { url: s.embedded ? 'embedded reference server' : s.url, deviceId: s.deviceId, embedded: s.embedded, control: !!s.control, auth: s.credentials?.scheme ?? 'mutual TLS only', features: config.features, profile: config.profilePath };
    // Which enrollment issued the identity the device presented (never its secrets).
    if (s.enrollment) {
      const e = s.enrollment;
      iut.enrollment = { discoveryUrl: s.embedded ? 'embedded reference server' : e.discoveryUrl, authPolicy: e.authPolicy, deviceId: e.deviceId, certificate: e.certificate };
    }
    return iut;
  }
  const c = config.client!;
  return { trigger: c.embedded ? 'embedded reference device' : c.wait ? 'waits for the client' : c.trigger, embedded: c.embedded, auth: c.credentials?.scheme ?? 'mutual TLS only', features: config.features, profile: config.profilePath };
}

/** Compiled on first use: compiling costs a tenth of a second that a command which never validates should not pay. */
let validator: ValidateFunction | undefined;

/** The report's validator, compiled once. Called ahead of time by a command that has time to spare (run-suites). */
export function reportValidator(): ValidateFunction {
  validator ??= newAjv().compile(schema);
  return validator;
}

/** Schema errors of a report, as readable lines; empty when valid. */
export function reportSchemaErrors(report: unknown): string[] {
  const validator = reportValidator();
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
