// Calls that can block in the kernel for ever (statfs of a mount whose FUSE or NFS server never
// answers, realpath through it), made where they can be abandoned: in a child process. A call
// stuck on a libuv thread or in a worker thread cannot be abandoned, since Node joins those
// threads at exit and the process would never end; a child can be SIGKILLed (FUSE, NFS and
// autofs waits are killable), and even one that lingers does not hold this process.
//
// One child takes every request at once and answers each as it can; whatever has not answered
// by the deadline comes back as "timeout", and the child is killed. Nothing of it keeps this
// process's event loop alive afterwards.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type fs from 'node:fs';
import { toUsage, type FsUsage } from './mounts.js';

const CHILD = fileURLToPath(new URL('./guard-child.cjs', import.meta.url));
/** libuv's largest thread pool. */
const MAX_THREADS = 1024;

export type GuardRequest = { op: 'statfs'; path: string } | { op: 'resolve'; path: string };
export type RawStatfs = Pick<fs.StatsFs, 'bsize' | 'blocks' | 'bfree' | 'bavail' | 'files' | 'ffree'>;

export interface UsageOrError {
  usage: FsUsage | null;
  /** "timeout" when the call did not answer in time, else an errno code */
  error?: string;
}

export interface Resolved {
  /** the real path, null when it could not be resolved (see error) */
  real: string | null;
  dir: boolean;
  /** "timeout" or an errno code */
  error?: string;
  /** statfs of the real path */
  usage: FsUsage | null;
  usageError?: string;
}

export interface GuardAnswers {
  statfs: UsageOrError[];
  resolve: Resolved[];
  /** ms from spawning the child to its last answer (or to the deadline) */
  elapsedMs: number;
}

interface Line { i: number; statfs?: RawStatfs; error?: string; real?: string; dir?: boolean; statfsError?: string }

/**
 * statfs of every path of `statfs`, and realpath + is-directory + statfs of every path of
 * `resolve` (relative ones against the current directory), all at once in one child process,
 * within `ms`.
 */
export async function guarded(ask: { statfs?: string[]; resolve?: string[] }, ms = 5000): Promise<GuardAnswers> {
  const requests: GuardRequest[] = [
    ...(ask.statfs ?? []).map((p): GuardRequest => ({ op: 'statfs', path: path.resolve(p) })),
    ...(ask.resolve ?? []).map((p): GuardRequest => ({ op: 'resolve', path: path.resolve(p) })),
  ];
  const t0 = performance.now();
  const lines = requests.length ? await run(requests, ms) : [];
  const nStatfs = ask.statfs?.length ?? 0;
  const miss = (i: number): string => (lines[i] === undefined ? 'timeout' : lines[i]!.error!);
  const out: GuardAnswers = { statfs: [], resolve: [], elapsedMs: performance.now() - t0 };
  for (let i = 0; i < nStatfs; i++) {
    const l = lines[i];
    out.statfs.push(l?.statfs ? { usage: toUsage(l.statfs) } : { usage: null, error: miss(i) });
  }
  for (let i = nStatfs; i < requests.length; i++) {
    const l = lines[i];
    if (l?.real === undefined) {
      out.resolve.push({ real: null, dir: false, error: miss(i), usage: null });
      continue;
    }
    out.resolve.push({
      real: l.real, dir: l.dir === true, usage: l.statfs ? toUsage(l.statfs) : null,
      ...(l.statfsError ? { usageError: l.statfsError } : {}),
    });
  }
  return out;
}

/** statfs of each path through the guard. */
export async function statfsGuarded(paths: string[], ms = 5000): Promise<UsageOrError[]> {
  return (await guarded({ statfs: paths }, ms)).statfs;
}

/** The answers by request index; undefined for those that did not answer in time. */
function run(requests: GuardRequest[], ms: number): Promise<Array<Line | undefined>> {
  const answers = new Array<Line | undefined>(requests.length);
  let left = requests.length;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD], {
      cwd: '/',
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { ...process.env, UV_THREADPOOL_SIZE: String(Math.min(MAX_THREADS, Math.max(4, requests.length))) },
    });
    let done = false;
    const finish = (why?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // the child may be stuck in the kernel: kill it, and let nothing of it hold this process
      child.kill('SIGKILL');
      child.stdin.destroy();
      child.stdout.destroy();
      child.unref();
      if (why) for (let i = 0; i < answers.length; i++) answers[i] ??= { i, error: why };
      resolve(answers);
    };
    const timer = setTimeout(() => finish(), ms);
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (done) return;
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as Line;
        buf = buf.slice(nl + 1);
        if (answers[line.i] === undefined) left--;
        answers[line.i] = line;
      }
      if (left === 0) finish();
    });
    child.on('error', (e) => finish(`the probe process could not run: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    // 'close' comes after the child exited and its answers were all read
    child.on('close', (code, signal) => finish(`the probe process ended (${signal ?? `exit ${code}`}) without answering`));
    child.stdin.on('error', () => { /* the child died: 'exit' says so */ });
    child.stdin.end(JSON.stringify(requests));
  });
}
