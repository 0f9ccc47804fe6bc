/**
 * `mdm-conformance grade INPUT...`: judges captured MS-MDM traffic offline with the passive checks and writes the
 * reports a suite run writes (mode `grade`). Inputs are HAR files, folders of .xml messages, text files of several
 * messages, the harness's own conformance-transcript JSON or a run's Allure results folder, in any mix.
 */
import { resolve } from 'node:path';
import { GradeInputError, groupDevices, groupSessions, readInput, type CaptureLog, type CapturedMessage } from '../grade';
import { GRADE_ROLES, type GradeRole } from '../grade/judge';
import { judgeCaptures, sessionLine, writeCaptureReports } from '../grade/reports';
import { one, UsageError, type ParsedArgs } from './args';
import { parseCommand, type CommandSpec, type FlagSpec } from './command';
import { readExpectations, type ExpectationsFile } from './expectations';

/** How observed traffic is judged and reported, by `grade` and by `proxy`. */
export const JUDGING_FLAGS: readonly FlagSpec[] = [
  { name: 'role', value: 'device|server|both', default: 'both', help: "whose messages to judge: the device's (client rules), the server's (server rules), or both" },
  { name: 'reports', value: 'DIR', default: './reports', help: 'where the reports are written' },
  { name: 'strict', help: 'SHOULD-level deviations (warnings) fail the run' },
  { name: 'expect', value: 'FILE', help: 'expected failures: listed requirements that fail do not fail the run, stale entries do' },
];

export const GRADE: CommandSpec = {
  name: 'grade',
  summary: 'Judges captured MS-MDM traffic with the passive checks of both suites: the server checks on what the server sent, the client '
    + 'checks on what the device sent. Messages are grouped into DM sessions per device (header Source) and SessionID. A capture that '
    + 'starts mid-session leaves the rules about the start of a session inconclusive; HTTP-level rules are judged only where the capture '
    + 'keeps headers. Writes conformance-report.json (mode grade), conformance-tests.json, junit.xml and index.html. '
    + 'Exit 0 conforms, 1 a requirement failed, 2 bad input or nothing could be judged.',
  positionals: {
    name: 'INPUT...',
    help: 'a .har file, a folder of .xml messages (one per file, natural name order), a text file of SyncML documents one after another, a conformance-transcript .json, or a reports/allure-results folder',
    min: 1,
  },
  flags: [
    ...JUDGING_FLAGS,
  ],
  examples: [
    'mdm-conformance grade capture.har',
    'mdm-conformance grade --role server ./messages/',
    'mdm-conformance grade reports/allure-results --reports graded',
  ],
};

/** The JUDGING_FLAGS of a command line. */
export function judgingOf(args: ParsedArgs): { role: GradeRole; reportsDir: string; strict: boolean; expectations: { file: string; content: ExpectationsFile } | undefined } {
  const role = one(args, 'role') ?? 'both';
  if (!GRADE_ROLES.includes(role as GradeRole)) throw new UsageError(`--role takes device, server or both, got "${role}"`);
  const expectFile = one(args, 'expect');
  return {
    role: role as GradeRole,
    reportsDir: resolve(one(args, 'reports') ?? 'reports'),
    strict: args.switches.has('strict'),
    expectations: expectFile ? { file: expectFile, content: readExpectations(expectFile) } : undefined,
  };
}

export function gradeCommand(argv: string[], out: (line: string) => void): number {
  const args = parseCommand(argv, GRADE);
  const { role, reportsDir, strict, expectations } = judgingOf(args);
  const startedAt = new Date().toISOString();
  const log: CaptureLog = { skipped: [] };
  const messages: CapturedMessage[] = [];
  for (const input of args.positionals) {
    try {
      const read = readInput(input, log);
      out(`read ${input}: ${read.length} message(s)`);
      messages.push(...read);
    } catch (e) {
      if (e instanceof GradeInputError) throw new UsageError(e.message);
      throw e;
    }
  }
  for (const s of log.skipped.slice(0, 5)) out(`note: ${s.source.file} (${s.source.position}) passed over: ${s.why}`);
  if (log.skipped.length > 5) out(`note: ${log.skipped.length - 5} more entries passed over`);
  const sessions = groupSessions(messages);
  const devices = groupDevices(sessions);
  out(`${sessions.length} DM session(s) of ${devices.length} device(s); judging ${role === 'both' ? "both sides' messages" : `the ${role}'s messages`}`);
  const judged = judgeCaptures(sessions, role);
  for (const j of judged) out(sessionLine(j, strict));
  return writeCaptureReports(judged, {
    mode: 'grade', reportsDir, startedAt, strict, role, expectations, where: 'captured traffic',
    iut: { inputs: args.positionals.map((p) => resolve(p)), role, sessions: sessions.length, devices: devices.map((d) => d.deviceId ?? '(unknown)') },
  }, out);
}
