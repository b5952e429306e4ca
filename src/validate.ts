/**
 * The one validator for untrusted JSON (manifests, MQTT payloads, CLI files).
 * ajv compiles each JSON Schema once into a fast function; we wrap it so every
 * refusal is an EdgeError with a code and the list of offending fields.
 */
import { Ajv, type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { EdgeError, type ErrorCode } from './errors.js';

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });


/** Compile once, call many times. `check(value)` narrows; `assert` throws `code`. */
export function compile<T>(schema: JSONSchemaType<T> | Record<string, unknown>): ValidateFunction<T> {
  return ajv.compile<T>(schema as JSONSchemaType<T>);
}

/** Human-readable list of schema errors: `/features/0/scale must be number`. */
export function explain(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'unknown schema error';
  return errors
    .slice(0, 8)
    .map((e) => {
      const where = e.instancePath || '(root)';
      if (e.keyword === 'additionalProperties') return `${where} has unknown field "${String(e.params['additionalProperty'])}"`;
      if (e.keyword === 'required') return `${where} is missing "${String(e.params['missingProperty'])}"`;
      return `${where} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
}

/** Validate or throw `EdgeError(code, "<what> is invalid: <explain>")`. */
export function assertValid<T>(fn: ValidateFunction<T>, value: unknown, code: ErrorCode, what: string): T {
  if (fn(value)) return value;
  throw new EdgeError(code, `${what} is invalid: ${explain(fn.errors)}`);
}
