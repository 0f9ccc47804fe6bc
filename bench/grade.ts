/**
 * Offline grading speed: the codec alone on a 10 KB device message and a 10 KB server message (the baseline), then
 * captured sessions of such messages grouped (codec included) and judged by every passive check of both sides,
 * in messages per CPU-second (one core) and as a ratio to the codec alone on the same mix.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_CHECKS } from '../harness/checks/client-checks';
import { runChecks } from '../harness/checks/finding';
import { SERVER_CHECKS } from '../harness/checks/server-checks';
import { gradeCommand } from '../harness/cli/grade';
import { groupSessions, type CapturedMessage } from '../harness/grade';
import {
  alert, get, item, message, parseSyncML, replace, results, serializeSyncML, status, type Command,
} from '../harness/syncml';
import { fmt, measure as measureRate, type Rate } from './measure';

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

/** The bodies of the benchmark session, for profiling. */
export function benchSessionBodies(rounds: number): Buffer[] {
  return benchSession(rounds).bodies;
}

export function benchBodies(): Buffer[] {
  return benchSession(8).bodies;
}

export function benchGrade(seconds: number): string[] {
  const rounds = 8;
  const { bodies, device, server } = benchSession(rounds);
  const captured = () => bodies.map((body, i): CapturedMessage => ({ source: { file: 'bench', position: `message ${i + 1}` }, body }));
  // A sanity check, not a benchmark: the synthetic session must read as one whole session.
  const [probe, ...others] = groupSessions(captured());
  if (others.length || !probe.complete) throw new Error('benchmark session does not read as one whole session');
  const failing = [...runChecks(SERVER_CHECKS, probe.view), ...runChecks(CLIENT_CHECKS, probe.view)].filter((f) => f.verdict === 'fail');
  if (failing.length) throw new Error(`benchmark session is not conforming: ${failing[0].id} ${failing[0].evidence}`);

  const codecDevice = measure(() => parseSyncML(device), { seconds, bytesPerOp: device.length });
  const codecServer = measure(() => parseSyncML(server), { seconds, bytesPerOp: server.length });
  // The codec's rate on the session's own mix of messages (the close is tiny, package 1 and the rest ~10 KB).
  const codecMix = measure(() => {
    for (const b of bodies) parseSyncML(b);
  }, { seconds });
  const grouped = measure(() => void groupSessions(captured()), { seconds });
  const judged = measure(() => {
    const [s] = groupSessions(captured());
    runChecks(SERVER_CHECKS, s.view);
    runChecks(CLIENT_CHECKS, s.view);
  }, { seconds });
  // The checks compare every message with the others of its session: their cost per message grows with its length.
  const long = benchSession(rounds * 4).bodies;
  const judgedLong = measure(() => {
    const [s] = groupSessions(long.map((body, i): CapturedMessage => ({ source: { file: 'bench', position: `message ${i + 1}` }, body })));
    runChecks(SERVER_CHECKS, s.view);
    runChecks(CLIENT_CHECKS, s.view);
  }, { seconds });
  const endToEnd = gradeEndToEnd(bodies, 50);
  const perSession = bodies.length;
  const mixRate = codecMix.opsPerSec * perSession;
  const groupRate = grouped.opsPerSec * perSession;
  const judgeRate = judged.opsPerSec * perSession;
  return [
    `offline grading (${rounds}-exchange sessions, ${perSession} messages, device ${device.length} B and server ${server.length} B each):`,
    `  codec, 10 KB device message           ${fmt(codecDevice.opsPerSec)} msg/s  ${fmt(codecDevice.mbPerSec!)} MB/s`,
    `  codec, 10 KB server message           ${fmt(codecServer.opsPerSec)} msg/s  ${fmt(codecServer.mbPerSec!)} MB/s`,
    `  codec, the session's messages         ${fmt(mixRate)} msg/s  (baseline)`,
    `  codec + grouping into sessions        ${fmt(groupRate)} msg/s  ratio ${(groupRate / mixRate).toFixed(2)}`,
    `  codec + grouping + all passive checks ${fmt(judgeRate)} msg/s  ratio ${(judgeRate / mixRate).toFixed(2)}  (target 5,000 msg/s)`,
    `  ${`the same, ${rounds * 4}-exchange sessions`.padEnd(37)} ${fmt(judgedLong.opsPerSec * long.length)} msg/s  ratio ${((judgedLong.opsPerSec * long.length) / mixRate).toFixed(2)}`,
    `  the grade command, end to end         ${fmt(endToEnd.messages / endToEnd.seconds)} msg/s  ratio ${(endToEnd.messages / endToEnd.seconds / mixRate).toFixed(2)}  (${endToEnd.messages} messages, ${(endToEnd.bytes / 1e6).toFixed(1)} MB: read, judged, every report written, in ${endToEnd.seconds.toFixed(2)} s)`,
  ];
}

/**
 * What a vendor waits for: `grade` on a text file of `sessions` such sessions, from reading the file to the last report
 * (the summary page embeds every message). Wall time of the second of two runs, so that the code is compiled.
 */
function gradeEndToEnd(bodies: Buffer[], sessions: number): { messages: number; bytes: number; seconds: number } {
  const dir = mkdtempSync(join(tmpdir(), 'mdm-bench-grade-'));
  try {
    const parts: Buffer[] = [];
    for (let s = 0; s < sessions; s++) {
      // Each session its own SessionID, so that grouping reads them apart.
      for (const b of bodies) parts.push(Buffer.from(`${b.toString().replace('<SessionID>1A</SessionID>', `<SessionID>${s.toString(16).toUpperCase()}</SessionID>`)}\n`));
    }
    const input = join(dir, 'capture.txt');
    writeFileSync(input, Buffer.concat(parts));
    let seconds = 0;
    for (let run = 0; run < 2; run++) {
      const start = performance.now();
      const code = gradeCommand([input, '--reports', join(dir, 'reports')], () => {});
      seconds = (performance.now() - start) / 1000;
      if (code !== 0) throw new Error(`grade of the benchmark capture exited ${code}`);
    }
    return { messages: parts.length, bytes: statSync(input).size, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs only the judged loop: `node --cpu-prof --import tsx bench/grade.ts profile 5 [ROUNDS]`. */
export function profileGrade(seconds: number, rounds = 8): void {
  const { bodies } = benchSession(rounds);
  measure(() => {
    const [s] = groupSessions(bodies.map((body, i): CapturedMessage => ({ source: { file: 'bench', position: `message ${i + 1}` }, body })));
    runChecks(SERVER_CHECKS, s.view);
    runChecks(CLIENT_CHECKS, s.view);
  }, { seconds });
}

if (require.main === module) {
  const seconds = Number(process.argv[3] ?? process.argv[2] ?? 1);
  if (process.argv[2] === 'profile') profileGrade(seconds, Number(process.argv[4] ?? 8));
  else for (const line of benchGrade(seconds)) console.log(line);
}
