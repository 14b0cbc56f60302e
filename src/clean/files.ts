// The files `enospc clean` is given (--rules, --log) must be regular files. A FIFO would hang
// the open or the read, a device would take the log (/dev/full) or hand out endless rules
// (/dev/zero). Each path is looked at first (lstat: nothing is opened that is not a regular
// file), then opened with O_NONBLOCK (a FIFO put there meanwhile does not block the open) and
// O_NOFOLLOW, and what was opened is checked again (fstat), so a swap after the look is caught.
import fs from 'node:fs';
import { displayText } from '../shared/text.js';

/** A file that cannot be used, in words for the command line (exit 2). */
export class InputError extends Error {}

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/** What a file is, in words: "a FIFO", "a directory", ... */
export function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** Throws InputError unless `st` is a regular file. */
export function mustBeRegular(given: string, st: fs.Stats): void {
  if (!st.isFile()) throw new InputError(`${displayText(given)}: not a regular file (${kindOf(st)})`);
}

/**
 * The contents of a regular file (symlinks to one are followed: the real path is opened), at
 * most `max` bytes. Throws InputError for anything else, or Node's error (ENOENT, EACCES).
 */
export function readRegularFile(file: string, max: number): Buffer {
  const real = fs.realpathSync.native(file);
  mustBeRegular(file, fs.lstatSync(real));
  const fd = fs.openSync(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    mustBeRegular(file, st);
    if (st.size > max) throw new InputError(`${displayText(file)}: ${st.size} bytes, too big for this (at most ${max})`);
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(max + 1 - n, Math.max(st.size - n, 0) + 65536));
      const r = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (r <= 0) break;
      chunks.push(chunk.subarray(0, r));
      n += r;
      if (n > max) throw new InputError(`${displayText(file)}: too big for this (at most ${max} bytes)`);
    }
    return Buffer.concat(chunks, n);
  } finally {
    fs.closeSync(fd);
  }
}
