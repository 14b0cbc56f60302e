// The names in one directory, read without changing its atime (O_NOATIME where the kernel allows
// it): for looking up a rule's path, which must not make the directories on the way look young.
import { AT_FDCWD, EPERM, O_DIR_WALK, O_NOATIME, close, cpath, getdents64, openat } from '../sys/libc.js';

/** The names in directory `path` (bytes), sorted; null when it cannot be read. */
export function listNames(path: Buffer): Buffer[] | null {
  const p = cpath(path);
  let fd = openat(AT_FDCWD, p, O_DIR_WALK | O_NOATIME);
  if (fd === -EPERM) fd = openat(AT_FDCWD, p, O_DIR_WALK);
  if (fd < 0) return null;
  try {
    const out: Buffer[] = [];
    const buf = Buffer.alloc(32 << 10);
    for (;;) {
      const n = getdents64(fd, buf);
      if (n < 0) return null;
      if (n === 0) break;
      for (let off = 0; off < n;) {
        const reclen = buf[off + 16]! | (buf[off + 17]! << 8);
        const end = buf.indexOf(0, off + 19);
        const name = Buffer.from(buf.subarray(off + 19, end));
        if (!(name.length === 1 && name[0] === 46) && !(name.length === 2 && name[0] === 46 && name[1] === 46)) out.push(name);
        off += reclen;
      }
    }
    return out.sort(Buffer.compare);
  } finally {
    close(fd);
  }
}
