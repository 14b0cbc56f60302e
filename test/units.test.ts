// The spelling of numbers: num() against the reference it replaces, toLocaleString('en-US').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { num } from '../src/shared/units.js';
import { compareText } from '../src/shared/text.js';

test("num() spells every number as toLocaleString('en-US') does", () => {
  const values = [0, -0, 1, -1, 7, 999, 1000, -1000, 1234, 12345, 123456, 1234567, 2 ** 31, 2 ** 53, 1e20, 1e21, 1.5e22,
    0.5, 0.0005, 0.0004, -0.0004, 1.0005, 1.2345, 999.9995, 999.9994, 1234.5678, -1234.5678, 0.1 + 0.2, 44_492, 3_900_000,
    NaN, Infinity, -Infinity];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 2000; i++) {
    values.push(Math.round(rnd() * 10 ** Math.floor(rnd() * 16)) * (rnd() < 0.2 ? -1 : 1));
    values.push(rnd() * 10 ** Math.floor(rnd() * 9 - 3));
  }
  for (const v of values) assert.equal(num(v), v.toLocaleString('en-US'), String(v));
});

test('compareText: code-unit order, 0 for equal strings', () => {
  assert.deepEqual(['b', 'a', 'B', '/tmp', '/'].sort(compareText), ['/', '/tmp', 'B', 'a', 'b']);
  assert.equal(compareText('x', 'x'), 0);
});
