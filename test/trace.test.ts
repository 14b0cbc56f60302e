// enospc trace against real processes making real files on a real tmpfs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { decodeFanotify, FAN_CLOSE_WRITE, FAN_CREATE, FAN_DELETE, FAN_ONDIR, FAN_RENAME, type FanEvent } from '../src/sys/fanotify.js';
import { decodeInotify, IN_MOVED_FROM, IN_MOVED_TO, type InEvent } from '../src/sys/inotify.js';
import { containerOf, cgroupOf, unitOf } from '../src/probe/procinfo.js';
import { Lifecycle } from '../src/trace/lifecycle.js';
import { drainQueued } from '../src/trace/drain.js';
import { FanotifySource } from '../src/trace/fanotify.js';
import { InotifySource } from '../src/trace/inotify.js';
import { pendingBytes } from '../src/sys/libc.js';
import type { Source, TraceEvent } from '../src/trace/types.js';
import type { TraceReport } from '../src/trace/summary.js';
import { cannotMount, CLI, enospc, NOBODY, tmpfs, unmountAll } from './helpers.js';
import { checkOutput } from './json-schema.js';

const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;
const CHURN = `${FIXTURES}/churn.mjs`;
const HOLDER = `${FIXTURES}/hold-watches.mjs`;
const WATCHES = '/proc/sys/fs/inotify/max_user_watches';
const children: ChildProcess[] = [];

test('the fanotify decoder reads a captured DFID_NAME buffer (mkdir, write, rename, unlink, rmdir)', () => {
  const buf = fs.readFileSync(`${FIXTURES}/fanotify-dfid-name.bin`);
  const events: FanEvent[] = [];
  assert.equal(decodeFanotify(buf, buf.length, (e) => events.push(e)), buf.length);
  const masks = events.map((e) => e.mask);
  // the kernel merged mkdir+rmdir of d, and create+close-write of a, into one event each
  assert.deepEqual(masks, [FAN_CREATE | FAN_DELETE | FAN_ONDIR, FAN_CREATE | FAN_CLOSE_WRITE, FAN_RENAME, FAN_DELETE]);
  assert.deepEqual(events.map((e) => e.name?.toString()), ['d', 'a', 'b', 'b']);
  assert.equal(events[2]!.oldName?.toString(), 'a');
  // a was made in d (whose handle the mkdir event gave as its child) and renamed to the root as b
  assert.equal(events[1]!.dir, events[0]!.child);
  assert.equal(events[2]!.oldDir, events[1]!.dir);
  assert.equal(events[2]!.dir, events[0]!.dir);
  assert.ok(events.every((e) => e.pid === events[0]!.pid && e.child !== null && e.dir !== null));
  assert.notEqual(events[0]!.child, events[1]!.child);
});

test('the inotify decoder reads a captured buffer', () => {
  const buf = fs.readFileSync(`${FIXTURES}/inotify-events.bin`);
  const events: InEvent[] = [];
  assert.equal(decodeInotify(buf, buf.length, (e) => events.push(e)), buf.length);
  assert.deepEqual(events.map((e) => e.name?.toString()), ['d', 'a', 'a', 'a', 'b', 'b', 'd']);
  const from = events.find((e) => e.mask === IN_MOVED_FROM)!;
  const to = events.find((e) => e.mask === IN_MOVED_TO)!;
  assert.ok(from.cookie !== 0 && from.cookie === to.cookie);
});

test('cgroup paths name the systemd unit and the container', () => {
  assert.equal(cgroupOf('1:name=systemd:/x\n0::/system.slice/php8.2-fpm.service\n'), '/system.slice/php8.2-fpm.service');
  assert.equal(unitOf('/system.slice/php8.2-fpm.service'), 'php8.2-fpm.service');
  assert.equal(unitOf('/user.slice/user-1000.slice/session-3.scope'), 'session-3.scope');
  assert.equal(unitOf('/'), null);
  const id = 'a'.repeat(64);
  assert.equal(containerOf(`/system.slice/docker-${id}.scope`), id);
  assert.equal(containerOf(`/machine.slice/libpod-${id}.scope/container`), id);
  assert.equal(containerOf(`/kubepods/besteffort/pod1/${id}`), id);
  assert.equal(containerOf('/lxc.payload.web1/system.slice/nginx.service'), 'lxc:web1');
  assert.equal(containerOf('/system.slice/cron.service'), null);
});

test('lifecycle: renames keep the creator, a renamed directory moves what is below it, moves out are not leaks', () => {
  const l = new Lifecycle();
  const ev = (kind: TraceEvent['kind'], path: string, extra: Partial<TraceEvent> = {}): void => l.apply({ ts: 1000, kind, path, dir: false, proc: 0, ...extra });
  ev('create', '/r/d', { dir: true });
  ev('create', '/r/d/tmp-1234', { proc: 1 });
  ev('close', '/r/d/tmp-1234');
  ev('rename', '/r/d/final.json', { from: '/r/d/tmp-1234', proc: 2 });
  ev('rename', '/r/e', { from: '/r/d', dir: true });
  ev('create', '/r/x-1', {});
  ev('move-out', '/r/x-1', {});
  ev('delete', '/r/old-1', {});
  const present = new Set(['/r/e', '/r/e/final.json']);
  const { files, vanished } = l.leaked((p) => present.has(p));
  assert.equal(vanished, 0);
  assert.deepEqual(files.map((f) => [f.path, f.proc, f.closed]), [['/r/e', 0, false], ['/r/e/final.json', 1, true]]);
  const byName = new Map(l.merged().map((p) => [p.pattern, p]));
  assert.equal(byName.get('x-*')!.leaked, 0);
  assert.equal(byName.get('x-*')!.movedOut, 1);
  assert.equal(byName.get('old-*')!.deletedPreexisting, 1);
});

interface Traced { args: string[]; child: ChildProcess; lines: string[]; stderr: string; done: Promise<number | null> }

/** Start `enospc trace` and resolve once it says it is tracing. */
async function startTrace(args: string[], uid?: number): Promise<Traced> {
  const child = spawn(process.execPath, [CLI, 'trace', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' },
    ...(uid === undefined ? {} : { uid, gid: uid, cwd: '/' }),
  });
  children.push(child);
  const t: Traced = { args, child, lines: [], stderr: '', done: new Promise((r) => child.on('exit', (code) => r(code))) };
  readline.createInterface({ input: child.stdout! }).on('line', (l) => t.lines.push(l));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      t.stderr += d.toString();
      if (t.stderr.includes('enospc: tracing')) resolve();
    });
    child.on('exit', () => reject(new Error(`trace ended early: ${t.stderr}`)));
  });
  return t;
}

/** Run churn.mjs; resolves with the child (still alive) once it has made its files. */
async function churn(dir: string, prefix: string, create: number, del: number, title: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, [CHURN, dir, prefix, String(create), String(del), title], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(c);
  await new Promise<void>((resolve) => c.stdout!.once('data', () => resolve()));
  return c;
}

async function stopTrace(t: Traced): Promise<TraceReport> {
  t.child.kill('SIGINT');
  const code = await t.done;
  assert.equal(code, 0, t.stderr);
  // --json: one document; --events: JSON lines, the report last (both checked against their schemas)
  checkOutput(['trace', ...t.args], t.lines.join('\n'));
  const text = t.lines[0]?.startsWith('{"') ? t.lines.at(-1)! : t.lines.join('\n');
  return JSON.parse(text) as TraceReport;
}

describe('enospc trace', { skip: cannotMount ?? false }, () => {
  let savedWatches = '';
  before(() => { savedWatches = fs.readFileSync(WATCHES, 'utf8').trim(); });
  after(() => {
    fs.writeFileSync(WATCHES, savedWatches);
    for (const c of children) c.kill('SIGKILL');
    unmountAll();
  });

  /** Two children: `tidy` makes 300 files and deletes 280; `leaker` makes 150 and deletes none. */
  async function workload(args: string[]): Promise<{ dir: string; report: TraceReport; tidy: ChildProcess; leaker: ChildProcess }> {
    const dir = tmpfs('size=16m,nr_inodes=5000');
    fs.mkdirSync(`${dir}/sub`);
    const t = await startTrace([dir, '--json', ...args]);
    const tidy = await churn(dir, 'tidy-', 300, 280, 'tidy');
    const leaker = await churn(`${dir}/sub`, 'magick-', 150, 0, 'leaker');
    const report = await stopTrace(t);
    tidy.stdin!.end();
    leaker.stdin!.end();
    return { dir, report, tidy, leaker };
  }

  function present(dir: string): string[] {
    return [...fs.readdirSync(dir).filter((n) => n !== 'sub').map((n) => `${dir}/${n}`), ...fs.readdirSync(`${dir}/sub`).map((n) => `${dir}/sub/${n}`)].sort();
  }

  test('fanotify: creates are attributed to the right pid and command, and the leaked set is exact', async () => {
    const { dir, report, tidy, leaker } = await workload(['--backend', 'fanotify']);
    assert.equal(report.backend, 'fanotify');
    assert.equal(report.complete, true);
    assert.equal(report.events.lost, 0);
    assert.deepEqual(report.leaked.files.map((f) => f.path).sort(), present(dir));
    assert.equal(report.leaked.total, 170);
    const pat = new Map(report.patterns.map((p) => [p.pattern, p]));
    const magick = pat.get('magick-*')!;
    const tidyP = pat.get('tidy-*')!;
    assert.deepEqual([magick.created, magick.deleted, magick.leaked, magick.closed], [150, 0, 150, 150]);
    assert.deepEqual([tidyP.created, tidyP.deleted, tidyP.leaked], [300, 280, 20]);
    assert.deepEqual(magick.processes.map((p) => [p.pid, p.comm, p.created, p.leaked]), [[leaker.pid, 'leaker', 150, 150]]);
    assert.deepEqual(tidyP.processes.map((p) => [p.pid, p.comm, p.created, p.deleted, p.leaked]), [[tidy.pid, 'tidy', 300, 280, 20]]);
    const procs = new Map(report.processes.map((p) => [p.pid, p]));
    assert.equal(procs.get(leaker.pid!)!.exe, fs.realpathSync(process.execPath));
    assert.equal(procs.get(leaker.pid!)!.user, 'root');
    assert.ok(report.leaked.files.filter((f) => f.pattern === 'magick-*').every((f) => f.pid === leaker.pid && f.comm === 'leaker' && f.closed));
  });

  test('inotify: the same file sets, without pids, and the report says so', async () => {
    const { dir, report } = await workload(['--backend', 'inotify']);
    assert.equal(report.backend, 'inotify');
    assert.equal(report.events.lost, 0);
    assert.deepEqual(report.leaked.files.map((f) => f.path).sort(), present(dir));
    const pat = new Map(report.patterns.map((p) => [p.pattern, p]));
    assert.deepEqual([pat.get('magick-*')!.created, pat.get('magick-*')!.leaked], [150, 150]);
    assert.deepEqual([pat.get('tidy-*')!.created, pat.get('tidy-*')!.deleted, pat.get('tidy-*')!.leaked], [300, 280, 20]);
    assert.ok(report.leaked.files.every((f) => f.pid === null));
    assert.deepEqual(report.processes, []);
    assert.ok(report.notes.some((n) => /no process/.test(n)));
  });

  for (const backend of ['fanotify', 'inotify']) {
    test(`${backend}: a leaked file whose name is not UTF-8 is leaked, not vanished; the notes say why there are no pids`, async () => {
      const dir = tmpfs('size=1m,nr_inodes=100');
      const t = await startTrace([dir, '--json', '--backend', backend]);
      const name = Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.tmp')]);
      fs.writeFileSync(name, '');
      await new Promise((r) => setTimeout(r, 300));
      const report = await stopTrace(t);
      assert.equal(report.totals.vanished, 0);
      assert.equal(report.leaked.total, 1);
      assert.ok(report.leaked.files[0]!.path.startsWith(`${dir}/bad-`), report.leaked.files[0]!.path);
      if (backend === 'inotify') {
        // as root, chosen by hand: not "run as root"
        assert.ok(report.notes.every((n) => !/run as root/.test(n)), report.notes.join('; '));
        assert.ok(report.notes.some((n) => /--backend inotify/.test(n)), report.notes.join('; '));
      }
    });
  }

  test('inotify: a directory made during the trace is watched, and what is made in it at once is seen', async () => {
    const dir = tmpfs('size=16m,nr_inodes=5000');
    const t = await startTrace([dir, '--json', '--backend', 'inotify']);
    fs.mkdirSync(`${dir}/a/b/c`, { recursive: true });
    fs.writeFileSync(`${dir}/a/b/c/early`, '');
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(`${dir}/a/b/c/late`, '');
    fs.renameSync(`${dir}/a`, `${dir}/z`);
    fs.writeFileSync(`${dir}/z/b/after-rename`, '');
    await new Promise((r) => setTimeout(r, 300));
    const report = await stopTrace(t);
    assert.deepEqual(report.leaked.files.map((f) => f.path).sort(),
      [`${dir}/z`, `${dir}/z/b`, `${dir}/z/b/after-rename`, `${dir}/z/b/c`, `${dir}/z/b/c/early`, `${dir}/z/b/c/late`]);
  });

  /** `n` files DIR/PREFIX<i><long tail>, made (written and closed) by a child process, so that they are queued unread. */
  function makeFiles(dir: string, prefix: string, n: number): void {
    const r = spawnSync(process.execPath, ['-e', `
      const fs = require('fs');
      for (let i = 0; i < ${n}; i++) fs.writeFileSync(${JSON.stringify(dir)} + '/' + ${JSON.stringify(prefix)} + i + '-' + 'x'.repeat(150), '');`], { stdio: 'inherit' });
    assert.equal(r.status, 0);
  }

  function counting(): { emit: (e: TraceEvent) => void; kinds: Map<string, number> } {
    const kinds = new Map<string, number>();
    return { kinds, emit: (e) => { kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1); } };
  }

  test('fanotify: what is queued at the stop is read in full, however many MiB it takes (FIONREAD counts 24 bytes an event)', () => {
    const dir = tmpfs('size=64m,nr_inodes=50000');
    const src = new FanotifySource(dir);
    try {
      makeFiles(dir, 'q', 20_000);
      const queued = src.queued();
      // one event per file (the kernel merges create and close-write), some 200 bytes each when read,
      // yet FIONREAD says 24 bytes each: under 1 MiB for what takes 4 MiB to read
      assert.equal(queued, 20_000);
      assert.equal(pendingBytes(src.fd), 20_000 * 24);
      const { emit, kinds } = counting();
      assert.equal(drainQueued(src, emit, Date.now() + 60_000), 0);
      assert.deepEqual([kinds.get('create'), kinds.get('close'), src.stats.raw, src.stats.dropped, src.queued()], [20_000, 20_000, 20_000, 0, 0]);
    } finally {
      src.close();
    }
  });

  test('fanotify: what is queued at the stop and not processed in time is counted as dropped, exactly, and what came after is not', () => {
    const dir = tmpfs('size=64m,nr_inodes=50000');
    const src = new FanotifySource(dir);
    try {
      makeFiles(dir, 'before-', 20_000);
      const { emit, kinds } = counting();
      assert.equal(drainQueued(src, emit, 0), 20_000);
      assert.deepEqual([kinds.size, src.stats.dropped, src.stats.overflows, src.queued()], [0, 20_000, 0, 0]);
      // skip counts up to the stop point: the events a read brings beyond it are not counted
      makeFiles(dir, 'before-again-', 20_000);
      const queued = src.queued();
      makeFiles(dir, 'after-', 5_000);
      let left = queued;
      while (left > 0) left -= src.skip(left);
      assert.deepEqual([left, src.stats.dropped], [0, 20_000 + queued]);
    } finally {
      src.close();
    }
  });

  test('inotify: what is queued at the stop is read in full, or counted as dropped when the time runs out', () => {
    for (const deadline of [Date.now() + 60_000, 0]) {
      const dir = tmpfs('size=16m,nr_inodes=10000');
      const src: Source = new InotifySource(dir);
      try {
        makeFiles(dir, 'q', 3_000); // create and close-write: 6,000 events, within fs.inotify.max_queued_events (16,384 by default)
        const { emit, kinds } = counting();
        const dropped = drainQueued(src, emit, deadline);
        if (deadline) assert.deepEqual([dropped, kinds.get('create'), kinds.get('close')], [0, 3_000, 3_000]);
        else assert.deepEqual([dropped, kinds.size, src.stats.dropped], [6_000, 0, 6_000]);
        assert.deepEqual([src.stats.raw, src.stats.overflows, src.queued()], [6_000, 0, 0]);
      } finally {
        src.close();
      }
    }
  });

  for (const backend of ['fanotify', 'inotify']) {
    test(`${backend}: a burst of 200,000 create+delete is reported in full or with an explicit loss`, { timeout: 120_000 }, async () => {
      const dir = tmpfs('size=64m,nr_inodes=10000');
      const t = await startTrace([dir, '--events', '--backend', backend]);
      const burst = spawn(process.execPath, ['-e', `
        const fs = require('fs');
        for (let i = 0; i < 200000; i++) { const p = ${JSON.stringify(dir)} + '/burst-' + i; fs.closeSync(fs.openSync(p, 'w')); fs.unlinkSync(p); }`], { stdio: 'inherit' });
      await new Promise((r) => burst.on('exit', r));
      const report = (await stopTrace(t)) as TraceReport & { event: string };
      assert.equal(report.event, 'report');
      let creates = 0;
      let deletes = 0;
      for (const l of t.lines) {
        if (l.includes('"event":"create"')) creates++;
        else if (l.includes('"event":"delete"')) deletes++;
      }
      const e = report.events;
      if (e.lost === 0) {
        assert.deepEqual([creates, deletes, report.totals.created, report.totals.deleted, report.totals.leaked], [200_000, 200_000, 200_000, 200_000, 0]);
        assert.equal(report.complete, true);
      } else {
        // lost events are counted, never silent: an exact count covers every missing create and delete
        // (a lost kernel event holds at most one create and one delete of its name)
        assert.ok(e.lost === null ? e.overflows > 0 : e.lost > 0);
        assert.ok(creates < 200_000 || deletes < 200_000);
        if (e.lost !== null) assert.ok(200_000 - creates <= e.lost && 200_000 - deletes <= e.lost, `${creates} creates, ${deletes} deletes, lost ${e.lost}`);
        assert.equal(report.complete, false);
      }
    });
  }

  test('--duration ends the trace by itself with the human report', async () => {
    const dir = tmpfs('size=16m,nr_inodes=5000');
    const t = await startTrace([dir, '--duration', '1s']);
    fs.writeFileSync(`${dir}/left-behind`, '');
    assert.equal(await t.done, 0);
    const out = t.lines.join('\n');
    assert.match(out, /^enospc trace .*: 1\.\d s with fanotify/);
    assert.match(out, /leaked 1 /);
    assert.match(out, new RegExp(`${process.pid}\\s+node`));
  });

  test('bad input: one line and exit 2', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    fs.writeFileSync(`${dir}/f`, '');
    for (const args of [[`${dir}/missing`], [`${dir}/f`], ['/proc'], [dir, '--duration', 'soon'], [dir, '--backend', 'dtrace']]) {
      const r = enospc(['trace', ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^(enospc: |error: )/);
    }
  });

  test('not root and no inotify watches left (case 004): says who holds them, exit 2', async () => {
    const dir = tmpfs('size=1m,nr_inodes=1000');
    for (let i = 0; i < 40; i++) fs.mkdirSync(`${dir}/${i}`);
    fs.writeFileSync(WATCHES, '40');
    const holder = spawn(process.execPath, [HOLDER, dir, '40'], { stdio: ['ignore', 'pipe', 'inherit'], uid: NOBODY, gid: NOBODY });
    children.push(holder);
    try {
      assert.match(await new Promise<string>((r) => holder.stdout!.once('data', (d: Buffer) => r(d.toString()))), /ready/);
      const r = enospc(['trace', dir], { uid: NOBODY });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /no watches left: 40 watches of 40 \(fs\.inotify\.max_user_watches\) are held by nobody's processes/);
      assert.match(r.stderr, /enospc inotify --user nobody/);
    } finally {
      holder.kill('SIGKILL');
      fs.writeFileSync(WATCHES, savedWatches);
    }
  });
});
