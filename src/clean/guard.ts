// What must not be removed because a process uses it: files open in any process, mapped by one,
// its executable, working or root directory (probe/in-use.ts), and files anyone holds a lock on
// (/proc/locks). Read afresh before a batch whenever the reading in hand is older than FRESH_MS:
// a file a process starts using is seen within that long. /proc/locks is read every LOCKS_MS
// only (reading it waits for an RCU grace period, some ms): a lock is held through an open file,
// which the reading of the processes sees anyway; the locks only tell "locked" from "open".
import { readInUse } from '../probe/in-use.js';
import { readLocks } from '../probe/locks.js';
import { liveSockets } from '../probe/unix-sockets.js';

/** A batch is checked against a reading of /proc taken at most this long before it (ms). */
export const FRESH_MS = 100;
const LOCKS_MS = 2000;

export class Guard {
  /** inodes open, or used as executable, working or root directory, on this device */
  open = new Set<number>();
  /** inodes mapped by some process, on this device (or on any, see inoOnly) */
  mapped = new Set<number>();
  locked = new Set<number>();
  /** inodes of live unix sockets (/proc/net/unix), on this device; read with the locks */
  sockets = new Set<number>();
  /** processes that could not be read in the last reading */
  unreadable = 0;
  /** why some processes may not be seen (last reading), or null */
  unseen: string | null = null;
  /** counts the readings */
  generation = 0;
  /** inodes in use whatever a reading says: this process's own (its audit log), as the reading leaves this process out */
  private readonly own: number[] = [];
  /** performance.now() when the reading in hand was started */
  private at = -Infinity;
  private locksAt = -Infinity;

  /**
   * `dev`: "major:minor" of the root's filesystem, from the root's fd. `inoOnly`: the filesystem
   * is one whose stat device is not its superblock's (btrfs, overlayfs), so mapped files are
   * matched by inode number alone (keeping too much, never too little).
   */
  constructor(private readonly dev: string, private readonly inoOnly = false) {}

  /** Make sure the reading in hand was started at most FRESH_MS ago. Throws SysError when out of fds. */
  fresh(): void {
    const now = performance.now();
    if (now - this.at < FRESH_MS) return;
    this.at = now;
    const use = readInUse();
    this.open = use.byDev.get(this.dev) ?? new Set();
    for (const ino of this.own) this.open.add(ino);
    this.mapped = this.inoOnly ? new Set([...use.mapped.values()].flatMap((s) => [...s])) : use.mapped.get(this.dev) ?? new Set();
    if (now - this.locksAt >= LOCKS_MS) {
      this.locksAt = now;
      this.locked = readLocks().get(this.dev) ?? new Set();
      this.sockets = liveSockets(this.dev);
    }
    this.unreadable = use.unreadable;
    this.unseen = use.unseen;
    this.generation++;
  }

  /** Count inode `ino` of this device in use from the next reading on (a file this process holds). */
  keepOwn(ino: number): void {
    this.own.push(ino);
    this.at = -Infinity;
  }

  /** How old the reading in hand is (ms). */
  age(): number {
    return performance.now() - this.at;
  }

  /** Is the inode in use by some process (open, mapped, executable or directory)? */
  inUse(ino: number): boolean {
    return this.open.has(ino) || this.mapped.has(ino);
  }
}
