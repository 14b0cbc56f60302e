// What must not be removed because a process uses it: files open in any process (every
// /proc/PID/fd, by device and inode) and files anyone holds a lock on (/proc/locks). One
// reading covers every device and is shared by the jobs of a run; it is redone during long
// runs, so a file opened since the start is seen too.
import { OpenFilesSink, scanFds } from '../probe/procs.js';
import { readLocks, type LockIndex } from '../probe/locks.js';

const REFRESH_MS = 2000;

interface Snapshot { at: number; open: Map<string, Set<number>>; locks: LockIndex; unreadable: number }
let last: Snapshot | null = null;

function snapshot(): Snapshot {
  if (last && performance.now() - last.at < REFRESH_MS) return last;
  const sink = new OpenFilesSink();
  const unreadable = scanFds([sink]).length;
  last = { at: performance.now(), open: sink.result(unreadable).byDev, locks: readLocks(), unreadable };
  return last;
}

export class Guard {
  /** inodes open in some process / locked, on this device */
  open = new Set<number>();
  locked = new Set<number>();
  /** processes whose fds could not be read (not root): "open" is then a lower bound */
  unreadable = 0;
  /** counts the rebuilds */
  generation = 0;
  private taken: Snapshot | null = null;

  constructor(private readonly dev: string) {
    this.maybeRefresh();
  }

  /** Take a newer reading when the one in use is older than REFRESH_MS. */
  maybeRefresh(): void {
    const s = snapshot();
    if (s === this.taken) return;
    this.taken = s;
    this.open = s.open.get(this.dev) ?? new Set();
    this.locked = s.locks.get(this.dev) ?? new Set();
    this.unreadable = s.unreadable;
    this.generation++;
  }
}
