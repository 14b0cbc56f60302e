// What a trace source hands the lifecycle: one event per change to a name under the root.
import { isUtf8 } from 'node:buffer';
import type { ProcInfo } from '../probe/procinfo.js';

export type TraceKind = 'create' | 'close' | 'delete' | 'rename' | 'move-in' | 'move-out';

export interface TraceEvent {
  /** epoch ms at which enospc read the event (the kernel gives no time) */
  ts: number;
  kind: TraceKind;
  path: string;
  /** rename: the old path */
  from?: string;
  dir: boolean;
  /** index into the process table; -1 when unknown (inotify, or a pid outside our namespace) */
  proc: number;
}

export type Backend = 'fanotify' | 'inotify';

/** Counters a source keeps about what it read. */
export interface SourceStats {
  /** kernel events read */
  raw: number;
  /** queue-overflow events the kernel sent */
  overflows: number;
  /**
   * events read but not processed (exact): enospc fell too far behind, or they were still queued
   * when the time for them after the stop ran out
   */
  dropped: number;
  /** events whose directory could not be turned into a path (deleted before it was resolved) */
  unresolved: number;
  /** directories that could not be watched (inotify: permission) */
  unwatched: number;
}

export interface Source {
  readonly backend: Backend;
  readonly notes: string[];
  readonly fd: number;
  readonly stats: SourceStats;
  /**
   * What waits in the kernel queue, in the source's own unit, the one `pump` and `skip` return:
   * fanotify counts events, inotify bytes (each is what its FIONREAD measures exactly).
   */
  queued(): number;
  /** Read what is queued and emit events. Returns how much was read, in the unit of `queued` (0: nothing was waiting). */
  pump(emit: (e: TraceEvent) => void): number;
  /**
   * Read up to `max` (the unit of `queued`) without processing it: each event counts in `dropped`.
   * Events a read brings beyond `max` are not counted (they came after). Returns how much was
   * counted (0: nothing was waiting).
   */
  skip(max: number): number;
  /** Called when the trace ends (inotify: pending moves become move-out). */
  flush(emit: (e: TraceEvent) => void): void;
  close(): void;
}

export type { ProcInfo };

/** A name as text: itself when valid UTF-8, else with each byte >= 0x80 (and the backslash) escaped as \xHH. */
export function nameText(b: Buffer): string {
  if (isUtf8(b)) return b.toString('utf8');
  let s = '';
  for (const c of b) s += c >= 0x80 || c === 92 ? `\\x${c.toString(16).padStart(2, '0')}` : String.fromCharCode(c);
  return s;
}

/** The bytes of a path made of nameText names: \xHH back to the byte (the inverse where a name was not UTF-8). */
export function textBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(/\\x([0-9a-f]{2})/g)) {
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'), Buffer.from([parseInt(m[1]!, 16)]));
    last = m.index! + 4;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}
