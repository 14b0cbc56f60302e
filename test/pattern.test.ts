import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { patternBytes, patternOfName, wideLength } from '../src/scan/pattern.js';
import { census } from '../src/scan/census.js';
import { censusParallel } from '../src/scan/parallel.js';
import { cannotMount, tmpfs, touch, unmountAll } from './helpers.js';

const cases: Array<[string, string]> = [
  ['magick-aB9zY1xW', 'magick-*'],
  ['magick-aB-9z_Y1xW', 'magick-*'],
  ['magick-24960j3TGKTHG5LUz', 'magick-*'],
  ['magick-12ABVNjn', 'magick-*'],
  ['magick-039leseo', 'magick-*'],
  ['opam-48052-192552', 'opam-*'],
  ['sess_3f9a0c8d1e2b4a7f90c1d2e3f4a5b6c7', 'sess_*'],
  ['systemd-private-3a2f9c0d1e2b4a7f9c0d1e2b4a7f9c0d-nginx.service-AbCdEf', 'systemd-private-*-nginx.service-*'],
  ['go-build123456', 'go-build*'],
  ['systemd-private-3a2f9c0d1e2b4a7f9c0d1e2b4a7f9c0d-php8.2-fpm.service-AbCdEf', 'systemd-private-*-php*.*-fpm.service-*'],
  ['pip-req-build-abc123xy', 'pip-req-build-*'],
  ['.org.chromium.Chromium.aB3dE', '.org.chromium.Chromium.*'],
  ['core.headless_shell.12345', 'core.headless_shell.*'],
  ['f123.dat', 'f*.dat'],
  ['README.md', 'README.md'],
  ['ImageMagick-7', 'ImageMagick-*'],
  ['3f9a0c8d-1e2b-4abc-9def-0123456789ab.json', '*.json'],
];

test('name patterns replace variable parts with *', () => {
  for (const [name, want] of cases) assert.equal(patternOfName(name), want, name);
});

test('patterns keep bytes that are not UTF-8', () => {
  const name = Buffer.from([0x66, 0xff, 0x2d, 0x31, 0x32, 0x33]); // f\xff-123
  assert.deepEqual(patternBytes(name, 0, name.length), Buffer.from([0x66, 0xff, 0x2d, 0x2a]));
});

test('wideLength: a fixed -WORD tail made variable, joining a variable run before it', () => {
  const wide = (p: string) => {
    const b = Buffer.from(p, 'latin1');
    const n = wideLength(b, b.length);
    if (n < 0) return null;
    const w = Buffer.from(b.subarray(0, n));
    w[n - 1] = 42;
    return w.toString('latin1');
  };
  assert.equal(wide('magick-AAKQyele'), 'magick-*');
  assert.equal(wide('opam-*-htt'), 'opam-*');
  assert.equal(wide('f*-abc'), 'f*-*', 'the * of a word with digits is no run of its own');
  assert.equal(wide('\\*-abc'), '\\*-*', 'an escaped * is a character of the name');
  assert.equal(wide('*-abc'), '*');
  assert.equal(wide('plain'), null);
  assert.equal(wide('magick-*'), null);
});

test('names with a random word tail after a number fold into one pattern (opam-PID-abc)', { skip: cannotMount ?? false }, async () => {
  const dir = tmpfs('size=8m,nr_inodes=2000');
  let seed = 3;
  const letter = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return String.fromCharCode(97 + (seed % 26));
  };
  for (let i = 0; i < 600; i++) touch(`${dir}/opam-${4000 + i}-${letter()}${letter()}${letter()}`);
  for (let i = 0; i < 5; i++) touch(`${dir}/build-${i}-log`);
  const one = census(dir, { limit: 5 });
  assert.deepEqual(one.patterns.map((p) => [p.pattern.toString(), p.count]).slice(0, 2), [['opam-*', 600], ['build-*-log', 5]]);
  // their creators' PIDs counted as for opam-* (the live ones given), in one directory
  const pids = census(dir, { limit: 5, pidNames: [{ pattern: 'opam-*', regex: '^opam-(\\d+)-' }], livePids: new Set([4001, 4002]) });
  const opam = pids.patterns.find((p) => p.pattern.toString() === 'opam-*')!;
  assert.deepEqual([opam.count, opam.pidAlive, opam.pidDead, opam.dirCount], [600, 2, 598, 1]);
  // fewer than 16 tails of one prefix stay as they are (`build-*-log` is a word, not random)
  const two = await censusParallel(dir, { limit: 5, threads: 2, alwaysShare: true });
  assert.deepEqual(two.patterns.map((p) => [p.pattern.toString(), p.count]), one.patterns.map((p) => [p.pattern.toString(), p.count]));
});

after(unmountAll);
