// The lines of a trace instance's pipe for raw_syscalls:sys_exit, e.g.
//            touch-7486    [001] ..... 34563.518391: sys_exit: NR 257 = -28
// (comm, the thread's id, CPU, flags, timestamp on the instance's clock, call number, return).

/** One failing call as the pipe tells it. */
export interface RawExit {
  /** the thread's command name (comm, up to 15 bytes) */
  comm: string;
  /** the thread's id (the process's pid for a single-threaded one) */
  tid: number;
  /** seconds on the instance's clock (CLOCK_BOOTTIME) */
  ts: number;
  nr: number;
  ret: number;
}

// comm may hold spaces and dashes: the tid is the last "-digits" before the CPU field; an
// optional "(tgid)" comes with the record-tgid option
const LINE = /^\s*(.*)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[\d+\]\s+\S*\s+(\d+\.\d+): sys_exit: NR (-?\d+) = (-?\d+)\s*$/;

/** One line, or null for anything else (a CPU buffer's "LOST n EVENTS" line is counted by lost()). */
export function parseExit(line: string): RawExit | null {
  const m = LINE.exec(line);
  if (!m) return null;
  return { comm: m[1]!, tid: Number(m[2]), ts: Number(m[3]), nr: Number(m[4]), ret: Number(m[5]) };
}

/** Events the pipe says it lost ("CPU:1 [LOST 42 EVENTS]"), or 0. */
export function lost(line: string): number {
  const m = /\[LOST (\d+) EVENTS\]/.exec(line);
  return m ? Number(m[1]) : 0;
}
