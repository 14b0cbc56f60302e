// The agent's history (src/agent/history.ts) on real tmpfs mounts: what is recorded reads back,
// ages into 5-minute and hourly aggregates, carries reset flags, survives a reopen, and a full
// filesystem (no inode, no block left) neither throws nor loses the samples of the last hour.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import Database from 'libsql';
import { History, HistoryOpenError, type HistoryPoint } from '../src/agent/history.js';
import type { Sample } from '../src/agent/types.js';
import { cannotMount, tmpfs, unmountAll } from './helpers.js';

// SQLite puts temporary files in SQLITE_TMPDIR first: it must stay empty.
const SQLITE_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-history-sqlite-tmp-'));
process.env['SQLITE_TMPDIR'] = SQLITE_TMP;
after(() => {
  unmountAll();
  fs.rmSync(SQLITE_TMP, { recursive: true, force: true });
});

const skip = cannotMount ?? false;
const T0 = 1_700_000_000 - (1_700_000_000 % 86400); // midnight UTC

interface M { mp: string; used: number; files?: number; mountId?: number; bytes?: number; error?: boolean }
function sample(t: number, mounts: M[], o: { boot?: string; watches?: number; watchLimit?: number; patterns?: Array<{ mp: string; pattern: string; files: number; orphans: number }> } = {}): Sample {
  return {
    t, bootId: o.boot ?? 'boot-1',
    mounts: mounts.map((m) => ({
      device: 'tmpfs', mountpoint: m.mp, fstype: 'tmpfs',
      files: m.error ? null : m.files ?? 100_000, filesFree: m.error ? null : (m.files ?? 100_000) - m.used,
      sizeBytes: m.error ? null : 1 << 30, availBytes: m.error ? null : (1 << 30) - (m.bytes ?? 4096 * m.used),
      deviceError: m.error ?? false, tmpfs: { nrInodesPerGib: 100_000, inode64: true }, mountId: m.mountId ?? 40,
    })),
    users: [{ user: 'alice', uid: 1000, inotifyWatches: o.watches ?? 10, inotifyInstances: 2, fanotifyMarks: 0, epollWatches: 3 }],
    limits: { inotifyWatches: o.watchLimit ?? 8192, inotifyInstances: 128 },
    tables: [], patterns: (o.patterns ?? []).map((p) => ({ mountpoint: p.mp, pattern: p.pattern, files: p.files, orphans: p.orphans, owners: ['www-data'], producer: null })),
    idmappedCopies: [], findings: [], collectors: [{ collector: 'statfs', seconds: 0.01, success: true }],
  };
}
const strip = (ps: HistoryPoint[]): Array<[number, number, number | null, boolean]> => ps.map((p) => [p.t, p.used, p.limit, p.reset ?? false]);

/** Take every free inode (or, with `blocks`, every free block) of the tmpfs at `dir`; returns the fillers' directory. */
function fill(dir: string, blocks = false): string {
  const f = path.join(dir, 'filler');
  fs.mkdirSync(f);
  if (blocks) {
    const fd = fs.openSync(path.join(f, 'big'), 'w'), page = Buffer.alloc(4096, 1);
    try { for (;;) fs.writeSync(fd, page); } catch (e) { assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC'); } finally { fs.closeSync(fd); }
    assert.equal(fs.statfsSync(dir).bfree, 0);
  } else {
    try { for (let i = 0; ; i++) fs.closeSync(fs.openSync(path.join(f, String(i)), 'w')); } catch (e) { assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC'); }
    assert.equal(fs.statfsSync(dir).ffree, 0);
  }
  return f;
}

describe('history', { skip }, () => {
  test('records and reads back every series; makes its directory 0750 and its file 0640', () => {
    const dir = tmpfs('size=16m,nr_inodes=1000');
    const file = path.join(dir, 'var/lib/enospc/history.db');
    const h = History.open(file, { latestEverySeconds: 0 });
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o750);
    const last = sample(T0 + 9 * 15, [{ mp: '/a', used: 19 }], { patterns: [{ mp: '/a', pattern: 'magick-*', files: 9, orphans: 4 }] });
    for (let i = 0; i < 10; i++) h.record(i === 9 ? last : sample(T0 + i * 15, [{ mp: '/a', used: 10 + i }, { mp: '/b', used: 5 }], { watches: 100 + i }));
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    const inodes = h.series('inodes', '/a', 0);
    assert.deepEqual(strip(inodes), Array.from({ length: 10 }, (_, i) => [T0 + i * 15, 10 + i, 100_000, i === 0]));
    assert.deepEqual(strip(h.series('blocks', '/a', T0 + 100)).map((p) => p[1]), [4096 * 17, 4096 * 18, 4096 * 19]);
    assert.equal(h.series('blocks', '/a', 0)[0]!.limit, 1 << 30);
    assert.deepEqual(h.series('inotify_watches', 'alice', 0, T0 + 30).map((p) => [p.used, p.limit]), [[100, 8192], [101, 8192], [102, 8192]]);
    assert.equal(h.series('inotify_instances', 'alice', 0).length, 10);
    assert.deepEqual(strip(h.series('pattern', '/a:magick-*', 0)), [[T0 + 135, 9, 100_000, true]]);
    assert.deepEqual(h.series('pattern_orphans', '/a:magick-*', 0).map((p) => p.used), [4]);
    assert.equal(h.series('inodes', '/b', 0).length, 9, '/b is not in the last sample');
    assert.deepEqual(h.series('inodes', '/nowhere', 0), []);
    assert.deepEqual(h.targets(), [
      { resource: 'blocks', target: '/a' }, { resource: 'blocks', target: '/b' }, { resource: 'inodes', target: '/a' },
      { resource: 'inodes', target: '/b' }, { resource: 'inotify_watches', target: 'alice' }, { resource: 'pattern', target: '/a:magick-*' },
    ]);
    assert.deepEqual(h.latest(), last);
    assert.equal(h.writeErrors, 0);
    h.close();
    assert.equal(fs.statSync(file + '-wal').size, 0, 'everything is in the main file after close');
  });

  test('raw points for 48 h, then 5-minute aggregates, then hourly ones; a series with nothing left goes', () => {
    const dir = tmpfs('size=64m,nr_inodes=1000');
    const h = History.open(path.join(dir, 'h.db'));
    const N = 4 * 5760, used = (i: number): number => 1000 + i + ((i * 7919) % 13) * 5; // 4 days, every 15 s
    for (let i = 0; i < N; i++) {
      h.record(sample(T0 + i * 15, [{ mp: '/a', used: used(i) }]));
      if (i % 20 === 19) assert.ok(h.compact(T0 + i * 15 + 1));
    }
    const now = T0 + N * 15;
    const all = h.series('inodes', '/a', 0);
    const raw = all.filter((p) => p.span === undefined), agg = all.filter((p) => p.span === 300);
    assert.equal(raw.length + agg.length, all.length);
    assert.ok(raw[0]!.t >= now - 48 * 3600 - 3600 && raw[0]!.t <= now - 48 * 3600, 'raw from 48 h back (to the hour)');
    assert.deepEqual(raw.map((p) => p.used), raw.map((p) => used((p.t - T0) / 15)), 'raw points exact');
    assert.equal(agg.length, (raw[0]!.t - T0) / 300);
    for (const p of agg) {
      const k = Math.floor(p.t / 300) * 300, vs = Array.from({ length: 20 }, (_, j) => used((k - T0) / 15 + j));
      assert.deepEqual([p.t, p.used, p.min, p.max], [k + 285, vs[19], Math.min(...vs), Math.max(...vs)]);
    }
    assert.equal(agg[0]!.reset, true, 'the first bucket keeps the reset of the first point');
    assert.equal(all.filter((p) => p.reset).length, 1);

    // 95 days later: the 4 days are older than 90 days, hourly now
    const later = T0 + 95 * 86400;
    h.record(sample(later, [{ mp: '/a', used: 5 }, { mp: '/new', used: 1 }]));
    assert.ok(h.compact(later + 3600));
    const hourly = h.series('inodes', '/a', 0, later - 1);
    assert.equal(hourly.length, 96);
    for (const p of hourly) {
      const k = Math.floor(p.t / 3600) * 3600, vs = Array.from({ length: 240 }, (_, j) => used((k - T0) / 15 + j));
      assert.deepEqual([p.span, p.t, p.used, p.min, p.max], [3600, k + 3585, vs[239], Math.min(...vs), Math.max(...vs)]);
    }
    assert.deepEqual(h.series('inodes', '/a', later).map((p) => [p.used, p.reset]), [[5, undefined]]);
    // past the 2 years of hourly points, and the series with it
    assert.ok(h.compact(T0 + 900 * 86400));
    assert.deepEqual(h.series('inodes', '/a', 0), []);
    assert.deepEqual(h.targets(), []);
    h.close();
  });

  test('reset flags: a new boot ID, a new mount ID, a changed limit; not a reopen', () => {
    const dir = tmpfs('size=16m,nr_inodes=1000');
    const file = path.join(dir, 'h.db');
    let h = History.open(file);
    const pat = (files: number): { patterns: Array<{ mp: string; pattern: string; files: number; orphans: number }> } => ({ patterns: [{ mp: '/a', pattern: 'sess_*', files, orphans: 0 }] });
    const steps: Array<() => Sample> = [
      () => sample(T0, [{ mp: '/a', used: 1 }, { mp: '/b', used: 1 }], pat(1)),
      () => sample(T0 + 15, [{ mp: '/a', used: 2 }, { mp: '/b', used: 2 }], pat(2)),
      () => sample(T0 + 30, [{ mp: '/a', used: 3, mountId: 41 }, { mp: '/b', used: 3 }], pat(3)), // /a remounted
      () => sample(T0 + 45, [{ mp: '/a', used: 4, mountId: 41 }, { mp: '/b', used: 4, files: 200_000 }], { ...pat(4), watchLimit: 65536 }), // /b limit, inotify limit
      () => sample(T0 + 60, [{ mp: '/a', used: 5, mountId: 41 }, { mp: '/b', used: 5, files: 200_000, error: true }], { ...pat(5), watchLimit: 65536 }), // /b no figures
      () => sample(T0 + 75, [{ mp: '/a', used: 6, mountId: 41 }, { mp: '/b', used: 6, files: 200_000 }], { ...pat(6), watchLimit: 65536, boot: 'boot-2' }),
    ];
    steps.forEach((s, i) => {
      h.record(s());
      if (i === 3) { h.close(); h = History.open(file); } // a restart is no new segment
    });
    h.record(sample(T0 + 90, [{ mp: '/a', used: 7, mountId: 41 }, { mp: '/b', used: 7, files: 200_000 }], { ...pat(7), boot: 'boot-2' })); // the inotify limit back
    const resets = (r: 'inodes' | 'blocks' | 'inotify_watches' | 'pattern', t: string): number[] => h.series(r, t, 0).filter((p) => p.reset).map((p) => (p.t - T0) / 15);
    assert.deepEqual(resets('inodes', '/a'), [0, 2, 5]);
    assert.deepEqual(resets('blocks', '/a'), [0, 2, 5]);
    assert.deepEqual(resets('pattern', '/a:sess_*'), [0, 2, 5]);
    assert.deepEqual(resets('inodes', '/b'), [0, 3, 5]);
    assert.deepEqual(resets('blocks', '/b'), [0, 5], 'the size did not change');
    assert.deepEqual(h.series('inodes', '/b', 0).map((p) => p.used), [1, 2, 3, 4, 6, 7], 'no point while statfs failed');
    assert.deepEqual(resets('inotify_watches', 'alice'), [0, 3, 5, 6]);
    h.close();
  });

  test('reopened, it has what it had: sealed chunks, recent rows, the latest sample', () => {
    const dir = tmpfs('size=16m,nr_inodes=1000');
    const file = path.join(dir, 'h.db');
    let h = History.open(file);
    for (let i = 0; i < 600; i++) {
      h.record(sample(T0 + i * 15, [{ mp: '/a', used: i * 3 }], { watches: i % 50 }));
      if (i % 20 === 19) h.compact(T0 + i * 15 + 1);
    }
    const before = [h.series('inodes', '/a', 0), h.series('inotify_watches', 'alice', 0), h.targets(), h.latest()];
    h.close();
    h = History.open(file);
    assert.deepEqual([h.series('inodes', '/a', 0), h.series('inotify_watches', 'alice', 0), h.targets(), h.latest()], before);
    assert.equal(h.series('inodes', '/a', 0).length, 600);
    h.record(sample(T0 + 600 * 15, [{ mp: '/a', used: 1 }]));
    assert.equal(h.series('inodes', '/a', T0 + 600 * 15)[0]!.reset, undefined);
    h.close();
  });

  test('no free inode left for a new database: no throw, samples wait in memory, written once inodes are free', () => {
    const dir = tmpfs('size=16m,nr_inodes=200');
    const file = path.join(dir, 'enospc/history.db');
    fs.mkdirSync(path.dirname(file));
    const filler = fill(dir);
    let h = History.open(file);
    assert.equal(h.connected, false);
    for (let i = 0; i < 5; i++) assert.doesNotThrow(() => h.record(sample(T0 + i * 15, [{ mp: '/a', used: i }])));
    assert.equal(h.writeErrors, 5);
    assert.equal(h.queued, 5);
    assert.match(h.lastWriteError ?? '', /ENOSPC/);
    assert.deepEqual(h.series('inodes', '/a', 0).map((p) => p.used), [0, 1, 2, 3, 4], 'waiting samples are read too');
    assert.deepEqual(h.targets().map((s) => s.target), ['/a', '/a', 'alice']);
    assert.equal(h.latest()!.t, T0 + 4 * 15);
    assert.equal(h.compact(T0 + 3600), false, 'compact does not throw either');
    fs.rmSync(filler, { recursive: true });
    h.record(sample(T0 + 5 * 15, [{ mp: '/a', used: 5 }]));
    assert.deepEqual([h.connected, h.queued, h.writeErrors], [true, 0, 6]);
    assert.deepEqual(h.series('inodes', '/a', 0).map((p) => p.used), [0, 1, 2, 3, 4, 5]);
    h.close();
    h = History.open(file);
    assert.deepEqual(h.series('inodes', '/a', 0).map((p) => p.used), [0, 1, 2, 3, 4, 5]);
    assert.equal(h.latest()!.t, T0 + 5 * 15);
    h.close();
  });

  test('no free inode left for an existing database: its files exist, writing goes on (also after a reopen)', () => {
    const dir = tmpfs('size=16m,nr_inodes=200');
    const file = path.join(dir, 'h.db');
    let h = History.open(file);
    h.record(sample(T0, [{ mp: '/a', used: 0 }]));
    fill(dir);
    for (let i = 1; i < 30; i++) h.record(sample(T0 + i * 15, [{ mp: '/a', used: i }]));
    assert.ok(h.compact(T0 + 3600));
    h.close();
    h = History.open(file);
    h.record(sample(T0 + 3600, [{ mp: '/a', used: 30 }]));
    assert.deepEqual([h.writeErrors, h.queued, h.series('inodes', '/a', 0).length], [0, 0, 31]);
    h.close();
  });

  test('no free block left: no throw, samples wait in memory, written once space is freed', () => {
    const dir = tmpfs('size=2m,nr_inodes=1000');
    const file = path.join(dir, 'h.db');
    let h = History.open(file);
    for (let i = 0; i < 3; i++) h.record(sample(T0 + i * 15, [{ mp: '/a', used: i }]));
    assert.ok(h.compact(T0 + 46)); // checkpoint: the WAL is truncated, the next write must grow it
    const filler = fill(dir, true);
    for (let i = 3; i < 8; i++) assert.doesNotThrow(() => h.record(sample(T0 + i * 15, [{ mp: '/a', used: i }])));
    assert.equal(h.writeErrors, 5);
    assert.equal(h.queued, 5);
    assert.match(h.lastWriteError ?? '', /SQLITE_FULL|full/);
    assert.equal(h.compact(T0 + 7200), false, 'compact does not throw either');
    assert.deepEqual(h.series('inodes', '/a', 0).map((p) => p.used), [0, 1, 2, 3, 4, 5, 6, 7]);
    fs.rmSync(filler, { recursive: true });
    h.record(sample(T0 + 8 * 15, [{ mp: '/a', used: 8 }]));
    assert.deepEqual([h.queued, h.writeErrors], [0, 6]);
    h.close();
    h = History.open(file);
    assert.deepEqual(h.series('inodes', '/a', 0).map((p) => p.used), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    h.close();
  });

  test('at most the last hour waits in memory', () => {
    const dir = tmpfs('size=16m,nr_inodes=200');
    const file = path.join(dir, 'd/h.db');
    const filler = fill(dir);
    const h = History.open(file);
    for (let i = 0; i < 400; i++) h.record(sample(T0 + i * 15, [{ mp: '/a', used: i }]));
    assert.equal(h.queued, 241);
    fs.rmSync(filler, { recursive: true });
    h.record(sample(T0 + 400 * 15, [{ mp: '/a', used: 400 }]));
    const ps = h.series('inodes', '/a', 0);
    assert.deepEqual([ps.length, ps[0]!.used, ps[0]!.reset], [241, 160, true], 'the first reset is carried to the first kept');
    h.close();
  });

  test('an unusable path is a HistoryOpenError', () => {
    const ro = tmpfs('size=1m');
    execFileSync('mount', ['-o', 'remount,ro', ro]);
    assert.throws(() => History.open(path.join(ro, 'enospc/history.db')), (e: unknown) =>
      e instanceof HistoryOpenError && /^cannot open the history database .*enospc\/history\.db: .*(read-only|EROFS)/i.test(e.message));
    const dir = tmpfs('size=1m');
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    assert.throws(() => History.open(path.join(dir, 'file/history.db')), HistoryOpenError);
    fs.writeFileSync(path.join(dir, 'junk.db'), 'not a database, but long enough to have a header of a hundred bytes '.repeat(3));
    assert.throws(() => History.open(path.join(dir, 'junk.db')), /not a database/);
    History.open(path.join(dir, 'new.db')).close();
    const db = new Database(path.join(dir, 'new.db'));
    db.exec('UPDATE schema_version SET version = 99');
    db.close();
    assert.throws(() => History.open(path.join(dir, 'new.db')), /new\.db: written by another enospc \(schema version 99; this one knows 1\)$/);
  });

  test('readOnly: reads what the writer wrote (its WAL too), creates and writes nothing, and opens nothing that is not a history', () => {
    const dir = tmpfs('size=4m');
    const file = path.join(dir, 'h.db');
    const w = History.open(file);
    for (let i = 0; i < 5; i++) w.record(sample(T0 + i * 15, [{ mp: '/a', used: 10 + i }]));
    const listing = fs.readdirSync(dir).sort();
    assert.deepEqual(listing, ['h.db', 'h.db-shm', 'h.db-wal'], 'the writer open, its samples in the WAL');
    const r = History.open(file, { readOnly: true });
    assert.deepEqual(r.series('inodes', '/a', 0).map((p) => p.used), [10, 11, 12, 13, 14]);
    r.record(sample(T0 + 600, [{ mp: '/a', used: 99 }]));
    assert.equal(r.compact(T0 + 7200), false);
    r.close();
    assert.deepEqual(fs.readdirSync(dir).sort(), listing);
    w.close();
    // the writer gone and its WAL checkpointed: the main file alone, opened without -wal or -shm
    const alone = path.join(tmpfs('size=4m'), 'h.db');
    fs.copyFileSync(file, alone);
    const before = fs.statSync(alone).mtimeMs;
    const a = History.open(alone, { readOnly: true });
    assert.deepEqual(a.series('inodes', '/a', 0).map((p) => p.used), [10, 11, 12, 13, 14]);
    assert.deepEqual(a.targets().map((t) => t.resource), ['blocks', 'inodes', 'inotify_watches']);
    a.close();
    assert.deepEqual(fs.readdirSync(path.dirname(alone)), ['h.db']);
    assert.equal(fs.statSync(alone).mtimeMs, before);
    const none = path.join(dir, 'none/h.db');
    assert.throws(() => History.open(none, { readOnly: true }), (e: unknown) => e instanceof HistoryOpenError && /ENOENT/.test(e.reason));
    assert.equal(fs.existsSync(path.dirname(none)), false);
    fs.writeFileSync(path.join(dir, 'junk.db'), 'x'.repeat(200));
    assert.throws(() => History.open(path.join(dir, 'junk.db'), { readOnly: true }), /not an SQLite database/);
    const other = path.join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE t(x)');
    db.close();
    assert.throws(() => History.open(other, { readOnly: true }), /not an enospc history/);
  });

  test('no temporary files (SQLITE_TMPDIR stays empty)', () => {
    assert.deepEqual(fs.readdirSync(SQLITE_TMP), []);
    assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('etilqs_')), []);
  });
});
