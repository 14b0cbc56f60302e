// The last steps for one batch of names in one directory, shared by the cleaner's threads:
// statx each name (not following symlinks) and check it (the inode getdents gave, not a
// directory, same mount, old enough, not locked, not in use by a process, not another user's
// while processes are unseen); the audit log lines of those that pass; and, once the cleaner
// has written those lines and made them durable, the unlinks, relative to the directory fd.
// The steps are apart so that no thread unlinks before the whole batch is logged (cleaner.ts).
import { errnoName, unlinkat } from '../sys/libc.js';
import { logLine, notRemovedLine } from './audit.js';
import {
  STATX_BASIC_STATS, STATX_BTIME, STATX_MNT_ID, STATX_SIZE, lstatxAt, statAtimeMs, statBtimeMs, statCtimeMs,
  statInoNum, statMask, statMntId, statMode, statMtimeMs, statSize, statUid, S_IFDIR, S_IFMT,
} from '../sys/statx.js';
import type { AgeBy } from './rules.js';

export const MAX_ITEMS = 1024;
export const NAME_BYTES = MAX_ITEMS * 256;

export const S_REMOVED = 0;
export const S_OPEN = 1;
export const S_LOCKED = 2;
export const S_YOUNG = 3;
export const S_CHANGED = 4;
export const S_MOUNT = 5;
/** another user's, while some processes could not be seen */
export const S_UNSEEN = 6;
/** what systemd-tmpfiles never removes: a device, a file with the sticky bit, a live unix socket */
export const S_BUILTIN = 8;
/** another user's, in a sticky directory not ours, and we are not root: unlink would be refused (EPERM) */
export const S_DENIED = 9;
/** passed the check and was logged, but its directory was then found moved out of the root: not unlinked */
export const S_MOVED = 7;
/** S_ERRNO + errno: the check failed (statx) */
export const S_ERRNO = 100;
/** S_UNLINK_ERRNO + errno: logged, then the unlink failed (ENOENT: gone meanwhile) */
export const S_UNLINK_ERRNO = 1000;

/** the second thread's state (ctl[2]): loading (0), ready for halves, failed (its error on the port) */
export const HELPER_READY = 1;
export const HELPER_FAILED = 2;
/** ctl[3]: the second thread never got the task it was woken for (the caller does it) */
export const TASK_MISSED = 1;
/** How long a step (in the second thread) or its reply (in the main thread) that was posted but is not yet there to take is waited for (ms). */
export const TASK_WAIT_MS = 2000;

const ENOENT = 2;
/** what the cleaner asks statx for: the basics, birth time, mount ID */
export const MASK = STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID;

/** Names of one directory and what became of them; shared memory, so two threads can work on halves. */
export interface Items {
  names: Uint8Array;
  /** start of name i in `names` (NUL-terminated) */
  offs: Int32Array;
  inos: Float64Array;
  status: Int32Array;
  size: Float64Array;
  mtime: Float64Array;
  uid: Int32Array;
}

export function sharedItems(): Items {
  const sab = (n: number) => new SharedArrayBuffer(n);
  return {
    names: new Uint8Array(sab(NAME_BYTES)), offs: new Int32Array(sab(4 * (MAX_ITEMS + 1))), inos: new Float64Array(sab(8 * MAX_ITEMS)),
    status: new Int32Array(sab(4 * MAX_ITEMS)), size: new Float64Array(sab(8 * MAX_ITEMS)), mtime: new Float64Array(sab(8 * MAX_ITEMS)),
    uid: new Int32Array(sab(4 * MAX_ITEMS)),
  };
}

export interface RemoveCtx {
  cutoff: number;
  ageBy: AgeBy;
  rootMnt: number;
  /** in use: open, or an executable, working or root directory (this device) */
  open: Set<number>;
  /** mapped by some process (any device) */
  mapped: Set<number>;
  locked: Set<number>;
  /** live unix sockets (this device) */
  sockets: Set<number>;
  /** when some processes could not be seen: the only owner whose files may go; else -1 */
  ownerOnly: number;
  /** in a sticky directory of another user, not root: the only owner whose files the kernel lets us unlink; else -1 */
  stickyOwner: number;
}

export function isOld(st: Buffer, dir: boolean, ageBy: AgeBy, cutoff: number): boolean {
  for (const c of dir ? ageBy.dir : ageBy.file) {
    if (c === 'a' && statAtimeMs(st) >= cutoff) return false;
    if (c === 'm' && statMtimeMs(st) >= cutoff) return false;
    if (c === 'c' && statCtimeMs(st) >= cutoff) return false;
    if (c === 'b' && (statMask(st) & STATX_BTIME) !== 0 && statBtimeMs(st) >= cutoff) return false;
  }
  return true;
}

const S_IFSOCK = 0o140000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
export const S_ISVTX = 0o1000;

/** What systemd-tmpfiles never removes, whatever its age: devices, files with the sticky bit, live unix sockets. */
function builtinKeep(mode: number, ino: number, ctx: RemoveCtx): boolean {
  const type = mode & S_IFMT;
  return type === S_IFCHR || type === S_IFBLK || (mode & S_ISVTX) !== 0 || (type === S_IFSOCK && ctx.sockets.has(ino));
}

const st = Buffer.alloc(STATX_SIZE);
const SLASH = 47;

/** Check items [from, to) of the directory `dirfd`: each gets its status (S_REMOVED: may go), its size, mtime and uid. */
export function checkItems(dirfd: number, it: Items, from: number, to: number, ctx: RemoveCtx): void {
  const nameBuf = Buffer.from(it.names.buffer, it.names.byteOffset, it.names.byteLength);
  for (let i = from; i < to; i++) {
    const name = nameBuf.subarray(it.offs[i]!, it.offs[i + 1]!);
    const r = lstatxAt(dirfd, name, st, MASK);
    if (r !== 0) { it.status[i] = r === -ENOENT ? S_CHANGED : S_ERRNO - r; continue; }
    const ino = statInoNum(st);
    if (ino !== it.inos[i] || (statMode(st) & S_IFMT) === S_IFDIR) { it.status[i] = S_CHANGED; continue; }
    if (ctx.rootMnt >= 0 && (statMask(st) & STATX_MNT_ID) !== 0 && statMntId(st) !== ctx.rootMnt) { it.status[i] = S_MOUNT; continue; }
    if (builtinKeep(statMode(st), ino, ctx)) { it.status[i] = S_BUILTIN; continue; }
    if (!isOld(st, false, ctx.ageBy, ctx.cutoff)) { it.status[i] = S_YOUNG; continue; }
    // a lock is held through an open fd: say "locked", the more telling of the two
    if (ctx.locked.has(ino)) { it.status[i] = S_LOCKED; continue; }
    if (ctx.open.has(ino) || ctx.mapped.has(ino)) { it.status[i] = S_OPEN; continue; }
    if (ctx.ownerOnly >= 0 && statUid(st) !== ctx.ownerOnly) { it.status[i] = S_UNSEEN; continue; }
    if (ctx.stickyOwner >= 0 && statUid(st) !== ctx.stickyOwner) { it.status[i] = S_DENIED; continue; }
    it.size[i] = statSize(st);
    it.mtime[i] = statMtimeMs(st);
    it.uid[i] = statUid(st);
    it.status[i] = S_REMOVED;
  }
}

/** The path of item i below the directory `dirPath` (bytes). */
export function itemPath(dirPath: Uint8Array, it: Items, i: number): Buffer {
  const start = it.offs[i]!;
  const len = it.offs[i + 1]! - 1 - start;
  const root = dirPath.length === 1 && dirPath[0] === SLASH;
  const out = Buffer.allocUnsafe((root ? 0 : dirPath.length) + 1 + len);
  if (!root) out.set(dirPath);
  const at = root ? 0 : dirPath.length;
  out[at] = SLASH;
  out.set(it.names.subarray(start, start + len), at + 1);
  return out;
}

/** The audit log lines of the items [from, to) that passed the check. */
export function logLines(dirPath: Uint8Array, it: Items, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) {
    if (it.status[i] === S_REMOVED) text += logLine(itemPath(dirPath, it, i), false, it.size[i]!, it.mtime[i]!, it.uid[i]!);
  }
  return text;
}

/**
 * Unlink the items [from, to) that passed the check (their log lines are written and durable:
 * the caller's part). One whose unlink fails gets S_UNLINK_ERRNO + errno (notRemovedLines).
 */
export function unlinkItems(dirfd: number, it: Items, from: number, to: number): void {
  const nameBuf = Buffer.from(it.names.buffer, it.names.byteOffset, it.names.byteLength);
  for (let i = from; i < to; i++) {
    if (it.status[i] !== S_REMOVED) continue;
    const r = unlinkat(dirfd, nameBuf.subarray(it.offs[i]!, it.offs[i + 1]!), 0);
    if (r !== 0) it.status[i] = S_UNLINK_ERRNO - r;
  }
}

/** The items [from, to) that passed the check and were logged, but are not to be unlinked after all: S_MOVED. */
export function holdItems(it: Items, from: number, to: number): void {
  for (let i = from; i < to; i++) if (it.status[i] === S_REMOVED) it.status[i] = S_MOVED;
}

/** The notRemoved lines of items [from, to): logged, then not removed (S_MOVED, S_UNLINK_ERRNO + errno). */
export function notRemovedLines(dirPath: Uint8Array, it: Items, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) {
    const code = it.status[i]!;
    if (code === S_MOVED) text += notRemovedLine(itemPath(dirPath, it, i), 'moved');
    else if (code >= S_UNLINK_ERRNO) text += notRemovedLine(itemPath(dirPath, it, i), errnoName(code - S_UNLINK_ERRNO));
  }
  return text;
}
