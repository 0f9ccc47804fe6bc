/**
 * The console of a conformance run: one line per test as it ends (suite and title, verdict, sessions, time), and
 * nothing of the test runner's own output: no expect diffs, no stack traces, no source frames. The failures with
 * their requirements and evidence follow once the run is judged (console-summary.ts); whoever wants the runner's
 * detail finds it in the Playwright HTML report.
 */
import type { FullConfig, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import type { FindingsAttachment } from './conformance-reporter';
import { grade } from './verdicts';

const FINDINGS = 'conformance-findings';
const TRANSCRIPT = 'conformance-transcript';

function json<T>(result: TestResult, name: string): T | undefined {
  const a = result.attachments.find((x) => x.name === name && x.body);
  try {
    return a ? (JSON.parse(a.body!.toString('utf8')) as T) : undefined;
  } catch {
    return undefined;
  }
}

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** The test's verdict in the words of the conformance log. */
export function testVerdict(result: TestResult, strict: boolean): { mark: string; word: string; detail?: string } {
  const found = json<FindingsAttachment>(result, FINDINGS);
  if (!found) {
    if (result.status === 'skipped') return { mark: '-', word: 'skipped', detail: result.annotations.find((a) => a.type === 'skip')?.description };
    const why = result.status === 'timedOut' ? 'timed out' : result.error?.message?.split('\n')[0];
    return { mark: '!', word: 'could not judge', detail: why };
  }
  const graded = found.findings.map((f) => ({ f, g: grade(f, strict) }));
  // A consequence is listed under its root in the failures, not named as a failure of the test.
  const ids = (v: string) => [...new Set(graded.filter((x) => x.g === v && !x.f.consequenceOf).map((x) => x.f.id))];
  if (ids('fail').length) return { mark: '✗', word: 'fail', detail: ids('fail').join(', ') };
  if (result.status === 'skipped') {
    const reason = found.findings.find((f) => f.verdict === 'inconclusive' || f.verdict === 'not-applicable')?.evidence;
    return { mark: '-', word: 'skipped', detail: reason };
  }
  if (ids('warn').length) return { mark: '!', word: 'warn', detail: ids('warn').join(', ') };
  if (!ids('pass').length) return { mark: '?', word: 'inconclusive' };
  return { mark: '✓', word: 'pass' };
}

export default class ConsoleReporter implements Reporter {
  private strict = false;
  private total = 0;
  private done = 0;

  onBegin(_config: FullConfig, suite: Suite): void {
    this.total = suite.allTests().length;
    this.strict = process.env.MDM_STRICT === '1';
    process.stdout.write(`running ${this.total} test${this.total === 1 ? '' : 's'}\n`);
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    this.done++;
    const suite = test.parent.title;
    const { mark, word, detail } = testVerdict(result, this.strict);
    const sessions = json<{ sessions?: unknown[] }>(result, TRANSCRIPT)?.sessions?.length ?? 0;
    const facts = [`${word}${detail ? ` (${detail.slice(0, 160)})` : ''}`, `${sessions} session${sessions === 1 ? '' : 's'}`, ms(result.duration)];
    process.stdout.write(`  ${mark} [${this.done}/${this.total}] ${suite} › ${test.title} — ${facts.join(', ')}\n`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
