// Calls that can block in the kernel for ever (statfs of a mount whose FUSE or NFS server never
// answers, realpath through it), made where they can be abandoned: in a child process. A call
// stuck on a libuv thread or in a worker thread cannot be abandoned, since Node joins those
// threads at exit and the process would never end; a child can be SIGKILLed (FUSE, NFS and
// autofs waits are killable), and even one that lingers does not hold this process.
//
// One child takes every request at once and answers each as it can; whatever has not answered
// by the deadline comes back as "timeout", and the child is killed. Nothing of it keeps this
// process's event loop alive afterwards.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
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
export async function guarded(ask: { statfs?: string[]; resolve?: string[] }, ms = 5000, kept?: GuardProcess): Promise<GuardAnswers> {
  const requests: GuardRequest[] = [
    ...(ask.statfs ?? []).map((p): GuardRequest => ({ op: 'statfs', path: path.resolve(p) })),
    ...(ask.resolve ?? []).map((p): GuardRequest => ({ op: 'resolve', path: path.resolve(p) })),
  ];
  const t0 = performance.now();
  const lines = !requests.length ? [] : kept ? await kept.ask(requests, ms) : await run(requests, ms);
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
export async function statfsGuarded(paths: string[], ms = 5000, kept?: GuardProcess): Promise<UsageOrError[]> {
  return (await guarded({ statfs: paths }, ms, kept)).statfs;
}

/** Threads of a kept child: statfs calls at once, and twice the hung ones it may hold before it is replaced. */
const KEPT_THREADS = 64;

/**
 * A guard child kept between calls, for a long-running process (the agent): one process for
 * every sample instead of a new one each time (starting Node costs ~100 ms of CPU). A request
 * that did not answer in time stays in the child; while it does, the same request is answered
 * "timeout" at once (a hung mount costs a sample nothing after the first time), and once it
 * answers (the mount came back) the next one is asked again. When half the child's threads are
 * held by hung calls, it is killed and a new one started.
 */
export class GuardProcess {
  private child: ChildProcessWithoutNullStreams | null = null;
  private nextBatch = 0;
  /** open batches: where each answer line goes, and how to end them if the child dies */
  private readonly batches = new Map<number, { got: (k: number, line: Line) => void; fail: (why: string) => void }>();
  /** requests still in the child after their deadline ("op\0path") */
  private readonly stuck = new Set<string>();
  /** for a batch that ended with requests unanswered: its index -> the stuck request */
  private readonly late = new Map<number, Map<number, string>>();
  private buf = '';

  /** The answers by request index, as run() gives them. */
  ask(requests: GuardRequest[], ms: number): Promise<Array<Line | undefined>> {
    const b = this.nextBatch++;
    const answers = new Array<Line | undefined>(requests.length);
    /** child index -> [request index, key] of what is sent */
    const sent: Array<[number, string]> = [];
    requests.forEach((r, i) => {
      const key = `${r.op}\0${r.path}`;
      if (this.stuck.has(key)) answers[i] = { i, error: 'timeout' };
      else sent.push([i, key]);
    });
    if (!sent.length) return Promise.resolve(answers);
    const child = this.spawned();
    let left = sent.length;
    let done = false;
    return new Promise((resolve) => {
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.batches.delete(b);
        const late = new Map<number, string>();
        sent.forEach(([i, key], k) => {
          if (answers[i] !== undefined) return;
          this.stuck.add(key);
          late.set(k, key);
        });
        if (late.size) this.late.set(b, late);
        if (this.stuck.size * 2 >= KEPT_THREADS) this.close();
        resolve(answers);
      };
      const timer = setTimeout(finish, ms);
      this.batches.set(b, {
        got: (k, line) => {
          const i = sent[k]![0];
          if (done || answers[i] !== undefined) return;
          answers[i] = { ...line, i };
          if (--left === 0) finish();
        },
        fail: (why) => {
          for (const [i] of sent) answers[i] ??= { i, error: why };
          finish();
        },
      });
      child.stdin.write(JSON.stringify({ b, requests: sent.map(([i]) => requests[i]) }) + '\n');
    });
  }

  /** Kill the child (it may be stuck in the kernel); the next ask starts another. */
  close(): void {
    const child = this.child;
    if (!child) return;
    this.child = null;
    this.stuck.clear();
    this.late.clear();
    child.kill('SIGKILL');
    child.stdin.destroy();
    child.stdout.destroy();
    for (const [, batch] of this.batches) batch.fail('the probe process was replaced');
  }

  private spawned(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn(process.execPath, [CHILD, '--serve'], {
      cwd: '/', stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, UV_THREADPOOL_SIZE: String(KEPT_THREADS) },
    }) as unknown as ChildProcessWithoutNullStreams;
    this.child = child;
    this.buf = '';
    // nothing of it keeps this process alive: an open batch's timer does while one is asked
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.read(chunk));
    child.stdin.on('error', () => { /* the child died: 'close' says so */ });
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = null;
      this.stuck.clear();
      this.late.clear();
      for (const [, batch] of this.batches) batch.fail(why);
    };
    child.on('error', (e) => gone(`the probe process could not run: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    child.on('close', (code, signal) => gone(`the probe process ended (${signal ?? `exit ${code}`}) without answering`));
    return child;
  }

  private read(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(this.buf.slice(0, nl)) as Line & { b: number };
      this.buf = this.buf.slice(nl + 1);
      this.batches.get(line.b)?.got(line.i, line);
      // a hung request answered at last: ask it again next time
      const late = this.late.get(line.b);
      const key = late?.get(line.i);
      if (late && key !== undefined) {
        late.delete(line.i);
        if (!late.size) this.late.delete(line.b);
        this.stuck.delete(key);
      }
    }
  }
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
