// The walker's interface: what a visitor is told, the options, the entry types.
import type { WalkMount } from '../probe/mounts.js';
import type { DirPath } from './dir-path.js';

/** The inode number of the entry whose name starts at `start` in a getdents64 buffer. */
export function direntIno(buf: Buffer, start: number): number {
  const off = start - 19;
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 0x1_0000_0000;
}

export { DirPath } from './dir-path.js';

export const T_FILE = 0;
export const T_DIR = 1;
export const T_LINK = 2;
export const T_OTHER = 3;
export type EntryType = typeof T_FILE | typeof T_DIR | typeof T_LINK | typeof T_OTHER;

export interface WalkVisitor {
  /** A directory was opened (depth 0 is the root); `st` is its statx. Return false to skip its contents. */
  enterDir(depth: number, st: Buffer): void | boolean;
  /**
   * One entry of the directory at `depth`; its name is buf[start, end). `st` is the entry's
   * statx (not following symlinks) when the walk stats, else null.
   */
  entry(depth: number, buf: Buffer, start: number, end: number, type: EntryType, st: Buffer | null): void;
  /** The directory at `depth` and everything below it are done. */
  leaveDir(depth: number): void;
  /** A subdirectory `name` of the directory at `depth` could not be opened or read. */
  unreadable(depth: number, name: Buffer | null, errno: number): void;
  /** A subdirectory `name` of the directory at `depth` is another filesystem; not entered. */
  mountSkipped(depth: number, name: Buffer): void;
  /** With `defer`: subdirectory `name` of the directory at `depth` is left for someone else. */
  deferred?(depth: number, name: Buffer): void;
}

export interface WalkOptions {
  crossMounts?: boolean;
  /** statx every entry. */
  stat?: boolean;
  /** performance.now() value after which the walk stops and reports itself partial. */
  deadline?: number;
  /** Called about every `progressMs` with the entries seen so far. */
  onProgress?: (entries: number) => void;
  progressMs?: number;
  /** Called after every getdents batch with the entries seen so far (keep it cheap). */
  onBatch?: (entries: number) => void;
  /** Also treat a bind mount of the same filesystem as another mount (statx mount IDs). */
  sameMount?: boolean;
  /** How many directory fds may stay open at once (default 256). */
  fdWindow?: number;
  /** Mount points below the root (mountPointsBelow): those not entered are skipped unopened (walk-mounts.ts). */
  mountPoints?: WalkMount[];
  /** Open the root as `name` relative to `dirfd` instead of by its path (noatime false: try O_NOATIME after the open). */
  startAt?: { dirfd: number; name: Buffer; noatime?: boolean };
  /** The filesystem the walk must stay on (default: the root's). */
  dev?: { major: number; minor: number };
  /**
   * Asked before descending into a subdirectory of the directory at `depth`, which has
   * `subdirs` subdirectories: true leaves it to the visitor's `deferred` (for parallel walks).
   * The fds of directories with deferred children stay open until `closeKept()`.
   */
  defer?: (depth: number, subdirs: number) => boolean;
}

export interface WalkResult {
  entries: number;
  partial: boolean;
  /** the root is on another filesystem than `dev`: nothing was visited */
  otherMount?: boolean;
}

/** A directory on the walker's stack (internal to walker.ts). */
export interface WalkFrame {
  fd: number;
  /** NUL-terminated name in its parent */
  name: Buffer;
  ino: number;
  /** subdirectory names still to visit, latin1 */
  pending: string[];
  next: number;
  /** some children were deferred: keep the fd open for whoever takes them */
  keep: boolean;
  /** the path (latin1) when mount points lie below this directory, else null */
  path: string | null;
  node: DirPath;
  /** opened with O_NOATIME (its children are opened with it first) */
  noatime: boolean;
}
