// Facts about a cleaning job's root directory, from its fd: is it a mount's root (where
// systemd-tmpfiles keeps root-owned lost+found, .journal and aquota.* files), and is its
// filesystem one whose stat device is not the superblock's (btrfs, overlayfs).
import fs from 'node:fs';
import { STATX_BASIC_STATS, STATX_MNT_ID, fstatx, lstatxAt, statInoNum, statMask, statMntId, statMode, statUid, S_IFMT, S_IFREG } from '../sys/statx.js';
import { MASK } from './remove.js';

const MOUNT_ROOT_FILES = ['.journal', 'aquota.user', 'aquota.group'].map((n) => Buffer.from(n));
const DOTDOT = Buffer.from('..\0');

/** Is the directory `fd` a mount's root (its mount ID differs from its parent's, or it is /)? */
export function isMountRoot(fd: number, st: Buffer): boolean {
  if (fstatx(fd, st, STATX_BASIC_STATS | STATX_MNT_ID) !== 0 || (statMask(st) & STATX_MNT_ID) === 0) return false;
  const own = statMntId(st);
  const ino = statInoNum(st);
  if (lstatxAt(fd, DOTDOT, st, STATX_BASIC_STATS | STATX_MNT_ID) !== 0) return false;
  return statMntId(st) !== own || statInoNum(st) === ino;
}

const BTRFS_MAGIC = 0x9123683e;
const OVERLAYFS_MAGIC = 0x794c7630;

/** Is the root on a filesystem whose stat device differs from its superblock's (what /proc/PID/maps shows)? */
export function devIsNotSuperblock(rootFd: number): boolean {
  try {
    const type = fs.statfsSync(`/proc/self/fd/${rootFd}`).type;
    return type === BTRFS_MAGIC || type === OVERLAYFS_MAGIC;
  } catch {
    return true;
  }
}

/** Is `name` (buf[start, end)) in the mount root `fd` a root-owned regular .journal, aquota.user or aquota.group? */
export function isMountRootKeep(fd: number, buf: Buffer, start: number, end: number, st: Buffer): boolean {
  if (!MOUNT_ROOT_FILES.some((n) => n.length === end - start && buf.compare(n, 0, n.length, start, end) === 0)) return false;
  const nameZ = Buffer.concat([buf.subarray(start, end), Buffer.from([0])]);
  return lstatxAt(fd, nameZ, st, MASK) === 0 && statUid(st) === 0 && (statMode(st) & S_IFMT) === S_IFREG;
}
