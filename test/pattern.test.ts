import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patternBytes, patternOfName } from '../src/scan/pattern.js';

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
