import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { rowsOf } from '../../harness/report/verdicts';
import { judgeability } from '../../harness/scenarios/catalog';
import { coverageMarkdown } from '../../harness/scenarios/coverage';

test.describe('coverage of the catalogue', () => {
  test('docs/coverage.md is what `npm run coverage-doc` makes of the checks, scenarios and faults', () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'docs', 'coverage.md'), 'utf8');
    expect(committed, 'docs/coverage.md is out of date: run npm run coverage-doc').toBe(coverageMarkdown());
  });

  for (const mode of ['server', 'client'] as const) {
    test(`every id a ${mode}-mode check or scenario reports is a row of that mode, so the table lists it`, () => {
      const rows = new Set(rowsOf(mode).map((r) => r.id));
      expect([...judgeability(mode).keys()].filter((id) => !rows.has(id))).toEqual([]);
    });
  }
});
