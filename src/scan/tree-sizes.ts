// treeSize over many directories on two threads: the calling thread and one worker take
// directories from one shared counter, so the worker's start-up costs the caller nothing and a
// short list is done before the worker is even needed. Results go into shared memory.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { treeSize, type TreeSize } from './tree-size.js';
import { fdHeadroom } from '../sys/fds.js';
import type { WalkMount } from '../probe/mounts.js';

/** inodes, bytes, state per directory; state: 0 not reached, 1 counted, 2 partial, 3 error */
export const FIELDS = 3;
/** a second thread only with this many fds to spare: its event loop, its modules, its walks */
const MIN_FDS_FOR_WORKER = 128;

export interface SizesInput {
  paths: string[];
  /** epoch ms after which to stop */
  deadlineEpoch: number;
  next: Int32Array;
  busy: Int32Array;
  out: Float64Array;
  /** mount points the walks skip without opening them (see WalkOptions) */
  mountPoints?: WalkMount[];
}

/** Take directories from `next` until none are left or the deadline passes. */
export function countShared(input: SizesInput, busySlot: number): void {
  const { paths, next, busy, out } = input;
  const deadline = performance.now() + (input.deadlineEpoch - Date.now());
  for (;;) {
    Atomics.store(busy, busySlot, 1);
    const i = Atomics.add(next, 0, 1);
    if (i >= paths.length || performance.now() >= deadline) break;
    try {
      const t = treeSize(paths[i]!, deadline, input.mountPoints);
      out[i * FIELDS] = t.inodes;
      out[i * FIELDS + 1] = t.bytes;
      out[i * FIELDS + 2] = t.partial ? 2 : 1;
    } catch {
      out[i * FIELDS + 2] = 3;
    }
  }
  Atomics.store(busy, busySlot, 0);
}

export type Counted = (Omit<TreeSize, 'unreadable'> | { error: true } | null);

/**
 * Count every directory of `paths` before `deadline` (performance.now() ms); null: not reached.
 * `mountPoints` (below any of them) are skipped without being opened.
 */
export async function treeSizes(paths: string[], deadline: number, mountPoints?: WalkMount[]): Promise<Counted[]> {
  const input: SizesInput = {
    paths,
    deadlineEpoch: Date.now() + (deadline - performance.now()),
    next: new Int32Array(new SharedArrayBuffer(4)),
    busy: new Int32Array(new SharedArrayBuffer(8)),
    out: new Float64Array(new SharedArrayBuffer(Math.max(1, paths.length) * FIELDS * 8)),
    ...(mountPoints ? { mountPoints } : {}),
  };
  let worker: Worker | undefined;
  if (paths.length > 1 && os.availableParallelism() > 1 && deadline > performance.now() && fdHeadroom() >= MIN_FDS_FOR_WORKER) {
    try {
      worker = new Worker(new URL('./tree-sizes-worker.js', import.meta.url), { workerData: input });
      worker.once('error', () => {}); // one that cannot load (out of fds, say) leaves all to this thread
    } catch {
      worker = undefined;
    }
  }
  countShared(input, 0);
  if (worker) {
    // The worker finishes the directory it holds. One that never took any is not waited for,
    // nor ended: ended during koffi's load, it would abort the process. Once loaded it finds
    // nothing left to take and ends by itself.
    while (Atomics.load(input.busy, 1) === 1) await new Promise((r) => setTimeout(r, 2));
  }
  return paths.map((_, i) => {
    const state = input.out[i * FIELDS + 2];
    if (state === 3) return { error: true };
    if (state !== 1 && state !== 2) return null;
    return { inodes: input.out[i * FIELDS]!, bytes: input.out[i * FIELDS + 1]!, partial: state === 2 };
  });
}
