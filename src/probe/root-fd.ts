// A directory to work in, opened once by a path none of whose components is a symlink, and
// held by fd from then on (O_PATH|O_DIRECTORY): whatever replaces a name on the way to it
// later, the fd stays on the directory that was opened. openat2 with RESOLVE_NO_SYMLINKS and
// RESOLVE_NO_MAGICLINKS does it in one call (Linux 5.6); where the kernel has no openat2 each
// component is opened with O_PATH|O_NOFOLLOW relative to the one before and refused if it is
// a symlink. A magic link (/proc/PID/root, /proc/PID/cwd, /proc/PID/fd/N) is a symlink to
// lstat and is refused the same way: its text resolves in this process's view, not in the view
// of the process it belongs to, so following it by name would reach another tree.
import fs from 'node:fs';
import { display } from '../shared/text.js';
import {
  AT_FDCWD, ELOOP, ENOSYS, ENOTDIR, O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
  SysError, close, cpath, openat, openat2,
} from '../sys/libc.js';
import { STATX_SIZE, S_IFDIR, S_IFLNK, S_IFMT, fstatx, statMode } from '../sys/statx.js';

const PROC_SUPER_MAGIC = 0x9fa0;
const EPERM = 1;

/** The root could not be opened; `message` is one line naming the component at fault. */
export class RootError extends SysError {
  constructor(errno: number, given: string, readonly why: string) {
    super('open', errno, given);
    this.message = why;
  }
}

const SLASH = 47;
const bytesOf = (p: string | Buffer) => (typeof p === 'string' ? Buffer.from(p) : p);
/** `p` as bytes, made absolute against the working directory (lexically: no component resolved). */
const absolute = (p: Buffer) => (p[0] === SLASH ? p : Buffer.concat([Buffer.from(process.cwd()), Buffer.from('/'), p]));

/** The components of a path, as bytes ('' and '.' left out). */
function components(p: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at <= p.length;) {
    let end = p.indexOf(SLASH, at);
    if (end < 0) end = p.length;
    const part = p.subarray(at, end);
    if (part.length && !(part.length === 1 && part[0] === 46)) out.push(part);
    at = end + 1;
  }
  return out;
}

/** Why the path has a symlink: the first component of `given` that is one, named, with its target. */
function explainLink(given: Buffer): string {
  let at = Buffer.alloc(0);
  for (const p of components(absolute(given))) {
    const next = Buffer.concat([at, Buffer.from('/'), p]);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(next);
    } catch {
      break;
    }
    if (st.isSymbolicLink()) {
      let target = '?';
      try { target = display(fs.readlinkSync(next, { encoding: 'buffer' })); } catch { /* gone meanwhile */ }
      let proc = false;
      try { proc = fs.statfsSync(at.length ? at : '/').type === PROC_SUPER_MAGIC; } catch { /* unknown */ }
      if (proc) {
        return `${display(next)} is a magic link into a process's own view of the filesystem (it reads "${target}" here); `
          + 'enospc does not follow it, as its path would resolve in this mount namespace, not that process\'s: '
          + `run enospc inside that namespace instead (e.g. nsenter -t PID -m, with enospc installed there)`;
      }
      return `${display(next)} is a symlink (to ${target}); enospc opens no symlink on the way to PATH: give the real path (${safeReal(next)})`;
    }
    at = next;
  }
  return `${display(given)}: a component is a symlink (it changed while being looked at); give the real path`;
}

function safeReal(p: Buffer): string {
  try {
    return display(fs.realpathSync.native(p, { encoding: 'buffer' }));
  } catch {
    return 'it does not resolve';
  }
}

/** Open each component with O_PATH|O_NOFOLLOW relative to the one before (kernels without openat2). */
function openByComponents(given: Buffer): number {
  const st = Buffer.alloc(STATX_SIZE);
  let cur = openat(AT_FDCWD, cpath(given[0] === SLASH ? '/' : '.'), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cur < 0) return cur;
  for (const part of components(given)) {
    const next = openat(cur, cpath(part), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    close(cur);
    if (next < 0) return next;
    const r = fstatx(next, st);
    const type = statMode(st) & S_IFMT;
    if (r < 0 || type !== S_IFDIR) {
      close(next);
      return r < 0 ? r : type === S_IFLNK ? -ELOOP : -ENOTDIR;
    }
    cur = next;
  }
  return cur;
}

/**
 * Open `given` (absolute, or relative to the working directory; text or bytes) as an O_PATH
 * directory fd, refusing a symlink in any component. Throws RootError (a symlink or magic link,
 * named) or SysError (ENOENT, ENOTDIR, EACCES...).
 */
export function openRootFd(given: string | Buffer): number {
  const bytes = bytesOf(given);
  const flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  let fd = openat2(AT_FDCWD, cpath(bytes), flags, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  // ENOSYS: before 5.6; EPERM: a seccomp filter that does not know the call
  if (fd === -ENOSYS || fd === -EPERM) fd = openByComponents(bytes);
  if (fd === -ELOOP) throw new RootError(ELOOP, display(bytes), explainLink(bytes));
  if (fd < 0) throw new SysError('open', -fd, display(bytes));
  return fd;
}

/** The path of an open fd as this process sees it (its /proc/self/fd link), as bytes, or null. */
export function fdPath(fd: number): Buffer | null {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
  } catch {
    return null;
  }
}
