// The census on several threads. Worker threads start loading at once; meanwhile the calling
// thread reads the top of the tree and leaves wide subtrees as units, largest first, and
// starts on them. Merging censuses costs in proportion to their distinct patterns, so the
// workers get the units only when the tree proves to be many entries of few patterns (the
// /tmp full of magick-* files): after DECIDE_AFTER entries, fewer than MAX_PATTERN_SHARE
// patterns per entry. Then all threads take units from one atomic counter and the censuses
// are merged. Otherwise (a tree of mostly unique names, or a small one) the workers are let
// go unused, without holding the process up.
//
// A worker is never ended from outside while it may be in koffi: ended during koffi's load
// (or a call), koffi's error cannot be thrown in the dying thread and Node aborts the whole
// process (FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw). A worker still loading
// is told to quit and ends by itself once loaded; only idle ones are terminated.
//
// Threads and fd windows are sized to the fds this process may still open.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Census, census, type CensusOptions, type CensusResult, type CensusState } from './census.js';
import type { WorkerInput, WorkerReply, WorkerUnits } from './census-worker.js';
import { fdHeadroom } from '../sys/fds.js';
import { SysError } from '../sys/libc.js';

export interface ParallelOptions extends CensusOptions {
  /** hand units to workers whatever the tree (tests) */
  alwaysShare?: boolean;
  /** threads in all, the calling one included (default: available cores, at most 4) */
  threads?: number;
}

const DECIDE_AFTER = 20_000;
const MAX_PATTERN_SHARE = 0.02;
/** fds left for the rest of the command */
const RESERVE_FDS = 8;
/** the most fds the frontier walk keeps for its units: a wide root's, or one per child of the root */
const FRONTIER_FDS = 64;
/** a worker: its event loop (4 fds) and its modules, loaded at once */
const WORKER_FDS = 40;
/** below this many fds per walker, one thread does better than several */
const MIN_PARALLEL_WINDOW = 32;

/** How many threads, and how many directory fds each walker keeps, with `headroom` fds to spend. */
export function fdPlan(wanted: number, headroom: number, fdWindow?: number): { threads: number; fdWindow: number } {
  const per = (t: number) => Math.floor((headroom - RESERVE_FDS - (t > 1 ? FRONTIER_FDS + (t - 1) * WORKER_FDS : 0)) / t);
  let threads = wanted;
  while (threads > 1 && per(threads) < MIN_PARALLEL_WINDOW) threads--;
  return { threads, fdWindow: fdWindow ?? Math.max(4, Math.min(256, per(threads))) };
}

export async function censusParallel(root: string, opts: ParallelOptions = {}): Promise<CensusResult> {
  const plan = fdPlan(Math.max(1, Math.min(opts.threads ?? os.availableParallelism(), 4)), fdHeadroom(), opts.fdWindow);
  const threads = plan.threads;
  if (threads === 1) return census(root, { ...opts, fdWindow: plan.fdWindow });
  const t0 = performance.now();
  const deadlineEpoch = opts.budgetMs === undefined ? undefined : Date.now() + opts.budgetMs;
  const deadline = opts.budgetMs === undefined ? undefined : t0 + opts.budgetMs;
  const next = new Int32Array(new SharedArrayBuffer(4));
  const progress = new Float64Array(new SharedArrayBuffer(8 * threads));
  const loaded = new Int32Array(new SharedArrayBuffer(4 * threads));
  const { onProgress, threads: _threads, alwaysShare, ...rest } = opts;
  const shared = { ...rest, fdWindow: plan.fdWindow };
  // each thread's slot holds its running total (a walker's own count restarts with every unit)
  const mineProgress = onProgress ? () => { progress[0] = top.load().entries; onProgress(progress.reduce((a, b) => a + b, 0)); } : undefined;
  const withProgress = { ...shared, ...(mineProgress ? { onProgress: mineProgress } : {}) };

  const workers: Worker[] = [];
  const all: Array<{ w: Worker; slot: number }> = [];
  const states: Array<Promise<CensusState | null>> = [];
  for (let slot = 1; slot < threads; slot++) {
    const data: WorkerInput = { opts: shared, deadlineEpoch, next, progress, slot, loaded };
    let w: Worker;
    try {
      w = new Worker(new URL('./census-worker.js', import.meta.url), { workerData: data });
    } catch {
      break; // fewer threads
    }
    w.unref();
    const state = new Promise<CensusState | null>((resolve, reject) => {
      w.once('message', (m: WorkerReply) => ('error' in m ? reject(new SysError(m.error.syscall, m.error.errno, m.error.path)) : resolve(m)));
      // one that never loaded (out of fds, say) took no unit: the other threads take its share
      const ended = (e?: Error) => (Atomics.load(loaded, slot) ? reject(e ?? new Error('a census thread ended without its census')) : resolve(null));
      w.once('error', ended);
      w.once('exit', () => ended());
    });
    state.catch(() => {}); // awaited only when the workers take units
    states.push(state);
    workers.push(w);
    all.push({ w, slot });
  }
  let decided = false;
  let msg: WorkerUnits | undefined;
  // The calling thread's census: the top of the tree, then the units this thread takes.
  const top: Census = new Census({
    ...withProgress,
    onBatch: () => {
      if (decided || !msg) return;
      const { entries, patterns } = top.load();
      if (entries < DECIDE_AFTER && !alwaysShare) return;
      decided = true;
      if (alwaysShare || patterns / entries < MAX_PATTERN_SHARE) for (const w of workers) w.postMessage(msg);
      else workers.length = 0;
    },
  });
  try {
    const units = top.runFrontier(root, deadline);
    if (units.length === 0) return top.finish(root, performance.now() - t0);
    msg = { units, dev: top.rootDev() };
    for (;;) {
      const i = Atomics.add(next, 0, 1);
      if (i >= units.length) break;
      top.runUnit(units[i]!, i, msg.dev, deadline);
      if (deadline !== undefined && performance.now() > deadline) break;
    }
    if (decided && workers.length) for (const st of await Promise.all(states)) if (st) top.absorb(st);
    if (Atomics.load(next, 0) < units.length) top.markPartial();
    return top.finish(root, performance.now() - t0);
  } finally {
    // on a failure, no more units for anyone, and the kept fds stay until the workers are done
    if (msg) Atomics.store(next, 0, msg.units.length);
    if (decided && workers.length) await Promise.allSettled(states);
    top.closeKept();
    for (const { w, slot } of all) {
      if (Atomics.load(loaded, slot)) {
        void w.terminate(); // idle: never given units, or done with them
      } else {
        w.ref(); // the process waits for it to load and quit
        w.postMessage(null);
      }
    }
  }
}
