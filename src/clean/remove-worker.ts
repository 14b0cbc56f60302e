// The cleaner's second thread: waits for a half batch, removes it with the same code as the
// main thread (remove.ts), says it is done. The directory fd is the process's, shared.
// ctl: [0] the task posted (-1: quit), [1] the task done, [2] HELPER_READY / HELPER_FAILED.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { HELPER_FAILED, HELPER_READY, removeItems, type Items, type RemoveCtx } from './remove.js';

export interface RemoveWorkerInput { items: Items; ctl: Int32Array; port: MessagePort }
export interface RemoveTask { dirfd: number; dirPath: string; from: number; to: number; ctx?: RemoveCtx }

const { items, ctl, port } = workerData as RemoveWorkerInput;
let ctx: RemoveCtx | undefined;
let seen = 0;
Atomics.store(ctl, 2, HELPER_READY);
try {
  for (;;) {
    Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    if (seen < 0) break;
    // the task was posted before ctl[0] was set, but may not be there to take at once: wait a little
    let got = receiveMessageOnPort(port);
    for (let ms = 0; got === undefined && ms < 10_000; ms++) {
      Atomics.wait(ctl, 0, seen, 1);
      got = receiveMessageOnPort(port);
    }
    if (got === undefined) throw new Error('the second thread was woken without a task');
    const task = got.message as RemoveTask;
    if (task.ctx) ctx = task.ctx;
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
