#!/usr/bin/env node
// Entry point of the `mdm-conformance` command. It runs the compiled harness, suites and fixtures (dist/, built from
// the TypeScript by `npm ci` through the `prepare` script), which starts several times faster than transpiling at
// every start. When a source file is newer than the build (a working copy being edited), it runs the TypeScript
// through tsx instead, and the suites as TypeScript, so the command never runs stale code.
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const compiled = join(root, 'dist', 'harness', 'cli.js');

/** The newest modification time of the TypeScript and JSON sources under `path` (a folder or one file). */
function newestSource(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return /\.(ts|json)$/.test(path) ? stat.mtimeMs : 0;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestSource(join(path, entry)));
  return newest;
}

/** What the build compiles (tsconfig.build.json). */
const SOURCES = ['harness', 'suites', 'fixtures', 'playwright.config.ts'];

function builtAt() {
  try {
    return statSync(compiled).mtimeMs;
  } catch {
    return 0;
  }
}

const built = builtAt();
if (built && Math.max(...SOURCES.map((s) => newestSource(join(root, s)))) <= built) {
  require(compiled);
} else {
  require('tsx/cjs/api').register();
  require('../harness/cli.ts');
}
