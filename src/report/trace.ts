// `enospc trace`: the JSON document, the end-of-trace report and the live summary.
import type { TraceReport } from '../trace/summary.js';
import type { LiveSnapshot } from '../trace/protocol.js';
import { display } from '../shared/text.js';
import { num, style, table, headedTable } from './format.js';

export const TRACE_SCHEMA = 1;

const show = (path: string) => display(Buffer.from(path));

export function traceJson(r: TraceReport): Record<string, unknown> {
  return { schema: TRACE_SCHEMA, ...r };
}

function secs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}

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
    const rows = [['PATTERN', 'CREATED', 'CLOSED', 'DELETED', 'LEAKED', 'LEAKED/MIN', 'LIFETIME', 'PROCESSES']];
    for (const p of pats) {
      const procs = p.processes.slice(0, 3).map((x) => `${x.comm ?? '?'}[${x.pid}] ${num(x.created)}${x.leaked ? ` (${num(x.leaked)} leaked)` : ''}`);
      if (p.processes.length > 3) procs.push(`+${p.processes.length - 3} more`);
      rows.push([
        show(p.pattern) + (p.dirs ? '/' : ''), num(p.created), num(p.closed), num(p.deleted), num(p.leaked), rate(p.leakedPerMinute),
        p.meanLifetimeMs === null ? '-' : secs(p.meanLifetimeMs), procs.join(', ') || (r.backend === 'inotify' ? 'unknown (inotify)' : '-'),
      ]);
    }
    out.push(...headedTable(rows, [false, true, true, true, true, true, true, false], s));
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
    const rows = [['PATTERN', 'CREATED', 'DELETED', 'STILL HERE']];
    for (const p of l.patterns) rows.push([show(p.pattern), num(p.created), num(p.deleted), num(p.live)]);
    lines.push(...table(rows, [false, true, true, true]));
  }
  return lines;
}
