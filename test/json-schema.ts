// Every JSON document the tests get from enospc is checked against its schema
// (schemas/NAME.schema.json, generated from the types by `npm run schemas`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export const SCHEMA_DIR = new URL('../../schemas/', import.meta.url).pathname;

/** Commands whose --json output has a schema of the same name. */
const JSON_COMMANDS = new Set(['doctor', 'top', 'inotify', 'trace', 'clean', 'containers', 'history', 'forecast', 'catch', 'fleet']);

/** Strict: a keyword ajv does not know, or a type it cannot check, is an error in the schema. */
export function newAjv(): Ajv {
  return new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
}

const ajv = newAjv();
const validators = new Map<string, ValidateFunction>();

function validator(name: string): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    v = ajv.compile(JSON.parse(fs.readFileSync(`${SCHEMA_DIR}${name}.schema.json`, 'utf8')) as object);
    validators.set(name, v);
  }
  return v;
}

/** The value at a JSON pointer such as /findings/0/evidence. */
function at(value: unknown, pointer: string): unknown {
  let v = value;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/** ajv's errors, one line each: where, what is wrong, and the value there (cut short). */
export function errorLines(errors: ErrorObject[], value: unknown): string {
  const lines = errors.slice(0, 20).map((e) => {
    const shown = JSON.stringify(at(value, e.instancePath)) ?? 'undefined';
    return `  ${e.instancePath || '(the document)'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}; value: ${shown.length > 200 ? `${shown.slice(0, 200)}...` : shown}`;
  });
  if (errors.length > 20) lines.push(`  ... ${errors.length - 20} more errors`);
  return lines.join('\n');
}

/** Fail unless `value` matches schemas/NAME.schema.json; `what` says what it is in the message. */
export function assertSchema(name: string, value: unknown, what: string = name): void {
  const v = validator(name);
  if (v(value)) return;
  assert.fail(`${what} does not match schemas/${name}.schema.json:\n${errorLines(v.errors ?? [], value)}`);
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return assert.fail(`${what} is not JSON (${(e as Error).message}): ${text.slice(0, 200)}`);
  }
}

/**
 * Check what `enospc ARGS` printed: with --json the document, against the schema of the command
 * (ARGS[0]); with `trace --events` every line, the report last. Nothing printed (an error) is
 * not checked: the tests look at the exit status.
 */
export function checkOutput(args: string[], stdout: string): void {
  const command = args[0] ?? '';
  const what = `enospc ${args.join(' ')}`;
  if (stdout.trim() === '' || !JSON_COMMANDS.has(command)) return;
  if ((command === 'trace' || command === 'catch') && args.includes('--events')) {
    const lines = stdout.split('\n').filter((l) => l !== '');
    lines.forEach((line, i) => {
      const value = parse(line, `line ${i + 1} of ${what}`);
      assertSchema(`${command}-event`, value, `line ${i + 1} of ${what}`);
      const report = (value as { event: string }).event === 'report';
      assert.equal(report, i === lines.length - 1, `line ${i + 1} of ${what}: the report comes last, and only there`);
    });
  } else if (args.includes('--json')) {
    assertSchema(command, parse(stdout, what), what);
  }
}
