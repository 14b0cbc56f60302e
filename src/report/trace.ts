// `enospc trace`: the JSON document, the end-of-trace report and the live summary.
import type { TraceReport } from '../trace/summary.js';
import type { LiveSnapshot } from '../trace/protocol.js';
import type { Backend, ProcInfo, TraceEvent } from '../trace/types.js';
import { display } from '../shared/text.js';
import { elapsed, num, style, table, headedTable } from './format.js';

export const TRACE_SCHEMA = 1;

const show = (path: string) => display(Buffer.from(path));

/** A process as a pattern or a leaked name shows it: pid and comm are null when unknown (inotify). */
export interface TraceProcRefJson {
  pid: number | null;
  comm: string | null;
}

/** One name pattern (the grouping `top` uses) during the trace. */
export interface TracePatternJson {
  pattern: string;
  /** one real name of this pattern */
  example: string;
  created: number;
  /** closed after writing */
  closed: number;
  deleted: number;
  /** deletes of names that existed before the trace */
  deletedPreexisting: number;
  /** renames within PATH count as a move out of the old and into the new pattern */
  movedIn: number;
  movedOut: number;
  /** created (or moved in) during the trace and still there at the end */
  leaked: number;
  /** of them, directories */
  dirs: number;
  createdPerMinute: number;
  leakedPerMinute: number;
  /** mean lifetime of the names created and deleted during the trace; null when there were none */
  meanLifetimeMs: number | null;
  /** the processes behind it, most leaked first */
  processes: Array<TraceProcRefJson & { created: number; deleted: number; leaked: number }>;
}

/** A process that made or removed names (fanotify only). */
export interface TraceProcessJson {
  pid: number;
  /** "?" when the process had exited before enospc could read /proc */
  comm: string;
  exe: string | null;
  /** effective uid */
  uid: number | null;
  user: string | null;
  /** the systemd unit of its cgroup, or null */
  unit: string | null;
  /** a 64-hex container ID or "lxc:NAME" from its cgroup, or null */
  container: string | null;
  /** true: it had exited before enospc could read /proc */
  gone: boolean;
  created: number;
  deleted: number;
  leaked: number;
}

/** A name created during the trace and still there at the end. */
export interface TraceLeakedJson extends TraceProcRefJson {
  path: string;
  pattern: string;
  ageMs: number;
  /** a close after writing was seen */
  closed: boolean;
  dir: boolean;
}

/**
 * `enospc trace PATH --json` (docs/json.md; schemas/trace.schema.json). Paths are text: the
 * bytes >= 0x80 of a name that is not valid UTF-8 (and backslashes) show as `\xHH`; there is no
 * `...Base64` field here.
 */
export interface TraceJson {
  schema: typeof TRACE_SCHEMA;
  root: string;
  /** inotify has no pids */
  backend: Backend;
  /** e.g. why fanotify was not used */
  notes: string[];
  /** ISO 8601 */
  started: string;
  durationMs: number;
  events: TraceReport['events'];
  /** nothing lost, dropped, unresolved or unwatched */
  complete: boolean;
  totals: {
    created: number;
    closed: number;
    deleted: number;
    movedIn: number;
    movedOut: number;
    /** created (or moved in) during the trace and still there at the end (checked with lstat) */
    leaked: number;
    /** the events say it is there, lstat says it is not: events were lost */
    vanished: number;
  };
  /** most leaked first, then most created */
  patterns: TracePatternJson[];
  /** fanotify only; most leaked first */
  processes: TraceProcessJson[];
  leaked: {
    total: number;
    /** oldest first, at most 10,000 */
    files: TraceLeakedJson[];
  };
  /** when the filesystem's free inodes run out at the rate seen; null when statfs has no inode figures */
  forecast: {
    freeInodes: number;
    /** created + moved in - deleted - moved out, per minute, under PATH */
    netPerMinute: number;
    /** null when there was no net growth */
    minutesLeft: number | null;
    basisMs: number;
  } | null;
}

/** One line of `enospc trace --events` for one event (schemas/trace-event.schema.json). */
export interface TraceEventJson {
  /** when enospc read the event, ISO 8601 (the kernel gives no time) */
  ts: string;
  // TraceKind written out, so that the schema can tell an event line from the report by `event`
  /** close: closed after writing; rename: within PATH; move-in, move-out: across PATH's edge */
  event: 'create' | 'close' | 'delete' | 'rename' | 'move-in' | 'move-out';
  path: string;
  /** rename: the old path */
  from?: string;
  dir: boolean;
  /** null with inotify */
  pid: number | null;
  /** null with inotify, and when the process had exited before enospc could look */
  comm: string | null;
  /** present when the process had exited before enospc could look */
  gone?: true;
}

/** The last line of `enospc trace --events`: the report. */
export interface TraceReportLineJson extends TraceJson {
  event: 'report';
}

/**
 * A line of `enospc trace --events`: an event, or the report (the last line).
 * @discriminator event
 */
export type TraceLineJson = TraceEventJson | TraceReportLineJson;

export function traceJson(r: TraceReport): TraceJson {
  return { schema: TRACE_SCHEMA, ...r };
}

/** The last line of --events. */
export function traceReportLine(r: TraceReport): TraceReportLineJson {
  return { event: 'report', ...traceJson(r) };
}

/** An event as a line of --events; `p` is the process behind it, null when unknown. */
export function traceEventJson(e: TraceEvent, p: ProcInfo | null): TraceEventJson {
  return {
    ts: new Date(e.ts).toISOString(), event: e.kind, path: e.path, ...(e.from !== undefined ? { from: e.from } : {}),
    dir: e.dir, pid: p ? p.pid : null, comm: p && !p.gone ? p.comm : null, ...(p?.gone ? { gone: true as const } : {}),
  };
}

const secs = elapsed;

const rate = (n: number) => (n >= 10 ? num(Math.round(n)) : n.toFixed(1));

function lossLine(r: TraceReport): string {
  const e = r.events;
  const parts: string[] = [];
  if (e.lost === null) parts.push(`the kernel queue overflowed ${num(e.overflows)} time(s): an unknown number of events were lost (at least ${num(e.lostAtLeast)})`);
  else if (e.lost > 0) parts.push(`${num(e.lost)} events lost (read but skipped: enospc fell behind)`);
  if (e.unresolved) parts.push(`${num(e.unresolved)} events in directories deleted before enospc could name them`);
  if (e.unwatchedDirs) parts.push(`${num(e.unwatchedDirs)} directories could not be watched`);
  return parts.length ? parts.join('; ') : 'none lost';
}

export function traceHuman(r: TraceReport, color: boolean, limit: number): string {
  const s = style(color);
  const out: string[] = [];
  const e = r.events;
  out.push(s.bold(`enospc trace ${show(r.root)}: ${secs(r.durationMs)} with ${r.backend}, ${num(e.read)} events (${rate(e.perSecond)}/s), ${lossLine(r)}`));
  const t = r.totals;
  out.push(`created ${num(t.created)}, deleted ${num(t.deleted)}, moved in ${num(t.movedIn)}, moved out ${num(t.movedOut)}; ` +
    (t.leaked ? s.yellow(`leaked ${num(t.leaked)}`) : 'leaked 0') + ' (created during the trace and still there)');
  if (t.vanished) out.push(`${num(t.vanished)} names the events say exist were gone at the end (events were lost)`);

  const pats = r.patterns.filter((p) => p.created + p.deleted + p.movedIn + p.movedOut > 0).slice(0, limit);
  if (pats.length) {
    out.push('', s.bold('By pattern'));
    const rows = [['LEAKED', 'PATTERN', 'CREATED', 'CLOSED', 'DELETED', 'LEAKED/MIN', 'LIFETIME', 'PROCESSES']];
    for (const p of pats) {
      const procs = p.processes.slice(0, 3).map((x) => `${x.comm ?? '?'}[${x.pid}] ${num(x.created)}${x.leaked ? ` (${num(x.leaked)} leaked)` : ''}`);
      if (p.processes.length > 3) procs.push(`+${p.processes.length - 3} more`);
      rows.push([
        num(p.leaked), show(p.pattern) + (p.dirs ? '/' : ''), num(p.created), num(p.closed), num(p.deleted), rate(p.leakedPerMinute),
        p.meanLifetimeMs === null ? '-' : secs(p.meanLifetimeMs), procs.join(', ') || (r.backend === 'inotify' ? 'unknown (inotify)' : '-'),
      ]);
    }
    out.push(...headedTable(rows, [true, false, true, true, true, true, true, false], s));
  }

  if (r.processes.length) {
    out.push('', s.bold('By process'));
    const rows = [['PID', 'COMMAND', 'USER', 'UNIT / CONTAINER', 'CREATED', 'DELETED', 'LEAKED', 'EXE']];
    for (const p of r.processes.slice(0, limit)) {
      rows.push([
        String(p.pid), p.comm + (p.gone ? ' (exited)' : ''), p.user ?? '?', p.container ?? p.unit ?? '-', num(p.created), num(p.deleted),
        num(p.leaked), p.exe ?? '?',
      ]);
    }
    out.push(...headedTable(rows, [true, false, false, false, true, true, true, false], s));
  }

  if (r.leaked.total) {
    const n = Math.min(limit, r.leaked.files.length);
    out.push('', s.bold(`Leaked names, oldest first (${num(n)} of ${num(r.leaked.total)})`));
    const rows = [['AGE', 'PID', 'COMMAND', 'CLOSED', 'PATH']];
    for (const f of r.leaked.files.slice(0, n)) {
      rows.push([secs(f.ageMs), f.pid === null ? '?' : String(f.pid), f.comm ?? '?', f.dir ? 'dir' : f.closed ? 'yes' : 'no', show(f.path) + (f.dir ? '/' : '')]);
    }
    out.push(...headedTable(rows, [true, true, false, false, false], s));
  }

  const f = r.forecast;
  if (f) {
    out.push('');
    if (f.minutesLeft !== null) {
      out.push(s.bold('Forecast: ') + `${num(f.freeInodes)} free inodes on this filesystem; at +${rate(f.netPerMinute)} names/min under ${show(r.root)} ` +
        `(the rate over these ${secs(f.basisMs)}) they last about ${secs(f.minutesLeft * 60_000)}.`);
    } else {
      out.push(s.bold('Forecast: ') + `no net growth under ${show(r.root)} during these ${secs(f.basisMs)} (${rate(f.netPerMinute)} names/min).`);
    }
  }
  if (r.notes.length) out.push('', ...r.notes.map((n) => s.dim(`note: ${n}`)));
  return out.join('\n') + '\n';
}

/** A few lines for the terminal while the trace runs. */
export function traceLive(l: LiveSnapshot, root: string): string[] {
  const lines = [`tracing ${show(root)}: ${secs(l.elapsedMs)}, ${num(l.read)} events` +
    (l.overflows ? `, ${num(l.overflows)} overflows` : '') + (l.dropped ? `, ${num(l.dropped)} dropped` : '') + '  (Ctrl-C for the report)'];
  if (l.patterns.length) {
    const rows = [['STILL HERE', 'PATTERN', 'CREATED', 'DELETED']];
    for (const p of l.patterns) rows.push([num(p.live), show(p.pattern), num(p.created), num(p.deleted)]);
    lines.push(...table(rows, [true, false, true, true]));
  }
  return lines;
}
