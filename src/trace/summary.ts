// The end-of-trace report: lifecycle per pattern and per process, the leaked names, the event
// accounting (what was read, lost, dropped), and when the inodes run out at the rate seen.
import fs from 'node:fs';
import { userName } from '../probe/users.js';
import type { ProcInfo } from '../probe/procinfo.js';
import type { Lifecycle } from './lifecycle.js';
import { textBytes, type Backend, type SourceStats } from './types.js';

/** Leaked names listed in the report; the total is always given. */
export const LEAKED_LISTED = 10_000;

export interface ProcRef { pid: number | null; comm: string | null }

export interface TraceReport {
  root: string;
  backend: Backend;
  notes: string[];
  started: string;
  durationMs: number;
  events: {
    /** kernel events read (fanotify merges create and close-write of one file into one) */
    read: number;
    /** lifecycle events from them (create, close, delete, rename, move-in, move-out) */
    applied: number;
    perSecond: number;
    /** queue-overflow events from the kernel */
    overflows: number;
    /** events lost: exact, or null when the kernel dropped some without saying how many (inotify overflow) */
    lost: number | null;
    lostAtLeast: number;
    /** read but not processed: enospc fell too far behind, or the stop's drain ran out of time (counted exactly, in lost) */
    dropped: number;
    /** events in directories deleted before they could be named */
    unresolved: number;
    /** inotify: directories that could not be watched */
    unwatchedDirs: number;
  };
  /** every event under the root was seen and processed */
  complete: boolean;
  totals: { created: number; closed: number; deleted: number; movedIn: number; movedOut: number; leaked: number; vanished: number };
  patterns: Array<{
    pattern: string; example: string; created: number; closed: number; deleted: number; deletedPreexisting: number;
    movedIn: number; movedOut: number; leaked: number; dirs: number; createdPerMinute: number; leakedPerMinute: number;
    meanLifetimeMs: number | null; processes: Array<ProcRef & { created: number; deleted: number; leaked: number }>;
  }>;
  processes: Array<{
    pid: number; comm: string; exe: string | null; uid: number | null; user: string | null; unit: string | null;
    container: string | null; gone: boolean; created: number; deleted: number; leaked: number;
  }>;
  leaked: { total: number; files: Array<ProcRef & { path: string; pattern: string; ageMs: number; closed: boolean; dir: boolean }> };
  forecast: { freeInodes: number; netPerMinute: number; minutesLeft: number | null; basisMs: number } | null;
}

export interface SummaryInput {
  root: string;
  backend: Backend;
  notes: string[];
  start: number;
  end: number;
  life: Lifecycle;
  stats: SourceStats;
  procs: ProcInfo[];
}

function exists(path: string): boolean {
  try {
    fs.lstatSync(path);
    return true;
  } catch {
    // a name that is not UTF-8 is held as text with \xHH escapes (nameText): look for its bytes
    if (!/\\x[0-9a-f]{2}/.test(path)) return false;
    try {
      fs.lstatSync(textBytes(path));
      return true;
    } catch {
      return false;
    }
  }
}

export function summarize(x: SummaryInput): TraceReport {
  const { life, stats, procs } = x;
  const durationMs = Math.max(1, x.end - x.start);
  const minutes = durationMs / 60_000;
  const { files, vanished } = life.leaked(exists);
  const patterns = life.merged();
  const ref = (id: number): ProcRef => (id < 0 ? { pid: null, comm: null } : { pid: procs[id]!.pid, comm: procs[id]!.comm });

  const perProc = new Map<number, { created: number; deleted: number; leaked: number }>();
  const totals = { created: 0, closed: 0, deleted: 0, movedIn: 0, movedOut: 0, leaked: 0, vanished };
  for (const p of patterns) {
    totals.created += p.created;
    totals.closed += p.closed;
    totals.deleted += p.deleted;
    totals.movedIn += p.movedIn;
    totals.movedOut += p.movedOut;
    totals.leaked += p.leaked;
    for (const [id, c] of p.procs) {
      const t = perProc.get(id) ?? { created: 0, deleted: 0, leaked: 0 };
      t.created += c.created;
      t.deleted += c.deleted;
      t.leaked += c.leaked;
      perProc.set(id, t);
    }
  }

  const lostUnknown = stats.overflows > 0;
  const net = totals.created + totals.movedIn - totals.deleted - totals.movedOut;
  let forecast: TraceReport['forecast'] = null;
  try {
    const s = fs.statfsSync(x.root);
    if (s.files > 0) {
      const netPerMinute = net / minutes;
      forecast = { freeInodes: s.ffree, netPerMinute, minutesLeft: netPerMinute > 0 ? s.ffree / netPerMinute : null, basisMs: durationMs };
    }
  } catch {
    // the root went away: no forecast
  }

  return {
    root: x.root,
    backend: x.backend,
    notes: x.notes,
    started: new Date(x.start).toISOString(),
    durationMs,
    events: {
      read: stats.raw,
      applied: life.events,
      perSecond: Math.round((10 * stats.raw) / (durationMs / 1000)) / 10,
      overflows: stats.overflows,
      lost: lostUnknown ? null : stats.dropped,
      lostAtLeast: stats.dropped + stats.overflows,
      dropped: stats.dropped,
      unresolved: stats.unresolved,
      unwatchedDirs: stats.unwatched,
    },
    complete: !lostUnknown && stats.dropped === 0 && stats.unresolved === 0 && stats.unwatched === 0,
    totals,
    patterns: patterns.map((p) => ({
      pattern: p.pattern, example: p.example, created: p.created, closed: p.closed, deleted: p.deleted,
      deletedPreexisting: p.deletedPreexisting, movedIn: p.movedIn, movedOut: p.movedOut, leaked: p.leaked, dirs: p.dirs,
      createdPerMinute: p.created / minutes, leakedPerMinute: p.leaked / minutes,
      meanLifetimeMs: p.lifetimes ? p.lifetimeMs / p.lifetimes : null,
      processes: [...p.procs].sort((a, b) => b[1].leaked - a[1].leaked || b[1].created - a[1].created || a[0] - b[0])
        .map(([id, c]) => ({ ...ref(id), ...c })),
    })),
    processes: [...perProc].sort((a, b) => b[1].leaked - a[1].leaked || b[1].created - a[1].created || a[0] - b[0]).map(([id, c]) => {
      const p = procs[id]!;
      return {
        pid: p.pid, comm: p.comm, exe: p.exe, uid: p.uid, user: p.uid === null ? null : userName(p.uid), unit: p.unit,
        container: p.container, gone: p.gone, ...c,
      };
    }),
    leaked: {
      total: files.length,
      files: files.slice(0, LEAKED_LISTED).map((f) => ({
        path: f.path, pattern: life.alias.get(f.pattern) ?? f.pattern, ...ref(f.proc), ageMs: x.end - f.born, closed: f.closed, dir: f.dir,
      })),
    },
    forecast,
  };
}
