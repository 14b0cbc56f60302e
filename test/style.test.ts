// docs/style.md, as a person sees it: durations, ages, truncation, plurals, and each command's
// table headers in the one order (count first, then share, the thing, where).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { ageOf, elapsed, middle, span } from '../src/shared/units.js';
import { cannotMount, enospc, tmpfs, unmountAll } from './helpers.js';

test('durations, run times, ages and shortened text', () => {
  assert.deepEqual([0, 45, 59.4, 60, 720, 3600, 12_000, 86_400, 187_200, 30 * 86_400].map(span),
    ['0 s', '45 s', '59 s', '1 min', '12 min', '1 h', '3 h 20 min', '24 h', '2 d 4 h', '30 d']);
  assert.deepEqual([3, 99, 400, 4_200, 59_000, 125_000].map(elapsed), ['3 ms', '99 ms', '0.4 s', '4.2 s', '59.0 s', '2 min']);
  const now = Date.UTC(2026, 10, 29) / 1000;
  assert.equal(ageOf(3 * 86400, now), '3 d');
  assert.equal(ageOf(now, now), '1970-01-01', 'an age past 30 days is a date, not 17134d');
  assert.equal(middle('abcdefghij', 7), 'abc…hij');
  assert.equal(middle('short', 7), 'short');
  assert.equal([...middle('é'.repeat(100), 9)].length, 9);
});

describe('each command\'s table, rendered', { skip: cannotMount ?? false }, () => {
  after(() => unmountAll());

  test('top: COUNT SHARE PATTERN ... WHERE; a 200-character name shortened in the middle; ages as dates past 30 days', () => {
    const dir = tmpfs('size=1m,nr_inodes=200');
    for (let i = 0; i < 5; i++) fs.writeFileSync(`${dir}/magick-${String(i).padStart(8, '0')}`, '');
    const long = 'L'.repeat(100) + 'M'.repeat(100);
    fs.writeFileSync(`${dir}/${long}`, '');
    fs.utimesSync(`${dir}/${long}`, 0, 0);
    const plain = enospc(['top', dir]).stdout;
    assert.match(plain, /^ {2}COUNT {2}SHARE {2}PATTERN +WHERE$/m);
    const r = enospc(['top', dir, '--stat']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}COUNT +SHARE +PATTERN +BYTES +EMPTY +OWNER +OLDEST +NEWEST +WHERE$/m);
    assert.match(r.stdout, /scanned \S+: 7 entries \(6 files, 1 dir, 0 symlinks, 0 other\) in \d+ ms/);
    const row = r.stdout.split('\n').find((l) => l.includes('LLLL'))!;
    assert.match(row, /L{30}…M{29}\b/, row);
    assert.ok(row.length < 160, `a row of ${row.length} characters`);
    assert.match(row, /1970-01-01/);
    assert.ok(r.stdout.split('\n').every((l) => l.length < 200), 'no 600-character line');
  });

  test('top --cross-mounts: every filesystem crossed has its inode figures in the header', () => {
    const dir = tmpfs('size=1m,nr_inodes=300');
    fs.mkdirSync(`${dir}/inner`);
    tmpfs('size=1m,nr_inodes=77', `${dir}/inner`);
    const r = enospc(['top', dir, '--cross-mounts']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /inodes {2}\d+ used of 300 /);
    assert.match(r.stdout, new RegExp(`^${dir}/inner \\(tmpfs`, 'm'));
    assert.match(r.stdout, /inodes {2}1 used of 77 /);
  });

  test('clean: COUNT PATTERN BYTES EXAMPLES, and "1 entry (1 file, 0 directories)"', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    fs.writeFileSync(`${dir}/magick-00000001`, '');
    const r = enospc(['clean', dir, '--match', 'magick-*']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^would remove 1 entry \(1 file, 0 directories, 0 B\) in \d+ ms$/m);
    assert.match(r.stdout, /^COUNT {2}PATTERN {3}BYTES {2}EXAMPLES$/m);
  });

  test('inotify: watches and instances both as N (P%)', async () => {
    const holder = spawn('python3', ['-c', 'import ctypes,sys,time; l=ctypes.CDLL(None); fd=l.inotify_init1(0); l.inotify_add_watch(fd, b"/", 2); print("ready", flush=True); time.sleep(60)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((r) => holder.stdout!.once('data', r));
      const r = enospc(['inotify']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^USER +WATCHES +INSTANCES +FAN MARKS +EPOLL +PROCESSES$/m);
      const root = r.stdout.split('\n').find((l) => /^root /.test(l))!;
      assert.match(root, /^root +[\d,]+ \([\d.]+%\) +[\d,]+ \([\d.]+%\) /, root);
      assert.match(r.stdout, /^root: (at least )?[\d,]+ of [\d,]+ watches \([\d.]+%\), [\d,]+ of [\d,]+ instances \([\d.]+%\)/m);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
