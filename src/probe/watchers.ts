// Who holds inotify, fanotify and epoll objects: every process's fds, classified by their
// anon-inode link, and counted from fdinfo. Processes that vanish mid-scan are skipped quietly;
// those we may not read (not root) are listed so totals can say they are a lower bound.
import fs from 'node:fs';
import { parseEpoll, parseFanotify, parseInotify, type InotifyWatch } from './fdinfo.js';
import { comm, livePids, scanFds, type FdSink } from './procs.js';
import { euidOf } from './procinfo.js';

export interface ProcWatchers {
  pid: number;
  comm: string;
  /** effective uid, as this (the reading) user namespace sees it */
  uid: number;
  /** inode number of the process's user namespace */
  userns: number;
  inotify: { instances: number; watches: number };
  fanotify: { groups: number; marks: number };
  epoll: { instances: number; watches: number };
  /** the inotify watches themselves, when asked for */
  watchList?: InotifyWatch[];
  /** this process's inotify instances: fd, watch count, and a fingerprint of the watches (equal fingerprints in two processes are checked with kcmp: one instance shared over fork?) */
  instances: Array<{ fd: number; watches: number; key: string }>;
}

export interface WatchScan {
  procs: ProcWatchers[];
  /** PIDs whose fds could not be read (EACCES) */
  unreadable: number[];
  /** our own user namespace */
  userns: number;
}

/** The inode number of a process's user namespace (readlink of /proc/PID/ns/user). Throws when it cannot be read. */
export function nsInode(pid: number | 'self'): number {
  const link = fs.readlinkSync(`/proc/${pid}/ns/user`); // user:[4026531837]
  return Number(/\[(\d+)\]/.exec(link)?.[1] ?? 0);
}


export interface ScanOptions {
  /** only these PIDs */
  pids?: Set<number>;
  /** keep every inotify watch (for --paths) */
  keepWatches?: boolean;
}

const WATCH_LINE = Buffer.from('\ninotify ');

/** How many lines of `buf` start with `start` ("\nword "), the first line included. */
function countLines(buf: Buffer, start: Buffer): number {
  let n = buf.subarray(0, start.length - 1).equals(start.subarray(1)) ? 1 : 0;
  for (let i = buf.indexOf(start); i >= 0; i = buf.indexOf(start, i + start.length)) n++;
  return n;
}

/** The offset just past the `max`-th line starting with `start` (or the end of `buf`). */
function endOfLine(buf: Buffer, start: Buffer, max: number): number {
  let i = -1;
  for (let k = 0; k < max; k++) {
    i = buf.indexOf(start, i + 1);
    if (i < 0) return buf.length;
  }
  const nl = buf.indexOf(0x0a, i + start.length);
  return nl < 0 ? buf.length : nl;
}

/** A buffer kept for reading fdinfo (grown as needed): one read of 12 MB of watches allocates nothing. */
let infoBuf = Buffer.allocUnsafe(1 << 16);

/** The bytes of a /proc file (valid until the next call), or null when it is gone. */
function readInfo(path: string): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    let n = 0;
    for (;;) {
      if (n === infoBuf.length) {
        const bigger = Buffer.allocUnsafe(infoBuf.length * 2);
        infoBuf.copy(bigger, 0, 0, n);
        infoBuf = bigger;
      }
      const r = fs.readSync(fd, infoBuf, n, infoBuf.length - n, null);
      if (r === 0) return infoBuf.subarray(0, n);
      n += r;
    }
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

const KINDS: Record<string, 'inotify' | 'fanotify' | 'epoll'> = {
  'anon_inode:inotify': 'inotify', 'anon_inode:[fanotify]': 'fanotify', 'anon_inode:[eventpoll]': 'epoll',
};

/** Counts the inotify, fanotify and epoll objects of each process it is handed fds of. */
export class WatchersSink implements FdSink {
  private readonly procs: ProcWatchers[] = [];
  private cur: ProcWatchers | null = null;
  constructor(private readonly keepWatches = false) {}

  fd(pid: number, fd: number, link: string): void {
    const kind = KINDS[link];
    if (!kind || pid === process.pid) return; // enospc itself (libuv's epoll) is not what the user asks about
    const raw = readInfo(`/proc/${pid}/fdinfo/${fd}`);
    if (raw === null) return;
    const p = this.cur ??= {
      pid, comm: '', uid: -1, userns: 0,
      inotify: { instances: 0, watches: 0 }, fanotify: { groups: 0, marks: 0 }, epoll: { instances: 0, watches: 0 },
      instances: [],
      ...(this.keepWatches ? { watchList: [] } : {}),
    };
    if (kind === 'inotify') {
      // the watches are counted in the bytes, and only parsed for the watch list: 100k watches
      // are 12 MB of text; the instance's fingerprint is the text of its first 16 watches
      const n = countLines(raw, WATCH_LINE);
      const first = raw.indexOf(WATCH_LINE);
      p.inotify.instances++;
      p.inotify.watches += n;
      p.instances.push({ fd, watches: n, key: `${n}:${first < 0 ? '' : raw.toString('latin1', first + 1, endOfLine(raw, WATCH_LINE, 16))}` });
      // not push(...w): a spread of 200k watches overflows the stack
      if (p.watchList) for (const x of parseInotify(raw.toString('latin1'))) p.watchList.push(x);
    } else if (kind === 'fanotify') {
      p.fanotify.groups++;
      p.fanotify.marks += parseFanotify(raw.toString('latin1')).length;
    } else {
      p.epoll.instances++;
      p.epoll.watches += parseEpoll(raw.toString('latin1')).length;
    }
  }

  done(pid: number): void {
    const p = this.cur;
    this.cur = null;
    if (!p) return;
    const uid = euidOf(pid);
    if (uid === null) return; // gone
    try {
      p.userns = nsInode(pid);
    } catch {
      return; // gone
    }
    p.uid = uid;
    p.comm = comm(pid);
    this.procs.push(p);
  }

  result(unreadable: number[]): WatchScan {
    return { procs: this.procs, unreadable, userns: nsInode('self') };
  }
}

export function scanWatchers(opts: ScanOptions = {}): WatchScan {
  const sink = new WatchersSink(opts.keepWatches === true);
  return sink.result(scanFds([sink], opts.pids ?? livePids()));
}
