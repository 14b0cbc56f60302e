// enospc agent, as a process: a real leak into a real tmpfs, scraped over HTTP; a hung FUSE mount;
// its database on a tmpfs with no inode left; bad input. Intervals are short (200 ms): the
// forecaster's thresholds count samples, so they scale with the interval.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { CLI, cannotHang, cannotMount, enospc, hungMount, stopHung, tmpfs, unmountAll } from './helpers.js';

const children: ChildProcess[] = [];

interface Running { proc: ChildProcess; url: string; stderr: () => string }

/** Start `enospc agent ARGS` on a free port; resolves once it serves. */
function startAgent(args: string[]): Promise<Running> {
  const proc = spawn(process.execPath, [CLI, 'agent', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(proc);
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${err}`)), 20_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving (http:\/\/\S+)\/metrics/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1]!, stderr: () => err });
      }
    });
    proc.on('exit', (code) => reject(new Error(`agent exited ${code}: ${err}`)));
  });
}

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
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
    const leak = spawn('python3', ['-c', `
import os, sys, time
d = sys.argv[1]; i = 0; t0 = time.time()
while True:
    try:
        open(os.path.join(d, 'magick-%08d' % i), 'w').close()
    except OSError:
        time.sleep(0.5); continue
    i += 1
    time.sleep(max(0, t0 + i / 40 - time.time()))
`, dir], { stdio: 'ignore' });
    children.push(leak);
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
    leak.kill('SIGKILL');
    a.proc.kill('SIGTERM');
    const code = await new Promise((r) => a.proc.on('exit', r));
    assert.equal(code, 0, a.stderr());
    // what the database holds, as a person sees it (the CLI judges at the nominal 15 s interval: too short a span yet)
    const h = enospc(['history', dir, '--db', `${db}/history.db`, '--since', '1h']);
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stdout, /^RESOURCE +TARGET +NOW +SINCE/m);
    assert.match(h.stdout, new RegExp(`^inodes +${dir} +[\\d,]+ of 4,000 \\([\\d.]+%\\) +[▁▂▃▄▅▆▇█ ]+ +\\d+ samples over \\d+ min$`, 'm'));
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
    const hung = (await hungMount('fuse')).dir;
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
