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

/**
 * Whole lines out of the pipe's reads (a read may end inside a line, and inside a name's UTF-8
 * bytes): each `push` gives the lines completed by it.
 */
export class PipeLines {
  private rest = Buffer.alloc(0);

  push(data: Buffer): string[] {
    const chunk = this.rest.length ? Buffer.concat([this.rest, data]) : data;
    const end = chunk.lastIndexOf(10);
    this.rest = Buffer.from(chunk.subarray(end + 1));
    return end < 0 ? [] : chunk.toString('utf8', 0, end).split('\n');
  }
}

/** The failing calls of `lines`, and the events they say were lost. */
export function exitsOf(lines: string[]): { exits: RawExit[]; lost: number } {
  const exits: RawExit[] = [];
  let missed = 0;
  for (const l of lines) {
    const e = parseExit(l);
    if (e) exits.push(e);
    else missed += lost(l);
  }
  return { exits, lost: missed };
}

/** Events the pipe says it lost ("CPU:1 [LOST 42 EVENTS]"), or 0. */
export function lost(line: string): number {
  const m = /\[LOST (\d+) EVENTS\]/.exec(line);
  return m ? Number(m[1]) : 0;
}
