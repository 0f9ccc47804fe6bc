/**
 * `npm run bench`: every benchmark prints its figure beside a baseline measured in the same run, as a ratio, so
 * results from shared, noisy machines can still be compared. `--seconds N` sets the time per measurement;
 * `--no-suite` skips the self-suite timing (it runs the whole self project), `--no-start` the command start times.
 */
import { benchCodec } from './codec';
import { benchFleet } from './fleet';
import { benchProxy } from './proxy';
import { benchGrade } from './grade';
import { benchSelfSuite } from './self-suite';
import { benchSessions } from './sessions';
import { benchStart } from './start';

const secondsArg = process.argv.indexOf('--seconds');
const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 1;

async function main(): Promise<void> {
  for (const line of benchCodec(seconds)) console.log(line);
  for (const line of benchGrade(seconds)) console.log(line);
  for (const line of await benchSessions(seconds)) console.log(line);
  for (const line of await benchProxy(seconds)) console.log(line);
  for (const line of await benchFleet(Math.round(500 * seconds))) console.log(line);
  if (!process.argv.includes('--no-start')) for (const line of benchStart()) console.log(line);
  if (!process.argv.includes('--no-suite')) for (const line of benchSelfSuite()) console.log(line);
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
