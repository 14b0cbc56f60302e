// The last step for one batch of names in one directory, shared by the cleaner's threads:
// statx each name (not following symlinks) and check it (the inode getdents gave, not a
// directory, same mount, old enough, not locked, not in use by a process, not another user's
// while processes are unseen); write the audit log lines of
// those that pass; then unlink them relative to the directory fd.
import fs from 'node:fs';
import { errnoName, unlinkat } from '../sys/libc.js';
import {
  STATX_BASIC_STATS, STATX_BTIME, STATX_MNT_ID, STATX_SIZE, lstatxAt, statAtimeMs, statBtimeMs, statCtimeMs,
  statInoNum, statMask, statMntId, statMode, statMtimeMs, statSize, statUid, S_IFDIR, S_IFMT,
} from '../sys/statx.js';
import { userName } from '../probe/users.js';
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
/** S_ERRNO + errno */
export const S_ERRNO = 100;

/** the second thread's state (ctl[2]): loading (0), ready for halves, failed (its error on the port) */
export const HELPER_READY = 1;
export const HELPER_FAILED = 2;
/** ctl[3]: the second thread never got the task it was woken for (the caller does it) */
export const TASK_MISSED = 1;

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
  apply: boolean;
  logFd: number;
  cutoff: number;
  ageBy: AgeBy;
  rootMnt: number;
  /** in use: open, or an executable, working or root directory (this device) */
  open: Set<number>;
  /** mapped by some process (any device) */
  mapped: Set<number>;
  locked: Set<number>;
  /** when some processes could not be seen: the only owner whose files may go; else -1 */
  ownerOnly: number;
}

export function isOld(st: Buffer, dir: boolean, ageBy: AgeBy, cutoff: number): boolean {
  for (const c of dir ? ageBy.dir : ageBy.file) {
    if (c === 'a' && statAtimeMs(st) >= cutoff) return false;
    if (c === 'm' && statMtimeMs(st) >= cutoff) return false;
    if (c === 'c' && !dir && statCtimeMs(st) >= cutoff) return false;
    if (c === 'b' && (statMask(st) & STATX_BTIME) !== 0 && statBtimeMs(st) >= cutoff) return false;
  }
  return true;
}

export function logLine(path: string, dir: boolean, size: number, mtime: number, uid: number): string {
  return `{"path":${JSON.stringify(path)},"type":"${dir ? 'dir' : 'file'}","size":${size},"mtime":"${new Date(mtime).toISOString()}","uid":${uid},"owner":${JSON.stringify(userName(uid))}}\n`;
}

const st = Buffer.alloc(STATX_SIZE);
const dec = new TextDecoder();

/** Check and (with apply) remove items [from, to) of the directory `dirfd` at `dirPath`. */
export function removeItems(dirfd: number, dirPath: string, it: Items, from: number, to: number, ctx: RemoveCtx): void {
  const nameBuf = Buffer.from(it.names.buffer, it.names.byteOffset, it.names.byteLength);
  const ok: number[] = [];
  for (let i = from; i < to; i++) {
    const name = nameBuf.subarray(it.offs[i]!, it.offs[i + 1]!);
    const r = lstatxAt(dirfd, name, st, MASK);
    if (r !== 0) { it.status[i] = r === -ENOENT ? S_CHANGED : S_ERRNO - r; continue; }
    const ino = statInoNum(st);
    if (ino !== it.inos[i] || (statMode(st) & S_IFMT) === S_IFDIR) { it.status[i] = S_CHANGED; continue; }
    if (ctx.rootMnt >= 0 && (statMask(st) & STATX_MNT_ID) !== 0 && statMntId(st) !== ctx.rootMnt) { it.status[i] = S_MOUNT; continue; }
    if (!isOld(st, false, ctx.ageBy, ctx.cutoff)) { it.status[i] = S_YOUNG; continue; }
    // a lock is held through an open fd: say "locked", the more telling of the two
    if (ctx.locked.has(ino)) { it.status[i] = S_LOCKED; continue; }
    if (ctx.open.has(ino) || ctx.mapped.has(ino)) { it.status[i] = S_OPEN; continue; }
    if (ctx.ownerOnly >= 0 && statUid(st) !== ctx.ownerOnly) { it.status[i] = S_UNSEEN; continue; }
    it.size[i] = statSize(st);
    it.mtime[i] = statMtimeMs(st);
    it.uid[i] = statUid(st);
    it.status[i] = S_REMOVED;
    ok.push(i);
  }
  if (!ctx.apply || !ok.length) return;
  const prefix = dirPath === '/' ? '/' : dirPath + '/';
  const pathOf = (i: number) => prefix + dec.decode(it.names.subarray(it.offs[i]!, it.offs[i + 1]! - 1));
  if (ctx.logFd >= 0) fs.writeSync(ctx.logFd, ok.map((i) => logLine(pathOf(i), false, it.size[i]!, it.mtime[i]!, it.uid[i]!)).join(''));
  let notes = '';
  for (const i of ok) {
    const name = nameBuf.subarray(it.offs[i]!, it.offs[i + 1]!);
    const r = unlinkat(dirfd, name, 0);
    if (r === 0) continue;
    it.status[i] = r === -ENOENT ? S_CHANGED : S_ERRNO - r;
    notes += `{"path":${JSON.stringify(pathOf(i))},"notRemoved":"${errnoName(-r)}"}\n`;
  }
  if (notes && ctx.logFd >= 0) fs.writeSync(ctx.logFd, notes);
}
