// fanotify's event format (linux/fanotify.h), decoded from the bytes read(2) returns.
// Layout: ../shared/notes/kernel.md. Pure parsing: no FFI here.

export const FAN_CLOSE_WRITE = 0x8;
export const FAN_MOVED_FROM = 0x40;
export const FAN_MOVED_TO = 0x80;
export const FAN_CREATE = 0x100;
export const FAN_DELETE = 0x200;
export const FAN_Q_OVERFLOW = 0x4000;
export const FAN_RENAME = 0x10000000;
export const FAN_ONDIR = 0x40000000;

export const FAN_CLOEXEC = 0x1;
export const FAN_NONBLOCK = 0x2;
export const FAN_CLASS_NOTIF = 0x0;
export const FAN_UNLIMITED_QUEUE = 0x10;
export const FAN_REPORT_FID = 0x200;
export const FAN_REPORT_DIR_FID = 0x400;
export const FAN_REPORT_NAME = 0x800;
export const FAN_REPORT_TARGET_FID = 0x1000;
export const FAN_REPORT_DFID_NAME = FAN_REPORT_DIR_FID | FAN_REPORT_NAME;

export const FAN_MARK_ADD = 0x1;
export const FAN_MARK_FILESYSTEM = 0x100;

export const FAN_EVENT_INFO_TYPE_FID = 1;
export const FAN_EVENT_INFO_TYPE_DFID_NAME = 2;
export const FAN_EVENT_INFO_TYPE_DFID = 3;
export const FAN_EVENT_INFO_TYPE_OLD_DFID_NAME = 10;
export const FAN_EVENT_INFO_TYPE_NEW_DFID_NAME = 12;

/**
 * The size of struct fanotify_event_metadata. It is also what FIONREAD on a fanotify fd adds up for
 * each queued event, whatever info records the event carries (fanotify_ioctl), so FIONREAD is
 * events x 24, not the bytes read(2) will return: an event with a DFID_NAME and a FID record is
 * about 100 bytes when read. Divided by this, FIONREAD counts the queued events exactly.
 */
export const FAN_EVENT_METADATA_LEN = 24;
const FANOTIFY_METADATA_VERSION = 3;

/**
 * One event. Object identities (`dir`, `child`, ...) are keys: the record's fsid and
 * struct file_handle as a latin1 string, equal for equal objects; `handleOf` turns one back
 * into the struct file_handle open_by_handle_at(2) takes.
 */
export interface FanEvent {
  mask: number;
  pid: number;
  /** the directory and name (DFID_NAME); for FAN_RENAME the new location */
  dir: string | null;
  name: Buffer | null;
  /** the object itself (FID): the created, deleted or moved child with FAN_REPORT_TARGET_FID */
  child: string | null;
  /** FAN_RENAME: where it was */
  oldDir: string | null;
  oldName: Buffer | null;
}

/** The struct file_handle inside a key (the key starts with the 8-byte fsid). */
export function handleOf(key: string): Buffer {
  return Buffer.from(key, 'latin1').subarray(8);
}

/**
 * Decode the events in buf[0, len). Calls `each` per event; returns the number of bytes
 * consumed (a trailing partial event is left, which the kernel never produces).
 */
export function decodeFanotify(buf: Buffer, len: number, each: (e: FanEvent) => void): number {
  let off = 0;
  while (off + FAN_EVENT_METADATA_LEN <= len) {
    const eventLen = buf.readUInt32LE(off);
    if (eventLen < FAN_EVENT_METADATA_LEN || off + eventLen > len) break;
    if (buf[off + 4] !== FANOTIFY_METADATA_VERSION) throw new Error(`fanotify metadata version ${buf[off + 4]}, expected ${FANOTIFY_METADATA_VERSION}`);
    const metaLen = buf.readUInt16LE(off + 6);
    const e: FanEvent = {
      mask: buf.readUInt32LE(off + 8), pid: buf.readInt32LE(off + 20),
      dir: null, name: null, child: null, oldDir: null, oldName: null,
    };
    let r = off + metaLen;
    const end = off + eventLen;
    while (r + 4 <= end) {
      const type = buf[r]!;
      const recLen = buf.readUInt16LE(r + 2);
      if (recLen < 4 || r + recLen > end) break;
      if (type === FAN_EVENT_INFO_TYPE_FID || type === FAN_EVENT_INFO_TYPE_DFID_NAME || type === FAN_EVENT_INFO_TYPE_DFID
        || type === FAN_EVENT_INFO_TYPE_OLD_DFID_NAME || type === FAN_EVENT_INFO_TYPE_NEW_DFID_NAME) {
        const handleBytes = buf.readUInt32LE(r + 12);
        const keyEnd = r + 20 + handleBytes;
        const key = buf.toString('latin1', r + 4, keyEnd);
        let name: Buffer | null = null;
        if (type !== FAN_EVENT_INFO_TYPE_FID && type !== FAN_EVENT_INFO_TYPE_DFID) {
          const nul = buf.indexOf(0, keyEnd);
          name = Buffer.from(buf.subarray(keyEnd, nul < 0 || nul > r + recLen ? r + recLen : nul));
        }
        if (type === FAN_EVENT_INFO_TYPE_FID) e.child = key;
        else if (type === FAN_EVENT_INFO_TYPE_OLD_DFID_NAME) { e.oldDir = key; e.oldName = name; }
        else { e.dir = key; e.name = name; }
      }
      r += recLen;
    }
    each(e);
    off += eventLen;
  }
  return off;
}

/**
 * The masks of the first `max` whole events in buf[0, len), from their headers alone: for counting
 * events that are read but not processed.
 */
export function fanotifyMasks(buf: Buffer, len: number, max: number): number[] {
  const masks: number[] = [];
  let off = 0;
  while (masks.length < max && off + FAN_EVENT_METADATA_LEN <= len) {
    const eventLen = buf.readUInt32LE(off);
    if (eventLen < FAN_EVENT_METADATA_LEN || off + eventLen > len) break;
    masks.push(buf.readUInt32LE(off + 8));
    off += eventLen;
  }
  return masks;
}
