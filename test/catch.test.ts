// enospc catch against real failures: processes named by the test fail mkdir, openat(O_CREAT),
// write, inotify_add_watch and semget with ENOSPC on real limits, and catch must name each
// process, call and limit; its trace instance must be gone however it ends.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { CLI, NOBODY, cannotMount, tmpfs, unmountAll } from './helpers.js';
import { assertSchema } from './json-schema.js';
import { parseExit, lost } from '../src/catch/parse.js';
import { syscallName } from '../src/sys/syscalls.js';
import type { CatchJson, CatchEventJson } from '../src/report/catch.js';

const DOER = new URL('../../test/fixtures/enospc-doer.py', import.meta.url).pathname;
const TRACING = '/sys/kernel/tracing';
const cannotTrace = cannotMount ?? (fs.existsSync('/sys/kernel/tracing') ? undefined : 'no /sys/kernel/tracing');

interface Running { child: ChildProcess; stdout: Promise<string>; stderr: () => string }

/** Start `enospc catch ARGS` and wait until it is catching. */
async function startCatch(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [CLI, 'catch', ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', out = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const stdout = once(child, 'exit').then(() => out);
  for (let i = 0; i < 200 && !/catching every/.test(err) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(err, /catching every/, err);
  return { child, stdout, stderr: () => err };
}

/** Run the doer as NAME (its comm) with ACTIONS, optionally as `uid` or under `wrap`; resolves with its results, and a function that lets it end. */
async function doer(name: string, actions: string[], opts: { uid?: number; wrap?: string[]; cwd?: string } = {}): Promise<{ pid: number; results: string[]; end: () => Promise<void> }> {
  const cmd = [...(opts.wrap ?? []), 'python3', DOER, name, ...actions];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], cwd: opts.cwd ?? '/', ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}) });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes('\n')) resolve(buf.trim()); });
    child.once('exit', (c) => reject(new Error(`doer exited ${c}`)));
  });
  return {
    pid: child.pid!, results: line.replace(/^done ?/, '').split(' '),
    end: async () => { child.stdin!.end(); if (child.exitCode === null) await once(child, 'exit'); },
  };
}

/** Stop the catch (SIGTERM) and parse its --json document. */
async function stopJson(r: Running): Promise<CatchJson> {
  // the events of the last failures are read and attributed before the report
  await new Promise((res) => setTimeout(res, 500));
  r.child.kill('SIGTERM');
  const text = await r.stdout;
  assert.equal(r.child.exitCode, 0, r.stderr());
  const doc = JSON.parse(text) as CatchJson;
  assertSchema('catch', doc, 'enospc catch --json');
  return doc;
}

/** Stop the catch, let the doer end, and give the doer's events: exactly one is expected. */
async function eventsOf(run: Running, d: { pid: number; end: () => Promise<void> }): Promise<CatchEventJson[]> {
  const doc = await stopJson(run);
  await d.end();
  const e = doc.events.filter((x) => x.pid === d.pid);
  assert.equal(e.length, 1, JSON.stringify(doc.events));
  return e;
}

const instances = () => (fs.existsSync(`${TRACING}/instances`) ? fs.readdirSync(`${TRACING}/instances`).filter((n) => n.startsWith('enospc-')) : []);

describe('enospc catch', { skip: cannotTrace, concurrency: false }, () => {
  let wasMounted = false;
  before(() => { wasMounted = fs.existsSync(`${TRACING}/instances`); });
  // one test's full mounts must not be another's: a call's path is not in the trace
  afterEach(() => unmountAll());
  after(() => {
    unmountAll();
    // leave tracefs as it was found
    if (!wasMounted && fs.existsSync(`${TRACING}/instances`)) spawnSync('umount', [TRACING]);
  });

  test('the pipe\'s lines parse (a captured fixture), and the call numbers have names', () => {
    const lines = fs.readFileSync(new URL('../../test/fixtures/trace_pipe-enospc.txt', import.meta.url), 'utf8').trim().split('\n');
    const parsed = lines.map(parseExit);
    assert.deepEqual(parsed[0], { comm: 'touch', tid: 7486, ts: 34563.518391, nr: 257, ret: -28 });
    assert.equal(parsed[3]!.comm, 'python3');
    assert.equal(parseExit('  my-odd proc-12-345 [000] ..... 1.000001: sys_exit: NR 83 = -28')!.comm, 'my-odd proc-12');
    assert.equal(lost('CPU:1 [LOST 42 EVENTS]'), 42);
    assert.equal(syscallName('x86_64', 257), 'openat');
    assert.equal(syscallName('x86_64', 83), 'mkdir');
    assert.equal(syscallName('x86_64', 254), 'inotify_add_watch');
    assert.equal(syscallName('i386', 39), 'mkdir');
    assert.equal(syscallName('aarch64', 34), 'mkdirat');
    assert.equal(syscallName('aarch64', 56), 'openat');
    assert.equal(syscallName('aarch64', 79), 'newfstatat');
    assert.equal(syscallName('x86_64', 99999), 'syscall_99999');
  });

  test('the syscall table is the one the kernel headers on this machine give', { skip: fs.existsSync('/usr/include/asm-generic/unistd.h') ? undefined : 'no kernel headers' }, () => {
    const r = spawnSync('node', [new URL('../../scripts/syscalls.mjs', import.meta.url).pathname, '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('mkdir and openat(O_CREAT) on a tmpfs with no free inode, a write on one with no free block', { timeout: 60_000 }, async () => {
    const noInodes = tmpfs('size=4m,nr_inodes=2');
    fs.mkdirSync(`${noInodes}/only`);
    const noBlocks = tmpfs('size=256k,nr_inodes=1000');
    const run = await startCatch(['--json']);
    const a = await doer('enospc-probe-1', [`mkdir:${noInodes}/d`, `creat:${noInodes}/f`]);
    const b = await doer('enospc-probe-2', [`write:${noBlocks}/big`]);
    assert.deepEqual([...a.results, ...b.results], ['ENOSPC', 'ENOSPC', 'ENOSPC']);
    const doc = await stopJson(run);
    await a.end();
    await b.end();
    const mine = (pid: number) => doc.events.filter((e) => e.pid === pid);
    const ea = mine(a.pid);
    assert.deepEqual(ea.map((e) => e.syscall).sort(), ['mkdir', 'openat'].sort(), JSON.stringify(doc.events));
    for (const e of ea) {
      assert.equal(e.comm, 'enospc-probe-1');
      assert.equal(e.user, 'root');
      assert.deepEqual([e.cause.check, e.cause.target], ['inodes.full', noInodes]);
      assert.equal(e.gone, false);
    }
    const eb = mine(b.pid);
    assert.equal(eb.length, 1, JSON.stringify(doc.events));
    assert.equal(eb[0]!.syscall, 'write');
    assert.deepEqual([eb[0]!.cause.check, eb[0]!.cause.target], ['blocks.full', noBlocks]);
    const row = doc.summary.find((s) => s.comm === 'enospc-probe-1' && s.syscall === 'mkdir');
    assert.equal(row?.count, 1);
    assert.deepEqual(row?.cause, { check: 'inodes.full', target: noInodes });
  });

  test('the terminal: a live line per failure, the summary at the end', { timeout: 60_000 }, async () => {
    const noInodes = tmpfs('size=4m,nr_inodes=1');
    const run = await startCatch([]);
    const a = await doer('enospc-probe-3', [`mkdir:${noInodes}/a`, `mkdir:${noInodes}/b`]);
    await new Promise((res) => setTimeout(res, 500));
    run.child.kill('SIGTERM');
    const text = await run.stdout;
    await a.end();
    const live = text.split('\n').filter((l) => l.includes('enospc-probe-3') && / mkdir /.test(l) && !/^\s+\d/.test(l));
    assert.equal(live.length, 2, text);
    assert.match(live[0]!, new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  ${a.pid} enospc-probe-3 \\(root\\)  mkdir  inodes\\.full ${noInodes}: no free inode to create a name \\(mkdir\\) on ${noInodes}$`));
    assert.match(text, /enospc catch: \d+ calls? failed with ENOSPC in \d+ s/);
    assert.match(text, /COUNT  COMMAND +SYSCALL  CAUSE +FIRST +LAST/);
    assert.match(text, new RegExp(`\\n +2  enospc-probe-3  mkdir +inodes\\.full ${noInodes} `));
  });

  test('two full mounts: the one the process works in; from elsewhere, both, said so', { timeout: 60_000 }, async () => {
    const a = tmpfs('size=4m,nr_inodes=2');
    fs.mkdirSync(`${a}/work`);
    const b = tmpfs('size=4m,nr_inodes=1');
    const run = await startCatch(['--json']);
    const inA = await doer('enospc-probe-7', ['mkdir:new'], { cwd: `${a}/work` });
    const away = await doer('enospc-probe-8', [`mkdir:${b}/new`]);
    const doc = await stopJson(run);
    await inA.end();
    await away.end();
    const [ea] = doc.events.filter((e) => e.pid === inA.pid);
    assert.deepEqual([ea?.cause.check, ea?.cause.target, ea?.cause.also], ['inodes.full', a, [b]], JSON.stringify(doc.events));
    assert.match(ea!.cause.detail, new RegExp(`on ${a} \\(where it was at work; also full: ${b}\\)$`));
    const [eb] = doc.events.filter((e) => e.pid === away.pid);
    assert.equal(eb?.cause.check, 'inodes.full');
    assert.deepEqual([eb!.cause.target, ...eb!.cause.also!].sort(), [a, b].sort());
    assert.match(eb!.cause.detail, /on one of 2 full mounts: .* \(the call's path is not in the trace\)$/);
  });

  test('a user\'s inotify_add_watch past a lowered max_user_watches: inotify.watches, that user', { timeout: 60_000 }, async () => {
    const WATCHES = '/proc/sys/fs/inotify/max_user_watches';
    const saved = fs.readFileSync(WATCHES, 'utf8').trim();
    const dir = tmpfs('size=4m,nr_inodes=1000');
    for (let i = 0; i < 20; i++) fs.mkdirSync(`${dir}/${i}`);
    const run = await startCatch(['--json']);
    let d;
    try {
      fs.writeFileSync(WATCHES, '5');
      d = await doer('enospc-probe-4', [`watch:${dir}`], { uid: NOBODY });
    } finally {
      fs.writeFileSync(WATCHES, saved);
    }
    assert.deepEqual(d.results, ['ENOSPC']);
    const e = await eventsOf(run, d);
    assert.equal(e[0]!.syscall, 'inotify_add_watch');
    assert.equal(e[0]!.user, 'nobody');
    assert.deepEqual([e[0]!.cause.check, e[0]!.cause.target], ['inotify.watches', 'nobody']);
    assert.match(e[0]!.cause.detail, /nobody's inotify watches: 5 of \d+ \(fs\.inotify\.max_user_watches\)/);
  });

  test('semget past a lowered kernel.sem: ipc.sem', { timeout: 60_000 }, async () => {
    const SEM = '/proc/sys/kernel/sem';
    const saved = fs.readFileSync(SEM, 'utf8').trim();
    const used = fs.readFileSync('/proc/sysvipc/sem', 'utf8').trim().split('\n').length - 1;
    const run = await startCatch(['--json']);
    let d;
    try {
      const [semmsl, semmns, semopm] = saved.split(/\s+/);
      fs.writeFileSync(SEM, `${semmsl} ${semmns} ${semopm} ${used + 2}`);
      d = await doer('enospc-probe-5', ['semget:5'], { uid: NOBODY });
    } finally {
      fs.writeFileSync(SEM, saved);
      // the sets the doer made: nobody's
      for (const line of fs.readFileSync('/proc/sysvipc/sem', 'utf8').trim().split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (Number(f[4]) === NOBODY) spawnSync('ipcrm', ['-s', f[1]!]);
      }
    }
    assert.deepEqual(d.results, ['ENOSPC']);
    const e = await eventsOf(run, d);
    assert.equal(e[0]!.syscall, 'semget');
    assert.equal(e[0]!.cause.check, 'ipc.sem');
  });

  test('a process in a child user namespace is the host user it runs as, not its root inside', { timeout: 60_000 }, async () => {
    const noInodes = tmpfs('size=4m,nr_inodes=1');
    fs.chmodSync(noInodes, 0o1777);
    const run = await startCatch(['--json']);
    const d = await doer('enospc-probe-6', [`mkdir:${noInodes}/x`], { uid: NOBODY, wrap: ['unshare', '--user', '--map-root-user'] });
    assert.deepEqual(d.results, ['ENOSPC']);
    const doc = await stopJson(run);
    await d.end();
    const e = doc.events.filter((x: CatchEventJson) => x.comm === 'enospc-probe-6');
    assert.equal(e.length, 1, JSON.stringify(doc.events));
    assert.equal(e[0]!.user, 'nobody');
    assert.deepEqual([e[0]!.cause.check, e[0]!.cause.target], ['inodes.full', noInodes]);
  });

  test('a process in a mount namespace of its own: judged by the mounts it sees, not by enospc\'s', { timeout: 60_000 }, async () => {
    // a directory that is empty here; in the process's namespace, a tmpfs with no free inode on it
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-ns-'));
    try {
      const run = await startCatch(['--json']);
      const d = await doer('enospc-probe-10', [`mkdir:${dir}/x`], {
        wrap: ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=1m,nr_inodes=1 tmpfs "$0" && exec "$@"', dir],
      });
      assert.deepEqual(d.results, ['ENOSPC']);
      const doc = await stopJson(run);
      await d.end();
      const e = doc.events.filter((x) => x.comm === 'enospc-probe-10');
      assert.equal(e.length, 1, JSON.stringify(doc.events));
      assert.deepEqual([e[0]!.cause.check, e[0]!.cause.target], ['inodes.full', dir], e[0]!.cause.detail);
    } finally {
      fs.rmdirSync(dir);
    }
  });

  test('nothing is invented when nothing fails; the instance is gone after --duration', { timeout: 30_000 }, async () => {
    const dir = tmpfs('size=4m,nr_inodes=1000');
    const run = await startCatch(['--json', '--duration', '1s']);
    assert.equal(instances().length, 1);
    for (let i = 0; i < 100; i++) fs.mkdirSync(`${dir}/${i}`);
    const text = await run.stdout;
    assert.equal(run.child.exitCode, 0, run.stderr());
    const doc = JSON.parse(text) as CatchJson;
    assertSchema('catch', doc);
    assert.deepEqual(doc.events.filter((e) => e.cause.target === dir || e.pid === process.pid), []);
    assert.deepEqual(instances(), []);
  });

  test('after SIGTERM the instance is gone; after SIGKILL the next run removes it', { timeout: 30_000 }, async () => {
    let run = await startCatch([]);
    assert.deepEqual(instances(), [`enospc-${run.child.pid}`], run.stderr());
    run.child.kill('SIGTERM');
    await run.stdout;
    assert.deepEqual(instances(), [], `after SIGTERM: ${run.stderr()}`);
    run = await startCatch([]);
    const killed = run.child.pid!;
    run.child.kill('SIGKILL');
    await run.stdout;
    assert.deepEqual(instances(), [`enospc-${killed}`], `after SIGKILL: ${run.stderr()}`);
    run = await startCatch([]);
    assert.match(run.stderr(), new RegExp(`removed 1 trace instance\\(s\\) left by enospc runs that were killed: enospc-${killed}`));
    assert.deepEqual(instances(), [`enospc-${run.child.pid}`], run.stderr());
    run.child.kill('SIGTERM');
    await run.stdout;
    assert.deepEqual(instances(), [], `after the last SIGTERM: ${run.stderr()}`);
  });

  test('agent --catch: enospc_errors_total, the finding per command and call, doctor --db shows it; the instance goes with the agent', { timeout: 90_000 }, async () => {
    const full = tmpfs('size=4m,nr_inodes=1');
    const dbDir = tmpfs('size=16m,nr_inodes=1000');
    const agent = spawn(process.execPath, [CLI, 'agent', '--catch', '--listen', '127.0.0.1:0', '--db', `${dbDir}/history.db`, '--interval', '1s', '--census-interval', '1h'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    agent.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    try {
      for (let i = 0; i < 400 && !/serving http/.test(err); i++) await new Promise((r) => setTimeout(r, 50));
      const url = /serving (http:\/\/\S+)\/metrics/.exec(err)?.[1];
      assert.ok(url, err);
      assert.deepEqual(instances(), [`enospc-${agent.pid}`]);
      const d = await doer('enospc-probe-9', [`mkdir:${full}/a`, `mkdir:${full}/b`, `creat:${full}/c`]);
      let text = '';
      for (let i = 0; i < 100; i++) {
        text = await (await fetch(`${url}/metrics`)).text();
        if (text.includes('comm="enospc-probe-9",syscall="openat"')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await d.end();
      assert.match(text, /^enospc_errors_total\{comm="enospc-probe-9",syscall="mkdir",cause="inodes\.full"\} 2$/m, text);
      assert.match(text, /^enospc_errors_total\{comm="enospc-probe-9",syscall="openat",cause="inodes\.full"\} 1$/m);
      assert.match(text, /^enospc_finding\{check="enospc\.caught",severity="critical",target="enospc-probe-9:mkdir"\} 1$/m);
      assert.match(text, /^enospc_errors_lost_total 0$/m);
      assert.match(text, /^enospc_collector_success\{collector="catch"\} 1$/m);
      const sample = await (await fetch(`${url}/api/sample`)).json() as { findings: Array<{ check: string; title: string }> };
      assert.ok(sample.findings.some((f) => f.check === 'enospc.caught' && f.title === `enospc-probe-9 got ENOSPC 2 times from mkdir in the last 5 min: inodes.full ${full}`), JSON.stringify(sample.findings));
    } finally {
      agent.kill('SIGTERM');
      await once(agent, 'exit');
    }
    assert.deepEqual(instances(), []);
    // doctor reads the agent's last sample from its history
    const r = spawnSync(process.execPath, [CLI, 'doctor', full, '--db', `${dbDir}/history.db`], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.match(r.stdout, new RegExp(`\\nCRITICAL enospc\\.caught enospc-probe-9:mkdir: enospc-probe-9 got ENOSPC 2 times from mkdir in the last 5 min: inodes\\.full ${full}\\n    caught by the agent \\(its sample of \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\); run 'enospc catch' to see each failure live\\n`), r.stdout);
    const j = spawnSync(process.execPath, [CLI, 'doctor', full, '--db', `${dbDir}/history.db`, '--json'], { encoding: 'utf8' });
    const doc = JSON.parse(j.stdout) as { forecasts: { caught: Array<{ target: string }> } };
    assertSchema('doctor', doc);
    assert.deepEqual(doc.forecasts.caught.map((c) => c.target).sort(), ['enospc-probe-9:mkdir', 'enospc-probe-9:openat']);
  });

  test('agent --catch as a user: one line says why, and the agent runs without it', { timeout: 30_000 }, async () => {
    const dbDir = tmpfs('size=16m,nr_inodes=1000');
    fs.chmodSync(dbDir, 0o777);
    const agent = spawn(process.execPath, [CLI, 'agent', '--catch', '--listen', '127.0.0.1:0', '--db', `${dbDir}/history.db`], { stdio: ['ignore', 'ignore', 'pipe'], uid: NOBODY, gid: NOBODY, cwd: '/' });
    let err = '';
    agent.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    for (let i = 0; i < 400 && !/serving http/.test(err); i++) await new Promise((r) => setTimeout(r, 50));
    agent.kill('SIGTERM');
    await once(agent, 'exit');
    assert.match(err, /^enospc agent: --catch: needs root: it reads the kernel's trace of system calls; the agent runs without it$/m);
    assert.match(err, /serving http/);
  });

  test('bad input and not root: one line, exit 2', () => {
    const bad = spawnSync(process.execPath, [CLI, 'catch', '--duration', 'soon'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    const both = spawnSync(process.execPath, [CLI, 'catch', '--json', '--events'], { encoding: 'utf8' });
    assert.equal(both.status, 2);
    const user = spawnSync(process.execPath, [CLI, 'catch'], { encoding: 'utf8', uid: NOBODY, gid: NOBODY, cwd: '/' });
    assert.equal(user.status, 2);
    assert.match(user.stderr, /^enospc: cannot catch: .*root/);
    assert.equal(user.stderr.trim().split('\n').length, 1, user.stderr);
  });
});
