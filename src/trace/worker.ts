// The trace thread: opens the source, reads events as they come (poll + read on its own
// thread, so the main event loop never waits on the kernel), applies them to the lifecycle,
// and posts JSON lines, live snapshots and the final report.
import { parentPort, workerData } from 'node:worker_threads';
import { pollIn } from '../sys/libc.js';
import { drainQueued } from './drain.js';
import { FanotifySource, FanotifyUnavailable } from './fanotify.js';
import { InotifySource, InotifyUnavailable } from './inotify.js';
import { Lifecycle } from './lifecycle.js';
import { summarize } from './summary.js';
import { traceEventJson } from '../report/trace.js';
import type { ProcInfo } from '../probe/procinfo.js';
import type { Source, TraceEvent } from './types.js';
import type { LiveSnapshot, WorkerInput, WorkerMessage } from './protocol.js';

const input = workerData as WorkerInput;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
/** after stop, what was queued then is processed for at most this long (the rest is counted as dropped) */
const DRAIN_MS = 10_000;

function open(): Source {
  const { root, backend } = input;
  let why: string | null = null;
  if (backend === 'fanotify' || (backend === 'auto' && process.geteuid?.() === 0)) {
    try {
      return new FanotifySource(root);
    } catch (e) {
      if (backend === 'fanotify' || !(e instanceof FanotifyUnavailable)) throw e;
      why = e.message;
    }
  } else if (backend === 'auto') {
    why = 'not root';
  }
  const s = new InotifySource(root);
  // why there are no pids, and what would give them
  if (why === 'not root') s.notes[0] += ' (run as root for fanotify)';
  else if (why) s.notes.unshift(`fanotify not used (${why}): inotify instead`);
  else s.notes[0] += ' (chosen with --backend inotify; fanotify, the default as root, gives them)';
  return s;
}

let source: Source;
try {
  source = open();
} catch (e) {
  const reason = e instanceof InotifyUnavailable ? e.reason : e instanceof FanotifyUnavailable ? 'fanotify' : 'other';
  post({ type: 'error', reason, message: (e as Error).message });
  process.exit(0);
}
const procs: ProcInfo[] = source instanceof FanotifySource ? source.procs.list : [];
post({ type: 'ready', backend: source.backend, notes: source.notes });

const life = new Lifecycle();
const start = Date.now();
const lines: string[] = [];
const emit = input.events
  ? (e: TraceEvent) => {
    life.apply(e);
    const p = e.proc < 0 ? null : procs[e.proc]!;
    lines.push(JSON.stringify(traceEventJson(e, p)));
  }
  : (e: TraceEvent) => life.apply(e);

function flushLines(): void {
  if (lines.length) {
    post({ type: 'lines', text: lines.join('\n') + '\n' });
    lines.length = 0;
  }
}

function snapshot(now: number): LiveSnapshot {
  const top = [...life.patterns.values()].sort((a, b) => b.live - a.live || b.created - a.created).slice(0, 8);
  return {
    elapsedMs: now - start, read: source.stats.raw, applied: life.events, overflows: source.stats.overflows, dropped: source.stats.dropped,
    patterns: top.map((p) => ({ pattern: p.pattern, created: p.created, deleted: p.deleted, live: p.live })),
  };
}

const stop = input.stop;
let lastLive = start;
while (Atomics.load(stop, 0) === 0) {
  if (pollIn(source.fd, 100) > 0) {
    const until = Date.now() + 100;
    while (source.pump(emit) > 0) {
      if (lines.length >= 20_000) flushLines();
      if (Date.now() > until) break;
    }
  }
  flushLines();
  const now = Date.now();
  if (input.liveEveryMs > 0 && now - lastLive >= input.liveEveryMs) {
    lastLive = now;
    post({ type: 'live', snapshot: snapshot(now) });
  }
}
// what was queued when we were told to stop still belongs to the trace; what comes after does not
const end = Date.now();
const skipped = drainQueued(source, emit, end + DRAIN_MS, () => { if (lines.length >= 20_000) flushLines(); });
if (skipped > 0) source.notes.push(`${skipped} events queued before the end were not processed within ${DRAIN_MS / 1000} s: they are counted as dropped`);
source.flush(emit);
flushLines();
const report = summarize({ root: input.root, backend: source.backend, notes: source.notes, start, end, life, stats: source.stats, procs });
source.close();
post({ type: 'done', report });
