// `enospc catch`: the live line of each failure, the summary at the end, and the JSON shapes.
import type { CatchEvent, CatchReport } from '../catch/types.js';
import { display } from '../shared/text.js';
import { num, style, headedTable } from './format.js';

export const CATCH_SCHEMA = 1;

/** One system call that failed with ENOSPC (docs/json.md): the event, its time as ISO 8601. */
export type CatchEventJson = {
  event: 'enospc';
  /** ISO 8601 time of the failure (the kernel's time stamp) */
  ts: string;
} & Omit<CatchEvent, 't'>;

/** Failures of one command, call and cause. */
export interface CatchSummaryJson {
  comm: string;
  syscall: string;
  cause: { check: string | null; target: string | null };
  count: number;
  first: string;
  last: string;
}

/** `enospc catch --json` (docs/json.md; schemas/catch.schema.json). */
export interface CatchJson {
  schema: typeof CATCH_SCHEMA;
  started: string;
  ended: string;
  seconds: number;
  /** failures the kernel could not hand over (its buffer was full): the counts are a floor when > 0 */
  lost: number;
  /** at most 10,000, the first ones; the summary counts all */
  events: CatchEventJson[];
  eventsDropped: number;
  summary: CatchSummaryJson[];
  notes: string[];
}

/** The last line of `enospc catch --events`: the report without the events already streamed. */
export type CatchReportLineJson = { event: 'report' } & Omit<CatchJson, 'events'>;

/** A line of `enospc catch --events` (schemas/catch-event.schema.json). */
export type CatchLineJson = CatchEventJson | CatchReportLineJson;

const iso = (t: number) => new Date(t * 1000).toISOString();

export function catchEventJson(e: CatchEvent): CatchEventJson {
  const { t, ...rest } = e;
  return { event: 'enospc', ts: iso(t), ...rest };
}

export function catchJson(r: CatchReport): CatchJson {
  return {
    schema: CATCH_SCHEMA, started: iso(r.started), ended: iso(r.ended), seconds: Math.round((r.ended - r.started) * 10) / 10, lost: r.lost,
    events: r.events.map(catchEventJson), eventsDropped: r.eventsDropped,
    summary: r.summary.map((s) => ({ comm: s.comm, syscall: s.syscall, cause: { check: s.check, target: s.target }, count: s.count, first: iso(s.first), last: iso(s.last) })),
    notes: r.notes,
  };
}

export function catchReportLine(r: CatchReport): CatchReportLineJson {
  const { events: _events, ...rest } = catchJson(r);
  return { event: 'report', ...rest };
}

/** hh:mm:ss.mmm, local time */
function clock(t: number): string {
  const d = new Date(t * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

const cut = (s: string, n: number) => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);
const text = (s: string) => display(Buffer.from(s));

/** Who made the call: user, then unit or container. */
function whoOf(e: Pick<CatchEvent, 'user' | 'unit' | 'container' | 'gone'>): string {
  if (e.gone) return 'exited';
  const where = e.container ? `container ${e.container.slice(0, 12)}` : e.unit ?? '';
  return [e.user ?? '?', where].filter(Boolean).join(', ');
}

/** The cause as one phrase: check and target, or "unattributed". */
function causeOf(c: { check: string | null; target: string | null }): string {
  return c.check ? `${c.check} ${text(c.target ?? '')}`.trim() : 'unattributed';
}

/** The live line of one failure. */
export function catchLine(e: CatchEvent, color: boolean): string {
  const s = style(color);
  return `${s.dim(clock(e.t))}  ${e.pid} ${text(e.comm)} (${whoOf(e)})  ${e.syscall}  ${s.yellow(causeOf(e.cause))}: ${text(e.cause.detail)}`;
}

/** The report at the end: one line of totals, then the summary by command, call and cause. */
export function catchHuman(r: CatchReport, color: boolean, limit: number): string {
  const s = style(color);
  const total = r.summary.reduce((a, x) => a + x.count, 0);
  const secs = Math.round(r.ended - r.started);
  const out = [s.bold(`enospc catch: ${num(total)} ${total === 1 ? 'call' : 'calls'} failed with ENOSPC in ${secs} s`) +
    (r.lost ? s.red(`; ${num(r.lost)} more were lost (the trace buffer was full): the counts are a floor`) : '')];
  if (!total) out.push('nothing failed with ENOSPC while enospc watched');
  else {
    out.push('');
    const rows = [['COUNT', 'COMMAND', 'SYSCALL', 'CAUSE', 'FIRST', 'LAST']];
    for (const x of r.summary.slice(0, limit)) rows.push([num(x.count), cut(text(x.comm), 16), x.syscall, cut(causeOf(x), 60), clock(x.first), clock(x.last)]);
    out.push(...headedTable(rows, [true, false, false, false, false, false], s));
    if (r.summary.length > limit) out.push(s.dim(`... ${r.summary.length - limit} more (-n to show more, --json for all)`));
  }
  for (const n of r.notes) out.push(s.dim(`note: ${n}`));
  return out.join('\n') + '\n';
}
