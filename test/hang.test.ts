// Nothing hangs: a mount that never answers (a FUSE server that never reads its device, an autofs
// mount nobody serves) must not keep enospc from printing its report and exiting. Every run is
// timed, and killed with SIGKILL if it hangs (a hung process ignores SIGTERM in autofs waits).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, cannotHang, cannotMount, hungMount, stopHung, touch } from './helpers.js';
import type { MountHealth } from '../src/probe/mount-health.js';
import { GuardProcess, statfsGuarded } from '../src/probe/guard.js';

interface Timed { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

/** Run the CLI, killed after `limitMs`; with the wall time. */
function timed(args: string[], limitMs = 30_000): Timed {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8', maxBuffer: 64 << 20, timeout: limitMs, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

/** It ended by itself (not killed), within `ms`. */
function ended(r: Timed, ms: number, what: string): void {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal} after ${Math.round(r.ms)} ms (it hung)`);
  assert.ok(r.ms < ms, `${what}: took ${Math.round(r.ms)} ms`);
}

interface DoctorJson {
  exitCode: number;
  forecasts?: { state: string; error: string | null };
  unknown: Array<{ what: string; error: string; kind: string }>;
  mounts: Array<{ path: string; error: string | null }>;
  findings: Array<{ id: string; severity: string; target: string }>;
}

const cleanups: Array<() => void> = [];
after(() => {
  stopHung();
  while (cleanups.length) cleanups.pop()!();
});

/** A fresh directory under /tmp, removed at the end. */
function tmpDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** mount(8) with these arguments (source included); undone (lazily) at the end. */
function mount(args: string[], at: string): void {
  fs.mkdirSync(at, { recursive: true });
  execFileSync('mount', [...args, at]);
  cleanups.push(() => void spawnSync('umount', ['-l', at]));
}

describe('a FUSE mount whose server never answers', { skip: cannotHang ?? false }, () => {
  let parent: string;
  let dir: string;
  before(async () => {
    parent = tmpDir('enospc-hang-');
    for (let i = 0; i < 5; i++) touch(`${parent}/file${i}`);
    dir = (await hungMount('fuse', parent)).dir;
    const r = spawnSync('stat', ['-f', dir], { timeout: 1000, killSignal: 'SIGKILL' });
    assert.ok(r.signal !== null, 'statfs of the fixture must hang, or these tests prove nothing');
  });

  test('doctor --db on it: the history is not opened, one note, within 8 s', () => {
    const db = `${dir}/history.db`;
    const r = timed(['doctor', '--budget', '2', parent, '--db', db]);
    ended(r, 8000, 'doctor --db');
    assert.ok(r.stdout.split('\n').some((l) => l === `no forecasts: the agent's history ${db} could not be read: not opened: ${dir} (fuse) did not answer statfs in 5 s (a hung network or FUSE server?)`), r.stdout);
    const j = timed(['doctor', '--json', '--budget', '2', parent, '--db', db]);
    ended(j, 8000, 'doctor --json --db');
    const json = JSON.parse(j.stdout) as DoctorJson;
    assert.equal(json.forecasts?.state, 'failed');
    assert.match(json.forecasts?.error ?? '', /^not opened: .* did not answer statfs/);
  });

  test('doctor: report, the mount named as unknown, exit 3, within 8 s', () => {
    const r = timed(['doctor', '--budget', '2']);
    ended(r, 8000, 'doctor');
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.ok(r.stdout.split('\n').some((l) => l.startsWith('unknown: ') && l.includes(`statfs ${dir}: did not answer in 5 s`)), r.stdout);

    const j = timed(['doctor', '--json', '--budget', '2']);
    ended(j, 8000, 'doctor --json');
    assert.equal(j.status, 3);
    const json = JSON.parse(j.stdout) as DoctorJson;
    assert.equal(json.exitCode, 3);
    assert.ok(json.unknown.some((u) => u.what === `statfs ${dir}` && /did not answer/.test(u.error) && u.kind === 'failed'), JSON.stringify(json.unknown));
    assert.equal(json.mounts.find((m) => m.path === dir)?.error, 'timeout');
  });

  test("the agent's kept guard: the hung statfs times out once, then answers 'timeout' at once; the others answer; it ends when closed", async () => {
    const g = new GuardProcess();
    try {
      let t0 = performance.now();
      let r = await statfsGuarded([parent, dir, '/'], 1500, g);
      assert.ok(performance.now() - t0 >= 1400, 'the first ask waits for the deadline');
      assert.ok(r[0]!.usage && r[2]!.usage, JSON.stringify(r));
      assert.equal(r[1]!.error, 'timeout');
      t0 = performance.now();
      r = await statfsGuarded([parent, dir], 1500, g);
      assert.ok(performance.now() - t0 < 500, `the second ask did not wait for the hung one (${Math.round(performance.now() - t0)} ms)`);
      assert.ok(r[0]!.usage);
      assert.equal(r[1]!.error, 'timeout');
      r = await statfsGuarded([dir], 1500, g);
      assert.equal(r[0]!.error, 'timeout');
    } finally {
      g.close();
    }
    // closed: nothing of it keeps this process (the runner would wait); a new ask starts a new child
    const again = await statfsGuarded([parent], 1500, g);
    assert.ok(again[0]!.usage);
    g.close();
  });

  test('doctor DIR and doctor /: within 8 s, the walk of / does not enter DIR', () => {
    const r = timed(['doctor', '--json', dir]);
    ended(r, 8000, `doctor ${dir}`);
    assert.equal(r.status, 3);
    const json = JSON.parse(r.stdout) as DoctorJson;
    assert.ok(json.unknown.some((u) => u.what === `statfs ${dir}`), JSON.stringify(json.unknown));

    const root = timed(['doctor', '--json', '--budget', '1', '/']);
    ended(root, 8000, 'doctor /');
    assert.ok(root.status !== null && root.status <= 3, root.stderr);
    assert.ok(!(JSON.parse(root.stdout) as DoctorJson).unknown.some((u) => u.what.includes(dir)), 'a mount not asked about is not reported');
  });

  test('two hung mounts: still within 8 s, both named', async () => {
    const second = (await hungMount('fuse', parent)).dir;
    const r = timed(['doctor', '--json', '--budget', '2']);
    ended(r, 8000, 'doctor with two hung mounts');
    const json = JSON.parse(r.stdout) as DoctorJson;
    for (const d of [dir, second]) assert.ok(json.unknown.some((u) => u.what === `statfs ${d}`), `${d} named: ${JSON.stringify(json.unknown)}`);
  });

  test('top of the parent counts DIR as a skipped mount, without opening it (also with --stat and --cross-mounts)', () => {
    for (const flags of [[], ['--stat'], ['--cross-mounts', '--stat']]) {
      const r = timed(['top', parent, '--json', ...flags]);
      ended(r, 8000, `top ${flags.join(' ')}`);
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { totals: { entries: number; mountsSkipped: number }; mountsSkipped: string[] };
      assert.ok(j.mountsSkipped.includes(dir), JSON.stringify(j.mountsSkipped));
      assert.ok(j.totals.entries >= 6);
    }
  });

  test('trace of the parent with inotify (which walks the tree) does not stat DIR', () => {
    const r = timed(['trace', parent, '--backend', 'inotify', '--duration', '1s', '--json']);
    ended(r, 8000, 'trace --backend inotify');
    assert.equal(r.status, 0, r.stderr);
  });

  test('containers: finishes', () => {
    const r = timed(['containers', '--json']);
    ended(r, 8000, 'containers');
    // 1: a store some other test left could not be read
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    assert.ok(Array.isArray((JSON.parse(r.stdout) as { stores: unknown[] }).stores), r.stderr);
  });
});

describe('an autofs mount nobody serves', { skip: cannotHang ?? false }, () => {
  let parent: string;
  let dir: string;
  before(async () => {
    parent = tmpDir('enospc-autofs-');
    touch(`${parent}/file`);
    dir = (await hungMount('autofs', parent)).dir;
    // entering it must really hang (SIGTERM is blocked in an autofs wait: KILL)
    const r = spawnSync('ls', [dir], { timeout: 1500, killSignal: 'SIGKILL' });
    assert.equal(r.signal, 'SIGKILL', 'ls of the fixture must hang, or these tests prove nothing');
  });

  test('top, clean and trace refuse it in one line, exit 2, at once', () => {
    for (const args of [['top', dir], ['top', `${dir}/below`], ['clean', dir, '--match', 'x*'], ['trace', dir, '--duration', '1s']]) {
      const r = timed(args, 10_000);
      ended(r, 3000, args.join(' '));
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /autofs mount point with nothing mounted on it; enospc does not trigger automounts/);
      assert.ok(lines[0]!.includes(`ls ${dir}`), lines[0]);
    }
  });

  test('doctor DIR names it as unknown; doctor finishes', () => {
    const r = timed(['doctor', '--json', dir]);
    ended(r, 8000, `doctor ${dir}`);
    assert.equal(r.status, 3);
    const json = JSON.parse(r.stdout) as DoctorJson;
    assert.ok(json.unknown.some((u) => u.what === dir && /autofs/.test(u.error)), JSON.stringify(json.unknown));
    const all = timed(['doctor', '--budget', '2']);
    ended(all, 8000, 'doctor');
  });

  test('top of the parent does not enter it, not even with --cross-mounts', () => {
    for (const flags of [['--stat'], ['--cross-mounts', '--stat']]) {
      const r = timed(['top', parent, '--json', ...flags]);
      ended(r, 8000, `top ${flags.join(' ')}`);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as { mountsSkipped: string[] }).mountsSkipped, [dir]);
    }
  });
});

describe('a mount hidden under another one', { skip: cannotMount ?? false }, () => {
  test('a full tmpfs whose first mount point is covered is reported by its visible bind mount', () => {
    const base = tmpDir('enospc-hidden-');
    // the full tmpfs at base/over/full, bound at base/bind; then a tmpfs over base/over hides the first
    mount(['-t', 'tmpfs', '-o', 'size=1m,nr_inodes=40', 'tmpfs'], `${base}/over/full`);
    for (let i = 0; ; i++) {
      try {
        touch(`${base}/over/full/f${i}`);
      } catch {
        break;
      }
    }
    mount(['--bind', `${base}/over/full`], `${base}/bind`);
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], `${base}/over`);
    // a tmpfs stacked under another at the same point: no visible mount at all
    mount(['-t', 'tmpfs', '-o', 'size=1m,nr_inodes=77', 'tmpfs'], `${base}/stack`);
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], `${base}/stack`);
    assert.equal(fs.existsSync(`${base}/over/full`), false, 'the first mount point is hidden');

    const r = timed(['doctor', '--json', '--budget', '2']);
    ended(r, 30_000, 'doctor');
    const json = JSON.parse(r.stdout) as DoctorJson;
    const mine = json.findings.filter((f) => f.target.startsWith(base));
    assert.ok(mine.some((f) => f.id === 'inodes.full' && f.severity === 'critical' && f.target === `${base}/bind`), JSON.stringify(mine));
    assert.ok(!json.unknown.some((u) => u.what.includes(`${base}/over`) && u.what.startsWith('statfs')), JSON.stringify(json.unknown));
    assert.ok(!json.mounts.some((m) => m.path === `${base}/over/full`), 'the hidden mount point is not statfs\'d');
    assert.ok(json.unknown.some((u) => /^hidden: /.test(u.error) && u.error.includes(`${base}/stack`)), JSON.stringify(json.unknown));
  });
});

describe('the open-file scan', () => {
  test('an fd whose file lies on a dead mount is not statted', async () => {
    const { OpenFilesSink } = await import('../src/probe/procs.js');
    const { parseMountinfo } = await import('../src/probe/mounts.js');
    const all = parseMountinfo('1 0 8:1 / / rw - ext4 /dev/sda rw\n2 1 0:99 / /dead rw - fuse x rw\n3 2 0:98 / /dead/alive rw - tmpfs t rw\n');
    const health: MountHealth = { all, visible: all, usage: new Map(), dead: new Set([2]), timeoutMs: 5000 };
    const sink = new OpenFilesSink(health);
    sink.fd(process.pid, 0, '/dead/file (deleted)');
    sink.fd(process.pid, 0, '/dead');
    assert.equal(sink.skipped, 2);
    sink.fd(process.pid, 0, '/dead/alive/file');
    sink.fd(process.pid, 0, '/deadline');
    assert.equal(sink.skipped, 2);
  });
});
