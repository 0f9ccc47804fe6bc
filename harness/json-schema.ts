/**
 * The JSON Schema validator the harness's files are checked with (profiles, expectations, reports), loaded when a
 * schema is first compiled: a command that reads none of those files does not pay for loading it.
 */
import type AjvType from 'ajv';

export function newAjv(): AjvType {
  const { default: Ajv } = require('ajv') as typeof import('ajv');
  return new Ajv({ allErrors: true });
}
