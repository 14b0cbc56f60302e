// The audit log of `enospc clean --apply`: one JSON line per removal, written completely and
// made durable (fdatasync) before the first unlink of its batch. A write that fails, writes
// nothing or cannot be finished, or an fdatasync that fails, is a LogError: the cleaner stops
// before unlinking anything of that batch, so no removal is ever missing from the log.
//
// Names are bytes: a path that is not valid UTF-8 is logged as escaped text plus its exact
// bytes in `pathBase64` (src/shared/text.ts), so no two paths log the same.
import fs from 'node:fs';
import path from 'node:path';
import { display, displayText, jsonName } from '../shared/text.js';
import { userName } from '../probe/users.js';
import { InputError, kindOf, mustBeRegular } from './files.js';

/** The log could not be written or made durable; `code`: the errno name, or SHORT_WRITE. */
export class LogError extends Error {
  constructor(readonly code: string) {
    super(`the audit log: ${code}`);
  }
}

/** The audit log line of a removal (before it happens). */
export function logLine(p: Uint8Array, dir: boolean, size: number, mtime: number, uid: number): string {
  const name = JSON.stringify(jsonName('path', p));
  return `${name.slice(0, -1)},"type":"${dir ? 'dir' : 'file'}","size":${size},"mtime":"${new Date(mtime).toISOString()}","uid":${uid},"owner":${JSON.stringify(userName(uid))}}\n`;
}

/** The line that follows when the unlink then failed. */
export function notRemovedLine(p: Uint8Array, error: string): string {
  return `${JSON.stringify(jsonName('path', p)).slice(0, -1)},"notRemoved":"${error}"}\n`;
}

const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY, O_RDONLY } = fs.constants;

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'EIO';
}

export class AuditLog {
  /** notRemoved lines, written with the next batch (they need no fdatasync of their own) */
  private pending = '';

  private constructor(readonly fd: number, readonly path: string) {}

  /**
   * Open (create) the log for appending. Refused with InputError: anything but a regular file
   * (looked at first, opened with O_NONBLOCK|O_NOFOLLOW, checked again), and a log inside one of
   * `roots` by any path (its directory's real path and every directory above it are compared with
   * the roots by device and inode, before the directory is made and again after it is opened).
   * Other failures throw Node's error.
   */
  static open(given: string, roots: Buffer[]): AuditLog {
    const file = path.resolve(given);
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(file);
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
    }
    if (st) mustBeRegular(given, st);
    const dir = path.dirname(file);
    const ids = roots.map((r) => fs.statSync(r));
    const inside = (real: string) => {
      for (let p = real; ; p = path.dirname(p)) {
        const s = fs.statSync(p);
        const hit = roots.findIndex((_, i) => ids[i]!.dev === s.dev && ids[i]!.ino === s.ino);
        if (hit >= 0) throw new InputError(`the audit log ${displayText(file)} must not be inside ${display(roots[hit]!)}, which is being cleaned (its directory is ${displayText(real)}); give --log FILE elsewhere`);
        if (p === '/') return;
      }
    };
    let existing = dir;
    while (!fs.existsSync(existing)) existing = path.dirname(existing);
    inside(fs.realpathSync.native(existing));
    fs.mkdirSync(dir, { recursive: true });
    const dirFd = fs.openSync(dir, O_RDONLY | O_DIRECTORY);
    let fd: number;
    try {
      inside(fs.readlinkSync(`/proc/self/fd/${dirFd}`));
      try {
        fd = fs.openSync(`/proc/self/fd/${dirFd}/${path.basename(file)}`, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
      } catch (e) {
        // a FIFO without a reader (ENXIO), a symlink (ELOOP) put there since it was looked at
        if (codeOf(e) === 'ENXIO') throw new InputError(`${displayText(given)}: not a regular file (a FIFO)`);
        if (codeOf(e) === 'ELOOP') throw new InputError(`${displayText(given)}: not a regular file (a symbolic link)`);
        throw e;
      }
    } finally {
      fs.closeSync(dirFd);
    }
    const opened = fs.fstatSync(fd);
    if (!opened.isFile()) {
      fs.closeSync(fd);
      throw new InputError(`${displayText(given)}: not a regular file (${kindOf(opened)})`);
    }
    return new AuditLog(fd, file);
  }

  /** Write `text` to the last byte, then fdatasync: only then may what it names be removed. Throws LogError. */
  commit(text: string): void {
    const all = this.pending + text;
    this.pending = '';
    this.write(all);
    try {
      fs.fdatasyncSync(this.fd);
    } catch (e) {
      throw new LogError(codeOf(e));
    }
  }

  /** A line about a removal that already has its line (notRemoved): written with the next commit. */
  note(text: string): void {
    this.pending += text;
  }

  /** Write what is pending, fdatasync and close. Returns the LogError instead of throwing it. */
  close(): LogError | null {
    let error: LogError | null = null;
    try {
      this.commit('');
    } catch (e) {
      if (!(e instanceof LogError)) throw e;
      error = e;
    }
    try {
      fs.closeSync(this.fd);
    } catch (e) {
      error ??= new LogError(codeOf(e));
    }
    return error;
  }

  private write(text: string): void {
    if (!text) return;
    const buf = Buffer.from(text);
    for (let off = 0; off < buf.length;) {
      let n: number;
      try {
        n = fs.writeSync(this.fd, buf, off, buf.length - off);
      } catch (e) {
        throw new LogError(codeOf(e));
      }
      if (n <= 0) throw new LogError('SHORT_WRITE');
      off += n;
    }
  }
}
