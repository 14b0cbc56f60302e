// enospc inotify and the kernel-limit checks, against real processes of real users.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { kernelTables } from '../src/probe/sysctl.js';
import { parseEpoll, parseFanotify, parseInotify } from '../src/probe/fdinfo.js';
import { resolveWatchPaths } from '../src/probe/watch-paths.js';
import { cannotMount, enospc, NOBODY, tmpfs, unmountAll } from './helpers.js';

const HOLDER = new URL('../../test/fixtures/hold-watches.mjs', import.meta.url).pathname;
const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;
const USERS = ['enospc-a', 'enospc-b'];
const children: ChildProcess[] = [];
const WATCHES = '/proc/sys/fs/inotify/max_user_watches';
const INSTANCES = '/proc/sys/fs/inotify/max_user_instances';
let savedLimit = '';
const savedInstances = fs.readFileSync(INSTANCES, 'utf8').trim();

function uidOf(name: string): number {
  return Number(execFileSync('id', ['-u', name]).toString().trim());
}

/** A process of `uid` holding `n` watches on DIR/0.. over `instances` instances. */
async function hold(dir: string, n: number, instances: number, uid?: number): Promise<ChildProcess> {
  const c = spawn(process.execPath, [HOLDER, dir, String(n), String(instances)], {
    stdio: ['ignore', 'pipe', 'inherit'], ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  children.push(c);
  const line = await new Promise<string>((resolve) => c.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  assert.match(line, /ready/);
  return c;
}

interface User { user: string; uid: number; watches: number; instances: number; processes: Array<{ pid: number; comm: string; watches: number; instances: number; dirs?: Array<{ path: string; watches: number }>; unresolved?: number }> }

function inotifyJson(args: string[] = []): { users: Array<User & { lowerBound: boolean }>; limits: Record<string, number>; lowerBound: boolean; unreadable: number[] } {
  const r = enospc(['inotify', '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('fdinfo parsers read captured kernel output', () => {
  const ino = parseInotify(fs.readFileSync(`${FIXTURES}/fdinfo-inotify.txt`, 'utf8'));
  assert.equal(ino.length, 2);
  assert.deepEqual({ ...ino[1]!, handle: undefined }, { wd: 1, ino: 0x20e052, sdev: 0xfe00000, mask: 0x300, handle: undefined });
  assert.deepEqual(ino[1]!.handle, { type: 1, bytes: Buffer.from('52e0200058ab8720', 'hex') });
  const fan = parseFanotify(fs.readFileSync(`${FIXTURES}/fdinfo-fanotify.txt`, 'utf8'));
  assert.deepEqual(fan.map((m) => m.kind), ['filesystem', 'mount', 'inode']);
  const ep = parseEpoll(fs.readFileSync(`${FIXTURES}/fdinfo-epoll.txt`, 'utf8'));
  assert.deepEqual(ep.map((w) => w.tfd), [5, 3]);
});

describe('inotify per user and process', { skip: cannotMount ?? false }, () => {
  let dir = '';
  let a: ChildProcess;
  let b: ChildProcess;
  let r: ChildProcess;

  before(async () => {
    for (const u of USERS) spawnSync('useradd', ['-M', '-r', '-s', '/usr/sbin/nologin', u]);
    savedLimit = fs.readFileSync(WATCHES, 'utf8').trim();
    dir = tmpfs('size=16m,nr_inodes=10000');
    for (let i = 0; i < 1300; i++) fs.mkdirSync(`${dir}/${i}`);
    a = await hold(dir, 1234, 1, uidOf('enospc-a'));
    b = await hold(dir, 77, 3, uidOf('enospc-b'));
    r = await hold(dir, 50, 2);
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
    fs.writeFileSync(WATCHES, savedLimit);
    fs.writeFileSync(INSTANCES, savedInstances);
    unmountAll();
    for (const u of USERS) spawnSync('userdel', [u]);
  });

  test('exact watches and instances per user and per process', () => {
    const j = inotifyJson();
    const user = (name: string) => j.users.find((u) => u.user === name)!;
    assert.equal(user('enospc-a').watches, 1234);
    assert.equal(user('enospc-a').instances, 1);
    assert.deepEqual(user('enospc-a').processes.map((p) => [p.pid, p.comm, p.watches, p.instances]), [[a.pid, 'node', 1234, 1]]);
    assert.equal(user('enospc-b').watches, 77);
    assert.equal(user('enospc-b').instances, 3);
    const rootHolder = user('root').processes.find((p) => p.pid === r.pid)!;
    assert.deepEqual([rootHolder.watches, rootHolder.instances], [50, 2]);
    assert.ok(user('root').watches >= 50);
    assert.equal(j.limits['inotifyWatches'], Number(savedLimit));
    // a process closed even to root (this VM's PID 1) makes only its own user's figures a floor
    assert.equal(j.lowerBound, j.unreadable.length > 0);
    assert.equal(user('enospc-a').lowerBound, false);
    assert.equal(user('enospc-b').lowerBound, false);
    if (j.unreadable.length) {
      const human = enospc(['inotify']);
      assert.match(human.stdout, /^pids? [\d, ]+(and \d+ more )?could not be read even by root: (its|their) watches are not counted(; the figures of \S+ are a lower bound)?$/m);
      assert.match(human.stdout, /^enospc-a: 1,234 of /m);
    }
  });

  test('an instance inherited over fork is counted once; two instances on the same dirs twice', async () => {
    const py = spawn('python3', ['-c', `
import ctypes, subprocess, sys, time
libc = ctypes.CDLL(None)
fds = [libc.inotify_init1(0) for _ in range(2)]
for fd in fds:
    for i in range(5): libc.inotify_add_watch(fd, ('${dir}/%d' % i).encode(), 0x100)
kid = subprocess.Popen(['sleep', '600'], pass_fds=(fds[0],))
print(kid.pid, flush=True)
time.sleep(600)`], { stdio: ['ignore', 'pipe', 'inherit'], uid: uidOf('enospc-b'), gid: uidOf('enospc-b') });
    children.push(py);
    const kid = Number(await new Promise<string>((resolve) => py.stdout!.once('data', (d: Buffer) => resolve(d.toString()))));
    try {
      const u = inotifyJson().users.find((x) => x.user === 'enospc-b')! as unknown as User & { sharedInstances: number };
      assert.equal(u.watches, 77 + 10);
      assert.equal(u.instances, 3 + 2);
      assert.equal(u.sharedInstances, 1);
      assert.deepEqual(u.processes.filter((p) => p.pid === kid).map((p) => [p.watches, p.instances]), [[5, 1]]);
    } finally {
      process.kill(kid, 'SIGKILL');
      py.kill('SIGKILL');
    }
  });

  test('--paths resolves the watched directories; --user and --pid filter', () => {
    const j = inotifyJson(['--paths', '--user', 'enospc-a']);
    assert.deepEqual(j.users.map((u) => u.user), ['enospc-a']);
    const p = j.users[0]!.processes[0]!;
    assert.deepEqual(p.dirs, [{ path: dir, watches: 1234 }]);
    assert.equal(p.unresolved, 0);
    assert.deepEqual((p as { unresolvedExamples?: string[] }).unresolvedExamples, []);
    const byPid = inotifyJson(['--pid', String(b.pid)]);
    assert.deepEqual(byPid.users.map((u) => [u.user, u.watches]), [['enospc-b', 77]]);
    const human = enospc(['inotify', '--user', 'enospc-b']);
    assert.match(human.stdout, /enospc-b: 77 of [\d,]+ watches/);
  });

  test('a lowered limit turns into a warning, then a critical finding', () => {
    fs.writeFileSync(WATCHES, '1500');
    let d = enospc(['doctor', '--json', dir]);
    let f = (JSON.parse(d.stdout).findings as Array<{ id: string; severity: string; target: string; evidence: { processes: Array<{ pid: number }> }; fix: Array<{ file?: string; content?: string }> }>)
      .filter((x) => x.id === 'inotify.watches');
    assert.deepEqual(f.map((x) => [x.target, x.severity]), [['enospc-a', 'warning']]);
    assert.equal(f[0]!.evidence.processes[0]!.pid, a.pid);
    assert.ok(f[0]!.fix.some((x) => x.file === '/etc/sysctl.d/90-inotify.conf' && x.content === 'fs.inotify.max_user_watches = 524288'));
    assert.equal(d.status, 1);
    // case 004 as a person sees it: the user, the process holding the watches, how many
    const human = enospc(['doctor', dir]);
    assert.equal(human.status, 1);
    assert.match(human.stdout, /^WARNING inotify.watches enospc-a: enospc-a holds 1,234 of 1,500 inotify watches \(82.3%\): inotify_add_watch fails with ENOSPC for every process of enospc-a$/m);
    assert.match(human.stdout, new RegExp(`^ {4}user enospc-a \\(uid ${uidOf('enospc-a')}\\): 1,234 of 1,500 inotify watches \\(82.3%\\), limit fs.inotify.max_user_watches$`, 'm'));
    assert.match(human.stdout, new RegExp(`^ {4}pid ${a.pid} \\(node\\): 1,234 inotify watches$`, 'm'));
    assert.match(human.stdout, new RegExp(`^ {2}fix: Look at node \\(pid ${a.pid}\\) first: it holds 1,234;`, 'm'));
    assert.match(human.stdout, /^ {4}\$ enospc inotify --user enospc-a --paths$/m);
    assert.match(human.stdout, /^ {6}fs.inotify.max_user_watches = 524288$/m);
    fs.writeFileSync(WATCHES, '1240');
    d = enospc(['doctor', '--json', dir]);
    f = JSON.parse(d.stdout).findings.filter((x: { id: string }) => x.id === 'inotify.watches');
    assert.deepEqual(f.map((x) => [x.target, x.severity]), [['enospc-a', 'critical']]);
    assert.equal(d.status, 2);
    assert.match(enospc(['doctor', dir]).stdout, /^CRITICAL inotify.watches enospc-a: enospc-a holds 1,234 of 1,240 inotify watches \(99.5%\)/m);
    fs.writeFileSync(WATCHES, savedLimit);
  });

  test('instances: a user at the limit of fs.inotify.max_user_instances', () => {
    // enospc-b holds 3 instances; at a limit of 3 it cannot make another (EMFILE)
    fs.writeFileSync(INSTANCES, '3');
    try {
      const d = enospc(['doctor', dir]);
      assert.match(d.stdout, /^CRITICAL inotify.instances enospc-b: enospc-b holds 3 of 3 inotify instances \(100%\): inotify_init fails with EMFILE for every process of enospc-b$/m);
      assert.match(d.stdout, new RegExp(`^ {4}pid ${b.pid} \\(node\\): 3 inotify instances$`, 'm'));
    } finally {
      fs.writeFileSync(INSTANCES, savedInstances);
    }
  });

  test('without root: says which processes could not be read, totals are a lower bound', () => {
    const n = enospc(['inotify', '--json'], { uid: NOBODY });
    assert.equal(n.status, 0, n.stderr);
    const j = JSON.parse(n.stdout);
    assert.equal(j.lowerBound, true);
    assert.ok(j.unreadable.includes(a.pid));
    const h = enospc(['inotify'], { uid: NOBODY });
    assert.match(h.stdout, /could not be read .*lower bound/);
  });

  test('bad input: unknown user or pid, exit 2', () => {
    for (const args of [['inotify', '--user', 'no-such-user-x'], ['inotify', '--pid', '99999999'], ['inotify', '--pid', 'abc']]) {
      const x = enospc(args);
      assert.equal(x.status, 2, args.join(' '));
      assert.equal(x.stderr.trimEnd().split('\n').length, 1);
    }
  });
});

test('watches without a file handle are found by walking their filesystem (the mount point too)', { skip: cannotMount ?? false }, () => {
  const dir = tmpfs('size=16m,nr_inodes=50000');
  try {
    fs.mkdirSync(`${dir}/a/b/c`, { recursive: true });
    const st = (p: string) => fs.statSync(p, { bigint: false });
    const d = st(dir);
    const sdev = (Math.floor(d.dev / 256) << 20) | (d.dev & 0xff);
    const w = (p: string) => ({ wd: 1, ino: st(p).ino, sdev, mask: 0, handle: null });
    const got = resolveWatchPaths([w(dir), w(`${dir}/a/b`), w(`${dir}/a/b/c`)], 5000);
    assert.deepEqual([...got.values()].sort(), [dir, `${dir}/a/b`, `${dir}/a/b/c`]);
  } finally {
    unmountAll();
  }
});

test('a semaphore set and a message queue made here are counted', () => {
  const before = kernelTables();
  const sem = /(\d+)/.exec(execFileSync('ipcmk', ['-S', '5']).toString())![1]!;
  const msg = /(\d+)/.exec(execFileSync('ipcmk', ['-Q']).toString())![1]!;
  try {
    const now = kernelTables();
    assert.equal(now['ipc.sem']!.used, before['ipc.sem']!.used! + 1);
    assert.equal(now['ipc.sem-total']!.used, before['ipc.sem-total']!.used! + 5);
    assert.equal(now['ipc.msg']!.used, before['ipc.msg']!.used! + 1);
    assert.equal(now['ipc.sem']!.byUid!.get(process.getuid!()), (before['ipc.sem']!.byUid!.get(process.getuid!()) ?? 0) + 1);
    assert.ok(now['ipc.sem']!.limit! > 0);
  } finally {
    spawnSync('ipcrm', ['-s', sem]);
    spawnSync('ipcrm', ['-q', msg]);
  }
});
