// enospc top against real tmpfs trees.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { census } from '../src/scan/census.js';
import { CLI, NOBODY, cannotMount, enospc, findCount, tmpfs, touch, unmountAll } from './helpers.js';

after(unmountAll);

const skip = cannotMount ?? false;

function randomTail(n: number): string {
  const abc = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += abc[Math.floor(Math.random() * abc.length)];
  return s;
}

describe('census of a known tree', { skip }, () => {
  test('exact counts by type, directory and pattern', () => {
    const root = tmpfs();
    fs.mkdirSync(`${root}/a/b/c`, { recursive: true });
    fs.mkdirSync(`${root}/tmp`);
    for (let i = 0; i < 300; i++) touch(`${root}/tmp/magick-${randomTail(8)}`);
    for (let i = 0; i < 25; i++) fs.mkdirSync(`${root}/tmp/opam-${1000 + i}-${200000 + i * 7}`);
    for (let i = 0; i < 40; i++) fs.writeFileSync(`${root}/a/sess_${(i * 7919 + 0x3f9a0c).toString(16)}a1b2c3`, 'x');
    for (let i = 0; i < 7; i++) touch(`${root}/a/b/c/f${i}.dat`);
    fs.symlinkSync('/etc', `${root}/a/link`);
    execFileSync('mkfifo', [`${root}/a/fifo`]);

    const r = census(root, { limit: 20 });
    const t = r.totals;
    assert.equal(t.entries, findCount(root));
    assert.equal(t.files, 300 + 40 + 7);
    assert.equal(t.dirs, 1 + 4 + 25); // root, a, a/b, a/b/c, tmp, 25 opam dirs
    assert.equal(t.symlinks, 1);
    assert.equal(t.other, 1);
    assert.equal(t.unreadable, 0);

    const count = (p: string) => r.patterns.find((x) => x.pattern.toString() === p)?.count;
    assert.equal(count('magick-*'), 300);
    assert.equal(count('opam-*'), 25);
    assert.equal(count('sess_*'), 40);
    assert.equal(count('f*.dat'), 7);
    const magick = r.patterns.find((x) => x.pattern.toString() === 'magick-*')!;
    assert.deepEqual(magick.topDirs.map((d) => [d.path.toString(), d.count]), [[`${root}/tmp`, 300]]);
    assert.equal(magick.files, 300);

    const dir = (p: string) => r.dirs.find((d) => d.path.toString() === p);
    assert.deepEqual({ ...dir(root), ino: undefined }, { path: Buffer.from(root), inodes: t.entries, direct: 2, ino: undefined });
    assert.equal(dir(`${root}/tmp`)?.inodes, 1 + 300 + 25);
    assert.equal(dir(`${root}/a`)?.inodes, 1 + 40 + 2 + 1 + 1 + 7); // a, sess_*, link+fifo, b, c, f*.dat
    assert.equal(r.dirsByDirect[0]!.path.toString(), `${root}/tmp`);
    assert.equal(r.dirsByDirect[0]!.direct, 325);
    assert.equal(r.stat, false);
    assert.equal(magick.bytes, null);
  });

  test('--stat adds bytes, empty files, owners, ages and counts hard links once', () => {
    const root = tmpfs();
    for (let i = 0; i < 50; i++) touch(`${root}/magick-${randomTail(8)}`, NOBODY);
    fs.writeFileSync(`${root}/data`, 'x'.repeat(1000));
    fs.linkSync(`${root}/data`, `${root}/data.1`);
    fs.linkSync(`${root}/data`, `${root}/data.2`);
    const old = new Date(Date.now() - 3 * 86400e3);
    fs.utimesSync(`${root}/data`, old, old);

    const r = census(root, { stat: true });
    assert.equal(r.totals.entries, 54);
    assert.equal(r.totals.hardLinks, 2);
    assert.equal(r.totals.inodes, 52);
    assert.equal(r.totals.bytes, 1000 + fs.statSync(root).size); // the file once, and the directory itself
    const magick = r.patterns.find((x) => x.pattern.toString() === 'magick-*')!;
    assert.equal(magick.count, 50);
    assert.equal(magick.zeroByte, 50);
    assert.equal(magick.bytes, 0);
    assert.deepEqual(magick.owners, [{ uid: NOBODY, count: 50 }]);
    assert.ok(magick.oldest! <= magick.newest!);
    assert.ok(Date.now() / 1000 - magick.newest! < 600);
    const owners = new Map(r.owners!.map((o) => [o.uid, o.count]));
    assert.equal(owners.get(NOBODY), 50);
    assert.equal(r.owners!.reduce((a, o) => a + o.count, 0), 52, 'every inode, the root included, has an owner');
    assert.equal(r.ages!.find((a) => a.label === '1d-7d')?.count, 1);
  });

  test('a symlink loop is not followed', () => {
    const root = tmpfs();
    fs.mkdirSync(`${root}/d`);
    fs.symlinkSync('..', `${root}/d/up`);
    fs.symlinkSync('loop2', `${root}/loop1`);
    fs.symlinkSync('loop1', `${root}/loop2`);
    fs.symlinkSync(root, `${root}/d/self`);
    const r = census(root);
    assert.equal(r.totals.entries, 6);
    assert.equal(r.totals.symlinks, 4);
    assert.equal(r.totals.dirs, 2);
  });

  test('a nested mount is not crossed, and is with crossMounts', () => {
    const root = tmpfs();
    fs.mkdirSync(`${root}/outer`);
    touch(`${root}/outer/x`);
    const inner = tmpfs('size=1m', `${root}/inner`);
    for (let i = 0; i < 10; i++) touch(`${inner}/f${i}`);
    const r = census(root);
    assert.equal(r.totals.entries, 4); // root, outer, outer/x, inner (the mount point itself)
    assert.equal(r.totals.mountsSkipped, 1);
    assert.equal(r.mountsSkipped[0]!.toString(), inner);
    assert.equal(r.totals.entries, findCount(root, true));
    const x = census(root, { crossMounts: true });
    assert.equal(x.totals.entries, 14);
    assert.equal(x.totals.mountsSkipped, 0);
  });

  test('a tree 5,000 levels deep, deeper than PATH_MAX', () => {
    const root = tmpfs();
    const cwd = process.cwd();
    try {
      process.chdir(root);
      for (let i = 0; i < 5000; i++) {
        fs.mkdirSync('d');
        process.chdir('d');
        if (i % 1000 === 999) touch(`f${i}`);
      }
    } finally {
      process.chdir(cwd);
    }
    for (const fdWindow of [undefined, 16]) {
      const r = census(root, fdWindow === undefined ? {} : { fdWindow });
      assert.equal(r.totals.dirs, 5001);
      assert.equal(r.totals.files, 5);
      assert.equal(r.totals.unreadable, 0);
      assert.equal(r.dirs[0]!.inodes, 5006);
    }
  });
});

describe('enospc top command', { skip }, () => {
  test('human output leads with the mount use and names the culprit pattern', () => {
    const root = tmpfs('size=16m,nr_inodes=2000');
    for (let i = 0; i < 1500; i++) touch(`${root}/magick-${randomTail(10)}`);
    const r = enospc(['top', root]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, new RegExp(`^${root} \\(tmpfs`));
    assert.match(lines[1]!, /inodes +1,501 used of 2,000 \(75%\), 499 free/);
    assert.match(lines[2]!, /space/);
    assert.match(r.stdout, /1,500 +100% +magick-\*/);
  });

  test('JSON has the documented shape', () => {
    const root = tmpfs();
    for (let i = 0; i < 20; i++) touch(`${root}/sess_${randomTail(26).toLowerCase()}1`);
    const r = enospc(['top', root, '--json', '--stat']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.root, root);
    assert.equal(j.mount.path, root);
    assert.equal(j.mount.fstype, 'tmpfs');
    for (const k of ['total', 'free', 'used']) assert.equal(typeof j.mount.inodes[k], 'number');
    for (const k of ['size', 'total', 'free', 'avail', 'used']) assert.equal(typeof j.mount.blocks[k], 'number');
    assert.deepEqual(Object.keys(j.totals).slice(0, 6), ['entries', 'files', 'dirs', 'symlinks', 'other', 'unreadable']);
    assert.deepEqual(j.dirs[0], { path: root, inodes: 21, direct: 20 });
    const p = j.patterns[0];
    assert.equal(p.pattern, 'sess_*');
    assert.equal(p.count, 20);
    assert.equal(p.bytes, 0);
    assert.equal(p.zeroByte, 20);
    assert.deepEqual(p.owners, [{ uid: 0, user: 'root', count: 20 }]);
    assert.match(p.oldest, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(p.dirs, [{ path: root, count: 20 }]);
    assert.equal(j.owners[0].user, 'root');
    assert.ok(Array.isArray(j.ages));
    assert.equal(typeof j.elapsedMs, 'number');
  });

  test('names with a newline and invalid UTF-8 are escaped, and JSON keeps the bytes', () => {
    const root = tmpfs();
    const bad = Buffer.concat([Buffer.from(`${root}/caf`), Buffer.from([0xe9]), Buffer.from('-dir')]);
    fs.mkdirSync(bad);
    for (let i = 0; i < 30; i++) touch(`${root}/line\nbreak${i}`);
    for (let i = 0; i < 40; i++) fs.closeSync(fs.openSync(Buffer.concat([bad, Buffer.from(`/x${i}`)]), 'w'));
    const h = enospc(['top', root]);
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stdout, /line\\nbreak\*/);
    assert.ok(h.stdout.includes(`${root}/caf\\xe9-dir`), h.stdout);
    for (const line of h.stdout.split('\n')) assert.ok(!line.startsWith('break'), 'a newline in a name split a line');

    const j = JSON.parse(enospc(['top', root, '--json']).stdout);
    const dir = j.dirs.find((d: { pathBase64?: string }) => d.pathBase64);
    assert.deepEqual(Buffer.from(dir.pathBase64, 'base64'), bad);
    assert.equal(dir.path, `${root}/caf\\xe9-dir`);
    const nl = j.patterns.find((p: { pattern: string }) => p.pattern.startsWith('line'));
    assert.equal(nl.pattern, 'line\nbreak*');
  });

  test('a mode-000 directory is counted as unreadable, exit 0', () => {
    const root = tmpfs();
    fs.mkdirSync(`${root}/open`);
    touch(`${root}/open/a`);
    fs.mkdirSync(`${root}/locked`);
    touch(`${root}/locked/hidden`);
    fs.chmodSync(`${root}/locked`, 0);
    const r = enospc(['top', root, '--json'], { uid: NOBODY });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.totals.unreadable, 1);
    assert.equal(j.totals.entries, 4);
    assert.deepEqual(j.unreadable, [{ path: `${root}/locked`, error: 'EACCES' }]);
    const h = enospc(['top', root], { uid: NOBODY });
    assert.match(h.stdout, /1 directories could not be read|1 directory could not be read/);
  });

  test('bad input: one line on stderr, exit 2', () => {
    const root = tmpfs();
    touch(`${root}/file`);
    fs.mkdirSync(`${root}/private`, { mode: 0o700 });
    const cases: Array<[string[], RegExp, number?]> = [
      [['top', `${root}/missing`], /missing: no such file or directory/],
      [['top', `${root}/file`], /file: not a directory/],
      [['top', '/proc'], /proc/],
      [['top', '/sys/kernel'], /sysfs/],
      [['top'], /missing required argument/],
      [['top', root, '--limit', 'many'], /--limit/],
      [['top', root, '--by', 'size'], /--by/],
      [['top', `${root}/private`], /private: permission denied/, NOBODY],
    ];
    for (const [args, re, uid] of cases) {
      const r = enospc(args, uid === undefined ? {} : { uid });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    }
  });

  test('a reader that stops early (| head) ends it quietly', () => {
    const r = spawnSync('sh', ['-c', `node ${CLI} top --help | head -1; node ${CLI} top /etc --by dirs -n 500 | head -1`], { encoding: 'utf8' });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.split('\n').length, 3);
  });

  test('--help and --version', () => {
    const v = enospc(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
    const h = enospc(['top', '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--cross-mounts/);
    const g = enospc(['--help']);
    assert.match(g.stdout, /top/);
  });
});
