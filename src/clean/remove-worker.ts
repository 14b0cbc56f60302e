// The cleaner's second thread: waits for a half batch, removes it with the same code as the
// main thread (remove.ts), says it is done. The directory fd is the process's, shared.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { removeItems, type Items, type RemoveCtx } from './remove.js';

export interface RemoveWorkerInput { items: Items; ctl: Int32Array; port: MessagePort }
export interface RemoveTask { dirfd: number; dirPath: string; from: number; to: number; ctx?: RemoveCtx }

const { items, ctl, port } = workerData as RemoveWorkerInput;
let ctx: RemoveCtx | undefined;
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (seen < 0) break;
  const task = receiveMessageOnPort(port)!.message as RemoveTask;
  if (task.ctx) ctx = task.ctx;
  try {
    removeItems(task.dirfd, task.dirPath, items, task.from, task.to, ctx!);
  } finally {
    Atomics.store(ctl, 1, seen);
    Atomics.notify(ctl, 1);
  }
}
