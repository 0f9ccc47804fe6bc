/**
 * `--expect FILE` (CLI contract, "Expected failures"): requirements a vendor knowingly fails. A listed failure does
 * not fail the run; an unlisted one does; a listed requirement that no longer fails is stale and fails the run too.
 */
import type { ValidateFunction } from 'ajv';
import { newAjv } from '../json-schema';
import { readFileSync } from 'node:fs';
import { isRequirementId } from '../checks/registry';
import type { ConformanceReport, ExpectationsOutcome } from '../report/report';
import { UsageError } from './args';

export interface ExpectationsFile {
  expectedFailures: { id: string; reason: string }[];
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['expectedFailures'],
  properties: {
    $schema: { type: 'string' },
    expectedFailures: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'reason'],
        properties: { id: { type: 'string' }, reason: { type: 'string', minLength: 1 } },
      },
    },
  },
};
/** Compiled on first use, by a run given --expect. */
let validate: ValidateFunction<ExpectationsFile> | undefined;

export function readExpectations(path: string): ExpectationsFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`--expect ${path}: ${e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message}`);
  }
  validate ??= newAjv().compile<ExpectationsFile>(schema);
  if (!validate(json)) {
    const e = validate.errors![0];
    throw new UsageError(`--expect ${path}: ${e.instancePath || '/'} ${e.message}`);
  }
  const unknown = json.expectedFailures.filter((x) => !isRequirementId(x.id));
  if (unknown.length) throw new UsageError(`--expect ${path}: ${unknown.map((x) => x.id).join(', ')} is not a requirement id of the catalogue`);
  return json;
}

/**
 * A listed requirement that fails is met (expected); a failure not listed is unexpected; a listed requirement judged
 * in this run and not failing is stale; a listed requirement this run did not judge (another suite or shard, no
 * --control) is "not judged", never stale.
 */
export function applyExpectations(report: ConformanceReport, file: string, expected: ExpectationsFile): ExpectationsOutcome {
  const verdicts = new Map(report.requirements.map((r) => [r.id, r.verdict]));
  const listed = new Set(expected.expectedFailures.map((x) => x.id));
  const judged = (id: string) => ['pass', 'warn', 'fail'].includes(verdicts.get(id) ?? 'inconclusive');
  const outcome: ExpectationsOutcome = {
    file,
    met: expected.expectedFailures.filter((x) => verdicts.get(x.id) === 'fail'),
    unexpected: report.requirements.filter((r) => r.verdict === 'fail' && !listed.has(r.id)).map((r) => r.id),
    stale: expected.expectedFailures.filter((x) => judged(x.id) && verdicts.get(x.id) !== 'fail'),
    notJudged: expected.expectedFailures.filter((x) => !judged(x.id)),
  };
  report.expectations = outcome;
  return outcome;
}

/** The lines a CI log needs: which entries to add, which to remove, which this run could not check. */
export function describeOutcome(o: ExpectationsOutcome): string[] {
  const lines: string[] = [];
  for (const x of o.met) lines.push(`expected failure ${x.id} (listed in ${o.file}: ${x.reason})`);
  for (const id of o.unexpected) lines.push(`unexpected failure ${id}: fix it, or add {"id": "${id}", "reason": "…"} to the expectations file`);
  for (const x of o.stale) lines.push(`stale expectation ${x.id} no longer fails: remove {"id": "${x.id}", "reason": ${JSON.stringify(x.reason)}} from the expectations file`);
  for (const x of o.notJudged) lines.push(`expectation ${x.id} not judged in this run (neither met nor stale)`);
  return lines;
}
