// The cleaner's second thread, seen from the first: started at the first batch big enough to
// split, when there is a second CPU and fds to spare; given halves once it is loaded (until then,
// and if it cannot load, the first thread does all). Not unref'd: told to quit, it ends by itself
// (ended from outside while loading koffi, it would abort the process).
import os from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { fdHeadroom } from '../sys/fds.js';
import { HELPER_FAILED, HELPER_READY, TASK_MISSED, type Items, type RemoveCtx } from './remove.js';
import type { RemoveTask, RemoveWorkerInput } from './remove-worker.js';

/** batches at least this big are split between two threads */
export const SPLIT = 256;
/** a second thread only with this many fds to spare (its event loop, its modules loading) */
const MIN_FDS_FOR_HELPER = 128;

export class Helper {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(16));
  private readonly port: MessagePort;
  private seq = 0;
  /** the guard generation whose context it was sent */
  private gen = -1;

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

  /** Hand it items [from, to) of the directory `dirfd`; the context goes along when it changed (generation). */
  post(task: Omit<RemoveTask, 'ctx' | 'seq'>, ctx: RemoveCtx, generation: number): void {
    const seq = ++this.seq;
    this.port.postMessage(generation !== this.gen ? { ...task, seq, ctx } : { ...task, seq });
    this.gen = generation;
    Atomics.store(this.ctl, 0, seq);
    Atomics.notify(this.ctl, 0);
  }

  /**
   * Wait for the half posted: false when it never reached the thread (the caller does it then).
   * What failed there (the audit log's write, say) is thrown here.
   */
  wait(): boolean {
    while (Atomics.load(this.ctl, 1) !== this.seq) Atomics.wait(this.ctl, 1, Atomics.load(this.ctl, 1), 1000);
    if (Atomics.load(this.ctl, 3) === TASK_MISSED) {
      this.gen = -1; // its context may have been lost with it
      return false;
    }
    if (Atomics.load(this.ctl, 2) === HELPER_FAILED) {
      const m = receiveMessageOnPort(this.port)?.message as { message: string; code?: string } | undefined;
      throw Object.assign(new Error(m?.message ?? 'the second thread failed'), m?.code ? { code: m.code } : {});
    }
    return true;
  }

  quit(): void {
    Atomics.store(this.ctl, 0, -1);
    Atomics.notify(this.ctl, 0);
    this.port.close();
  }
}
