// policy.xml parsing and case 000's pixel-cache arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheVerdict, parseImageSpec, parseMagickSize, readMagickPolicy } from '../src/probe/imagemagick.js';

test('case 000: a 12000x12000 RGBA Q16 image spills to a disk cache file under 256MiB/512MiB', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-im-'));
  try {
    fs.writeFileSync(path.join(dir, 'policy.xml'), `<policymap>
  <!-- <policy domain="resource" name="memory" value="8GiB"/> -->
  <policy domain="resource" name="memory" value="256MiB"/>
  <policy domain="resource" name="map" value="512MiB"/>
  <policy domain="resource" name="temporary-path" value="/var/cache/php_tmp"/>
  <policy domain="coder" rights="none" pattern="PS"/>
</policymap>`);
    const policy = readMagickPolicy({ MAGICK_CONFIGURE_PATH: dir });
    assert.equal(policy.file, path.join(dir, 'policy.xml'));
    assert.deepEqual(policy.limits, { memory: '256MiB', map: '512MiB', 'temporary-path': '/var/cache/php_tmp' });
    const img = parseImageSpec('12000x12000')!;
    assert.deepEqual(img, { width: 12000, height: 12000, depth: 16, channels: 4, text: '12000x12000x16:rgba' });
    const v = cacheVerdict(img, policy);
    assert.equal(v.cacheBytes, 1_152_000_000);
    assert.equal(v.goesTo, 'disk cache file');
    assert.equal(cacheVerdict(parseImageSpec('8000x8000x8:rgb')!, policy).goesTo, 'memory');
    assert.equal(cacheVerdict(parseImageSpec('10000x10000x8:rgb')!, policy).goesTo, 'memory-mapped file');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ImageMagick sizes and image specs', () => {
  assert.equal(parseMagickSize('256MiB'), 256 * 2 ** 20);
  assert.equal(parseMagickSize('1GB'), 1e9);
  assert.equal(parseMagickSize('unlimited'), null);
  assert.equal(parseImageSpec('100x200x8:gray')!.channels, 1);
  assert.equal(parseImageSpec('12x'), null);
});
