// Parsers for /proc/PID/fdinfo/FD of inotify, fanotify and epoll fds (fs/notify/fdinfo.c,
// fs/eventpoll.c). All numbers in the watch lines are hex, except epoll's tfd.

export interface InotifyWatch {
  wd: number;
  ino: number;
  /** the kernel dev_t: major = sdev >> 20, minor = sdev & 0xfffff */
  sdev: number;
  mask: number;
  /** file handle for open_by_handle_at, when the kernel has CONFIG_EXPORTFS */
  handle: { type: number; bytes: Buffer } | null;
}

export interface FanotifyMark {
  kind: 'inode' | 'mount' | 'filesystem';
  ino?: number;
  sdev?: number;
  mntId?: number;
  mask: number;
}

export interface EpollWatch { tfd: number; events: number; ino: number; sdev: number }

export function devOf(sdev: number): { major: number; minor: number } {
  return { major: Math.floor(sdev / 0x100000), minor: sdev % 0x100000 };
}

/** key: value pairs of one watch line after its first word. */
function fields(line: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of line.split(/\s+/)) {
    const i = part.indexOf(':');
    if (i > 0) m.set(part.slice(0, i), part.slice(i + 1));
  }
  return m;
}

const hex = (v: string | undefined): number => (v === undefined ? 0 : parseInt(v, 16));

export function parseInotify(text: string): InotifyWatch[] {
  const out: InotifyWatch[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('inotify ')) continue;
    const f = fields(line);
    const hb = f.get('f_handle');
    out.push({
      wd: hex(f.get('wd')), ino: hex(f.get('ino')), sdev: hex(f.get('sdev')), mask: hex(f.get('mask')),
      handle: hb && f.has('fhandle-type') ? { type: hex(f.get('fhandle-type')), bytes: Buffer.from(hb, 'hex') } : null,
    });
  }
  return out;
}

export function parseFanotify(text: string): FanotifyMark[] {
  const out: FanotifyMark[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('fanotify ') || line.startsWith('fanotify flags:')) continue;
    const f = fields(line);
    const mask = hex(f.get('mask'));
    if (f.has('ino')) out.push({ kind: 'inode', ino: hex(f.get('ino')), sdev: hex(f.get('sdev')), mask });
    else if (f.has('mnt_id')) out.push({ kind: 'mount', mntId: hex(f.get('mnt_id')), mask });
    else if (f.has('sdev')) out.push({ kind: 'filesystem', sdev: hex(f.get('sdev')), mask });
  }
  return out;
}

export function parseEpoll(text: string): EpollWatch[] {
  const out: EpollWatch[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('tfd:')) continue;
    const m = /^tfd:\s*(\d+)\s+events:\s*([0-9a-f]+).*?\bino:([0-9a-f]+)\s+sdev:([0-9a-f]+)/.exec(line);
    if (m) out.push({ tfd: Number(m[1]), events: parseInt(m[2]!, 16), ino: parseInt(m[3]!, 16), sdev: parseInt(m[4]!, 16) });
  }
  return out;
}
