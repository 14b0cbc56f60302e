// The table of processes seen in events. A pid is looked up once, then re-checked at most once a
// second by its start time, so a reused pid is not taken for the process that held it before.
import { procInfo, startTime, type ProcInfo } from '../probe/procinfo.js';

const RECHECK_MS = 1000;

export class ProcTable {
  readonly list: ProcInfo[] = [];
  private readonly byPid = new Map<number, { id: number; checked: number }>();

  /** The table index of the process `pid` now; -1 for pid 0 (not visible in our pid namespace). */
  of(pid: number, now: number): number {
    if (pid <= 0) return -1;
    const c = this.byPid.get(pid);
    if (c) {
      if (now - c.checked < RECHECK_MS) return c.id;
      const start = startTime(pid);
      // still the same process, or gone since: events queued before it exited are its own
      if (start === this.list[c.id]!.start || start < 0) {
        c.checked = now;
        return c.id;
      }
    }
    const id = this.list.push(procInfo(pid)) - 1;
    this.byPid.set(pid, { id, checked: now });
    return id;
  }
}
