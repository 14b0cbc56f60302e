// The census on several threads. Worker threads start loading at once; meanwhile the calling
// thread reads the top of the tree and leaves wide subtrees as units, largest first. All
// threads then take units from one atomic counter, and the partial censuses are merged.
// When the tree has no wide directory the workers are let go unused (they never hold the
// process up); on one core this is the plain census.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Census, census, type CensusOptions, type CensusResult, type CensusState } from './census.js';
import type { WorkerInput, WorkerUnits } from './census-worker.js';

export interface ParallelOptions extends CensusOptions {
  /** threads in all, the calling one included (default: available cores, at most 4) */
  threads?: number;
}

export async function censusParallel(root: string, opts: ParallelOptions = {}): Promise<CensusResult> {
  const threads = Math.max(1, Math.min(opts.threads ?? os.availableParallelism(), 4));
  if (threads === 1) return census(root, opts);
  const t0 = performance.now();
  const deadlineEpoch = opts.budgetMs === undefined ? undefined : Date.now() + opts.budgetMs;
  const deadline = opts.budgetMs === undefined ? undefined : t0 + opts.budgetMs;
  const next = new Int32Array(new SharedArrayBuffer(4));
  const progress = new Float64Array(new SharedArrayBuffer(8 * threads));
  const { onProgress, threads: _threads, ...shared } = opts;
  const mineProgress = onProgress ? (n: number) => { progress[0] = n; onProgress(progress.reduce((a, b) => a + b, 0)); } : undefined;
  const withProgress = { ...shared, ...(mineProgress ? { onProgress: mineProgress } : {}) };

  const workers: Worker[] = [];
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
  }
  const top = new Census(withProgress);
  try {
    const units = top.runFrontier(root, deadline);
    if (units.length === 0) return top.finish(root, performance.now() - t0);
    const msg: WorkerUnits = { units, dev: top.rootDev() };
    for (const w of workers) w.postMessage(msg);
    const mine = new Census(withProgress);
    for (;;) {
      const i = Atomics.add(next, 0, 1);
      if (i >= units.length) break;
      mine.runUnit(units[i]!, i, msg.dev, deadline);
      if (deadline !== undefined && performance.now() > deadline) break;
    }
    top.absorb(mine.exportState());
    for (const st of await Promise.all(states)) top.absorb(st);
    if (Atomics.load(next, 0) < units.length) top.markPartial();
    return top.finish(root, performance.now() - t0);
  } finally {
    top.closeKept();
    for (const w of workers) void w.terminate();
  }
}
