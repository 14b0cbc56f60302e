// Messages between the trace thread and the thread that started it.
import type { TraceReport } from './summary.js';
import type { Backend } from './types.js';

export interface WorkerInput {
  root: string;
  backend: 'auto' | Backend;
  /** produce JSON lines for every event */
  events: boolean;
  /** live snapshots this often (0: none) */
  liveEveryMs: number;
  /** [0] set to 1 to stop */
  stop: Int32Array;
}

export interface LiveSnapshot {
  elapsedMs: number;
  read: number;
  applied: number;
  overflows: number;
  dropped: number;
  patterns: Array<{ pattern: string; created: number; deleted: number; live: number }>;
}

export type StartFailure = 'watches' | 'instances' | 'fanotify' | 'other';

export type WorkerMessage =
  | { type: 'ready'; backend: Backend; notes: string[] }
  | { type: 'error'; reason: StartFailure; message: string }
  | { type: 'lines'; text: string }
  | { type: 'live'; snapshot: LiveSnapshot }
  | { type: 'done'; report: TraceReport };
