// The cleaner's second thread: waits for a half batch, removes it with the same code as the
// main thread (remove.ts), says it is done. The directory fd is the process's, shared.
// ctl: [0] the task posted (-1: quit), [1] the task done, [2] HELPER_READY / HELPER_FAILED,
// [3] TASK_MISSED when the task never came.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { HELPER_FAILED, HELPER_READY, TASK_MISSED, removeItems, type Items, type RemoveCtx } from './remove.js';

export interface RemoveWorkerInput { items: Items; ctl: Int32Array; port: MessagePort }
export interface RemoveTask { seq: number; dirfd: number; dirPath: string; from: number; to: number; ctx?: RemoveCtx }

function nextTask(seq: number): RemoveTask | null {
  for (let ms = 0; ms < 2000;) {
    const got = receiveMessageOnPort(port);
    if (got === undefined) {
      Atomics.wait(ctl, 0, seq, 1);
      ms++;
      continue;
    }
    const task = got.message as RemoveTask;
    if (task.ctx) ctx = task.ctx;
    if (task.seq === seq) return task;
  }
  return null;
}

const { items, ctl, port } = workerData as RemoveWorkerInput;
let ctx: RemoveCtx | undefined;
let seen = 0;
Atomics.store(ctl, 2, HELPER_READY);
try {
  for (;;) {
    Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    if (seen < 0) break;
    // the task was posted before ctl[0] was set, yet it has been seen not to be there to take
    // (rarely, under load): wait a little for it, skip any older one, and if it does not come say
    // so (ctl[3]): the calling thread then does that half itself
    const task = nextTask(seen);
    if (!task) {
      Atomics.store(ctl, 3, TASK_MISSED);
      Atomics.store(ctl, 1, seen);
      Atomics.notify(ctl, 1);
      continue;
    }
    Atomics.store(ctl, 3, 0);
    removeItems(task.dirfd, task.dirPath, items, task.from, task.to, ctx!);
    Atomics.store(ctl, 1, seen);
    Atomics.notify(ctl, 1);
  }
} catch (e) {
  // the calling thread throws it as its own
  const err = e as NodeJS.ErrnoException;
  port.postMessage({ message: err.message, ...(err.code ? { code: err.code } : {}) });
  Atomics.store(ctl, 2, HELPER_FAILED);
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}
