#!/usr/bin/env node
// Entry point of the `mdm-conformance` command. It runs the compiled harness, suites and fixtures (dist/, built from
// the TypeScript by `npm ci` through the `prepare` script), which starts several times faster than transpiling at
// every start. When a source file is newer than the build (a working copy being edited), it runs the TypeScript
// through tsx instead, and the suites as TypeScript, so the command never runs stale code.
const { buildIsFresh, COMPILED_CLI } = require('./build');

/**
 * `grade` holds a whole capture in memory while it judges it. With V8's default young generation (16 MB semi-spaces)
 * and its allocation-site pretenuring, most of its time went to the garbage collector: a larger young generation and
 * no pretenuring judge about twice as many messages per second of CPU (bench/grade.ts). Both are start-up options of
 * the engine, so the command starts itself again with them. A Node whose V8 no longer knows one exits 9 ("bad
 * option") before running anything: the command then runs here, with the defaults, as it does when no process can
 * be started.
 */
const ENGINE_OPTIONS = require('../harness/cli/engine-options.json');
const engineOptions = Object.hasOwn(ENGINE_OPTIONS, process.argv[2] ?? '') ? ENGINE_OPTIONS[process.argv[2]] : undefined;
if (engineOptions && !engineOptions.every((o) => process.execArgv.includes(o))) {
  const { spawnSync } = require('node:child_process');
  const run = spawnSync(process.execPath, [...process.execArgv, ...engineOptions, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Not started at all (run.error), or refused an option: run here instead.
  if (!run.error && run.status !== 9) {
    if (run.signal) process.kill(process.pid, run.signal);
    process.exit(run.status ?? 2);
  }
}

if (buildIsFresh()) {
  require(COMPILED_CLI);
} else {
  require('tsx/cjs/api').register();
  require('../harness/cli.ts');
}
