/**
 * `--expect FILE` (CLI contract, "Expected failures"): requirements a vendor knowingly fails. A listed failure does
 * not fail the run; an unlisted one does; a listed requirement that no longer fails is stale and fails the run too.
 */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { isRequirementId } from '../checks/registry';
import type { ConformanceReport } from '../report/report';
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
const validate = new Ajv({ allErrors: true }).compile<ExpectationsFile>(schema);

export function readExpectations(path: string): ExpectationsFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`--expect ${path}: ${e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message}`);
  }
  if (!validate(json)) {
    const e = validate.errors![0];
    throw new UsageError(`--expect ${path}: ${e.instancePath || '/'} ${e.message}`);
  }
  const unknown = json.expectedFailures.filter((x) => !isRequirementId(x.id));
  if (unknown.length) throw new UsageError(`--expect ${path}: ${unknown.map((x) => x.id).join(', ')} is not a requirement id of the catalogue`);
  return json;
}

export interface ExpectationOutcome {
  unexpected: string[];
  stale: { id: string; reason: string }[];
  stillFailing: { id: string; reason: string }[];
}

export function applyExpectations(report: ConformanceReport, file: string, expected: ExpectationsFile): ExpectationOutcome {
  const failing = new Set(report.requirements.filter((r) => r.verdict === 'fail').map((r) => r.id));
  const listed = new Map(expected.expectedFailures.map((x) => [x.id, x.reason]));
  const outcome: ExpectationOutcome = {
    unexpected: [...failing].filter((id) => !listed.has(id)),
    stale: expected.expectedFailures.filter((x) => !failing.has(x.id)),
    stillFailing: expected.expectedFailures.filter((x) => failing.has(x.id)),
  };
  report.expectations = {
    file,
    expectedFailures: [
      ...outcome.stillFailing.map((x) => ({ ...x, outcome: 'still-failing' as const })),
      ...outcome.stale.map((x) => ({ ...x, outcome: 'stale' as const })),
    ],
    unexpectedFailures: outcome.unexpected,
  };
  return outcome;
}

/** The lines a CI log needs: which entries to add, which to remove. */
export function describeOutcome(o: ExpectationOutcome): string[] {
  const lines: string[] = [];
  for (const id of o.unexpected) lines.push(`unexpected failure ${id}: fix it, or add {"id": "${id}", "reason": "…"} to the expectations file`);
  for (const x of o.stale) lines.push(`stale expectation ${x.id} no longer fails: remove {"id": "${x.id}", "reason": ${JSON.stringify(x.reason)}} from the expectations file`);
  return lines;
}
