/** Writes docs/coverage.md from the checks, scenarios and faults (see harness/scenarios/coverage.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coverageMarkdown } from '../harness/scenarios/coverage';

const file = join(__dirname, '..', 'docs', 'coverage.md');
writeFileSync(file, coverageMarkdown());
console.log(`wrote ${file}`);
