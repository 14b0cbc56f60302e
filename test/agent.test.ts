// enospc agent, as a process: a real leak into a real tmpfs, scraped over HTTP; a hung FUSE mount;
// its database on a tmpfs with no inode left; bad input. Intervals are short (200 ms): the
// forecaster's thresholds count samples, so they scale with the interval.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { CLI, cannotHang, cannotMount, enospc, hungMount, startAgent as startAgentIn, stopHung, tmpfs, unmountAll, until } from './helpers.js';
import type { Forecast, Sample } from '../src/agent/types.js';

const children: ChildProcess[] = [];
const LEAK = new URL('../../test/fixtures/leak.py', import.meta.url).pathname;

const startAgent = (args: string[]) => startAgentIn(args, children);

async function metrics(url: string): Promise<string> {
  const r = await fetch(`${url}/metrics`);
  assert.equal(r.status, 200);
  return r.text();
}

/** The value of the series `name{labels}` whose labels include all of `want`, or undefined. */
function value(text: string, name: string, want: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const labels = /\{(.*)\}/.exec(line)?.[1] ?? '';
    if (Object.entries(want).every(([k, v]) => labels.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return undefined;
}

async function forecasts(url: string): Promise<Forecast[]> {
  const r = await fetch(`${url}/api/forecasts`);
  assert.equal(r.status, 200);
  return (await r.json()) as Forecast[];
}

async function mountIdOf(url: string, mountpoint: string): Promise<number | undefined> {
  const r = await fetch(`${url}/api/sample`);
  assert.equal(r.status, 200);
  return ((await r.json()) as Sample).mounts.find((m) => m.mountpoint === mountpoint)?.mountId;
}

/** The state `enospc_forecast_state` gives resource/target, or undefined while it has none. */
function stateOf(text: string, resource: string, target: string): string | undefined {
  for (const s of ['insufficient_data', 'not_growing', 'filling']) if (value(text, 'enospc_forecast_state', { resource, target, state: s }) === 1) return s;
  return undefined;
}

/** A python3 child's stdout, line by line, as it comes. */
function linesOf(c: ChildProcess): string[] {
  const out: string[] = [];
  let rest = '';
  c.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    out.push(...parts);
  });
  return out;
}

/** A child that creates `perSecond` files a second in `dir` (holding on while the filesystem is full). */
function leak(dir: string, perSecond: number): ChildProcess {
  const c = spawn('python3', [LEAK, dir, String(perSecond)], { stdio: 'ignore' });
  children.push(c);
  return c;
}

async function kill(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await gone;
}

describe('enospc agent', { skip: cannotMount ?? false }, () => {
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    stopHung();
    unmountAll();
  });

  test('a steady leak into a tmpfs: filling, exhaustion within 20% of the truth; SIGTERM ends it with 0', { timeout: 180_000 }, async () => {
    const dir = tmpfs('size=16m,nr_inodes=4000');
    const db = tmpfs('size=64m,nr_inodes=1000');
    // 40 files a second: 4000 inodes last about 100 s
    const leaking = leak(dir, 40);
    const started = Date.now() / 1000;
    const a = await startAgent(['--db', `${db}/history.db`, '--interval', '200ms', '--census-interval', '2s', '--watch', dir]);
    const text = await until('filling', async () => {
      const t = await metrics(a.url);
      return value(t, 'enospc_forecast_state', { resource: 'inodes', target: dir, state: 'filling' }) === 1 ? t : undefined;
    }, 120_000);
    const at = value(text, 'enospc_forecast_exhaustion_timestamp_seconds', { resource: 'inodes', target: dir })!;
    const earliest = value(text, 'enospc_forecast_exhaustion_earliest_timestamp_seconds', { resource: 'inodes', target: dir })!;
    const truth = started + 4000 / 40;
    const now = Date.now() / 1000;
    assert.ok(Math.abs(at - truth) <= 0.2 * (truth - now) + 5, `exhaustion ${at - now} s from now, truth ${truth - now} s`);
    assert.ok(earliest <= at, `earliest ${earliest} after expected ${at}`);
    assert.equal(value(text, 'enospc_filesystem_device_error', { mountpoint: dir }), 0);
    assert.ok(value(text, 'enospc_pattern_files', { mountpoint: dir, pattern: 'magick-*' }) !== undefined, 'the pattern is kept');
    // the live exposition passes Prometheus' own linter
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (!lint.error) assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    leaking.kill('SIGKILL');
    a.proc.kill('SIGTERM');
    const code = await new Promise((r) => a.proc.on('exit', r));
    assert.equal(code, 0, a.stderr());
    // what the database holds, as a person sees it (the CLI judges at the nominal 15 s interval: too short a span yet)
    const h = enospc(['history', dir, '--db', `${db}/history.db`, '--since', '1h']);
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stdout, /^RESOURCE +TARGET +NOW +SINCE/m);
    assert.match(h.stdout, new RegExp(`^inodes +${dir} +[\\d,]+ of 4,000 \\([\\d.]+%\\) +[▁▂▃▄▅▆▇█ ]+ +\\d+ samples over \\d+ (s|min)$`, 'm'));
    const hj = enospc(['history', dir, '--db', `${db}/history.db`, '--json']);
    assert.ok((JSON.parse(hj.stdout) as { series: unknown[] }).series.length >= 2);
    const f = enospc(['forecast', '--db', `${db}/history.db`]);
    assert.ok(f.status === 0 || f.status === 1, f.stderr);
    assert.match(f.stdout, new RegExp(`^inodes +${dir} +insufficient_data +not enough data \\(`, 'm'));
    assert.ok(enospc(['forecast', '--db', `${db}/history.db`, '--json']).stdout.includes('"schema": 1'));
    const none = enospc(['forecast', '--db', `${db}/missing.db`]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^enospc: no history at /);
  });

  test('fill and empty in cycles with no net growth: not_growing', { timeout: 180_000 }, async () => {
    const dir = tmpfs('size=16m,nr_inodes=4000');
    const db = tmpfs('size=64m,nr_inodes=1000');
    const saw = spawn('python3', ['-c', `
import os, sys, time
d = sys.argv[1]
while True:
    for i in range(200):
        open(os.path.join(d, 'f%d' % i), 'w').close(); time.sleep(0.02)
    for i in range(200):
        os.unlink(os.path.join(d, 'f%d' % i))
`, dir], { stdio: 'ignore' });
    children.push(saw);
    const a = await startAgent(['--db', `${db}/history.db`, '--interval', '200ms', '--census-interval', '10s']);
    const state = await until('a state', async () => {
      const t = await metrics(a.url);
      for (const s of ['not_growing', 'filling'] as const) if (value(t, 'enospc_forecast_state', { resource: 'inodes', target: dir, state: s }) === 1) return s;
      return undefined;
    }, 150_000);
    assert.equal(state, 'not_growing');
    saw.kill('SIGKILL');
    a.proc.kill('SIGKILL');
  });

  test('fill and empty in cycles, the floor rising: filling, exhaustion near where the floor\'s growth takes the peaks', { timeout: 180_000 }, async () => {
    // each cycle: 1.5 s at the floor, 150 files at 15 a second, all 150 removed at once and 30
    // kept: the floor (and the peaks) rise 30 inodes a cycle of about 11.5 s. The history keeps a
    // point a second (whole seconds), so the cycle is long: the floor lasts long enough to be
    // seen, and the drop (up to 2 s between the points around it) is fast next to the rise (10 s).
    const L = 600, N = 150, G = 30, RATE = 15;
    const dir = tmpfs(`size=16m,nr_inodes=${L}`);
    const db = tmpfs('size=64m,nr_inodes=1000');
    const saw = spawn('python3', ['-c', `
import os, sys, time
d = sys.argv[1]; n = int(sys.argv[2]); g = int(sys.argv[3]); rate = float(sys.argv[4]); keep = 0
try:
    while True:
        print(time.time(), keep, flush=True)
        time.sleep(1.5)
        t1 = time.time()
        for i in range(n):
            open(os.path.join(d, 'f%d' % i), 'w').close()
            time.sleep(max(0, t1 + (i + 1) / rate - time.time()))
        for i in range(n):
            os.unlink(os.path.join(d, 'f%d' % i))
        for i in range(g):
            open(os.path.join(d, 'k%d' % (keep + i)), 'w').close()
        keep += g
except OSError:
    time.sleep(600)
`, dir, String(N), String(G), String(RATE)], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(saw);
    const cycles = linesOf(saw);
    const a = await startAgent(['--db', `${db}/history.db`, '--interval', '200ms', '--census-interval', '1h']);
    const [text, f] = await until('a state', async () => {
      const t = await metrics(a.url);
      const s = stateOf(t, 'inodes', dir);
      return s === 'filling' || s === 'not_growing' ? [t, (await forecasts(a.url)).find((x) => x.resource === 'inodes' && x.target === dir)!] as const : undefined;
    }, 120_000);
    const now = Date.now() / 1000;
    assert.equal(stateOf(text, 'inodes', dir), 'filling', JSON.stringify(f));
    // the truth: cycle k (from 0) peaks at 1 + N + G k inodes (the root's counts) at its end; the
    // peaks' line reaches L at the fractional cycle (L - 1 - N) / G
    const starts = cycles.map((l) => Number(l.split(' ')[0]));
    assert.ok(starts.length >= 5, `${starts.length} cycles`);
    const period = (starts[starts.length - 1]! - starts[0]!) / (starts.length - 1);
    const truth = starts[0]! + ((L - 1 - N) / G + 1) * period;
    // judged by the cycles: the floor's slope, not the rises'
    assert.ok(Math.abs(f.slopePerSecond! - G / period) <= 0.25 * G / period, `slope ${f.slopePerSecond} per s, the floor's ${G / period}`);
    const at = value(text, 'enospc_forecast_exhaustion_timestamp_seconds', { resource: 'inodes', target: dir })!;
    const earliest = value(text, 'enospc_forecast_exhaustion_earliest_timestamp_seconds', { resource: 'inodes', target: dir })!;
    assert.ok(Math.abs(at - truth) <= 0.25 * (truth - now) + period, `exhaustion ${(at - now).toFixed(1)} s from now, truth ${(truth - now).toFixed(1)} s (cycle ${period.toFixed(2)} s)`);
    assert.ok(earliest <= at, `earliest ${earliest} after expected ${at}`);
    saw.kill('SIGKILL');
    a.proc.kill('SIGKILL');
  });

  test('an unmount and a new mount at the same path start a new segment: insufficient_data again', { timeout: 120_000 }, async () => {
    const options = 'size=16m,nr_inodes=4000';
    const dir = tmpfs(options);
    const db = tmpfs('size=64m,nr_inodes=1000');
    const leaking = leak(dir, 40);
    const a = await startAgent(['--db', `${db}/history.db`, '--interval', '200ms', '--census-interval', '1h']);
    const judged = await until('a forecast', async () => {
      const s = stateOf(await metrics(a.url), 'inodes', dir);
      return s === 'filling' || s === 'not_growing' ? s : undefined;
    }, 60_000);
    assert.equal(judged, 'filling');
    const before = await mountIdOf(a.url, dir);
    assert.ok(before !== undefined);
    await kill(leaking);
    const r = spawnSync('umount', [dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const remounted = Date.now() / 1000;
    tmpfs(options, dir);
    // forecasts are made again every FORECAST_EVERY * scale (4 s here); the new segment needs 24 s
    const f = await until('insufficient_data after the remount', async () => {
      if (stateOf(await metrics(a.url), 'inodes', dir) !== 'insufficient_data') return undefined;
      return (await forecasts(a.url)).find((x) => x.resource === 'inodes' && x.target === dir);
    }, 15_000);
    assert.ok(f.segmentStart >= remounted - 1, `segment from ${f.segmentStart - remounted} s after the remount`);
    assert.ok(f.samples < 20, `${f.samples} samples`);
    assert.ok((f.needSeconds ?? 0) > 0, JSON.stringify(f));
    // mountinfo gives the new mount the ID the old one had: the agent's is another
    assert.notEqual(await mountIdOf(a.url, dir), before);
    a.proc.kill('SIGKILL');
  });

  test('a user\'s inotify watches rising toward a lowered max_user_watches: filling, exhaustion near (limit - held) / rate', { timeout: 180_000 }, async () => {
    const WATCHES = '/proc/sys/fs/inotify/max_user_watches';
    const user = 'enospc-agent-w';
    // the most any user holds now: the limit is that plus 3,000, so no one else runs out
    const inotify = enospc(['inotify', '--json']);
    assert.equal(inotify.status, 0, inotify.stderr);
    const held = Math.max(0, ...(JSON.parse(inotify.stdout) as { users: Array<{ watches: number }> }).users.map((u) => u.watches));
    const L = held + 3000;
    const D = Math.min(L, 5000);
    const dir = tmpfs(`size=16m,nr_inodes=${D + 100}`);
    const db = tmpfs('size=64m,nr_inodes=1000');
    for (let i = 0; i < D; i++) fs.mkdirSync(`${dir}/${i}`);
    spawnSync('userdel', [user]);
    execFileSync('useradd', ['-M', '-r', '-s', '/usr/sbin/nologin', user]);
    const saved = fs.readFileSync(WATCHES, 'utf8').trim();
    try {
      const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
      // lowered before the agent starts: a new limit would start a new segment
      fs.writeFileSync(WATCHES, String(L));
      const a = await startAgent(['--db', `${db}/history.db`, '--interval', '200ms', '--census-interval', '1h']);
      // L / 90 watches a second, over as many instances as D directories need: L reached in 90 s
      const rate = L / 90;
      const adder = spawn('python3', ['-c', `
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
d, n, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fds = []; i = 0; t0 = time.time()
print(t0, flush=True)
while True:
    if i % n == 0 and len(fds) <= i // n:
        fds.append(libc.inotify_init1(0))
    if libc.inotify_add_watch(fds[i // n], ('%s/%d' % (d, i % n)).encode(), 0x100) < 0:
        print('failed at', i, ctypes.get_errno(), flush=True); time.sleep(600)
    i += 1
    time.sleep(max(0, t0 + i / rate - time.time()))
`, dir, String(D), String(rate)], { stdio: ['ignore', 'pipe', 'ignore'], uid, gid: uid, cwd: '/' });
      children.push(adder);
      const out = linesOf(adder);
      try {
        const text = await until('filling', async () => {
          const t = await metrics(a.url);
          return stateOf(t, 'inotify_watches', user) === 'filling' ? t : undefined;
        }, 90_000);
        const now = Date.now() / 1000;
        assert.equal(out.length, 1, out.join('\n'));
        const truth = Number(out[0]) + L / rate;
        assert.equal(value(text, 'enospc_inotify_max_user_watches', {}), L);
        const at = value(text, 'enospc_forecast_exhaustion_timestamp_seconds', { resource: 'inotify_watches', target: user })!;
        const earliest = value(text, 'enospc_forecast_exhaustion_earliest_timestamp_seconds', { resource: 'inotify_watches', target: user })!;
        assert.ok(Math.abs(at - truth) <= 0.2 * (truth - now) + 5, `exhaustion ${(at - now).toFixed(1)} s from now, truth ${(truth - now).toFixed(1)} s`);
        assert.ok(earliest <= at, `earliest ${earliest} after expected ${at}`);
      } finally {
        await kill(adder);
        a.proc.kill('SIGKILL');
      }
    } finally {
      fs.writeFileSync(WATCHES, saved);
      spawnSync('userdel', [user]);
    }
  });

  test('the database on a full tmpfs (no inode, no block left): it serves and counts write errors', { timeout: 60_000 }, async () => {
    const db = tmpfs('size=2m,nr_inodes=12');
    const a = await startAgent(['--db', `${db}/history.db`, '--interval', '200ms', '--census-interval', '1h']);
    // take the inodes the database has not taken, then every block
    for (let i = 0; ; i++) {
      try {
        fs.writeFileSync(`${db}/fill-${i}`, '');
      } catch {
        break;
      }
    }
    fs.rmSync(`${db}/fill-0`);
    const fd = fs.openSync(`${db}/fill-0`, 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(64 << 10));
    } catch { /* full */ } finally {
      fs.closeSync(fd);
    }
    assert.match(await metrics(a.url), /^enospc_build_info/m, 'it serves on a full disk');
    const errors = await until('write errors', async () => {
      const v = value(await metrics(a.url), 'enospc_history_write_errors_total', {});
      return v !== undefined && v > 0 ? v : undefined;
    }, 30_000);
    assert.ok(errors > 0);
    a.proc.kill('SIGKILL');
  });

  test('a hung FUSE mount: enospc_filesystem_device_error 1, and scrapes still answer', { skip: cannotHang ?? false, timeout: 60_000 }, async () => {
    const h = await hungMount('fuse');
    const hung = h.dir;
    const db = tmpfs('size=64m,nr_inodes=1000');
    const a = await startAgent(['--db', `${db}/history.db`, '--interval', '500ms', '--census-interval', '1h']);
    const v = await until('device_error', async () => {
      const t0 = performance.now();
      const t = await metrics(a.url);
      assert.ok(performance.now() - t0 < 2000, 'a scrape never waits for a sample');
      return value(t, 'enospc_filesystem_device_error', { mountpoint: hung });
    }, 30_000);
    assert.equal(v, 1);
    a.proc.kill('SIGKILL');
    h.stop(); // else every later test's census waits for it
  });

  test('--once --textfile: one sample, written, passes promtool', { timeout: 60_000 }, () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    const db = tmpfs('size=64m,nr_inodes=1000');
    const r = enospc(['agent', '--once', '--textfile', dir, '--db', `${db}/history.db`, '--census-interval', '1h']);
    assert.equal(r.status, 0, r.stderr);
    const text = fs.readFileSync(`${dir}/enospc.prom`, 'utf8');
    assert.match(text, /^enospc_filesystem_files\{/m);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error) return; // exporter.test.ts says promtool is missing
    assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
  });

  test('the systemd units are valid (systemd-analyze verify)', { skip: spawnSync('systemd-analyze', ['--version']).error ? 'no systemd-analyze' : false }, () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    const units = new URL('../../deploy/systemd/', import.meta.url).pathname;
    for (const name of fs.readdirSync(units)) {
      // the unit as installed, with ExecStart pointing at this build
      fs.writeFileSync(`${dir}/${name}`, fs.readFileSync(`${units}/${name}`, 'utf8').replaceAll('/usr/bin/enospc', `${process.execPath} ${CLI}`));
    }
    const r = spawnSync('systemd-analyze', ['verify', ...fs.readdirSync(dir).map((n) => `${dir}/${n}`)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('bad input: one line, exit 2', () => {
    for (const args of [['--listen', 'nonsense'], ['--listen', '127.0.0.1:99999'], ['--interval', 'soon'], ['--interval', '0s'], ['--db', '/etc/hostname/history.db']]) {
      const r = enospc(['agent', ...args, '--once']);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('a port in use: one line, exit 2', async () => {
    const db = tmpfs('size=64m,nr_inodes=1000');
    const a = await startAgent(['--db', `${db}/a.db`, '--interval', '1s', '--census-interval', '1h']);
    const port = new URL(a.url).port;
    const r = enospc(['agent', '--listen', `127.0.0.1:${port}`, '--db', `${db}/b.db`]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /already in use/);
    a.proc.kill('SIGKILL');
  });
});
