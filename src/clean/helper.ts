// The cleaner's second thread, seen from the main thread: started at the first batch big
// enough to split, given a step of one half (remove-worker.ts) once it is loaded (until then,
// and if it cannot load, the main thread does all). Not unref'd: told to quit, it ends by
// itself (ended from outside while loading koffi, it would abort the process).
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { HELPER_FAILED, HELPER_READY, type Items, type RemoveCtx } from './remove.js';
import type { RemoveReply, RemoveTask, RemoveWorkerInput } from './remove-worker.js';

export class Helper {
  private seq = 0;
  /** the guard generation whose sets it was sent */
  private gen = -1;

  private constructor(private readonly ctl: Int32Array, private readonly port: MessagePort) {}

  static start(items: Items): Helper {
    const ctl = new Int32Array(new SharedArrayBuffer(12));
    const { port1, port2 } = new MessageChannel();
    const input: RemoveWorkerInput = { items, ctl, port: port2 };
    try {
      new Worker(new URL('./remove-worker.js', import.meta.url), { workerData: input, transferList: [port2] }).on('error', () => {});
    } catch { /* never ready */ }
    return new Helper(ctl, port1);
  }

  /** Loaded and waiting for work? */
  ready(): boolean {
    return Atomics.load(this.ctl, 2) === HELPER_READY;
  }

  /** Start a step; the open and locked sets go along when they changed since the last one. */
  post(task: Omit<RemoveTask, 'ctx'>, ctx: RemoveCtx, generation: number): void {
    const full: RemoveTask = this.gen !== generation ? { ...task, ctx } : task;
    this.gen = generation;
    this.port.postMessage(full);
    Atomics.store(this.ctl, 0, ++this.seq);
    Atomics.notify(this.ctl, 0);
  }

  /** Wait for the step posted last; its text. What failed there throws here, as if this thread had done it. */
  wait(): string {
    while (Atomics.load(this.ctl, 1) !== this.seq) Atomics.wait(this.ctl, 1, Atomics.load(this.ctl, 1), 1000);
    const m = receiveMessageOnPort(this.port)?.message as (RemoveReply & { message?: undefined }) | { message: string; code?: string } | undefined;
    if (Atomics.load(this.ctl, 2) === HELPER_FAILED || !m || m.message !== undefined) {
      const f = m as { message?: string; code?: string } | undefined;
      throw Object.assign(new Error(f?.message ?? 'the second thread failed'), f?.code ? { code: f.code } : {});
    }
    return m.text;
  }

  quit(): void {
    Atomics.store(this.ctl, 0, -1);
    Atomics.notify(this.ctl, 0);
    this.port.close();
  }
}
