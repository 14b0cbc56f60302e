// What must not be removed because a process uses it: files open in any process (every
// /proc/PID/fd, by device and inode) and files anyone holds a lock on (/proc/locks). Both
// indexes are rebuilt during long runs, so a file opened since the start is seen too.
import { OpenFilesSink, scanFds } from '../probe/procs.js';
import { readLocks, type LockIndex } from '../probe/locks.js';

const REFRESH_MS = 2000;

export class Guard {
  /** inodes open in some process / locked, on this device */
  open = new Set<number>();
  locked = new Set<number>();
  /** counts the rebuilds */
  generation = 0;
  private at = 0;
  /** processes whose fds could not be read (not root): "open" is then a lower bound */
  unreadable = 0;

  constructor(private readonly dev: string) {
    this.refresh();
  }

  /** Rebuild both indexes when they are older than REFRESH_MS. */
  maybeRefresh(): void {
    if (performance.now() - this.at >= REFRESH_MS) this.refresh();
  }

  refresh(): void {
    const sink = new OpenFilesSink();
    this.unreadable = scanFds([sink]).length;
    this.open = sink.result(this.unreadable).byDev.get(this.dev) ?? new Set();
    const locks: LockIndex = readLocks();
    this.locked = locks.get(this.dev) ?? new Set();
    this.at = performance.now();
    this.generation++;
  }

  isOpen(ino: number): boolean {
    return this.open.has(ino);
  }

  isLocked(ino: number): boolean {
    return this.locked.has(ino);
  }
}
