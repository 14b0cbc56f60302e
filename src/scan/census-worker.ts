// A census thread: claims units from the shared counter until none are left, then hands its
// census back. Directory fds are process-wide, so it opens each unit relative to the parent fd
// the frontier walk kept open.
import { parentPort, workerData } from 'node:worker_threads';
import { Census, type CensusOptions, type CensusState, type Unit } from './census.js';
import { buf } from './census-parts.js';
import { SysError } from '../sys/libc.js';

export interface WorkerInput {
  opts: CensusOptions;
  /** epoch ms after which to stop */
  deadlineEpoch: number | undefined;
  next: Int32Array;
  progress: Float64Array;
  slot: number;
  /** loaded[slot] is set once this thread's modules (koffi with them) are loaded */
  loaded: Int32Array;
}

export interface WorkerUnits {
  units: Unit[];
  dev: { major: number; minor: number };
}

/** The census, or the system call that failed it (out of fds, say). */
export type WorkerReply = CensusState | { error: { syscall: string; errno: number; path?: string } };

const input = workerData as WorkerInput;
Atomics.store(input.loaded, input.slot, 1);
// null: not needed, quit
parentPort!.once('message', (msg: WorkerUnits | null) => {
  if (msg === null) return;
  const { opts, next, progress, slot } = input;
  const deadline = input.deadlineEpoch === undefined ? undefined : performance.now() + (input.deadlineEpoch - Date.now());
  const census: Census = new Census({ ...opts, onProgress: () => { progress[slot] = census.load().entries; } });
  try {
    for (;;) {
      const i = Atomics.add(next, 0, 1);
      if (i >= msg.units.length) break;
      const u = msg.units[i]!;
      census.runUnit({ ...u, name: buf(u.name), path: buf(u.path) }, i, msg.dev, deadline);
      if (deadline !== undefined && performance.now() > deadline) break;
    }
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    const reply: WorkerReply = { error: { syscall: e.syscall, errno: e.errno, ...(e.path !== undefined ? { path: e.path } : {}) } };
    parentPort!.postMessage(reply);
    return;
  }
  const reply: WorkerReply = census.exportState();
  parentPort!.postMessage(reply);
});
