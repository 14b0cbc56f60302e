// `enospc clean`: the JSON document and the human summary.
import type { CleanResult } from '../clean/cleaner.js';
import type { CleanJob } from '../clean/job.js';
import { display } from '../shared/text.js';
import { bytes, num, style, headedTable } from './format.js';

export const CLEAN_SCHEMA = 1;

export interface CleanReport { result: CleanResult; jobs: CleanJob[]; log: string | null; elapsedMs: number }

const patternsOf = (r: CleanResult) => [...r.patterns.values()].sort((a, b) => b.entries - a.entries || (a.pattern < b.pattern ? -1 : 1));

export function cleanJson(x: CleanReport): Record<string, unknown> {
  const r = x.result;
  return {
    schema: CLEAN_SCHEMA,
    apply: r.apply,
    jobs: x.jobs.map((j) => ({ root: j.root, source: j.source, mode: j.mode, match: j.match?.source ?? null, ageMs: j.age })),
    removed: r.removed,
    skipped: r.skipped,
    patterns: patternsOf(r),
    errors: r.errors,
    log: x.log,
    unreadableProcesses: r.unreadableProcs,
    elapsedMs: Math.round(x.elapsedMs),
  };
}

export function cleanHuman(x: CleanReport, color: boolean, limit: number): string {
  const s = style(color);
  const r = x.result;
  const rm = r.removed;
  const roots = [...new Set(x.jobs.map((j) => j.root))];
  const out = [s.bold(`enospc clean ${roots.map((p) => display(Buffer.from(p))).join(' ')}: ${r.apply ? 'removed' : 'dry run, nothing removed (add --apply to remove)'}`)];
  out.push(`${r.apply ? 'removed' : 'would remove'} ${num(rm.entries)} entries (${num(rm.files)} files, ${num(rm.dirs)} directories, ${bytes(rm.bytes)}) in ${(x.elapsedMs / 1000).toFixed(1)} s`);
  const k = r.skipped;
  out.push(`kept: ${num(k.open)} open in a process, ${num(k.locked)} locked, ${num(k.young)} too young, ${num(k.changed)} changed during the run, ${num(k.mount)} mount points, ${num(k.excluded)} excluded, ${num(k.error)} errors`);
  if (r.unreadableProcs) out.push(s.yellow(`${num(r.unreadableProcs)} processes could not be read (not root): files they hold open may be counted as removable`));
  const pats = patternsOf(r).slice(0, limit);
  if (pats.length) {
    out.push('');
    const rows = [['PATTERN', 'ENTRIES', 'BYTES', 'EXAMPLES']];
    for (const p of pats) rows.push([display(Buffer.from(p.pattern, 'latin1')), num(p.entries), bytes(p.bytes), p.sample.slice(0, 2).map((q) => display(Buffer.from(q))).join(', ')]);
    out.push(...headedTable(rows, [false, true, true, false], s));
  }
  if (r.errors.length) out.push('', ...r.errors.slice(0, limit).map((e) => s.red(`error: ${display(Buffer.from(e.path))}: ${e.error}`)));
  if (x.log) out.push('', s.dim(`audit log: ${x.log}`));
  return out.join('\n') + '\n';
}
