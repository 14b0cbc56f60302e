// Start a trace on its own thread; stop it; get the report. The library entry point.
import { Worker } from 'node:worker_threads';
import type { LiveSnapshot, StartFailure, WorkerInput, WorkerMessage } from './protocol.js';
import type { TraceReport } from './summary.js';
import type { Backend } from './types.js';

export interface TraceOptions {
  backend?: 'auto' | Backend;
  /** JSON lines, one per event, in batches */
  onLines?: (text: string) => void;
  onLive?: (s: LiveSnapshot) => void;
  liveEveryMs?: number;
}

export class TraceStartError extends Error {
  constructor(readonly reason: StartFailure, message: string) {
    super(message);
  }
}

export interface Trace {
  /** resolves once events are being read, with the backend in use */
  ready: Promise<{ backend: Backend; notes: string[] }>;
  /** resolves with the report after stop() */
  done: Promise<TraceReport>;
  stop(): void;
  /** end the thread at once, without a report */
  kill(): Promise<number>;
}

/** Trace `root` (an absolute real path of a directory) until stop(). */
export function startTrace(root: string, opts: TraceOptions = {}): Trace {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const input: WorkerInput = {
    root, backend: opts.backend ?? 'auto', events: opts.onLines !== undefined, liveEveryMs: opts.onLive ? opts.liveEveryMs ?? 1000 : 0, stop,
  };
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: input });
  let readyOk!: (v: { backend: Backend; notes: string[] }) => void;
  let readyFail!: (e: Error) => void;
  let doneOk!: (r: TraceReport) => void;
  let doneFail!: (e: Error) => void;
  const ready = new Promise<{ backend: Backend; notes: string[] }>((a, b) => { readyOk = a; readyFail = b; });
  const done = new Promise<TraceReport>((a, b) => { doneOk = a; doneFail = b; });
  done.catch(() => {}); // a failed start is reported through `ready`
  worker.on('message', (m: WorkerMessage) => {
    switch (m.type) {
      case 'ready': readyOk({ backend: m.backend, notes: m.notes }); break;
      case 'error': {
        const e = new TraceStartError(m.reason, m.message);
        readyFail(e);
        doneFail(e);
        break;
      }
      case 'lines': opts.onLines?.(m.text); break;
      case 'live': opts.onLive?.(m.snapshot); break;
      case 'done': doneOk(m.report); break;
    }
  });
  worker.on('error', (e) => { readyFail(e); doneFail(e); });
  worker.on('exit', () => {
    const e = new Error('the trace thread ended without a report');
    readyFail(e);
    doneFail(e);
  });
  return {
    ready,
    done,
    stop: () => { Atomics.store(stop, 0, 1); },
    kill: () => worker.terminate(),
  };
}
