// Test fixtures made of real kernel objects: tmpfs mounts, users, processes.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkOutput } from './json-schema.js';

export const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
export const NOBODY = 65534;

/** Why tmpfs mounts cannot be made here, or undefined when they can. */
export const cannotMount: string | undefined = (() => {
  if (process.getuid?.() !== 0) return 'not root: tests that mount tmpfs are skipped';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir]);
    return undefined;
  } catch (e) {
    return `mounting tmpfs is not permitted here: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    fs.rmdirSync(dir);
  }
})();
if (cannotMount) console.log(`# skipping: ${cannotMount}`);

const mounted: string[] = [];

/** Mount a fresh tmpfs at a new directory (or at `at`) and return its path. */
export function tmpfs(options = 'size=64m,nr_inodes=100000', at?: string): string {
  const dir = at ?? fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-test-'));
  if (at) fs.mkdirSync(at, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  fs.chmodSync(dir, 0o755);
  mounted.push(dir);
  return dir;
}

/** Unmount everything this process mounted, innermost first. */
export function unmountAll(): void {
  while (mounted.length) {
    const dir = mounted.pop()!;
    spawnSync('umount', ['-l', dir]);
    try { fs.rmdirSync(dir); } catch { /* a nested mount point goes with its parent */ }
  }
}

export function touch(file: string, uid?: number): void {
  fs.closeSync(fs.openSync(file, 'w'));
  if (uid !== undefined) fs.chownSync(file, uid, uid);
}

export interface Run { status: number | null; stdout: string; stderr: string }

/**
 * Run the enospc CLI, optionally as another user. JSON it prints (--json, trace --events) is
 * checked against the command's schema: a mismatch fails the test.
 */
export function enospc(args: string[], opts: { uid?: number; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid, cwd: '/' } : {}),
  });
  checkOutput(args, r.stdout);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `find DIR -xdev | wc -l`, the reference count. */
export function findCount(dir: string, xdev = true): number {
  const out = execFileSync('find', xdev ? [dir, '-xdev'] : [dir], { maxBuffer: 256 << 20 });
  let n = 0;
  for (const b of out) if (b === 10) n++;
  return n;
}

const HUNG_MOUNT = new URL('../../test/fixtures/hung-mount.py', import.meta.url).pathname;

/** Why mounts that never answer cannot be made here (FUSE needs /dev/fuse, the fixture python3), or undefined. */
export const cannotHang: string | undefined = cannotMount ?? (() => {
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse: hung FUSE mounts cannot be made';
  if (spawnSync('python3', ['-c', 'import ctypes'], { stdio: 'ignore' }).status !== 0) return 'no python3 with ctypes for the hung-mount fixture';
  return undefined;
})();

export interface HungMount { dir: string; process: ChildProcess; stop(): void }
const hung: HungMount[] = [];

/**
 * A mount that never answers (test/fixtures/hung-mount.py): `fuse`, whose server never reads
 * /dev/fuse, or `autofs`, whose daemon never reads its pipe. The fixture runs in its own
 * process group, so that the kernel does not take the test's processes for the autofs daemon.
 * stop() (or stopHung()) kills it and lazily unmounts.
 */
export async function hungMount(kind: 'fuse' | 'autofs', parent = os.tmpdir()): Promise<HungMount> {
  const dir = fs.mkdtempSync(path.join(parent, `enospc-hung-${kind}-`));
  const child = spawn('python3', [HUNG_MOUNT, kind, dir], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  const h: HungMount = {
    dir, process: child,
    stop() {
      const i = hung.indexOf(h);
      if (i < 0) return;
      hung.splice(i, 1);
      child.kill('SIGKILL'); // closing /dev/fuse aborts the connection
      spawnSync('umount', ['-l', dir]);
      try { fs.rmdirSync(dir); } catch { /* still busy: left for the system */ }
    },
  };
  hung.push(h);
  const line = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', () => resolve(out.trim() || 'the fixture exited'));
  });
  if (line !== 'ready') {
    h.stop();
    throw new Error(`hung ${kind} mount at ${dir}: ${line}`);
  }
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  return h;
}

/** Stop every hung mount still up. */
export function stopHung(): void {
  while (hung.length) hung[hung.length - 1]!.stop();
}

/** An `enospc agent` started by a test, once it serves. */
export interface RunningAgent { proc: ChildProcess; url: string; stderr: () => string }

/**
 * Start `enospc agent ARGS` listening on `listen` (a free port by default); resolves with its
 * base URL (http or https) once it says it serves. The process is pushed to `children`, for the
 * test's cleanup.
 */
export function startAgent(args: string[], children: ChildProcess[], listen = '127.0.0.1:0'): Promise<RunningAgent> {
  const proc = spawn(process.execPath, [CLI, 'agent', '--listen', listen, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(proc);
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${err}`)), 20_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving (https?:\/\/\S+)\/metrics/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1]!, stderr: () => err });
      }
    });
    proc.on('exit', (code) => reject(new Error(`agent exited ${code}: ${err}`)));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ask `f` every 250 ms until it gives a value; throws after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
