// `enospc clean`: the JSON document and the human summary.
import type { CleanResult } from '../clean/cleaner.js';
import type { CleanJob } from '../clean/job.js';
import { display, displayText, jsonName } from '../shared/text.js';
import { bytes, count, elapsed, num, style, headedTable } from './format.js';

export const CLEAN_SCHEMA = 1;

export interface CleanReport { result: CleanResult; jobs: CleanJob[]; log: string | null; warnings: string[]; elapsedMs: number }

const patternsOf = (r: CleanResult) => [...r.patterns.values()].sort((a, b) => b.entries - a.entries || (a.pattern < b.pattern ? -1 : 1));

/** Entries, of which files and directories, and their bytes. */
export interface CleanTotalsJson { entries: number; files: number; dirs: number; bytes: number }

/** What went (or would go) of one name pattern. */
export interface CleanPatternJson extends CleanTotalsJson {
  /** the name pattern (a glob), as text: with \xHH escapes when it is not valid UTF-8 */
  pattern: string;
  /** the pattern's exact bytes in base64, when it is not valid UTF-8 */
  patternBase64?: string;
  /** up to 5 paths, as text (escaped when not valid UTF-8) */
  sample: string[];
  /** present when a path in `sample` is not valid UTF-8: for each, its exact bytes in base64, or null for one that is UTF-8 */
  sampleBase64?: Array<string | null>;
}

/** `enospc clean --json` (docs/json.md; schemas/clean.schema.json). */
export interface CleanJson {
  schema: typeof CLEAN_SCHEMA;
  /** false: a dry run, nothing was removed ("removed" is what would be) */
  apply: boolean;
  jobs: Array<{
    /** as text (escaped when not valid UTF-8) */
    root: string;
    /** the root's exact bytes in base64, when it is not valid UTF-8 */
    rootBase64?: string;
    /** "command line", or "FILE:LINE" of the tmpfiles.d rule */
    source: string;
    /** contents: every entry below root; match: the entries whose name matches `match` */
    mode: 'contents' | 'match';
    /** the names matched, as a regular expression; null in contents mode */
    match: string | null;
    /** the same as the glob given (--match, or the rule's last path component); null in contents mode */
    glob: string | null;
    /** entries younger than this (ms) are kept; null: any age */
    ageMs: number | null;
  }>;
  removed: CleanTotalsJson;
  /** entries that could have gone but were kept */
  skipped: {
    /** in use by some process: open, mapped, its executable, working or root directory */
    open: number;
    /** a lock in /proc/locks, or its directory flock-ed by someone else */
    locked: number;
    /** newer than the age */
    young: number;
    /** replaced, moved or gone between the walk and the unlink */
    changed: number;
    /** another mount (or a bind mount) below the root */
    mount: number;
    /** an x or X rule */
    excluded: number;
    /** what systemd-tmpfiles never removes either: devices, sticky-bit files, live sockets, lost+found and quota/journal files at a mount root */
    builtin: number;
    /** another user's, kept because some processes could not be seen (see `unseen`; --force-unseen) */
    unseen: number;
    /** another user's in a sticky directory of another user, while not root: the kernel would refuse the unlink (EPERM) */
    denied: number;
    /** see errors */
    error: number;
  };
  /** what was (or would be) removed per name pattern, most entries first */
  patterns: CleanPatternJson[];
  /** the first 100 errors (also: what a rule names that is not cleaned, say a path through a symlink) */
  errors: Array<{ path: string; pathBase64?: string; error: string }>;
  /**
   * null: the run went to its end. Else it stopped early: the audit log could not be written or
   * made durable (error: ENOSPC, EIO, ..., or SHORT_WRITE), and nothing it could not log was
   * removed ("removed" counts what was, each logged).
   */
  stopped: { error: string; message: string } | null;
  /** the audit log written; null in a dry run or with --no-log */
  log: string | null;
  /** rule lines skipped (FILE:LINE: why), as systemd-tmpfiles warns and skips them; rule directories gone before their turn */
  warnings: string[];
  /** processes whose fds, maps or directories could not be read (not root): what they use may be missed */
  unreadableProcesses: number;
  /** why some processes could not be seen (hidepid, not root, another PID namespace), or null when every one was read */
  unseen: string | null;
  elapsedMs: number;
}

export function cleanJson(x: CleanReport): CleanJson {
  const r = x.result;
  return {
    schema: CLEAN_SCHEMA,
    apply: r.apply,
    jobs: x.jobs.map((j) => ({ ...jsonName('root', j.root), source: j.source, mode: j.mode, match: j.match?.regExpSource() ?? null, glob: j.match?.source ?? null, ageMs: j.age })),
    removed: r.removed,
    skipped: r.skipped,
    // the tally is keyed by the pattern's bytes as latin1: as JSON text, UTF-8 when it is
    patterns: patternsOf(r).map((p) => {
      const names = p.sample.map((q) => jsonName('path', q));
      return {
        ...p, ...jsonName('pattern', Buffer.from(p.pattern, 'latin1')), sample: names.map((n) => n.path),
        ...(names.some((n) => n.pathBase64) ? { sampleBase64: names.map((n) => n.pathBase64 ?? null) } : {}),
      };
    }),
    errors: r.errors.map((e) => ({ ...jsonName('path', e.path), error: e.error })),
    stopped: r.stopped,
    log: x.log,
    warnings: x.warnings,
    unreadableProcesses: r.unreadableProcs,
    unseen: r.unseen,
    elapsedMs: Math.round(x.elapsedMs),
  };
}

export function cleanHuman(x: CleanReport, color: boolean, limit: number): string {
  const s = style(color);
  const r = x.result;
  const rm = r.removed;
  const roots = [...new Set(x.jobs.map((j) => display(j.root)))];
  const state = r.stopped ? 'STOPPED' : r.apply ? 'removed' : 'dry run, nothing removed (add --apply to remove)';
  const out = [s.bold(`enospc clean ${roots.join(' ') || '(no directory to clean)'}: ${state}`)];
  if (r.stopped) out.push(s.red(`stopped: ${r.stopped.message}`));
  out.push(`${r.apply ? 'removed' : 'would remove'} ${count(rm.entries, 'entry', 'entries')} (${count(rm.files, 'file')}, ${count(rm.dirs, 'directory', 'directories')}, ${bytes(rm.bytes)}) in ${elapsed(x.elapsedMs)}`);
  const k = r.skipped;
  out.push(`kept: ${num(k.open)} open in a process, ${num(k.locked)} locked, ${num(k.young)} too young, ${num(k.changed)} changed during the run, ${num(k.mount)} mount points, ${num(k.excluded)} with a rule of their own, ${num(k.builtin)} devices, sockets or sticky (never removed), ${num(k.unseen)} of other users (processes unseen), ${num(k.denied)} of other users in a sticky directory (not permitted), ${num(k.error)} errors`);
  if (r.unseen) out.push(s.yellow(`cannot see every process: ${r.unseen}; files they use may be missed, so other users' files were kept${k.unseen ? '' : ' (none met)'} unless --force-unseen`));
  const pats = patternsOf(r).slice(0, limit);
  if (pats.length) {
    out.push('');
    const rows = [['COUNT', 'PATTERN', 'BYTES', 'EXAMPLES']];
    for (const p of pats) rows.push([num(p.entries), display(Buffer.from(p.pattern, 'latin1')), bytes(p.bytes), p.sample.slice(0, 2).map((q) => display(q)).join(', ')]);
    out.push(...headedTable(rows, [true, false, true, false], s));
  }
  if (r.errors.length) out.push('', ...r.errors.slice(0, limit).map((e) => s.red(`error: ${display(e.path)}: ${displayText(e.error)}`)));
  if (x.log) out.push('', s.dim(`audit log: ${displayText(x.log)}`));
  return out.join('\n') + '\n';
}
