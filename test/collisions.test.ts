// Inode numbers shared by distinct live files (case 003), told apart from hard links. A real
// FUSE filesystem (test/fixtures/collide-fs.py, Debian's python3-fusepy, mounted with use_ino)
// reports two regular files with one inode number, two files that both claim nlink 2 with one
// number but differ, a pair that collides across two subtrees (two threads of a parallel
// census), two hard-linked files (two names each) that share one number, beside true hard
// links (three names of one file, and two in different subtrees).
// The reference for counts: GNU find, distinct (inode, ctime, size, mode, owner) tuples.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InodeSet } from '../src/scan/inode-set.js';
import { numbersMayRepeat } from '../src/scan/collisions.js';
import { census } from '../src/scan/census.js';
import { censusParallel } from '../src/scan/parallel.js';
import { History } from '../src/agent/history.js';
import type { Forecast, Sample } from '../src/agent/types.js';
import type { Finding } from '../src/checks/types.js';
import { doctorHuman } from '../src/report/doctor.js';
import { cannotMount, enospc, tmpfs, touch, unmountAll } from './helpers.js';

const FIXTURE = new URL('../../test/fixtures/collide-fs.py', import.meta.url).pathname;
const PYTHON = '/usr/bin/python3';

/** Why the FUSE fixture cannot run here, or undefined. */
const noFuse: string | undefined = (() => {
  if (cannotMount) return cannotMount;
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse';
  if (spawnSync(PYTHON, ['-c', 'import fusepy'], { stdio: 'ignore' }).status !== 0) return 'no python3-fusepy for /usr/bin/python3';
  return undefined;
})();

describe('InodeSet', () => {
  test('agrees with a Set over a million numbers, 32-bit and then 64-bit', () => {
    const set = new InodeSet(), ref = new Set<number>();
    let seed = 12345;
    const next = (max: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + Math.floor((seed / 2 ** 31) * max);
    };
    for (let i = 0; i < 1_000_000; i++) {
      // sequential runs (tmpfs hands numbers out in order) and random ones, some repeated
      const ino = i % 3 === 0 ? 1000 + i : next(i < 600_000 ? 2 ** 32 - 1 : 2 ** 40);
      assert.equal(set.add(ino), ref.has(ino));
      ref.add(ino);
    }
    assert.equal(set.size, ref.size);
    for (const ino of [1000, 1003, 2 ** 32 + 5, 7]) assert.equal(set.has(ino), ref.has(ino));
    assert.deepEqual([...set.values()].sort((a, b) => a - b), [...ref].sort((a, b) => a - b));
    assert.equal(set.add(0), false, 'zero is no inode number');
  });

  test('numbersMayRepeat: tmpfs without inode64 and FUSE; not overlayfs (its layers have devices of their own)', () => {
    assert.equal(numbersMayRepeat({ fstype: 'tmpfs', superOptions: 'rw,size=1024k' }), true);
    assert.equal(numbersMayRepeat({ fstype: 'tmpfs', superOptions: 'rw,size=1024k,inode64' }), false);
    assert.equal(numbersMayRepeat({ fstype: 'fuse.sshfs', superOptions: 'rw,user_id=0' }), true);
    assert.equal(numbersMayRepeat({ fstype: 'overlay', superOptions: 'rw,lowerdir=/a' }), false);
    assert.equal(numbersMayRepeat({ fstype: 'ext4', superOptions: 'rw' }), false);
  });
});

describe('colliding inode numbers on a FUSE filesystem', { skip: noFuse ?? false }, () => {
  let dir = '';
  let server: ChildProcess | null = null;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-collide-'));
    server = spawn(PYTHON, [FIXTURE, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => {
      let out = '';
      server!.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      server!.on('exit', () => resolve(out.trim() || 'exited'));
    });
    assert.equal(line, 'ready');
  });
  after(() => {
    spawnSync('umount', ['-l', dir]);
    server?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What GNU find says: entries, and distinct inodes by what a hard link shares. */
  function reference(): { entries: number; inodes: number } {
    const lines = execFileSync('find', [dir, '-xdev', '-printf', '%i %C@ %s %m %U\n'], { encoding: 'utf8' }).trim().split('\n');
    return { entries: lines.length, inodes: new Set(lines).size };
  }
  const pairs = (list: Array<{ ino: number; files: Array<{ path: string }> }>) =>
    list.map((c) => `${c.ino}: ${c.files.map((f) => path.relative(dir, f.path)).join(' ')}`);
  const EXPECTED = ['4242: a/one.cache b/two.cache', '7777: c/p c/q', '8888: spread/s0/m spread/s3/m', '9000: twice/a twice/a2 twice/b twice/b2'];

  test('doctor reports exactly the colliding files as tmpfs.inode-collision (critical), not the hard links', () => {
    const j = enospc(['doctor', '--json', dir]);
    assert.equal(j.stderr, '');
    const json = JSON.parse(j.stdout) as { exitCode: number; findings: Array<{ id: string; severity: string; target: string; title: string; evidence: { collisions: { checked: string; inodes: number; list: Array<{ ino: number; files: Array<{ path: string; size: number; nlink: number; type: string; mtime: string }> }> } } }> };
    const hits = json.findings.filter((f) => f.id === 'tmpfs.inode-collision');
    assert.equal(hits.length, 1);
    const f = hits[0]!;
    assert.equal(f.severity, 'critical');
    assert.equal(f.target, dir);
    assert.equal(json.exitCode, 2);
    assert.equal(f.evidence.collisions.checked, 'all');
    assert.equal(f.evidence.collisions.inodes, 4);
    assert.deepEqual(pairs(f.evidence.collisions.list), EXPECTED);
    assert.deepEqual(f.evidence.collisions.list[0]!.files.map((x) => [x.size, x.nlink, x.type, x.mtime]), [[100, 1, 'file', '2023-11-14T22:13:30Z'], [2000, 1, 'file', '2023-11-14T22:13:40Z']]);

    const h = enospc(['doctor', dir]);
    assert.equal(h.status, 2);
    const out = h.stdout;
    assert.match(out, new RegExp(`^CRITICAL tmpfs.inode-collision ${dir}: 4 inode numbers shared by distinct live files: ${dir}/a/one.cache and ${dir}/b/two.cache are both inode 4242$`, 'm'));
    assert.ok(out.includes(`    inode 4242:\n      ${dir}/a/one.cache (file, 100 B, modified 2023-11-14T22:13:30Z, 1 link)\n      ${dir}/b/two.cache (file, 2.0 KiB, modified 2023-11-14T22:13:40Z, 1 link)\n`), out);
    assert.ok(out.includes(`      ${dir}/c/q (file, 20 B, modified 2023-11-14T22:14:01Z, 2 links)\n`), out);
    assert.match(out, new RegExp(`^ {4}names sharing a number count as one file only when nlink, ctime, size, mode and owner agree; every inode number under ${dir} was compared$`, 'm'));
    assert.match(out, /^ {4}fuse\.collide: the FUSE server gives these numbers \(use_ino\)$/m);
    assert.match(out, /^ {2}fix: In programs: never identify a file by \(device, inode number\) alone/m);
    assert.doesNotMatch(out, /links\/x|spread\/s1\/h/);
  });

  test('top --stat counts every file: hard links once, colliding files each (as find)', () => {
    const ref = reference();
    const j = enospc(['top', '--stat', '--json', dir]);
    assert.equal(j.stderr, '');
    const json = JSON.parse(j.stdout) as { totals: { entries: number; inodes: number; hardLinks: number; bytes: number }; collisions: { inodes: number; list: Array<{ ino: number; files: Array<{ path: string }> }> } };
    assert.equal(json.totals.entries, ref.entries);
    assert.equal(json.totals.inodes, ref.inodes);
    assert.equal(json.totals.hardLinks, 5, 'links/y, links/z, spread/s2/h, twice/a2 and twice/b2');
    // every byte of every distinct file: c/q's 20 bytes are not dropped as a hard link
    const bytes = execFileSync('find', [dir, '-xdev', '-printf', '%i %C@ %s %m %U\n'], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(json.totals.bytes, [...new Set(bytes)].reduce((a, l) => a + Number(l.split(' ')[2]), 0));
    assert.deepEqual(pairs(json.collisions.list), EXPECTED);

    const h = enospc(['top', '--stat', dir]);
    assert.match(h.stdout, /^ {2}5 extra hard links counted once: 32 inodes$/m);
    assert.match(h.stdout, /^ {2}4 inode numbers held by distinct files at once \(counted apart, not as hard links\):$/m);
    assert.ok(h.stdout.includes(`    inode 7777: ${dir}/c/p (file, 10 B, modified 2023-11-14T22:14:00Z, 2 links); ${dir}/c/q (file, 20 B, modified 2023-11-14T22:14:01Z, 2 links)\n`), h.stdout);

    // without --stat there are no inode numbers to compare: every name counts, as find
    const plain = JSON.parse(enospc(['top', '--json', dir]).stdout) as { collisions: unknown; totals: { entries: number } };
    assert.equal(plain.collisions, null);
    assert.equal(plain.totals.entries, ref.entries);
  });

  test('a parallel census finds the same (a pair split between threads)', async () => {
    const one = census(dir, { stat: true, collisions: true });
    for (let i = 0; i < 3; i++) {
      const two = await censusParallel(dir, { stat: true, collisions: true, threads: 2, alwaysShare: true });
      assert.deepEqual(two.totals, one.totals);
      assert.deepEqual(two.collisions, one.collisions);
    }
    // as on a filesystem whose numbers do not repeat (no index): a number is one file, whatever
    // differs between its names (it changed between two looks): c/q and twice/b, b2 are links
    const links = census(dir, { stat: true });
    assert.equal(links.collisionsIndexed, false);
    assert.deepEqual(links.collisions, { inodes: 0, more: false, list: [], partial: false });
    assert.equal(links.totals.hardLinks, 7);
  });

  test('the agent exports enospc_inode_collisions and the finding', () => {
    const db = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-collide-db-'));
    try {
      const r = enospc(['agent', '--once', '--db', path.join(db, 'h.db'), '--watch', dir, '--textfile', db]);
      assert.equal(r.status, 0, r.stderr);
      const text = fs.readFileSync(path.join(db, 'enospc.prom'), 'utf8');
      assert.match(text, new RegExp(`^enospc_inode_collisions\\{mountpoint="${dir}"\\} 4$`, 'm'));
      assert.match(text, new RegExp(`^enospc_finding\\{check="tmpfs.inode-collision",severity="critical",target="${dir}"\\} 1$`, 'm'));
      assert.match(text, /^# HELP enospc_inode_collisions /m);
    } finally {
      fs.rmSync(db, { recursive: true, force: true });
    }
  });
});

describe('hard links and 32-bit tmpfs numbers on a real tmpfs', { skip: cannotMount ?? false }, () => {
  after(unmountAll);

  test('hard links count once, nothing collides; doctor compares every tmpfs without inode64', () => {
    const mnt = tmpfs('size=4m,nr_inodes=1000');
    touch(path.join(mnt, 'a'));
    fs.linkSync(path.join(mnt, 'a'), path.join(mnt, 'b'));
    fs.linkSync(path.join(mnt, 'a'), path.join(mnt, 'c'));
    fs.writeFileSync(path.join(mnt, 'd'), 'x');
    const c = census(mnt, { stat: true, collisions: true });
    assert.equal(c.totals.hardLinks, 2);
    assert.equal(c.totals.inodes, 3);
    assert.deepEqual(c.collisions, { inodes: 0, more: false, list: [], partial: false });
    assert.ok(c.maxIno! > 0);
    // the default doctor run (no path) walks this healthy tmpfs for its numbers too
    const j = JSON.parse(enospc(['doctor', '--json']).stdout) as { findings: Array<{ id: string; target: string; evidence: { maxInodeSeen?: number | null; numbersLeft?: number | null } }> };
    const f = j.findings.find((x) => x.id === 'tmpfs.inode32' && x.target === mnt)!;
    assert.equal(f.evidence.maxInodeSeen, c.maxIno);
    assert.equal(f.evidence.numbersLeft, 2 ** 32 - c.maxIno!);
    assert.ok(!j.findings.some((x) => x.id === 'tmpfs.inode-collision' && x.target === mnt));
  });

  test('the agent exports the highest inode number, keeps it as a series past 2^31, and doctor says when the numbers wrap at that pace', () => {
    const mnt = tmpfs('size=4m,nr_inodes=1000');
    touch(path.join(mnt, 'x'));
    const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-wrap-db-'));
    try {
      const db = path.join(dbDir, 'h.db');
      // one real sample of this tmpfs: its numbers are far from 2^31, so no series is kept (it
      // starts past half of 2^32, INODE_NUMBERS_FROM), but the metric says the highest
      const r = enospc(['agent', '--once', '--db', db, '--watch', mnt, '--textfile', dbDir]);
      assert.equal(r.status, 0, r.stderr);
      let h = History.open(db);
      const targets = h.targets();
      h.close();
      assert.ok(!targets.some((t) => t.resource === 'inode_numbers'), JSON.stringify(targets));
      assert.match(fs.readFileSync(path.join(dbDir, 'enospc.prom'), 'utf8'), new RegExp(`^enospc_inode_number_max\\{mountpoint="${mnt}"\\} \\d+$`, 'm'));
      // then eight hours in which the counter went from 4.0e9 by 1e7 an hour (a busy tmpfs:
      // ~2,800 files created a second): doctor's tmpfs.inode32 finding says when they wrap
      const db2 = path.join(dbDir, 'h2.db');
      h = History.open(db2, { latestEverySeconds: 3600 });
      const now = Math.floor(Date.now() / 1000);
      for (let t = now - 8 * 3600; t <= now; t += 60) h.record(wrapSample(t, mnt, 4.0e9 + (1e7 * (t - now + 8 * 3600)) / 3600));
      h.close();
      const j = JSON.parse(enospc(['doctor', '--json', mnt, '--db', db2]).stdout) as { findings: Array<Finding & { forecast?: Forecast }>; forecasts: { now: number } };
      const f = j.findings.find((x) => x.id === 'tmpfs.inode32' && x.target === mnt)!;
      const fc = f.forecast!;
      assert.equal(fc.resource, 'inode_numbers');
      assert.equal(fc.state, "filling", JSON.stringify(fc));
      // (2^32 - 4.08e9) / 1e7 per hour = 21.5 h
      const hours = (fc.exhaustionAt! - j.forecasts.now) / 3600;
      assert.ok(hours > 20.5 && hours < 22.5, `${hours} h`);
      // as a person sees it on the warning (numbers near 2^32)
      const { forecast: _f, ...finding } = f;
      const warning = { ...finding, severity: 'warning' } as Finding;
      const out = doctorHuman({ host: { kernel: '', arch: '', hostname: '', node: '' }, mounts: [], findings: [warning], unknown: [], exitCode: 1, mountFacts: [], extraCensus: [] }, false,
        { source: db2, state: 'read', error: null, now: j.forecasts.now, caught: [], of: new Map([[warning, fc]]) });
      assert.match(out, /^ {4}at this rate, wraps in ~2\d h( \d+ min)? \(earliest \d+ h( \d+ min)?\)$/m);
      assert.match(out, /^ {4}trend \+10,000,000 inode numbers\/h/m);
    } finally {
      fs.rmSync(dbDir, { recursive: true, force: true });
    }
  });
});

/** An agent's sample of a 32-bit tmpfs whose highest inode number seen is `maxIno`. */
function wrapSample(t: number, mp: string, maxIno: number): Sample {
  return {
    t, bootId: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    mounts: [{ device: 'tmpfs', mountpoint: mp, fstype: 'tmpfs', files: 1000, filesFree: 998, sizeBytes: 4 << 20, availBytes: 4 << 20, deviceError: false, tmpfs: { nrInodesPerGib: 256_000, inode64: false }, mountId: 1 }],
    users: [], limits: { inotifyWatches: 8192, inotifyInstances: 128 }, tables: [], patterns: [],
    inodeNumbers: [{ mountpoint: mp, collisions: 0, maxIno: Math.round(maxIno), wraps: true }],
    idmappedCopies: [], findings: [], collectors: [],
  };
}
