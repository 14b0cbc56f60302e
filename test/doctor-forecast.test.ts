// enospc doctor with the agent's history (--db): a finding whose series is filling says when it
// is full at this rate. The mount is a real tmpfs past doctor's inode warning; the history is
// made with the History class from synthetic samples of that mount (as the agent records
// them), and the real CLI reads it. Doctor opens it read-only and creates nothing: not the
// database where there is none, not -wal or -shm files; a database that cannot be read (corrupt,
// locked, not a file) is one note, and never changes the exit status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'libsql';
import { History } from '../src/agent/history.js';
import { findingSeries } from '../src/agent/read.js';
import type { Sample } from '../src/agent/types.js';
import type { CheckContext, Finding } from '../src/checks/types.js';
import type { Forecast as ForecastType } from '../src/agent/types.js';
import type { DoctorForecasts } from '../src/agent/read.js';
import { CHECKS } from '../src/checks/index.js';
import { parseMountinfo } from '../src/probe/mounts.js';
import { hostFiles } from '../src/probe/host-files.js';
import { doctorHuman } from '../src/report/doctor.js';
import { cannotMount, enospc, tmpfs, touch, unmountAll } from './helpers.js';

const H = 3600, STEP = 30, NR_INODES = 1000, FILES = 920;
const dirs: string[] = [];
let history: History | null = null;
after(() => {
  history?.close();
  unmountAll();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-forecast-db-'));
  dirs.push(d);
  return d;
}

/** The agent's sample of the mount at `mp` at time t: `used` inodes of NR_INODES, space steady; a pattern of `files`. */
function sample(t: number, mp: string, used: number, files: number): Sample {
  return {
    t, bootId: 'boot-1',
    mounts: [{
      device: 'tmpfs', mountpoint: mp, fstype: 'tmpfs', files: NR_INODES, filesFree: NR_INODES - used,
      sizeBytes: 16 << 20, availBytes: (16 << 20) - 4096, deviceError: false, tmpfs: { nrInodesPerGib: 64_000, inode64: true }, mountId: 77,
    }],
    users: [], limits: { inotifyWatches: 8192, inotifyInstances: 128 }, tables: [],
    patterns: [{ mountpoint: mp, pattern: 'job-*.tmp', files, orphans: files, owners: ['root'], producer: null }],
    idmappedCopies: [], findings: [], collectors: [],
  };
}

interface Forecast { resource: string; target: string; state: string; exhaustionAt?: number; earliestAt?: number; slopePerSecond: number | null; spanSeconds: number; samples: number }
interface Json {
  exitCode: number;
  findings: Array<{ id: string; target: string; severity: string; forecast?: Forecast }>;
  unknown: Array<{ what: string; kind: string }>;
  forecasts: { source: string; state: string; error: string | null; now: number };
}

/**
 * The exit status doctor's findings and unknowns make: forecasts must not change it. (Compared
 * within one run: the per-user and kernel-table checks see the whole machine, where other tests
 * may hold inotify watches meanwhile.)
 */
function assertExit(status: number | null, j: Json): void {
  const worst = Math.max(0, ...j.findings.map((f) => (f.severity === 'critical' ? 2 : f.severity === 'warning' ? 1 : 0)));
  assert.equal(j.exitCode, worst || (j.unknown.some((u) => u.kind === 'failed') ? 3 : 0));
  assert.ok(j.exitCode >= 1 && status !== null && status >= 1, `the inode warning at least: ${status}, ${j.exitCode}`);
  assert.ok(j.unknown.every((u) => !/history|forecast/.test(u.what)), 'the history is no unknown');
}

function doctor(mnt: string, db?: string): { status: number | null; human: string; json: Json; ms: number } {
  const args = db === undefined ? [mnt] : [mnt, '--db', db];
  const t0 = Date.now();
  const human = enospc(['doctor', ...args]);
  const j = enospc(['doctor', '--json', ...args]);
  assert.equal(human.stderr, '', human.stderr);
  assert.equal(j.stderr, '', j.stderr);
  assertExit(human.status, JSON.parse(j.stdout) as Json);
  return { status: human.status, human: human.stdout, json: JSON.parse(j.stdout) as Json, ms: Date.now() - t0 };
}

const LINE = /^ {4}at this rate, full in ~(\d+) h(?: \d+ min)? \(earliest (\d+) (h|min)(?: \d+ min)?\)$/m;

/** The terminal says when the inodes of `mnt` are full (once), and the JSON has the forecast. */
function assertFilling(r: ReturnType<typeof doctor>, mnt: string, db: string): void {
  const m = LINE.exec(r.human);
  assert.ok(m, `no forecast line in:\n${r.human}`);
  assert.equal(r.human.match(/at this rate/g)!.length, 1, 'said once');
  const hours = Number(m[1]);
  // 79 inodes left at 15 an hour: about 5 h
  assert.ok(hours >= 3 && hours <= 8, `full in ~${hours} h`);
  assert.match(r.human, /^ {4}trend \+1\d inodes\/h( \(\+\d+\/h to \+\d+\/h\))?, judged on [\d,]+ samples over \d+ h(?: \d+ min)? of the agent's history$/m);
  assert.ok(Number(m[2]) <= hours || m[3] === 'min', 'the earliest is no later');
  assert.doesNotMatch(r.human, /no forecasts/);
  assert.deepEqual({ ...r.json.forecasts, now: 0 }, { source: db, state: 'read', error: null, now: 0, caught: [] });
  const f = r.json.findings.find((x) => x.id === 'inodes.full' && x.target === mnt)!;
  assert.equal(f.severity, 'warning');
  const fc = f.forecast!;
  assert.equal(fc.state, 'filling');
  assert.equal(fc.resource, 'inodes');
  assert.equal(fc.target, mnt);
  const left = (fc.exhaustionAt! - r.json.forecasts.now) / H;
  assert.ok(left > 3 && left < 8, `${left} h`);
  assert.ok(fc.earliestAt! <= fc.exhaustionAt!);
  assert.ok(Math.abs(fc.slopePerSecond! * H - 15) < 3, `${fc.slopePerSecond! * H}/h`);
  assert.ok(fc.spanSeconds >= 3 * H && fc.samples >= 100);
  // an info finding still carries its forecast in JSON (orphans: the pattern's series)
  const o = r.json.findings.find((x) => x.id === 'orphans');
  if (o) assert.equal(o.forecast?.target, `${mnt}:job-*.tmp`);
}

const skip = cannotMount ?? false;

describe('enospc doctor --db: forecasts from the agent\'s history', { skip }, () => {
  let mnt = '', live = '', dbDir = '';
  before(() => {
    // a tmpfs past the inode warning (under 10% free): 921 of 1000 used
    mnt = tmpfs(`size=16m,nr_inodes=${NR_INODES}`);
    const old = new Date(Date.now() - 3 * H * 1000);
    for (let i = 0; i < FILES; i++) {
      touch(path.join(mnt, `job-${i}.tmp`));
      fs.utimesSync(path.join(mnt, `job-${i}.tmp`), old, old);
    }
    // eight hours of history: 15 inodes an hour up to now (921 used), with a seeded jitter of a few
    dbDir = tempDir();
    live = path.join(dbDir, 'history.db');
    history = History.open(live, { latestEverySeconds: 3600 });
    const now = Math.floor(Date.now() / 1000), from = now - 8 * H, used = FILES + 1;
    let seed = 7;
    const jitter = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.round((seed / 2 ** 31 - 0.5) * 4);
    };
    for (let t = from; t <= now; t += STEP) {
      const u = Math.min(used, Math.round(used - 15 * (now - t) / H) + (t === now ? 0 : jitter()));
      history.record(sample(t, mnt, u, u - 1));
    }
  });

  test('the agent running: its WAL read through -wal and -shm; nothing added to its directory', () => {
    const files = fs.readdirSync(dbDir).sort();
    assert.deepEqual(files, ['history.db', 'history.db-shm', 'history.db-wal']);
    assertFilling(doctor(mnt, live), mnt, live);
    assert.deepEqual(fs.readdirSync(dbDir).sort(), files);
  });

  test('the agent stopped (no -wal): opened immutable, no -wal or -shm created; and in a read-only directory', () => {
    history!.close();
    history = null;
    const stopped = path.join(tempDir(), 'h.db');
    fs.copyFileSync(live, stopped); // checkpointed at close: the main file holds everything
    assertFilling(doctor(mnt, stopped), mnt, stopped);
    assert.deepEqual(fs.readdirSync(path.dirname(stopped)), ['h.db']);

    const ro = tmpfs('size=4m');
    fs.copyFileSync(live, path.join(ro, 'h.db'));
    execFileSync('mount', ['-o', 'remount,ro', ro]);
    assertFilling(doctor(mnt, path.join(ro, 'h.db')), mnt, path.join(ro, 'h.db'));
    assert.deepEqual(fs.readdirSync(ro), ['h.db']);
  });

  test('no database: nothing said, nothing created (neither at --db nor at the default path)', () => {
    const dir = path.join(tempDir(), 'var/lib/enospc'), db = path.join(dir, 'history.db');
    const r = doctor(mnt, db);
    assert.doesNotMatch(r.human, /at this rate|forecast/);
    assert.deepEqual(r.json.forecasts, { source: db, state: 'missing', error: null, now: r.json.forecasts.now, caught: [] });
    assert.ok(r.json.findings.every((f) => f.forecast === undefined));
    assert.equal(fs.existsSync(path.dirname(dir)), false, 'no directory made');

    const DEFAULT = '/var/lib/enospc/history.db';
    if (fs.existsSync(DEFAULT)) return; // an agent runs here: its database is not ours to check
    const parentBefore = fs.existsSync(path.dirname(DEFAULT));
    const d = doctor(mnt);
    assert.equal(d.json.forecasts.source, DEFAULT);
    assert.equal(d.json.forecasts.state, 'missing');
    assert.equal(fs.existsSync(DEFAULT), false);
    assert.equal(fs.existsSync(path.dirname(DEFAULT)), parentBefore);
  });

  test('a database that cannot be read: one note, the same exit status, never a hang', () => {
    const dir = tempDir();
    const garbage = path.join(dir, 'garbage.db');
    fs.writeFileSync(garbage, 'this is not a database\n'.repeat(100));
    const corrupt = path.join(dir, 'corrupt.db');
    fs.copyFileSync(live, corrupt);
    const fd = fs.openSync(corrupt, 'r+');
    fs.writeSync(fd, Buffer.alloc(4000, 0xa5), 0, 4000, 100); // the schema page, after the header
    fs.closeSync(fd);
    const fifo = path.join(dir, 'fifo.db');
    execFileSync('mkfifo', [fifo]);
    // another program's database in rollback mode, locked by this process for the test's length
    const locked = path.join(dir, 'locked.db');
    fs.copyFileSync(live, locked);
    const lock = new Database(locked);
    lock.exec('PRAGMA journal_mode = DELETE');
    lock.exec('BEGIN EXCLUSIVE; DELETE FROM events');
    const cases: Array<[string, RegExp]> = [
      [garbage, /not an SQLite database/],
      [corrupt, /malformed|corrupt|not a database/i],
      [fifo, /not a regular file/],
      [dir, /not a regular file/],
      [locked, /locked|busy/i],
    ];
    try {
      for (const [db, why] of cases) {
        const r = doctor(mnt, db);
        assert.ok(r.ms < 20_000, `${db}: ${r.ms} ms`);
        const notes = r.human.split('\n').filter((l) => /forecast/.test(l));
        assert.equal(notes.length, 1, `${db}:\n${r.human}`);
        assert.match(notes[0]!, new RegExp(`^no forecasts: the agent's history ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be read: `));
        assert.match(notes[0]!, why);
        assert.doesNotMatch(r.human, /at this rate/);
        assert.equal(r.json.forecasts.state, 'failed');
        assert.match(r.json.forecasts.error!, why);
        assert.ok(r.json.findings.every((f) => f.forecast === undefined));
      }
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), ['corrupt.db', 'fifo.db', 'garbage.db', 'locked.db'], 'no -wal, -shm or -journal made');
  });
});

describe('doctor\'s terminal report with forecasts', () => {
  const ext4 = parseMountinfo('27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard')[0]!;
  const vdb = parseMountinfo('28 1 254:16 / /srv rw,relatime - ext4 /dev/vdb rw')[0]!;
  const u = { blockSize: 4096, inodes: { total: 1000, free: 900, used: 100 }, blocks: { total: 1000, free: 80, avail: 80, used: 920 } };
  const ctx: CheckContext = { mounts: [{ mount: ext4, usage: u }, { mount: vdb, usage: u }], staleAfter: 3600, openFiles: null, host: hostFiles(), kernel: '6.1.0', arch: 'x64' };
  const findings = CHECKS.find((c) => c.id === 'blocks.full')!.run(ctx);
  const report = { host: { kernel: '', arch: '', hostname: '', node: '' }, mounts: [], findings, unknown: [], exitCode: 1, mountFacts: [], extraCensus: [] };
  const NOW = 1_800_000_000;
  const fc = (state: ForecastType['state'], target: string, more: Partial<ForecastType> = {}): ForecastType => ({
    resource: 'blocks', target, state, slopePerSecond: 1000, slopeLow: 800, slopeHigh: 1200, samples: 1440, spanSeconds: 6 * H, segmentStart: NOW - 6 * H, ...more,
  });
  const render = (of: Array<[number, ForecastType]>, state: DoctorForecasts['state'] = 'read', error: string | null = null) =>
    doctorHuman(report, false, { source: '/h.db', state, error, now: NOW, of: new Map(of.map(([i, f]) => [findings[i]!, f])), caught: [] });

  test('filling: when, with the trend in bytes and what it was judged on; nothing for the other states', () => {
    assert.equal(findings.length, 2);
    const out = render([[0, fc('filling', '/', { exhaustionAt: NOW + 30 * H, earliestAt: NOW + 20 * H })], [1, fc('not_growing', '/srv')]]);
    assert.match(out, /^WARNING blocks.full \/: .*\n {4}ext4: .*\n {4}at this rate, full in ~30 h \(earliest 20 h\)\n {4}trend \+3.4 MiB\/h \(\+2.7 MiB\/h to \+4.1 MiB\/h\), judged on 1,440 samples over 6 h of the agent's history$/m);
    assert.equal(out.match(/at this rate/g)!.length, 1, 'not_growing says nothing');
    assert.doesNotMatch(render([[0, fc('insufficient_data', '/', { needSamples: 5 })]]), /at this rate|enough/);
    assert.doesNotMatch(render([[0, fc('filling', '/', { exhaustionAt: NOW - 60, earliestAt: NOW - 60 })]]), /at this rate/, 'full already');
    assert.match(render([[0, fc('filling', '/', { exhaustionAt: NOW + 3 * 86400, earliestAt: NOW + 40 * 60 })]]), /at this rate, full in ~3 d \(earliest 40 min\)/);
    assert.match(render([[0, fc('filling', '/')]]), /at this rate, growing, to no limit known/);
  });

  test('one series, two findings: said once; a history that cannot be read: one note, and none when there is none', () => {
    const one = fc('filling', '/', { exhaustionAt: NOW + 5 * H, earliestAt: NOW + 4 * H });
    assert.equal(render([[0, one], [1, one]]).match(/at this rate/g)!.length, 1);
    const failed = render([], 'failed', 'SQLITE_BUSY: database is locked');
    assert.equal(failed.split('\n').filter((l) => /forecast/.test(l)).join('\n'), "no forecasts: the agent's history /h.db could not be read: SQLITE_BUSY: database is locked");
    assert.doesNotMatch(render([], 'missing'), /forecast|history/);
  });
});

describe('findingSeries: which series a finding is about', () => {
  const f = (id: string, target: string, evidence: Record<string, unknown> = {}) => ({ id, target, evidence }) as unknown as Finding;
  const mps = ['/', '/tmp', '/var/tmp'];
  test('mounts, users and patterns; none for what the agent does not forecast', () => {
    assert.deepEqual(findingSeries(f('inodes.full', '/tmp'), mps), { resource: 'inodes', target: '/tmp' });
    assert.deepEqual(findingSeries(f('tmpfs.nr-inodes-low', '/tmp'), mps), { resource: 'inodes', target: '/tmp' });
    for (const id of ['blocks.full', 'blocks.reserved', 'deleted-open']) assert.deepEqual(findingSeries(f(id, '/var/tmp'), mps), { resource: 'blocks', target: '/var/tmp' });
    assert.deepEqual(findingSeries(f('inotify.watches', 'alice', { user: 'alice', uid: 1000 }), mps), { resource: 'inotify_watches', target: 'alice' });
    assert.deepEqual(findingSeries(f('inotify.watches', '', { user: '', uid: 1234 }), mps), { resource: 'inotify_watches', target: '1234' });
    assert.deepEqual(findingSeries(f('orphans', '/var/tmp/cache/x', { pattern: 'magick-*' }), mps), { resource: 'pattern', target: '/var/tmp:magick-*' });
    assert.deepEqual(findingSeries(f('orphans', '/tmpfoo', { pattern: 'a-*' }), mps), { resource: 'pattern', target: '/:a-*' });
    assert.deepEqual(findingSeries(f('tmpfs.inode32', '/dev/shm'), mps), { resource: 'inode_numbers', target: '/dev/shm' });
    for (const id of ['inotify.instances', 'fanotify.marks', 'epoll.watches', 'ipc.sem', 'pty.count', 'tmpfs.inode-collision', 'ext4.dir-index', 'containers.idmapped-copies', 'imagemagick.pixel-cache']) {
      assert.equal(findingSeries(f(id, '/tmp'), mps), null, id);
    }
  });
});
