import { defineConfig, type Project } from '@playwright/test';

/**
 * Projects:
 * - unit: the harness library on its own (codec, checks, PKI, transports, peers).
 * - self: reference peer against reference peer, and the fault matrices that prove every check.
 * - server / client: the conformance suites against an implementation under test. They run only when
 *   the CLI (`test-server` / `test-client`) has configured one, through MDM_CONFORMANCE_MODE.
 */
const mode = process.env.MDM_CONFORMANCE_MODE;

const projects: Project[] = [
  { name: 'unit', testDir: './tests/unit' },
  { name: 'self', testDir: './tests/self' },
];
if (mode === 'server') projects.push({ name: 'server', testDir: './suites/server' });
if (mode === 'client') projects.push({ name: 'client', testDir: './suites/client' });

export default defineConfig({
  projects,
  timeout: 20_000,
  expect: { timeout: 5_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: process.env.CI ? 2 : undefined,
  reporter: [['list'], ['./harness/report/summary-line-reporter.ts']],
  outputDir: './test-results',
});
