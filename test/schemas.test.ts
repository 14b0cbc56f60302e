// The committed schemas (schemas/*.schema.json) are what the types make now, and they are strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { DOCTOR_SCHEMA, type DoctorJson } from '../src/report/doctor.js';
import { assertSchema, newAjv, SCHEMA_DIR } from './json-schema.js';

interface Generator { SCHEMAS: Array<{ name: string }>; generate(): Map<string, string> }
const SCRIPT = new URL('../../scripts/schemas.mjs', import.meta.url).href;

test('the committed schemas are the ones the types make (npm run schemas)', { timeout: 120_000 }, async () => {
  const { SCHEMAS, generate } = (await import(SCRIPT)) as Generator;
  const made = generate();
  assert.deepEqual([...made.keys()].sort(), SCHEMAS.map((s) => s.name).sort());
  const files = fs.readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')).sort();
  assert.deepEqual(files, [...made.keys()].map((n) => `${n}.schema.json`).sort(), 'schemas/ holds a schema no type makes: npm run schemas');
  for (const [name, text] of made) {
    const committed = fs.readFileSync(`${SCHEMA_DIR}${name}.schema.json`, 'utf8');
    assert.ok(committed === text, `schemas/${name}.schema.json differs from the types: run npm run schemas and commit it`);
  }
});

test('every schema compiles in ajv strict mode and closes its objects', () => {
  for (const f of fs.readdirSync(SCHEMA_DIR)) {
    const schema = JSON.parse(fs.readFileSync(`${SCHEMA_DIR}${f}`, 'utf8')) as { $id: string; title: string; description: string };
    newAjv().compile(schema);
    assert.match(schema.$id, /^urn:enospc:schema:/);
    assert.ok(schema.title && schema.description, f);
    const text = JSON.stringify(schema);
    assert.ok(!text.includes('"additionalProperties":true'), `${f}: an open object`);
  }
});

/** A doctor document with one finding. */
function doctorDoc(finding: unknown): DoctorJson {
  return {
    schema: DOCTOR_SCHEMA, version: '0.1.0', host: { kernel: '6.1.0', arch: 'x64', hostname: 'h', node: 'v20.0.0' }, exitCode: 1,
    mounts: [], findings: [finding as DoctorJson['findings'][number]], unknown: [{ what: 'process list', error: 'hidepid', kind: 'needs-root' }],
  };
}

test("doctor's findings are keyed by id: each evidence is checked against its own check's shape", () => {
  const finding = {
    id: 'orphans', severity: 'warning', target: '/tmp', title: '3 orphans',
    evidence: { pattern: 'magick-*', count: 3, orphans: 3, openCount: null, reason: 'old and open in no process' }, fix: [],
  };
  assertSchema('doctor', doctorDoc(finding));
  const fails = (value: unknown) => assert.throws(() => assertSchema('doctor', value), /does not match schemas\/doctor\.schema\.json/);
  fails(doctorDoc({ ...finding, id: 'ext4.dir-index' }));
  fails(doctorDoc({ ...finding, id: 'no.such-check' }));
  fails(doctorDoc({ ...finding, evidence: { ...finding.evidence, extra: 1 } }));
  fails(doctorDoc({ ...finding, evidence: { ...finding.evidence, openCount: undefined } }));
  const culprit = {
    path: '/tmp', pattern: 'magick-*', count: 3, bytes: 0, zeroByte: 3, owners: null, oldest: null, newest: null, openCount: null,
    orphan: { count: null, reason: 'not root: open files unknown' }, signature: null,
  };
  assertSchema('doctor', doctorDoc({ ...finding, culprits: [culprit] }));
  fails(doctorDoc({ ...finding, culprits: [{ ...culprit, orphan: { reason: 'x' } }] }));
});
