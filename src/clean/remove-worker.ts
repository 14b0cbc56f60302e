// The cleaner's second thread: does a step for one half of a batch with the same code as the
// main thread (remove.ts), hands back its text, says it is done. It never writes the audit
// log: it checks its half and returns the log lines ('check'); it unlinks only when the main
// thread, having written and fdatasync'd the whole batch's lines, sends 'unlink'.
// The directory fd is the process's, shared.
// ctl: [0] the task posted (-1: quit), [1] the task done, [2] HELPER_READY / HELPER_FAILED.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { HELPER_FAILED, HELPER_READY, checkItems, logLines, unlinkItems, type Items, type RemoveCtx } from './remove.js';

export interface RemoveWorkerInput { items: Items; ctl: Int32Array; port: MessagePort }
export interface RemoveTask {
  /** check: statx and check, return the log lines (when `log`); unlink: unlink what passed, return the notRemoved lines */
  op: 'check' | 'unlink';
  dirfd: number;
  dirPath: Uint8Array;
  from: number;
  to: number;
  log: boolean;
  ctx?: RemoveCtx;
}
/** What a task hands back on the port before it says it is done. */
export interface RemoveReply { text: string }

const { items, ctl, port } = workerData as RemoveWorkerInput;
let ctx: RemoveCtx | undefined;
let seen = 0;
Atomics.store(ctl, 2, HELPER_READY);
try {
  for (;;) {
    Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    if (seen < 0) break;
    const task = receiveMessageOnPort(port)!.message as RemoveTask;
    if (task.ctx) ctx = task.ctx;
    let text = '';
    if (task.op === 'check') {
      checkItems(task.dirfd, items, task.from, task.to, ctx!);
      if (task.log) text = logLines(task.dirPath, items, task.from, task.to);
    } else {
      text = unlinkItems(task.dirfd, task.dirPath, items, task.from, task.to);
    }
    port.postMessage({ text } satisfies RemoveReply);
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
