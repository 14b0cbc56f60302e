// The cleaner's second thread: checks one half of a batch with the same code as the main thread
// (remove.ts), hands back that half's log lines (when there is a log) and says it is done. It
// never writes the audit log and never unlinks: unlinks in one directory take the directory's
// lock in turn, so the main thread does them all, after the batch's lines are durable. The
// directory fd is the process's, shared; what each name became is in the shared items.
// ctl: [0] the task posted (its sequence number; -1: quit), [1] the task done, [2] HELPER_READY /
// HELPER_FAILED, [3] TASK_MISSED when the task woken for never came.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { HELPER_FAILED, HELPER_READY, TASK_MISSED, TASK_WAIT_MS, checkItems, logLines, type Items, type RemoveCtx } from './remove.js';

export interface RemoveWorkerInput { items: Items; ctl: Int32Array; port: MessagePort }
export interface RemoveTask {
  seq: number;
  /** statx and check, hand back the log lines (when dirPath) */
  op: 'check';
  dirfd: number;
  /** the directory's path (bytes) when there is an audit log, else null */
  dirPath: Uint8Array | null;
  from: number;
  to: number;
  ctx?: RemoveCtx;
  /** the directory's stickyOwner (it changes per directory, not with the guard's generation) */
  stickyOwner: number;
}
/** What a 'check' with a log hands back before it says it is done; `seq`: its task's. */
export interface RemoveReply { seq: number; text: string }
/** What a failure hands back (HELPER_FAILED). */
export interface RemoveFailure { seq: number; message: string; code?: string }

const { items, ctl, port } = workerData as RemoveWorkerInput;
let ctx: RemoveCtx | undefined;

/** The task numbered `seq`: older ones, done by the main thread meanwhile, are skipped (their context kept); null when it does not come. */
function nextTask(seq: number): RemoveTask | null {
  for (let ms = 0; ms < TASK_WAIT_MS;) {
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

let seen = 0;
Atomics.store(ctl, 2, HELPER_READY);
try {
  for (;;) {
    Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    if (seen < 0) break;
    // the task was posted before ctl[0] was set, yet it has been seen not to be there to take
    // (rarely, under load): wait a little for it, skip any older one, and if it does not come say
    // so (ctl[3]): the main thread then does that step of that half itself
    const task = nextTask(seen);
    if (!task) {
      Atomics.store(ctl, 3, TASK_MISSED);
      Atomics.store(ctl, 1, seen);
      Atomics.notify(ctl, 1);
      continue;
    }
    Atomics.store(ctl, 3, 0);
    ctx!.stickyOwner = task.stickyOwner;
    checkItems(task.dirfd, items, task.from, task.to, ctx!);
    if (task.dirPath) port.postMessage({ seq: seen, text: logLines(task.dirPath, items, task.from, task.to) } satisfies RemoveReply);
    Atomics.store(ctl, 1, seen);
    Atomics.notify(ctl, 1);
  }
} catch (e) {
  // the main thread throws it as its own
  const err = e as NodeJS.ErrnoException;
  port.postMessage({ seq: seen, message: err.message, ...(err.code ? { code: err.code } : {}) } satisfies RemoveFailure);
  Atomics.store(ctl, 2, HELPER_FAILED);
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}
