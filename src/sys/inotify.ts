// inotify's event format (linux/inotify.h), decoded from the bytes read(2) returns. No FFI.

export const IN_CLOSE_WRITE = 0x8;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
export const IN_CREATE = 0x100;
export const IN_DELETE = 0x200;
export const IN_DELETE_SELF = 0x400;
export const IN_MOVE_SELF = 0x800;
export const IN_UNMOUNT = 0x2000;
export const IN_Q_OVERFLOW = 0x4000;
export const IN_IGNORED = 0x8000;
export const IN_ONLYDIR = 0x1000000;
export const IN_DONT_FOLLOW = 0x2000000;
export const IN_EXCL_UNLINK = 0x4000000;
export const IN_ISDIR = 0x40000000;

export const IN_NONBLOCK = 0o4000;
export const IN_CLOEXEC = 0o2000000;

export interface InEvent { wd: number; mask: number; cookie: number; name: Buffer | null }

/** Decode the events in buf[0, len); returns the bytes consumed. */
export function decodeInotify(buf: Buffer, len: number, each: (e: InEvent) => void): number {
  let off = 0;
  while (off + 16 <= len) {
    const nameLen = buf.readUInt32LE(off + 12);
    if (off + 16 + nameLen > len) break;
    let name: Buffer | null = null;
    if (nameLen > 0) {
      const nul = buf.indexOf(0, off + 16);
      name = Buffer.from(buf.subarray(off + 16, nul < 0 || nul > off + 16 + nameLen ? off + 16 + nameLen : nul));
    }
    each({ wd: buf.readInt32LE(off), mask: buf.readUInt32LE(off + 4), cookie: buf.readUInt32LE(off + 8), name });
    off += 16 + nameLen;
  }
  return off;
}

/**
 * The masks of the whole events within the first `maxBytes` of buf[0, len), from their headers
 * alone, and the bytes they take: for counting events that are read but not processed.
 */
export function inotifyMasks(buf: Buffer, len: number, maxBytes: number): { masks: number[]; bytes: number } {
  const masks: number[] = [];
  const end = Math.min(len, maxBytes);
  let off = 0;
  while (off + 16 <= end) {
    const size = 16 + buf.readUInt32LE(off + 12);
    if (off + size > end) break;
    masks.push(buf.readUInt32LE(off + 4));
    off += size;
  }
  return { masks, bytes: off };
}
