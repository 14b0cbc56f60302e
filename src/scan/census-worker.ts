// A census thread: claims units from the shared counter until none are left, then hands its
// census back. Directory fds are process-wide, so it opens each unit relative to the parent fd
// the frontier walk kept open.
import { parentPort, workerData } from 'node:worker_threads';
import { Census, type CensusOptions, type Unit } from './census.js';
import { buf } from './census-parts.js';

export interface WorkerInput {
  opts: CensusOptions;
  /** epoch ms after which to stop */
  deadlineEpoch: number | undefined;
  next: Int32Array;
  progress: Float64Array;
  slot: number;
}

export interface WorkerUnits {
  units: Unit[];
  dev: { major: number; minor: number };
}

const input = workerData as WorkerInput;
parentPort!.once('message', (msg: WorkerUnits) => {
  const { opts, next, progress, slot } = input;
  const deadline = input.deadlineEpoch === undefined ? undefined : performance.now() + (input.deadlineEpoch - Date.now());
  const census: Census = new Census({ ...opts, onProgress: () => { progress[slot] = census.load().entries; } });
  for (;;) {
    const i = Atomics.add(next, 0, 1);
    if (i >= msg.units.length) break;
    const u = msg.units[i]!;
    census.runUnit({ ...u, name: buf(u.name), path: buf(u.path) }, i, msg.dev, deadline);
    if (deadline !== undefined && performance.now() > deadline) break;
  }
  parentPort!.postMessage(census.exportState());
});
