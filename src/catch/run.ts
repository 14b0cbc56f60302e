// `enospc catch`, the library entry point: every system call that fails with ENOSPC, as it
// happens, with the process that made it and the limit it hit. The kernel's own trace
// (raw_syscalls:sys_exit, ret == -28) in a private instance (sys/tracefs.ts), read on a thread
// of its own (reader.ts); each failure is attributed here the moment it is read.
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import { bootSeconds } from '../sys/libc.js';
import { EnospcInstance, TracefsError, removeStaleInstances, tracefsRoot, unmountTracefs } from '../sys/tracefs.js';
import { abiOf, syscallName, type Abi } from '../sys/syscalls.js';
import { GuardProcess } from '../probe/guard.js';
import { procInfo, readOr, startTime, type ProcInfo } from '../probe/procinfo.js';
import { userName } from '../probe/users.js';
import { Attributor } from './attribute.js';
import type { RawExit } from './parse.js';
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

/** The thread group of thread `tid`, or `tid` when it is gone. */
function tgidOf(tid: number): number {
  const m = /^Tgid:\s+(\d+)/m.exec(readOr(`/proc/${tid}/status`) ?? '');
  return m ? Number(m[1]) : tid;
}

/** Start catching. Throws TracefsError (one line for the user) when it cannot. */
export function startCatch(opts: CatchOptions = {}): Catch {
  if (process.geteuid?.() !== 0) throw new TracefsError('enospc catch needs root: it reads the kernel\'s trace of system calls');
  const notes: string[] = [];
  const { root, mounted } = tracefsRoot();
  if (mounted) notes.push(`mounted tracefs at ${root} (unmounted at the end)`);
  const stale = removeStaleInstances(root);
  if (stale.length) notes.push(`removed ${stale.length} trace instance(s) left by enospc runs that were killed: ${stale.join(', ')}`);
  const inst = EnospcInstance.create(root, opts.bufferKb);
  // whatever way this process ends, the instance goes with it
  const cleanup = () => {
    inst.remove();
    if (mounted) unmountTracefs(root);
  };
  process.once('exit', cleanup);

  const started = Date.now() / 1000;
  // the instance's clock (CLOCK_BOOTTIME) to epoch seconds
  const offset = started - bootSeconds();
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('./reader.js', import.meta.url), { workerData: { fd: inst.pipe, stop } satisfies ReaderInput });
  const guard = new GuardProcess();
  const attribute = new Attributor(guard);
  const procs = new Map<number, { info: ProcInfo; abi: Abi | null }>();
  const events: CatchEvent[] = [];
  const rows = new Map<string, CatchSummaryRow>();
  let dropped = 0, lostInPipe = 0;
  let chain = Promise.resolve();

  // a pid is read once while it lives; a reused one (another start time) is read again
  const who = (tid: number) => {
    const pid = tgidOf(tid);
    const known = procs.get(pid);
    const start = startTime(pid);
    if (known && known.info.start === start) return known;
    const p = { info: procInfo(pid), abi: abiOf(pid) };
    if (!p.info.gone) procs.set(pid, p);
    if (procs.size > 4096) procs.delete(procs.keys().next().value!);
    return p;
  };

  const handle = async (x: RawExit) => {
    const { info, abi } = who(x.tid);
    const syscall = syscallName(abi, x.nr);
    const cause = await attribute.cause(syscall, { pid: info.pid, uid: info.uid, gone: info.gone });
    const e: CatchEvent = {
      t: Math.round((x.ts + offset) * 1e6) / 1e6, pid: info.gone ? x.tid : info.pid, tid: x.tid,
      // the comm the kernel recorded at the call: the process may have exec'd or exited since
      comm: x.comm, uid: info.uid, user: info.uid === null ? null : userName(info.uid), unit: info.unit, container: info.container,
      syscall, nr: x.nr, abi, gone: info.gone, cause,
    };
    if (events.length < KEEP) events.push(e);
    else dropped++;
    const key = `${e.comm}\0${syscall}\0${cause.check}\0${cause.target}`;
    const row = rows.get(key);
    if (row) {
      row.count++;
      row.last = e.t;
    } else {
      rows.set(key, { comm: e.comm, syscall, check: cause.check, target: cause.target, count: 1, first: e.t, last: e.t });
    }
    opts.onEvent?.(e);
  };

  let ended!: (r: CatchReport) => void;
  let failed!: (e: Error) => void;
  const done = new Promise<CatchReport>((a, b) => { ended = a; failed = b; });
  let readerError: string | undefined;
  worker.on('message', (m: ReaderMessage) => {
    if (m.type === 'exits') {
      lostInPipe += m.lost;
      for (const x of m.exits) chain = chain.then(() => handle(x));
    } else if (m.error) {
      readerError = m.error;
    }
  });
  const finish = () => {
    void chain.then(() => {
      const lost = Math.max(inst.overruns(), lostInPipe);
      cleanup();
      process.off('exit', cleanup);
      guard.close();
      if (readerError) return failed(new TracefsError(readerError));
      ended({
        started, ended: Date.now() / 1000, events, eventsDropped: dropped, lost, notes,
        summary: [...rows.values()].sort((a, b) => b.count - a.count || a.first - b.first),
      });
    });
  };
  worker.on('error', (e) => { readerError = `the reader thread failed: ${e.message}`; });
  worker.on('exit', finish);
  return { notes, done, stop: () => { Atomics.store(stop, 0, 1); } };
}

/** Is system-call tracing possible here (root, tracefs, the raw_syscalls event)? The reason when not. */
export function catchUnavailable(): string | null {
  if (process.geteuid?.() !== 0) return 'needs root';
  for (const p of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) if (fs.existsSync(`${p}/events/raw_syscalls/sys_exit`)) return null;
  return fs.existsSync('/sys/kernel/tracing') ? null : 'no tracefs';
}
