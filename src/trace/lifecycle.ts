// Lifecycle of every name under the traced root: created, closed after writing, deleted, moved.
// Per name pattern (the grouping `top` uses) and per process; what is still there at the end
// of the trace was created during it and never removed: "leaked".
import { fixedTailStart, patternOfName } from '../scan/pattern.js';
import type { TraceEvent } from './types.js';

interface Live {
  pattern: PatternLife;
  /** epoch ms of the create (or move-in) */
  born: number;
  proc: number;
  closed: boolean;
  dir: boolean;
}

export interface ProcCounts { created: number; deleted: number; leaked: number }

export interface PatternLife {
  pattern: string;
  created: number;
  closed: number;
  deleted: number;
  /** of the deleted, how many existed before the trace began */
  deletedPreexisting: number;
  movedIn: number;
  movedOut: number;
  leaked: number;
  /** names of this pattern the trace saw appear and not yet go */
  live: number;
  dirs: number;
  /** total lifetime (ms) of the names created and deleted during the trace */
  lifetimeMs: number;
  lifetimes: number;
  example: string;
  procs: Map<number, ProcCounts>;
}

export interface LeakedFile { path: string; proc: number; born: number; closed: boolean; dir: boolean; pattern: string }

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export class Lifecycle {
  readonly live = new Map<string, Live>();
  readonly patterns = new Map<string, PatternLife>();
  /** patterns folded by merged(): old -> the one that holds them now */
  readonly alias = new Map<string, string>();
  events = 0;

  private patternOf(path: string): PatternLife {
    const name = baseName(path);
    const key = patternOfName(name);
    let p = this.patterns.get(key);
    if (!p) {
      p = {
        pattern: key, created: 0, closed: 0, deleted: 0, deletedPreexisting: 0, movedIn: 0, movedOut: 0, leaked: 0, live: 0,
        dirs: 0, lifetimeMs: 0, lifetimes: 0, example: name, procs: new Map(),
      };
      this.patterns.set(key, p);
    }
    return p;
  }

  private count(p: PatternLife, proc: number, field: 'created' | 'deleted'): void {
    if (proc < 0) return;
    let c = p.procs.get(proc);
    if (!c) p.procs.set(proc, (c = { created: 0, deleted: 0, leaked: 0 }));
    c[field]++;
  }

  apply(e: TraceEvent): void {
    this.events++;
    switch (e.kind) {
      case 'create': {
        if (this.live.has(e.path)) return; // seen twice (inotify: event and the scan of a new directory)
        const p = this.patternOf(e.path);
        p.created++;
        if (e.dir) p.dirs++;
        this.count(p, e.proc, 'created');
        p.live++;
        this.live.set(e.path, { pattern: p, born: e.ts, proc: e.proc, closed: false, dir: e.dir });
        return;
      }
      case 'close': {
        const l = this.live.get(e.path);
        if (l && !l.closed) {
          l.closed = true;
          l.pattern.closed++;
        }
        return;
      }
      case 'delete':
        this.gone(e.path, e, false);
        return;
      case 'move-out':
        this.gone(e.path, e, true);
        return;
      case 'move-in':
        this.arrive(e.path, e, undefined);
        return;
      case 'rename': {
        const from = e.from!;
        const l = this.live.get(from);
        this.gone(from, e, true);
        this.arrive(e.path, e, l);
        if (e.dir) this.renameDir(from, e.path);
        return;
      }
    }
  }

  private gone(path: string, e: TraceEvent, moved: boolean): void {
    const l = this.live.get(path);
    const p = l?.pattern ?? this.patternOf(path);
    if (moved) p.movedOut++;
    else {
      p.deleted++;
      this.count(p, e.proc, 'deleted');
      if (!l) p.deletedPreexisting++;
      else {
        p.lifetimeMs += e.ts - l.born;
        p.lifetimes++;
      }
    }
    if (l) {
      this.live.delete(path);
      l.pattern.live--;
    }
  }

  private arrive(path: string, e: TraceEvent, was: Live | undefined): void {
    const replaced = this.live.get(path);
    if (replaced) {
      // renamed over a name we track: that one is gone
      replaced.pattern.live--;
      replaced.pattern.deleted++;
    }
    const p = this.patternOf(path);
    p.movedIn++;
    p.live++;
    if (e.dir) p.dirs++;
    // a renamed name keeps its creator and birth; one moved in from outside starts now
    this.live.set(path, { pattern: p, born: was?.born ?? e.ts, proc: was?.proc ?? e.proc, closed: was?.closed ?? false, dir: e.dir });
  }

  /** A directory renamed within the root: what we track below it now lives under the new name. */
  private renameDir(from: string, to: string): void {
    const prefix = from + '/';
    const moved: Array<[string, Live]> = [];
    for (const [path, l] of this.live) if (path.startsWith(prefix)) moved.push([path, l]);
    for (const [path, l] of moved) {
      this.live.delete(path);
      this.live.set(to + path.slice(from.length), l);
    }
  }

  /**
   * The names still here at the end: `exists` confirms each (the event stream may have lost
   * some); those gone without an event are counted, not reported. Sets `leaked` counts.
   */
  leaked(exists: (path: string) => boolean): { files: LeakedFile[]; vanished: number } {
    const files: LeakedFile[] = [];
    let vanished = 0;
    for (const [path, l] of this.live) {
      if (!exists(path)) {
        vanished++;
        continue;
      }
      l.pattern.leaked++;
      const c = l.pattern.procs.get(l.proc);
      if (c) c.leaked++;
      files.push({ path, proc: l.proc, born: l.born, closed: l.closed, dir: l.dir, pattern: l.pattern.pattern });
    }
    files.sort((a, b) => a.born - b.born || (a.path < b.path ? -1 : 1));
    return { files, vanished };
  }

  /**
   * Patterns, with `prefix-WORD` folded into an established `prefix-*` (as `top` does: random
   * letters can read as a word), most leaked first, then most created.
   */
  merged(): PatternLife[] {
    const all = [...this.patterns.values()];
    for (const p of all) {
      const b = Buffer.from(p.pattern);
      const tail = fixedTailStart(b, b.length);
      if (tail < 0) continue;
      const wide = this.patterns.get(b.toString('utf8', 0, tail) + '*');
      const size = (x: PatternLife) => x.created + x.deleted + x.movedIn;
      if (!wide || wide === p || size(wide) < 5 || size(wide) < 5 * size(p)) continue;
      for (const k of ['created', 'closed', 'deleted', 'deletedPreexisting', 'movedIn', 'movedOut', 'leaked', 'live', 'dirs', 'lifetimeMs', 'lifetimes'] as const) wide[k] += p[k];
      for (const [id, c] of p.procs) {
        const w = wide.procs.get(id);
        if (w) { w.created += c.created; w.deleted += c.deleted; w.leaked += c.leaked; } else wide.procs.set(id, { ...c });
      }
      this.patterns.delete(p.pattern);
      this.alias.set(p.pattern, wide.pattern);
    }
    return [...this.patterns.values()].sort((a, b) => b.leaked - a.leaked || b.created - a.created || b.deleted - a.deleted || (a.pattern < b.pattern ? -1 : 1));
  }
}
