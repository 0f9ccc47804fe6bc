/**
 * The closing verdict of a judged run and its exit code, the same for the suites and for grading: nothing judged is
 * exit 2, never a green "Conforms"; with expectations, only unexpected or stale entries fail; otherwise a failed
 * requirement is exit 1. `qualifier` follows the verdict (grading says how far the capture shows).
 */
import { outcomeOf, type ConformanceReport } from './report';

/** What applying an expectations file came to (cli/expectations.ts): only the counts matter here. */
interface ExpectationCounts {
  met: readonly unknown[];
  unexpected: readonly unknown[];
  stale: readonly unknown[];
}

export function resultOf(report: Pick<ConformanceReport, 'summary' | 'advisories'>, expected?: ExpectationCounts, qualifier = ''): { code: 0 | 1 | 2; line: string } {
  const outcome = outcomeOf(report);
  if (outcome === 'nothing-judged') {
    return { code: 2, line: 'result: NOTHING COULD BE JUDGED: every requirement is inconclusive or not applicable (see the reasons in the report)' };
  }
  if (expected) {
    const code = expected.unexpected.length || expected.stale.length ? 1 : 0;
    return { code, line: `result: ${code ? 'DOES NOT CONFORM (unexpected or stale against the expectations)' : expected.met.length ? 'CONFORMS, except the expected failures' : 'CONFORMS'}` };
  }
  const code = outcome === 'fails' ? 1 : 0;
  const advisories = report.advisories?.length ?? 0;
  const withAdvisories = !code && advisories ? `, with ${advisories} security advisor${advisories === 1 ? 'y' : 'ies'}` : '';
  return { code, line: `result: ${code ? 'DOES NOT CONFORM' : 'CONFORMS'}${withAdvisories}${qualifier}` };
}
