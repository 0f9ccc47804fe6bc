/** Durations on the command line: `30s`, `2m`, `500ms`, or a bare number of seconds. */
import { UsageError } from './args';

export function durationOf(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (!m || Number(m[1]) <= 0) throw new UsageError(`${flag} takes a time such as 30s, 2m or 500ms`);
  const unit = m[2] ?? 's';
  return Math.round(Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1_000 : unit === 'm' ? 60_000 : 3_600_000));
}
