// `enospc catch`, the library entry point: every system call that fails with ENOSPC, as it
// happens, with the process that made it and the limit it hit. The kernel's own trace
// (raw_syscalls:sys_exit, ret == -28) in a private instance (sys/tracefs.ts), read on a thread
// of its own (reader.ts); each failure is attributed the moment it is read (catcher.ts).
import { Worker } from 'node:worker_threads';
import { TracefsError, openInstance } from '../sys/tracefs.js';
import { GuardProcess } from '../probe/guard.js';
import { Catcher } from './catcher.js';
import type { ReaderInput, ReaderMessage } from './reader.js';
import type { CatchEvent, CatchReport, CatchSummaryRow } from './types.js';

export { TracefsError };

/** Events kept for the report (the summary counts every one). */
const KEEP = 10_000;

export interface CatchOptions {
  /** told each event as it is attributed */
  onEvent?: (e: CatchEvent) => void;
  /** per-CPU buffer of the instance, KiB */
  bufferKb?: number;
}

export interface Catch {
  /** notes on the start (tracefs mounted, stale instances removed) */
  notes: string[];
  /** resolves with the report after stop() (or when the reader fails) */
  done: Promise<CatchReport>;
  stop(): void;
}

/** Start catching. Throws TracefsError (one line for the user) when it cannot. */
export function startCatch(opts: CatchOptions = {}): Catch {
  const { inst, notes, close } = openInstance(opts.bufferKb);
  const started = Date.now() / 1000;
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('./reader.js', import.meta.url), { workerData: { fd: inst.pipe, stop } satisfies ReaderInput });
  const guard = new GuardProcess();
  const catcher = new Catcher(guard);
  const events: CatchEvent[] = [];
  const rows = new Map<string, CatchSummaryRow>();
  let dropped = 0, lostInPipe = 0;
  let readerError: string | undefined;

  const count = (e: CatchEvent) => {
    if (events.length < KEEP) events.push(e);
    else dropped++;
    const key = `${e.comm}\0${e.syscall}\0${e.cause.check}\0${e.cause.target}`;
    const row = rows.get(key);
    if (row) {
      row.count++;
      row.last = e.t;
    } else {
      rows.set(key, { comm: e.comm, syscall: e.syscall, check: e.cause.check, target: e.cause.target, count: 1, first: e.t, last: e.t });
    }
    opts.onEvent?.(e);
  };

  let ended!: (r: CatchReport) => void;
  let failed!: (e: Error) => void;
  const done = new Promise<CatchReport>((a, b) => { ended = a; failed = b; });
  worker.on('message', (m: ReaderMessage) => {
    if (m.type === 'exits') {
      lostInPipe += m.lost;
      void catcher.events(m.exits, count);
    } else if (m.error) {
      readerError = m.error;
    }
  });
  worker.on('error', (e) => { readerError = `the reader thread failed: ${e.message}`; });
  worker.on('exit', () => {
    void catcher.idle().then(() => {
      const lost = Math.max(inst.overruns(), lostInPipe);
      close();
      guard.close();
      if (readerError) return failed(new TracefsError(readerError));
      ended({
        started, ended: Date.now() / 1000, events, eventsDropped: dropped, lost, notes,
        summary: [...rows.values()].sort((a, b) => b.count - a.count || a.first - b.first),
      });
    });
  });
  return { notes, done, stop: () => { Atomics.store(stop, 0, 1); } };
}
