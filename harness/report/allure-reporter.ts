/**
 * allure-playwright, writing its results without an fsync per file. A conformance run leaves one attachment per
 * message (hundreds per run), and allure-playwright's writer syncs each one to disk through a temporary file: on an
 * ordinary disk the test runner then spent longer waiting for the disk than reporting, and the run's end waited for
 * it. The files, their names and their content are allure-playwright's own; only the way they reach the disk
 * differs. Everything else (test results' structure, steps, labels) is the reporter's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Suite } from '@playwright/test/reporter';
import { AllureReporter } from 'allure-playwright';

/** The part of allure-playwright's results writer a run uses for every test. */
interface ResultsWriter {
  writeAttachment(distFileName: string, content: Buffer): void;
  writeResult(result: { uuid: string }): void;
}

export default class UnsyncedAllureReporter extends AllureReporter {
  override onBegin(suite: Suite): void {
    super.onBegin(suite);
    const writer = (this as unknown as { allureRuntime?: { writer?: ResultsWriter } }).allureRuntime?.writer;
    // The reporter's option, typed in a module this project's resolution does not reach.
    const dir = (this.options as { resultsDir?: string }).resultsDir;
    if (!writer || !dir) return; // another shape than this reporter was written for: keep allure-playwright's writer
    mkdirSync(dir, { recursive: true });
    // File names as Allure's results format has them: `<uuid>-result.json`, attachments by their source name.
    writer.writeAttachment = (distFileName, content) => writeFileSync(join(dir, distFileName), content);
    writer.writeResult = (result) => writeFileSync(join(dir, `${result.uuid}-result.json`), JSON.stringify(result), 'utf-8');
  }
}
