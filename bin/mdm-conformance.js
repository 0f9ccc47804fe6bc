#!/usr/bin/env node
// Entry point of the `mdm-conformance` command. It runs the compiled harness (dist/, built from the TypeScript by
// `npm ci` through the `prepare` script), which starts several times faster than transpiling at every start. When a
// source file is newer than the build (a working copy being edited), it runs the TypeScript through tsx instead, so
// the command never runs stale code.
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const compiled = join(root, 'dist', 'harness', 'cli.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(compiled).mtimeMs;
  } catch {
    return 0;
  }
}

const built = builtAt();
if (built && newestSource(join(root, 'harness')) <= built) {
  require(compiled);
} else {
  require('tsx/cjs/api').register();
  require('../harness/cli.ts');
}
