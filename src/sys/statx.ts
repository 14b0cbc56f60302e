// struct statx (include/uapi/linux/stat.h). Its layout is the same on every architecture,
// which is why the walker uses statx rather than fstatat's struct stat.
import {
  AT_EMPTY_PATH, AT_NO_AUTOMOUNT, AT_FDCWD, AT_STATX_DONT_SYNC, AT_SYMLINK_NOFOLLOW, DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK,
  DT_UNKNOWN, statx,
} from './libc.js';

export const STATX_SIZE = 256;
export const STATX_TYPE = 0x1;
export const STATX_MODE = 0x2;
export const STATX_NLINK = 0x4;
export const STATX_UID = 0x8;
export const STATX_GID = 0x10;
export const STATX_ATIME = 0x20;
export const STATX_MTIME = 0x40;
export const STATX_CTIME = 0x80;
export const STATX_INO = 0x100;
export const STATX_SIZE_FIELD = 0x200;
export const STATX_BLOCKS = 0x400;
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const STATX_MNT_ID = 0x1000;

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** Offsets of the fields enospc reads. */
const OFF = {
  mask: 0, nlink: 16, uid: 20, gid: 24, mode: 28, ino: 32, size: 40, blocks: 48,
  atime: 64, btime: 80, ctime: 96, mtime: 112, devMajor: 136, devMinor: 140, mntId: 144,
} as const;

export interface Stat {
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  ino: bigint;
  size: number;
  blocks: number;
  /** seconds since the epoch */
  mtime: number;
  ctime: number;
  atime: number;
  devMajor: number;
  devMinor: number;
}

export const statNlink = (b: Buffer): number => b.readUInt32LE(OFF.nlink);
export const statUid = (b: Buffer): number => b.readUInt32LE(OFF.uid);
export const statGid = (b: Buffer): number => b.readUInt32LE(OFF.gid);
export const statMode = (b: Buffer): number => b.readUInt16LE(OFF.mode);
/** Size in bytes; exact up to 2^53. */
export const statSize = (b: Buffer): number => b.readUInt32LE(OFF.size) + b.readUInt32LE(OFF.size + 4) * 0x1_0000_0000;
/** A signed 64-bit field as a double without a BigInt (exact below 2^53). */
const i64 = (b: Buffer, off: number): number => b.readUInt32LE(off) + b.readInt32LE(off + 4) * 0x1_0000_0000;
/** 512-byte blocks allocated. */
export const statBlocks = (b: Buffer): number => b.readUInt32LE(OFF.blocks) + b.readUInt32LE(OFF.blocks + 4) * 0x1_0000_0000;
export const statMtime = (b: Buffer): number => i64(b, OFF.mtime);
/** Inode number as a double: exact below 2^53, which every filesystem enospc meets stays under. */
export const statInoNum = (b: Buffer): number => b.readUInt32LE(OFF.ino) + b.readUInt32LE(OFF.ino + 4) * 0x1_0000_0000;
/** Timestamps in ms since the epoch (seconds and nanoseconds fields). */
const msAt = (b: Buffer, off: number): number => i64(b, off) * 1000 + Math.floor(b.readUInt32LE(off + 8) / 1e6);
export const statAtimeMs = (b: Buffer): number => msAt(b, OFF.atime);
export const statBtimeMs = (b: Buffer): number => msAt(b, OFF.btime);
export const statCtimeMs = (b: Buffer): number => msAt(b, OFF.ctime);
/** ctime's nanoseconds within its second, and its seconds: together exact (ms is not). */
export const statCtimeNs = (b: Buffer): number => b.readUInt32LE(OFF.ctime + 8);
export const statCtimeS = (b: Buffer): number => i64(b, OFF.ctime);
export const statMtimeMs = (b: Buffer): number => msAt(b, OFF.mtime);
export const statMask = (b: Buffer): number => b.readUInt32LE(OFF.mask);
/** The mount ID (with STATX_MNT_ID): tells a bind mount of the same filesystem apart. */
export const statMntId = (b: Buffer): number => i64(b, OFF.mntId);
export const statDevMajor = (b: Buffer): number => b.readUInt32LE(OFF.devMajor);
export const statDevMinor = (b: Buffer): number => b.readUInt32LE(OFF.devMinor);

export function decodeStat(b: Buffer): Stat {
  return {
    mode: statMode(b),
    nlink: statNlink(b),
    uid: statUid(b),
    gid: statGid(b),
    ino: b.readBigUInt64LE(OFF.ino),
    size: statSize(b),
    blocks: Number(b.readBigUInt64LE(OFF.blocks)),
    mtime: statMtime(b),
    ctime: Number(b.readBigInt64LE(OFF.ctime)),
    atime: Number(b.readBigInt64LE(OFF.atime)),
    devMajor: statDevMajor(b),
    devMinor: statDevMinor(b),
  };
}

const EMPTY = Buffer.from([0]);

/** statx of an open fd itself. Returns 0 or -errno. */
export function fstatx(fd: number, buf: Buffer, mask = STATX_BASIC_STATS): number {
  return statx(fd, EMPTY, AT_EMPTY_PATH | AT_STATX_DONT_SYNC, mask, buf);
}

/**
 * statx of `name` (NUL-terminated) in `dirfd`, never following a symlink, and never triggering an
 * automount (an autofs mount point that appeared after the mounts were read would wait for its
 * daemon for ever). Returns 0 or -errno.
 */
export function lstatxAt(dirfd: number, name: Buffer, buf: Buffer, mask = STATX_BASIC_STATS): number {
  return statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC, mask, buf);
}

/** statx of an absolute `path` (NUL-terminated), following links (a /proc magic link to its file), without asking a network server. 0 or -errno. */
export function statxFollow(path: Buffer, buf: Buffer, mask = STATX_BASIC_STATS): number {
  return statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, mask, buf);
}

/** The getdents64 d_type of a statx mode. */
export function modeToDtype(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFDIR: return DT_DIR;
    case S_IFREG: return DT_REG;
    case S_IFLNK: return DT_LNK;
    case 0o010000: return DT_FIFO;
    case 0o020000: return DT_CHR;
    case 0o060000: return DT_BLK;
    case 0o140000: return DT_SOCK;
    default: return DT_UNKNOWN;
  }
}

/** The atime and mtime of a statx buffer as futimens(2) takes them (two struct timespec, 32 bytes). */
export function statTimes(b: Buffer): Buffer {
  const out = Buffer.alloc(32);
  out.writeBigInt64LE(b.readBigInt64LE(64), 0);
  out.writeBigInt64LE(BigInt(b.readUInt32LE(72)), 8);
  out.writeBigInt64LE(b.readBigInt64LE(112), 16);
  out.writeBigInt64LE(BigInt(b.readUInt32LE(120)), 24);
  return out;
}
