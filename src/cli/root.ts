// The directory a walking command (top, trace, clean) works on: resolved and checked once.
import fs from 'node:fs';
import { PSEUDO_FSTYPES, mountOf, readMounts, type Mount } from '../probe/mounts.js';
import { describeCode, fail } from './fail.js';

/** The real path of `path`, or one line and exit 2 (an empty path is not the current directory). */
export function realPathOrFail(path: string): string {
  if (path === '') fail("an empty path: name a directory ('.' for the current one)");
  try {
    return fs.realpathSync(path);
  } catch (e) {
    fail(`${path}: ${describeCode((e as NodeJS.ErrnoException).code)}`);
  }
}

/** Resolve `path` to a real directory not on a kernel pseudo filesystem, with its mount. */
export function resolveRoot(path: string, pseudoWhy = 'a kernel pseudo filesystem with no inodes to count'): { root: string; mount: Mount | undefined } {
  const root = realPathOrFail(path);
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch (e) {
    fail(`${path}: ${describeCode((e as NodeJS.ErrnoException).code)}`);
  }
  if (!st.isDirectory()) fail(`${path}: not a directory`);
  const mount = mountOf(root, readMounts());
  if (mount && PSEUDO_FSTYPES.has(mount.fstype)) fail(`${path}: on ${mount.fstype}, ${pseudoWhy}`);
  return { root, mount };
}

/** Refuse a path on a kernel pseudo filesystem (/proc, /sys, cgroup, ...): one line and exit 2. */
export function refusePseudo(path: string, real: string, why = 'a kernel pseudo filesystem: nothing there uses inodes or space that can run out'): void {
  const mount = mountOf(real, readMounts());
  if (mount && PSEUDO_FSTYPES.has(mount.fstype)) fail(`${path}: on ${mount.fstype}, ${why}`);
}
