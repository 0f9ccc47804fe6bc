/**
 * The JSON Schema validator the harness's files are checked with (profiles, expectations, reports), loaded when a
 * schema is first compiled: a command that reads none of those files does not pay for loading it.
 */
import type AjvType from 'ajv';
import type { Options } from 'ajv';

/** A validator with `options`; by default it reports every error of a document. */
export function newAjv(options: Options = { allErrors: true }): AjvType {
  const { default: Ajv } = require('ajv') as typeof import('ajv');
  return new Ajv(options);
}
