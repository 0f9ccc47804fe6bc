#!/usr/bin/env node
// Entry point of the `mdm-conformance` command: the harness is TypeScript, loaded through tsx.
require('tsx/cjs/api').register();
require('../harness/cli.ts');
