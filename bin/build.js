// Whether the compiled harness, suites and fixtures (dist/, built by `npm ci` through the `prepare` script) are as
// new as their TypeScript sources: the command runs them then, and the sources through tsx otherwise. One answer for
// the command and for the benchmarks that measure what it runs.
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

/** The compiled entry point of the command. */
const COMPILED_CLI = join(root, 'dist', 'harness', 'cli.js');

/** What the build compiles (tsconfig.build.json). */
const SOURCES = ['harness', 'suites', 'fixtures', 'playwright.config.ts'];

/** The newest modification time of the TypeScript and JSON sources under `path` (a folder or one file). */
function newestSource(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return /\.(ts|json)$/.test(path) ? stat.mtimeMs : 0;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestSource(join(path, entry)));
  return newest;
}

/** The build exists and no source is newer than it. */
function buildIsFresh() {
  let built;
  try {
    built = statSync(COMPILED_CLI).mtimeMs;
  } catch {
    return false;
  }
  return Math.max(...SOURCES.map((s) => newestSource(join(root, s)))) <= built;
}

module.exports = { COMPILED_CLI, buildIsFresh };
