// The directory a walking command (top, trace, clean) works on: resolved and checked once.
import fs from 'node:fs';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { display, displayText } from '../shared/text.js';
import { PSEUDO_FSTYPES, mountOf, type Mount } from '../probe/mounts.js';
import { mountsNow, type MountHealth } from '../probe/mount-health.js';
import { RootError, fdPath, openRootFd } from '../probe/root-fd.js';
import { SysError } from '../sys/libc.js';
import { describeCode, fail } from './fail.js';

/** The real path of `path`, or one line and exit 2 (an empty path is not the current directory). */
export function realPathOrFail(path: string): string {
  if (path === '') fail("an empty path: name a directory ('.' for the current one)");
  try {
    return fs.realpathSync(path);
  } catch (e) {
    fail(`${displayText(path)}: ${describeCode((e as NodeJS.ErrnoException).code)}`);
  }
}

/** The same for a path given as bytes (not valid UTF-8: see argv.ts); the real path's bytes. */
function realBytesOrFail(bytes: Buffer): Buffer {
  if (isUtf8(bytes)) return Buffer.from(realPathOrFail(bytes.toString('utf8')));
  try {
    return fs.realpathSync.native(bytes, { encoding: 'buffer' });
  } catch (e) {
    fail(`${display(bytes)}: ${describeCode((e as NodeJS.ErrnoException).code)}`);
  }
}

/** One line and exit 2 when `p` is on an autofs mount point with nothing mounted (entering it would trigger the automount). */
function refuseAutofs(given: string, p: string, mounts: Mount[]): void {
  const m = mountOf(p, mounts);
  if (m?.fstype !== 'autofs') return;
  const at = m.mountPoint === p ? displayText(given) : `${displayText(given)} is below ${displayText(m.mountPoint)}, which`;
  fail(`${at} is an autofs mount point with nothing mounted on it; enospc does not trigger automounts (one nobody serves would hang): access it first (e.g. ls ${m.mountPoint}) and run again`);
}

/**
 * Resolve `path` to a real directory not on a kernel pseudo filesystem, with its mount and the
 * mount table (for the walker's mount points). An autofs mount point with nothing mounted is
 * refused before anything touches it: its mount is found lexically from mountinfo. The path may
 * be given as bytes (argBytes); `root` is then the real path as text, `rootBytes` its bytes.
 */
export function resolveRoot(path_: string | Buffer, pseudoWhy = 'a kernel pseudo filesystem with no inodes to count'): { root: string; rootBytes: Buffer; mount: Mount | undefined; mounts: MountHealth } {
  const given = typeof path_ === 'string' ? path_ : path_.toString('utf8');
  const shown = typeof path_ === 'string' ? displayText(path_) : display(path_);
  if (given === '') fail("an empty path: name a directory ('.' for the current one)");
  const mounts = mountsNow();
  refuseAutofs(given, path.resolve(given), mounts.visible);
  const rootBytes = realBytesOrFail(typeof path_ === 'string' ? Buffer.from(path_) : path_);
  const root = rootBytes.toString('utf8');
  refuseAutofs(given, root, mounts.visible);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootBytes);
  } catch (e) {
    fail(`${shown}: ${describeCode((e as NodeJS.ErrnoException).code)}`);
  }
  if (!st.isDirectory()) fail(`${shown}: not a directory`);
  const mount = mountOf(root, mounts.visible);
  if (mount && PSEUDO_FSTYPES.has(mount.fstype)) fail(`${shown}: on ${mount.fstype}, ${pseudoWhy}`);
  return { root, rootBytes, mount, mounts };
}

/**
 * Open `given` once, as the directory a command then works in by fd (clean): no symlink in any
 * component, no magic link (/proc/PID/root/...), refused in one line naming the component. The
 * path may be given as bytes (argBytes). `root` is the path the fd has in this process's view,
 * as bytes, for display and the audit log.
 */
export function openRootOrFail(given_: string | Buffer, pseudoWhy: string): { root: Buffer; fd: number; mounts: MountHealth } {
  const bytes = typeof given_ === 'string' ? Buffer.from(given_) : given_;
  const given = bytes.toString('utf8');
  const shown = display(bytes);
  if (given === '') fail("an empty path: name a directory ('.' for the current one)");
  const mounts = mountsNow();
  refuseAutofs(given, path.resolve(given), mounts.visible);
  let fd: number;
  try {
    fd = openRootFd(bytes);
  } catch (e) {
    if (e instanceof RootError) fail(e.message);
    if (e instanceof SysError) fail(`${shown}: ${describeCode(e.code)}`);
    throw e;
  }
  const root = fdPath(fd) ?? Buffer.from(path.resolve(given));
  const mount = mountOf(root.toString('utf8'), mounts.visible);
  if (mount && PSEUDO_FSTYPES.has(mount.fstype)) fail(`${shown}: on ${mount.fstype}, ${pseudoWhy}`);
  return { root, fd, mounts };
}

/**
 * Doctor's paths, before anything touches them (they are resolved in the guard's child): one
 * line and exit 2 for an empty path, or one on a kernel pseudo filesystem (/proc, /sys, ...),
 * found lexically from mountinfo.
 */
export function refuseBadPath(given: string): void {
  if (given === '') fail("an empty path: name a directory ('.' for the current one)");
  const mount = mountOf(path.resolve(given), mountsNow().visible);
  // an autofs mount point with nothing mounted is not refused: doctor lists it as unknown
  if (mount && PSEUDO_FSTYPES.has(mount.fstype) && mount.fstype !== 'autofs') fail(`${given}: on ${mount.fstype}, a kernel pseudo filesystem: nothing there uses inodes or space that can run out`);
}
