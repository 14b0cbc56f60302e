// The parallel census must say exactly what the single-threaded one says.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { census, type CensusResult } from '../src/scan/census.js';
import { censusParallel } from '../src/scan/parallel.js';
import { cannotMount, findCount, tmpfs, touch, unmountAll } from './helpers.js';

after(unmountAll);

function summary(r: CensusResult): unknown {
  const dir = (d: { path: Buffer; inodes: number; direct: number }) => [d.path.toString('latin1'), d.inodes, d.direct];
  return {
    totals: r.totals,
    dirs: r.dirs.map(dir),
    dirsByDirect: r.dirsByDirect.map(dir),
    patterns: r.patterns.map((p) => ({
      ...p, pattern: p.pattern.toString('latin1'), example: undefined,
      topDirs: p.topDirs.map((d) => [d.path.toString('latin1'), d.count]),
    })),
    owners: r.owners,
    ages: r.ages,
    unreadable: r.unreadable.map((u) => [u.path.toString('latin1'), u.error]).sort(),
    mountsSkipped: r.mountsSkipped.map((m) => m.toString('latin1')).sort(),
  };
}

describe('parallel census', { skip: cannotMount ?? false }, () => {
  test('gives the same census as one thread, in both modes', async () => {
    const root = tmpfs('size=64m,nr_inodes=200000');
    let seed = 7;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < 1 + rnd(8); b++) {
        const d = `${root}/a${a}/b${b}`;
        fs.mkdirSync(d, { recursive: true });
        for (let c = 0; c < rnd(5); c++) {
          fs.mkdirSync(`${d}/c${c}`);
          for (let i = 0; i < rnd(400); i++) touch(`${d}/c${c}/magick-${(rnd(2 ** 30) * 7919).toString(36)}Q9z`);
        }
        for (let i = 0; i < rnd(60); i++) fs.writeFileSync(`${d}/sess_${rnd(2 ** 30).toString(16)}a1b2c3`, 'x'.repeat(i));
      }
    }
    fs.mkdirSync(`${root}/deep/${'x/'.repeat(60)}`, { recursive: true });
    fs.mkdirSync(`${root}/flat`);
    for (let i = 0; i < 5000; i++) touch(`${root}/flat/opam-${1000 + i}-${i * 31}`);
    tmpfs('size=1m', `${root}/a2/mnt`);
    touch(`${root}/a2/mnt/not-counted`);

    for (const stat of [false, true]) {
      const one = census(root, { stat, limit: 15 });
      const many = await censusParallel(root, { stat, limit: 15, threads: 3, alwaysShare: true });
      assert.deepEqual(summary(many), summary(one), `stat=${stat}`);
      assert.equal(many.totals.entries, findCount(root));
      assert.equal(many.totals.mountsSkipped, 1);
    }
  });

  test('hard links across threads are counted once in the totals', async () => {
    const root = tmpfs();
    for (let d = 0; d < 8; d++) {
      fs.mkdirSync(`${root}/d${d}`);
      for (let i = 0; i < 200; i++) touch(`${root}/d${d}/f${i}`);
    }
    fs.writeFileSync(`${root}/d0/shared`, 'abc');
    for (let d = 1; d < 8; d++) fs.linkSync(`${root}/d0/shared`, `${root}/d${d}/shared`);
    const one = census(root, { stat: true });
    const many = await censusParallel(root, { stat: true, threads: 2, alwaysShare: true });
    for (const r of [one, many]) {
      assert.equal(r.totals.hardLinks, 7);
      assert.equal(r.totals.inodes, r.totals.entries - 7);
      assert.equal(r.dirs[0]!.inodes, r.totals.inodes);
    }
    assert.equal(many.totals.bytes, one.totals.bytes); // the 3-byte file once, plus directory sizes
    assert.deepEqual(many.owners, one.owners);
  });
});
