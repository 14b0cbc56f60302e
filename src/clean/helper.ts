// The cleaner's second thread, seen from the main thread: started at the first batch big enough
// to split, when there is a second CPU and fds to spare; given a step of one half (remove-worker.ts)
// once it is loaded (until then, and if it cannot load, the main thread does all). Not unref'd:
// told to quit, it ends by itself (ended from outside while loading koffi, it would abort the
// process).
//
// Each step carries a sequence number. A step that never reaches the thread (it waits
// TASK_WAIT_MS for one it was woken for) is reported missed, and the main thread does it; a late
// one is skipped there by its number, so a check is never done twice. A
// check's log lines that do not come back are made again here from the shared items, which hold
// everything they say.
import os from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { fdHeadroom } from '../sys/fds.js';
import { HELPER_FAILED, HELPER_READY, TASK_MISSED, TASK_WAIT_MS, type Items, type RemoveCtx } from './remove.js';
import type { RemoveFailure, RemoveReply, RemoveTask, RemoveWorkerInput } from './remove-worker.js';

/** batches at least this big are split between two threads */
export const SPLIT = 256;
/** a second thread only with this many fds to spare (its event loop, its modules loading) */
const MIN_FDS_FOR_HELPER = 128;

/** How a step posted went: missed (the main thread does it); else the lines a check handed back, or null (none asked, or they did not come). */
export type StepOutcome = { missed: true } | { missed: false; text: string | null };

export class Helper {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(16));
  private readonly port: MessagePort;
  private seq = 0;
  /** the guard generation whose context it was sent */
  private gen = -1;
  /** the step posted last hands back text */
  private wantsText = false;

  /** Can a second thread help here (a second CPU, fds to spare)? */
  static possible(): boolean {
    return os.availableParallelism() > 1 && fdHeadroom() >= MIN_FDS_FOR_HELPER;
  }

  constructor(items: Items) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const input: RemoveWorkerInput = { items, ctl: this.ctl, port: port2 };
    try {
      new Worker(new URL('./remove-worker.js', import.meta.url), { workerData: input, transferList: [port2] }).on('error', () => {});
    } catch { /* never ready */ }
  }

  ready(): boolean {
    return Atomics.load(this.ctl, 2) === HELPER_READY;
  }

  /** Hand it a step for items [from, to) of the directory `dirfd`; the context goes along when it changed (generation). */
  post(task: Omit<RemoveTask, 'ctx' | 'seq' | 'stickyOwner'>, ctx: RemoveCtx, generation: number): void {
    const seq = ++this.seq;
    this.wantsText = task.op === 'check' && task.dirPath !== null;
    this.port.postMessage(generation !== this.gen ? { ...task, seq, ctx, stickyOwner: ctx.stickyOwner } : { ...task, seq, stickyOwner: ctx.stickyOwner });
    this.gen = generation;
    Atomics.store(this.ctl, 0, seq);
    Atomics.notify(this.ctl, 0);
  }

  /** Wait for the step posted last. What failed there is thrown here, as if this thread had done it. */
  wait(): StepOutcome {
    while (Atomics.load(this.ctl, 1) !== this.seq) Atomics.wait(this.ctl, 1, Atomics.load(this.ctl, 1), 1000);
    if (Atomics.load(this.ctl, 2) === HELPER_FAILED) {
      const m = this.reply((x): x is RemoveFailure => 'message' in x);
      throw Object.assign(new Error(m?.message ?? 'the second thread failed'), m?.code ? { code: m.code } : {});
    }
    if (Atomics.load(this.ctl, 3) === TASK_MISSED) {
      this.gen = -1; // its context may have been lost with it
      return { missed: true };
    }
    if (!this.wantsText) return { missed: false, text: null };
    return { missed: false, text: this.reply((x): x is RemoveReply => 'text' in x)?.text ?? null };
  }

  /** The message of the step posted last that `is`, waited for up to TASK_WAIT_MS; older ones are dropped. */
  private reply<T extends { seq: number }>(is: (x: { seq: number }) => x is T): T | null {
    const t0 = performance.now();
    for (;;) {
      const got = receiveMessageOnPort(this.port);
      if (got !== undefined) {
        const m = got.message as { seq: number };
        if (m.seq === this.seq && is(m)) return m;
        continue;
      }
      if (performance.now() - t0 >= TASK_WAIT_MS) return null;
      Atomics.wait(this.ctl, 1, this.seq, 1);
    }
  }

  quit(): void {
    Atomics.store(this.ctl, 0, -1);
    Atomics.notify(this.ctl, 0);
    this.port.close();
  }
}
