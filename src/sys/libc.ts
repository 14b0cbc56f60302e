// The only place that talks to libc through koffi. Everything above this layer sees plain
// numbers and Buffers. Hot-path calls return -errno instead of throwing, so a walk over
// millions of entries pays for no exception objects; `SysError` is there for callers that
// want to turn a failure into a typed error.
import koffi from 'koffi';

const lib = koffi.load('libc.so.6');

const c_openat = lib.func('int openat(int dirfd, void *path, int flags, int mode)');
const c_close = lib.func('int close(int fd)');
const c_getdents64 = lib.func('long getdents64(int fd, void *buf, size_t count)');
const c_statx = lib.func('int statx(int dirfd, void *path, int flags, unsigned int mask, void *buf)');
const c_open_by_handle_at = lib.func('int open_by_handle_at(int mount_fd, void *handle, int flags)');
const c_ioctl_int = lib.func('int ioctl(int fd, unsigned long request, void *arg)');
const c_syscall = lib.func('long syscall(long number, ...)');
const c_unlinkat = lib.func('int unlinkat(int dirfd, void *path, int flags)');
const c_flock = lib.func('int flock(int fd, int op)');
const c_fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
const c_read = lib.func('long read(int fd, void *buf, size_t count)');
const c_poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)');
const c_clock_gettime = lib.func('int clock_gettime(int clk, void *ts)');
const c_fanotify_init = lib.func('int fanotify_init(unsigned int flags, unsigned int event_f_flags)');
const c_fanotify_mark = lib.func('int fanotify_mark(int fd, unsigned int flags, uint64_t mask, int dirfd, const char *path)');
const c_fanotify_mark_fd = lib.func('int fanotify_mark(int fd, unsigned int flags, uint64_t mask, int dirfd, void *path)');
const c_inotify_init1 = lib.func('int inotify_init1(int flags)');
const c_inotify_add_watch = lib.func('int inotify_add_watch(int fd, void *path, uint32_t mask)');
const c_inotify_rm_watch = lib.func('int inotify_rm_watch(int fd, int wd)');

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_STATX_DONT_SYNC = 0x4000;

export const O_RDONLY = 0;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_NOATIME = 0o1000000;
/** Flags the walker opens every directory with (and O_NOATIME where allowed: openatNoatime). */
export const O_DIR_WALK = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// d_type values from <dirent.h>
export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(koffi.os.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** Symbolic name of an errno value, e.g. 13 -> "EACCES". */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

export const ENOENT = koffi.os.errno.ENOENT!;
export const EACCES = koffi.os.errno.EACCES!;
export const EPERM = koffi.os.errno.EPERM!;
export const ENOTDIR = koffi.os.errno.ENOTDIR!;
export const ELOOP = koffi.os.errno.ELOOP!;
export const EMFILE = koffi.os.errno.EMFILE!;
export const ENFILE = koffi.os.errno.ENFILE!;
export const EINTR = koffi.os.errno.EINTR!;

/** A failed system call, with the errno's symbolic name as `code` (like Node's own errors). */
export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  readonly path: string | undefined;
  constructor(syscall: string, errno: number, path?: string) {
    const code = errnoName(errno);
    super(`${syscall}${path === undefined ? '' : ` ${path}`}: ${code}`);
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
    this.path = path;
  }
}

/** A NUL-terminated copy of `path` for calls that take `const char *`. */
export function cpath(path: string | Buffer): Buffer {
  const bytes = typeof path === 'string' ? Buffer.from(path) : path;
  const out = Buffer.allocUnsafe(bytes.length + 1);
  bytes.copy(out);
  out[bytes.length] = 0;
  return out;
}

/** openat(2). Returns the fd, or -errno. `path` must be NUL-terminated. */
export function openat(dirfd: number, path: Buffer, flags: number): number {
  const fd = c_openat(dirfd, path, flags, 0) as number;
  return fd >= 0 ? fd : -koffi.errno();
}

/**
 * openat(2) with O_NOATIME where the kernel allows it, so that reading what was opened (getdents,
 * read) leaves its atime alone: the age systemd-tmpfiles and `enospc clean` go by. The kernel
 * allows it only to the inode's owner or a caller with CAP_FOWNER over it, and refuses it with
 * EPERM after every other check: then the open is made again without it. fd or -errno.
 */
export function openatNoatime(dirfd: number, path: Buffer, flags: number): number {
  const fd = c_openat(dirfd, path, flags | O_NOATIME, 0) as number;
  if (fd >= 0) return fd;
  const e = koffi.errno();
  return e === EPERM ? openat(dirfd, path, flags) : -e;
}

/** close(2). Returns 0 or -errno. */
export function close(fd: number): number {
  return (c_close(fd) as number) === 0 ? 0 : -koffi.errno();
}

/** getdents64(2) into `buf`. Returns bytes filled (0 at the end), or -errno. */
export function getdents64(fd: number, buf: Buffer): number {
  for (;;) {
    const n = Number(c_getdents64(fd, buf, buf.length));
    if (n >= 0) return n;
    const e = koffi.errno();
    if (e !== EINTR) return -e;
  }
}

export const O_PATH = 0o10000000;

export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const ENOSYS = 38;
/** openat2 has one number on every architecture (it came after the syscall tables were unified) */
const SYS_OPENAT2 = 437;
const openHow = Buffer.alloc(24);

/**
 * openat2(2) with struct open_how { flags, mode 0, resolve }. Returns the fd, or -errno
 * (-ENOSYS on a kernel before 5.6; -E2BIG/-EINVAL for resolve flags it does not know).
 */
export function openat2(dirfd: number, path: Buffer, flags: number, resolve: number): number {
  openHow.writeBigUInt64LE(BigInt(flags), 0);
  openHow.writeBigUInt64LE(0n, 8);
  openHow.writeBigUInt64LE(BigInt(resolve), 16);
  const fd = Number(c_syscall(SYS_OPENAT2, 'int', dirfd, 'void *', path, 'void *', openHow, 'size_t', 24));
  return fd >= 0 ? fd : -koffi.errno();
}

/** open_by_handle_at(2): `handle` is a struct file_handle. Returns the fd, or -errno. */
export function openByHandleAt(mountFd: number, handle: Buffer, flags: number): number {
  const fd = c_open_by_handle_at(mountFd, handle, flags) as number;
  return fd >= 0 ? fd : -koffi.errno();
}

/** ioctl(2) with a pointer argument (or none: pass null). Returns the result, or -errno. */
export function ioctl(fd: number, request: number, arg: Buffer | null): number {
  const r = c_ioctl_int(fd, request, arg) as number;
  return r >= 0 ? r : -koffi.errno();
}

const SYS_KCMP: Record<string, number> = { x64: 312, arm64: 272, riscv64: 272, loong64: 272, ia32: 349, arm: 378, ppc64: 354, s390x: 343 };
const KCMP_FILE = 0;

/**
 * kcmp(2) KCMP_FILE: do fd1 of pid1 and fd2 of pid2 refer to the same open file (e.g. one
 * inotify instance inherited over fork)? 0 same, 1 or 2 different, -errno on failure.
 */
export function kcmpFile(pid1: number, pid2: number, fd1: number, fd2: number): number {
  const nr = SYS_KCMP[process.arch];
  if (nr === undefined) return -38; // ENOSYS
  const r = Number(c_syscall(nr, 'int', pid1, 'int', pid2, 'int', KCMP_FILE, 'unsigned long', fd1, 'unsigned long', fd2));
  return r >= 0 ? r : -koffi.errno();
}

/** statmount and listmount have one number on every architecture (Linux 6.8, after the unification) */
const SYS_STATMOUNT = 457;
const SYS_LISTMOUNT = 458;
const LSMT_ROOT = 0xffffffffffffffffn;
const STATMOUNT_MNT_BASIC = 0x2;
/** struct mnt_id_req, first version: size, spare, mnt_id, param */
const mntReq = Buffer.alloc(24);
const mntIds = Buffer.alloc(8 * 1024);
/** struct statmount (only its fixed part is asked for) */
const statmountBuf = Buffer.alloc(512);

function mntRequest(id: bigint, param: bigint): Buffer {
  mntReq.writeUInt32LE(24, 0);
  mntReq.writeUInt32LE(0, 4);
  mntReq.writeBigUInt64LE(id, 8);
  mntReq.writeBigUInt64LE(param, 16);
  return mntReq;
}

/**
 * listmount(2) LSMT_ROOT: the unique 64-bit IDs of every mount of this mount namespace below our
 * root (never handed out again, unlike mountinfo's). -errno (-ENOSYS before Linux 6.8).
 */
export function listMounts(): number[] | number {
  const out: number[] = [];
  let last = 0n;
  for (;;) {
    const n = Number(c_syscall(SYS_LISTMOUNT, 'void *', mntRequest(LSMT_ROOT, last), 'void *', mntIds, 'size_t', mntIds.length / 8, 'unsigned int', 0));
    if (n < 0) return -koffi.errno();
    for (let i = 0; i < n; i++) out.push(Number(last = mntIds.readBigUInt64LE(8 * i)));
    if (n < mntIds.length / 8) return out;
  }
}

/** statmount(2) STATMOUNT_MNT_BASIC of a unique mount ID: its mountinfo ID (reused once it is gone), or -errno. */
export function oldMountId(unique: number): number {
  const r = Number(c_syscall(SYS_STATMOUNT, 'void *', mntRequest(BigInt(unique), BigInt(STATMOUNT_MNT_BASIC)), 'void *', statmountBuf, 'size_t', statmountBuf.length, 'unsigned int', 0));
  if (r < 0) return -koffi.errno();
  // struct statmount: u64 mask at 8, u32 mnt_id_old at 56
  return (statmountBuf.readBigUInt64LE(8) & BigInt(STATMOUNT_MNT_BASIC)) ? statmountBuf.readUInt32LE(56) : -ENOSYS;
}

/** statx(2) into `buf` (at least STATX_SIZE bytes). Returns 0 or -errno. */
export function statx(dirfd: number, path: Buffer, flags: number, mask: number, buf: Buffer): number {
  return (c_statx(dirfd, path, flags, mask, buf) as number) === 0 ? 0 : -koffi.errno();
}

/** read(2) into `buf`. Returns bytes read, or -errno (EINTR retried). */
export function read(fd: number, buf: Buffer): number {
  for (;;) {
    const n = Number(c_read(fd, buf, buf.length));
    if (n >= 0) return n;
    const e = koffi.errno();
    if (e !== EINTR) return -e;
  }
}

const POLLIN = 1;
const pollBuf = Buffer.alloc(8);
/** poll(2) one fd for input. 1 readable, 0 timed out, -errno. */
export function pollIn(fd: number, timeoutMs: number): number {
  pollBuf.writeInt32LE(fd, 0);
  pollBuf.writeInt16LE(POLLIN, 4);
  pollBuf.writeInt16LE(0, 6);
  const r = c_poll(pollBuf, 1, timeoutMs) as number;
  if (r < 0) {
    const e = koffi.errno();
    return e === EINTR ? 0 : -e;
  }
  return r;
}

const CLOCK_BOOTTIME = 7;
const tsBuf = Buffer.alloc(16);
/** Seconds on CLOCK_BOOTTIME (the clock of a trace instance set to "boot"). */
export function bootSeconds(): number {
  c_clock_gettime(CLOCK_BOOTTIME, tsBuf);
  return Number(tsBuf.readBigInt64LE(0)) + Number(tsBuf.readBigInt64LE(8)) / 1e9;
}

/** fanotify_init(2). Returns the fd, or -errno. */
export function fanotifyInit(flags: number, eventFlags: number): number {
  const fd = c_fanotify_init(flags, eventFlags) as number;
  return fd >= 0 ? fd : -koffi.errno();
}

/** fanotify_mark(2) on an absolute path. Returns 0 or -errno. */
export function fanotifyMark(fd: number, flags: number, mask: bigint, path: string): number {
  return (c_fanotify_mark(fd, flags, mask, AT_FDCWD, path) as number) === 0 ? 0 : -koffi.errno();
}

/** fanotify_mark(2) on the object `dirfd` refers to (no path: nothing is resolved again). 0 or -errno. */
export function fanotifyMarkFd(fd: number, flags: number, mask: bigint, dirfd: number): number {
  return (c_fanotify_mark_fd(fd, flags, mask, dirfd, null) as number) === 0 ? 0 : -koffi.errno();
}

/** inotify_init1(2). Returns the fd, or -errno. */
export function inotifyInit(flags: number): number {
  const fd = c_inotify_init1(flags) as number;
  return fd >= 0 ? fd : -koffi.errno();
}

/** inotify_add_watch(2) with a path given as bytes (NUL-terminated, see cpath). wd or -errno. */
export function inotifyAddWatch(fd: number, path: Buffer, mask: number): number {
  const wd = c_inotify_add_watch(fd, path, mask) as number;
  return wd >= 0 ? wd : -koffi.errno();
}

/** inotify_rm_watch(2). 0 or -errno. */
export function inotifyRmWatch(fd: number, wd: number): number {
  return (c_inotify_rm_watch(fd, wd) as number) === 0 ? 0 : -koffi.errno();
}

const FIONREAD = 0x541b;
const nreadBuf = Buffer.alloc(4);
/** Bytes waiting to be read on a notification fd (FIONREAD), or -errno. */
export function pendingBytes(fd: number): number {
  const r = ioctl(fd, FIONREAD, nreadBuf);
  return r < 0 ? r : nreadBuf.readInt32LE(0);
}

export const AT_REMOVEDIR = 0x200;
/** unlinkat(2) of a NUL-terminated name in `dirfd`. 0 or -errno. */
export function unlinkat(dirfd: number, name: Buffer, flags: number): number {
  return (c_unlinkat(dirfd, name, flags) as number) === 0 ? 0 : -koffi.errno();
}

export const LOCK_EX = 2;
export const LOCK_NB = 4;
/** flock(2). 0 or -errno (EWOULDBLOCK: someone else holds it). */
export function flock(fd: number, op: number): number {
  return (c_flock(fd, op) as number) === 0 ? 0 : -koffi.errno();
}

const F_SETFL = 4;
/** fcntl(2) F_SETFL: set the file status flags (O_NOATIME, O_NONBLOCK, O_APPEND...) to `flags`. 0 or -errno. */
export function setFileFlags(fd: number, flags: number): number {
  return (c_fcntl(fd, F_SETFL, 'int', flags) as number) === 0 ? 0 : -koffi.errno();
}

const c_utimensat = lib.func('int utimensat(int dirfd, void *path, void *times, int flags)');
/** utimensat(2) of a NUL-terminated name in `dirfd` (`times` as for futimens). 0 or -errno. */
export function utimensat(dirfd: number, name: Buffer, times: Buffer, flags: number): number {
  return (c_utimensat(dirfd, name, times, flags) as number) === 0 ? 0 : -koffi.errno();
}
