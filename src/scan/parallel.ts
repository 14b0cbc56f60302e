// The census on several threads. Worker threads start loading at once; meanwhile the calling
// thread reads the top of the tree and leaves wide subtrees as units, largest first, and
// starts on them. Merging censuses costs in proportion to their distinct patterns, so the
// workers get the units only when the tree proves to be many entries of few patterns (the
// /tmp full of magick-* files): after DECIDE_AFTER entries, fewer than MAX_PATTERN_SHARE
// patterns per entry. Then all threads take units from one atomic counter and the censuses
// are merged. Otherwise (a tree of mostly unique names, or a small one) the workers are let
// go unused, without holding the process up.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Census, census, type CensusOptions, type CensusResult, type CensusState } from './census.js';
import type { WorkerInput, WorkerUnits } from './census-worker.js';

export interface ParallelOptions extends CensusOptions {
  /** hand units to workers whatever the tree (tests) */
  alwaysShare?: boolean;
  /** threads in all, the calling one included (default: available cores, at most 4) */
  threads?: number;
}

const DECIDE_AFTER = 20_000;
const MAX_PATTERN_SHARE = 0.02;

export async function censusParallel(root: string, opts: ParallelOptions = {}): Promise<CensusResult> {
  const threads = Math.max(1, Math.min(opts.threads ?? os.availableParallelism(), 4));
  if (threads === 1) return census(root, opts);
  const t0 = performance.now();
  const deadlineEpoch = opts.budgetMs === undefined ? undefined : Date.now() + opts.budgetMs;
  const deadline = opts.budgetMs === undefined ? undefined : t0 + opts.budgetMs;
  const next = new Int32Array(new SharedArrayBuffer(4));
  const progress = new Float64Array(new SharedArrayBuffer(8 * threads));
  const { onProgress, threads: _threads, alwaysShare, ...shared } = opts;
  // each thread's slot holds its running total (a walker's own count restarts with every unit)
  const mineProgress = onProgress ? () => { progress[0] = top.load().entries; onProgress(progress.reduce((a, b) => a + b, 0)); } : undefined;
  const withProgress = { ...shared, ...(mineProgress ? { onProgress: mineProgress } : {}) };

  const workers: Worker[] = [];
  const all: Worker[] = [];
  const states: Array<Promise<CensusState>> = [];
  for (let slot = 1; slot < threads; slot++) {
    const data: WorkerInput = { opts: shared, deadlineEpoch, next, progress, slot };
    const w = new Worker(new URL('./census-worker.js', import.meta.url), { workerData: data });
    w.unref();
    states.push(new Promise<CensusState>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    workers.push(w);
    all.push(w);
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
    if (decided && workers.length) for (const st of await Promise.all(states)) top.absorb(st);
    if (Atomics.load(next, 0) < units.length) top.markPartial();
    return top.finish(root, performance.now() - t0);
  } finally {
    top.closeKept();
    for (const w of all) void w.terminate();
  }
}
