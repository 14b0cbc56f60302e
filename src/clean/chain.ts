// "Still inside the root": is a directory the cleaner is about to unlink in still below the
// root, at any depth, however long its path? The directory's place is its chain of ".." links
// up to the root: frame k's ".." must be frame k-1 (dev, ino as the walk recorded them), and
// frame 0 is the root, held by fd since the start. Checking the whole chain before every batch
// costs O(depth) a batch, O(depth^2) over a deep chain; so the chain is checked in full only as
// far as it may have changed:
//
// - A link the walk made itself (it opened frame k as a name in frame k-1's fd) holds when it
//   is made; a link checked by ".." holds when it is checked. After that only a rename can
//   break it (a directory that is not empty cannot be removed, and mounts do not move
//   directories).
// - Renames are watched: a fanotify mark on the root's filesystem (the whole superblock, every
//   mount and namespace of it) reports every directory moved (FAN_MOVED_FROM|FAN_ONDIR; a queue
//   overflow counts as one). The queue is drained before every batch; any directory moved on
//   that filesystem since the last drain makes every link doubtful again.
// - `intact` is how many links from the root down are known to hold. Before a batch in the
//   directory at depth d, the links intact+1..d are checked by walking ".." up from the
//   directory (openat(fd, "..", O_PATH) and statx: O(d - intact)), and intact becomes d. So a
//   deep walk with no directory moved on the filesystem checks each link about once: linear.
//   The batch's own directory's ".." is checked before every batch whatever `intact` says.
//
// The guarantee: no name is unlinked in a directory unless, when its batch was checked, the
// directory was below the root by the chain the walk recorded: every link of it checked by ".."
// since the last directory move the kernel reported on that filesystem. The window: a rename
// that completes after the check (during the batch's statx and unlinks, about a millisecond for
// 1,024 names), or whose fanotify event the kernel has not queued yet when the queue is drained
// (the event is queued at the end of the rename call, after the move itself).
//
// Without fanotify (not root; a kernel before 5.1; a filesystem without file handles) every
// batch checks its whole chain: the same guarantee, O(depth) a batch.
import {
  O_CLOEXEC, O_DIRECTORY, O_PATH, O_RDONLY, close, fanotifyInit, fanotifyMarkFd, openat, openatNoatime, read,
} from '../sys/libc.js';
import {
  FAN_CLASS_NOTIF, FAN_CLOEXEC, FAN_MARK_ADD, FAN_MARK_FILESYSTEM, FAN_MOVED_FROM, FAN_NONBLOCK, FAN_ONDIR,
  FAN_Q_OVERFLOW, FAN_REPORT_FID, fanotifyMasks,
} from '../sys/fanotify.js';
import { STATX_BASIC_STATS, STATX_SIZE, fstatx, statDevMajor, statDevMinor, statInoNum } from '../sys/statx.js';

const DOTDOT = Buffer.from('..\0');
const DOT = Buffer.from('.\0');
const EAGAIN = 11;
const O_LARGEFILE = 0o100000;

/** The inode numbers of the walk's directories, by depth (the walker's frames). */
export interface Frames { inoOf(depth: number): number }

export class ChainCheck {
  /** links 1..intact (frame k's ".." is frame k-1) are known to hold */
  private intact = 0;
  private readonly fan: number;
  private readonly buf = Buffer.allocUnsafe(64 * 1024);
  private readonly st = Buffer.alloc(STATX_SIZE);
  /** how many full checks found a directory moved out of its place */
  movedOut = 0;

  /** `rootFd`: the root, held since the start; its filesystem is watched for directory moves when `watch` (a dry run checks no chain). */
  constructor(rootFd: number, private readonly dev: { major: number; minor: number }, watch = true) {
    this.fan = watch ? watchMoves(rootFd) : -1;
  }

  /** Are directory moves watched (else every batch checks its whole chain)? */
  get watching(): boolean {
    return this.fan >= 0;
  }

  /** The walk opened the directory at `depth` as a name in its parent's fd: that link holds now. */
  entered(depth: number): void {
    this.drain();
    if (this.fan >= 0 && this.intact >= depth - 1) this.intact = depth;
  }

  /** The walk left the directory at `depth`. */
  left(depth: number): void {
    if (this.intact >= depth) this.intact = depth - 1;
  }

  /**
   * Is the directory at `depth` (open as `fd`) still below the root by the recorded chain?
   * -1 when it is; else the depth k of the first link found broken (frame k's ".." is not
   * frame k-1: k and everything below it moved).
   */
  inPlace(depth: number, fd: number, frames: Frames): number {
    this.drain();
    if (depth === 0) return -1;
    const from = Math.min(this.intact, depth - 1);
    let cur = fd;
    let broken = -1;
    for (let k = depth; k > from; k--) {
      const up = openat(cur, DOTDOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (cur !== fd) close(cur);
      cur = up;
      if (up < 0 || fstatx(up, this.st, STATX_BASIC_STATS) < 0 || statInoNum(this.st) !== frames.inoOf(k - 1)
        || statDevMajor(this.st) !== this.dev.major || statDevMinor(this.st) !== this.dev.minor) {
        broken = k;
        break;
      }
    }
    if (cur !== fd && cur >= 0) close(cur);
    if (broken >= 0) {
      this.movedOut++;
      this.intact = Math.min(this.intact, broken - 1);
      return broken;
    }
    // without a watch nothing is known to hold after this moment
    this.intact = this.fan >= 0 ? Math.max(this.intact, depth) : 0;
    return -1;
  }

  /** Read the queued events: any directory moved (or events lost) makes every link doubtful. */
  private drain(): void {
    if (this.fan < 0) return;
    for (;;) {
      const n = read(this.fan, this.buf);
      if (n === -EAGAIN || n === 0) return;
      if (n < 0) {
        this.intact = 0; // cannot tell: doubt everything
        return;
      }
      for (const mask of fanotifyMasks(this.buf, n, Infinity)) {
        if (mask & (FAN_ONDIR | FAN_Q_OVERFLOW)) this.intact = 0;
      }
    }
  }

  close(): void {
    if (this.fan >= 0) close(this.fan);
  }
}

/** A fanotify group reporting every directory moved on the filesystem of `fd`, or -1 (not root, no support). */
function watchMoves(fd: number): number {
  const fan = fanotifyInit(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_FID, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  if (fan < 0) return -1;
  // fanotify_mark takes no O_PATH fd: the root once more, readable, by "." of its fd (never read)
  const dir = openatNoatime(fd, DOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const r = dir < 0 ? dir : fanotifyMarkFd(fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, BigInt(FAN_MOVED_FROM | FAN_ONDIR), dir);
  if (dir >= 0) close(dir);
  if (r < 0) {
    close(fan);
    return -1;
  }
  return fan;
}
