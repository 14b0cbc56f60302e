// What a cleaning run did: removed (or would remove) per name pattern, and what it kept and why.
// Paths are bytes until they are output.
import { errnoName } from '../sys/libc.js';

/** builtin: what systemd-tmpfiles never removes either (devices, sticky-bit files, live sockets, lost+found and quota and journal files at a mount root) */
export type SkipReason = 'open' | 'locked' | 'young' | 'changed' | 'mount' | 'excluded' | 'builtin' | 'unseen' | 'denied' | 'error';

export interface CleanTotals {
  entries: number;
  files: number;
  dirs: number;
  bytes: number;
}

/** `pattern`: the name pattern's bytes as a latin1 string (a map key); `sample`: paths */
export interface PatternTotals extends CleanTotals { pattern: string; sample: Buffer[] }

export interface CleanResult {
  apply: boolean;
  removed: CleanTotals;
  skipped: Record<SkipReason, number>;
  patterns: Map<string, PatternTotals>;
  errors: Array<{ path: Buffer; error: string }>;
  /** processes whose fds, maps or directories could not be read: what they use may be missed */
  unreadableProcs: number;
  /** why some processes could not be seen (the run then kept other users' files, unless forced), or null */
  unseen: string | null;
  /** why the run stopped before its end (the audit log failed), or null */
  stopped: { error: string; message: string } | null;
}

export function emptyResult(apply: boolean): CleanResult {
  return {
    apply, removed: { entries: 0, files: 0, dirs: 0, bytes: 0 },
    skipped: { open: 0, locked: 0, young: 0, changed: 0, mount: 0, excluded: 0, builtin: 0, unseen: 0, denied: 0, error: 0 },
    patterns: new Map(), errors: [], unreadableProcs: 0, unseen: null, stopped: null,
  };
}

const SAMPLE = 5;
const MAX_ERRORS = 100;

/** Adds to a CleanResult. */
export class Tally {
  constructor(readonly result: CleanResult) {}

  removed(pattern: string, dir: boolean, size: number, path: () => Buffer): void {
    const r = this.result.removed;
    r.entries++;
    if (dir) r.dirs++; else r.files++;
    r.bytes += size;
    let t = this.result.patterns.get(pattern);
    if (!t) this.result.patterns.set(pattern, (t = { pattern, entries: 0, files: 0, dirs: 0, bytes: 0, sample: [] }));
    t.entries++;
    if (dir) t.dirs++; else t.files++;
    t.bytes += size;
    if (t.sample.length < SAMPLE) t.sample.push(path());
  }

  skipped(why: SkipReason, n = 1): void {
    this.result.skipped[why] += n;
  }

  /** An error; `path` is made only when it is kept (the first MAX_ERRORS). */
  error(path: () => Buffer, errno: number): void {
    this.result.skipped.error++;
    if (this.result.errors.length < MAX_ERRORS) this.result.errors.push({ path: path(), error: errnoName(errno) });
  }
}
