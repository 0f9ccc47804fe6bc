/**
 * Offline grading speed: the codec alone on a 10 KB device message and a 10 KB server message (the baseline), then
 * captured sessions of such messages grouped (codec included) and judged by every passive check of both sides,
 * in messages per CPU-second (one core) and as a ratio to the codec alone on the same mix.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as GradeModule from '../harness/grade';
import type * as JudgeModule from '../harness/grade/judge';
import type * as SyncMLModule from '../harness/syncml';
import type { CapturedMessage } from '../harness/grade';
import ENGINE_OPTIONS from '../harness/cli/engine-options.json';
import { alert, get, item, message, replace, results, serializeSyncML, status, type Command } from '../harness/syncml';
import { fmt, measure as measureRate, type Rate } from './measure';

const ROOT = join(__dirname, '..');

/** Whether dist/ is as new as the sources (bin/build.js, the command's own answer). */
const { buildIsFresh } = require('../bin/build') as { buildIsFresh(): boolean };

/**
 * What is measured: the compiled harness (dist/, built by `npm ci`), which is what `npx mdm-conformance` runs; the
 * TypeScript sources through tsx when the build is missing or older than them (tsx keeps function names with
 * wrappers that cost some 10 to 15 % here).
 */
const HARNESS = buildIsFresh() ? { dir: join(ROOT, 'dist', 'harness'), compiled: true } : { dir: join(ROOT, 'harness'), compiled: false };
const { groupSessions } = require(join(HARNESS.dir, 'grade')) as typeof GradeModule;
const { judgeCaptured } = require(join(HARNESS.dir, 'grade', 'judge')) as typeof JudgeModule;
const { parseSyncML } = require(join(HARNESS.dir, 'syncml')) as typeof SyncMLModule;

/**
 * Operations per second of this process's CPU time rather than wall time: the target is per core, and on a shared
 * machine wall time counts the waits for a core too.
 */
function measure(fn: () => void, opts: { seconds?: number; bytesPerOp?: number } = {}): Rate {
  return measureRate(fn, { ...opts, clock: 'cpu' });
}

const DEVICE = 'BENCH-DEV-0001';
const SERVER_URL = 'https://mdm.example.test/ManagementServer/MDM.svc';
const DEVINFO = ['DevId', 'Man', 'Mod', 'DmV', 'Lang'];
/** CmdID of the server's first command in each message, after its Statuses. */
const FIRST_CMD = 10;

/** The server's message `msgID`: the SyncHdr Status for the device's message, then Gets and Replaces. */
function serverMessage(msgID: number, commands: number, pad: number): string {
  const body: Command[] = [status({ cmdID: 1, msgRef: String(msgID), cmdRef: '0', cmd: 'SyncHdr', code: 200 })];
  // The first message also answers package 1's Alerts and DevInfo Replace (MDM-STS-005, MDM-STS-006).
  if (msgID === 1) for (const [ref, cmd] of [['2', 'Alert'], ['3', 'Alert'], ['4', 'Replace']]) body.push(status({ cmdID: ref, msgRef: '1', cmdRef: ref, cmd, code: 200 }));
  for (let i = 0; i < commands; i++) {
    const uri = `./Vendor/MSFT/Policy/Config/Area${i}/Setting${msgID}`;
    body.push(i % 2 ? { ...replace(uri, 'v'.repeat(pad), { format: 'chr' }), cmdID: String(i + FIRST_CMD) } : { ...get(uri), cmdID: String(i + FIRST_CMD) });
  }
  return serializeSyncML(message({ sessionID: '1A', msgID, target: DEVICE, source: SERVER_URL, commands: body, final: true }));
}

/** The device's answer to server message `answers`: a Status for each command, Results for each Get. */
function deviceMessage(msgID: number, answers: number, commands: number, pad: number): string {
  const body: Command[] = [status({ cmdID: 1, msgRef: String(answers), cmdRef: '0', cmd: 'SyncHdr', code: 200 })];
  let id = 2;
  for (let i = 0; i < commands; i++) body.push(status({ cmdID: id++, msgRef: String(answers), cmdRef: String(i + FIRST_CMD), cmd: i % 2 ? 'Replace' : 'Get', code: 200 }));
  for (let i = 0; i < commands; i += 2) {
    const uri = `./Vendor/MSFT/Policy/Config/Area${i}/Setting${answers}`;
    body.push(results({ cmdID: id++, msgRef: String(answers), cmdRef: String(i + FIRST_CMD), cmd: 'Get', items: [item({ source: uri, format: 'chr', data: 'r'.repeat(pad) })] }));
  }
  return serializeSyncML(message({ sessionID: '1A', msgID, target: SERVER_URL, source: DEVICE, commands: body, final: true }));
}

/** Package 1 (Alert 1201, DevInfo), padded with a generic alert to the same size as the others. */
function package1(pad: number): string {
  const commands: Command[] = [
    alert('1201', [], 2),
    { ...alert('1226', [item({ type: 'com.microsoft/MDM/AADUserToken', format: 'chr', data: 't'.repeat(pad) })]), cmdID: '3' },
    { kind: 'Replace', cmdID: '4', items: DEVINFO.map((n) => item({ source: `./DevInfo/${n}`, data: n === 'DevId' ? DEVICE : `value-${n}` })) },
  ];
  return serializeSyncML(message({ sessionID: '1A', msgID: 1, target: SERVER_URL, source: DEVICE, commands, final: true }));
}

/** Pads so that the message built by `make(pad)` is about `bytes` long. */
function sized(bytes: number, make: (pad: number) => string, perPad: number): string {
  const base = make(0).length;
  return make(Math.max(0, Math.round((bytes - base) / perPad)));
}

const COMMANDS = 40;

/** A session of `rounds` exchanges of ~10 KB messages: package 1, then rounds of commands and answers, then the close. */
function benchSession(rounds: number): { bodies: Buffer[]; device: Buffer; server: Buffer } {
  const messages: string[] = [sized(10_000, package1, 1)];
  for (let k = 1; k < rounds; k++) {
    messages.push(sized(10_000, (p) => serverMessage(k, COMMANDS, p), COMMANDS / 2));
    messages.push(sized(10_000, (p) => deviceMessage(k + 1, k, COMMANDS, p), COMMANDS / 2));
  }
  messages.push(serializeSyncML(message({
    sessionID: '1A', msgID: rounds, target: DEVICE, source: SERVER_URL, final: true,
    commands: [status({ cmdID: 1, msgRef: String(rounds), cmdRef: '0', cmd: 'SyncHdr', code: 200 })],
  })));
  const bodies = messages.map((m) => Buffer.from(m));
  return { bodies, device: bodies[3], server: bodies[2] };
}

/** The bodies of a benchmark session of `rounds` exchanges, for profiling and for captures made from them. */
export function benchSessionBodies(rounds = 8): Buffer[] {
  return benchSession(rounds).bodies;
}

/** A capture of `sessions` copies of the benchmark session, each under its own SessionID so that grouping reads them apart. */
function captureOf(bodies: readonly Buffer[], sessions: number): Buffer[] {
  const out: Buffer[] = [];
  for (let s = 0; s < sessions; s++) {
    for (const b of bodies) out.push(Buffer.from(b.toString().replace('<SessionID>1A</SessionID>', `<SessionID>${s.toString(16).toUpperCase()}</SessionID>`)));
  }
  return out;
}

const captured = (bodies: readonly Buffer[]) => bodies.map((body, i): CapturedMessage => ({ source: { file: 'bench', position: `message ${i + 1}` }, body }));

/** What `grade` does with a capture before its reports: read and group every message, then judge each session. */
function gradeCapture(bodies: readonly Buffer[]): void {
  for (const s of groupSessions(captured(bodies))) judgeCaptured(s, 'both');
}

/** Whether this process runs with the engine options `grade` starts with (bin/mdm-conformance.js). */
function hasGradeEngineOptions(): boolean {
  return ENGINE_OPTIONS.grade.every((o) => process.execArgv.includes(o));
}

const CAPTURE_SESSIONS = 16;

/**
 * The figures of grading, measured as `grade` runs: in a process started with the engine options the command starts
 * itself with; beside them, the judging rate under node's default engine options, measured in this process.
 */
export function benchGrade(seconds: number): string[] {
  if (hasGradeEngineOptions()) return gradeFigures(seconds);
  const bodies = benchSession(8).bodies;
  const single = measure(() => gradeCapture(bodies), { seconds }).opsPerSec * bodies.length;
  const capture = captureOf(bodies, CAPTURE_SESSIONS);
  const batch = measure(() => gradeCapture(capture), { seconds }).opsPerSec * capture.length;
  const child = spawnSync(process.execPath, [...process.execArgv, ...ENGINE_OPTIONS.grade, __filename, String(seconds)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`the grading benchmark under grade's engine options failed: ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return [
    ...child.stdout.trimEnd().split('\n'),
    `  under node's default engine options: codec + grouping + all passive checks ${fmt(single)} msg/s one session at a time, ${fmt(batch)} msg/s a capture of ${CAPTURE_SESSIONS}`,
  ];
}

function gradeFigures(seconds: number): string[] {
  const rounds = 8;
  const { bodies, device, server } = benchSession(rounds);
  // A sanity check, not a benchmark: the synthetic session must read as one whole session.
  const [probe, ...others] = groupSessions(captured(bodies));
  if (others.length || !probe.complete) throw new Error('benchmark session does not read as one whole session');
  const failing = judgeCaptured(probe, 'both').filter((f) => f.verdict === 'fail');
  if (failing.length) throw new Error(`benchmark session is not conforming: ${failing[0].id} ${failing[0].evidence}`);

  const codecDevice = measure(() => parseSyncML(device), { seconds, bytesPerOp: device.length });
  const codecServer = measure(() => parseSyncML(server), { seconds, bytesPerOp: server.length });
  // The codec's rate on the session's own mix of messages (the close is tiny, package 1 and the rest ~10 KB).
  const codecMix = measure(() => {
    for (const b of bodies) parseSyncML(b);
  }, { seconds });
  const grouped = measure(() => void groupSessions(captured(bodies)), { seconds });
  const judged = measure(() => gradeCapture(bodies), { seconds });
  // A capture of several sessions keeps them all in memory while they are judged, as the command does.
  const capture = captureOf(bodies, CAPTURE_SESSIONS);
  const judgedCapture = measure(() => gradeCapture(capture), { seconds });
  // The checks compare every message with the others of its session: their cost per message grows with its length.
  const long = benchSession(rounds * 4).bodies;
  const judgedLong = measure(() => gradeCapture(long), { seconds });
  const endToEnd = gradeEndToEnd(bodies, 100);
  const perSession = bodies.length;
  const mixRate = codecMix.opsPerSec * perSession;
  const rate = (label: string, msgPerSec: number, note = '') => `  ${label.padEnd(37)} ${fmt(msgPerSec)} msg/s  ratio ${(msgPerSec / mixRate).toFixed(2)}${note}`;
  return [
    `offline grading (${rounds}-exchange sessions, ${perSession} messages, device ${device.length} B and server ${server.length} B each; ${HARNESS.compiled ? 'the compiled harness' : 'the sources through tsx (no fresh build: npm run build)'}; engine options of grade: ${ENGINE_OPTIONS.grade.join(' ')}):`,
    `  codec, 10 KB device message           ${fmt(codecDevice.opsPerSec)} msg/s  ${fmt(codecDevice.mbPerSec!)} MB/s`,
    `  codec, 10 KB server message           ${fmt(codecServer.opsPerSec)} msg/s  ${fmt(codecServer.mbPerSec!)} MB/s`,
    `  codec, the session's messages         ${fmt(mixRate)} msg/s  (baseline)`,
    rate('codec + grouping into sessions', grouped.opsPerSec * perSession),
    rate('codec + grouping + all passive checks', judged.opsPerSec * perSession, '  (target 5,000 msg/s)'),
    rate(`the same, a capture of ${CAPTURE_SESSIONS} sessions`, judgedCapture.opsPerSec * capture.length),
    rate(`the same, ${rounds * 4}-exchange sessions`, judgedLong.opsPerSec * long.length),
    rate('the grade command, end to end', endToEnd.messages / endToEnd.seconds, `  (${endToEnd.messages} messages, ${(endToEnd.bytes / 1e6).toFixed(1)} MB, in ${endToEnd.seconds.toFixed(2)} s: a fresh process reads, judges, writes every report)`),
  ];
}

/**
 * What a vendor waits for: `npx mdm-conformance grade` on a text file of `sessions` such sessions, in a fresh process
 * as a vendor runs it (start and compilation included), from reading the file to the last report (the summary page
 * embeds every message). Median wall time of three runs.
 */
function gradeEndToEnd(bodies: Buffer[], sessions: number): { messages: number; bytes: number; seconds: number } {
  const dir = mkdtempSync(join(tmpdir(), 'mdm-bench-grade-'));
  try {
    const parts = captureOf(bodies, sessions);
    const input = join(dir, 'capture.txt');
    writeFileSync(input, Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')])));
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      const graded = spawnSync(process.execPath, [join(__dirname, '..', 'bin', 'mdm-conformance.js'), 'grade', input, '--reports', join(dir, 'reports')], { encoding: 'utf8' });
      times.push((performance.now() - start) / 1000);
      if (graded.status !== 0) throw new Error(`grade of the benchmark capture exited ${graded.status}: ${graded.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    }
    return { messages: parts.length, bytes: statSync(input).size, seconds: times.sort((x, y) => x - y)[1] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs only the judged loop: `node --cpu-prof --require tsx/cjs bench/grade.ts profile 5 [ROUNDS]`. */
export function profileGrade(seconds: number, rounds = 8): void {
  const { bodies } = benchSession(rounds);
  measure(() => gradeCapture(bodies), { seconds });
}

if (require.main === module) {
  const seconds = Number(process.argv[3] ?? process.argv[2] ?? 1);
  if (process.argv[2] === 'profile') profileGrade(seconds, Number(process.argv[4] ?? 8));
  else for (const line of benchGrade(seconds)) console.log(line);
}
