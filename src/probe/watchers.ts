// Who holds inotify, fanotify and epoll objects: every process's fds, classified by their
// anon-inode link, and counted from fdinfo. Processes that vanish mid-scan are skipped quietly;
// those we may not read (not root) are listed so totals can say they are a lower bound.
import fs from 'node:fs';
import { countInotify, parseEpoll, parseFanotify, parseInotify, type InotifyWatch } from './fdinfo.js';
import { comm, livePids, scanFds, type FdSink } from './procs.js';
import { euidOf, readOr } from './procinfo.js';

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
    const info = readOr(`/proc/${pid}/fdinfo/${fd}`);
    if (info === null) return;
    const p = this.cur ??= {
      pid, comm: '', uid: -1, userns: 0,
      inotify: { instances: 0, watches: 0 }, fanotify: { groups: 0, marks: 0 }, epoll: { instances: 0, watches: 0 },
      instances: [],
      ...(this.keepWatches ? { watchList: [] } : {}),
    };
    if (kind === 'inotify') {
      // without the watch list, only the first 64 watches (the instance's fingerprint) are parsed
      const w = parseInotify(info, this.keepWatches ? Infinity : 64);
      const n = this.keepWatches ? w.length : countInotify(info);
      p.inotify.instances++;
      p.inotify.watches += n;
      p.instances.push({ fd, watches: n, key: `${n}:${w.slice(0, 64).map((x) => `${x.wd}.${x.ino}.${x.sdev}`).join(',')}` });
      // not push(...w): a spread of 200k watches overflows the stack
      if (p.watchList) for (const x of w) p.watchList.push(x);
    } else if (kind === 'fanotify') {
      p.fanotify.groups++;
      p.fanotify.marks += parseFanotify(info).length;
    } else {
      p.epoll.instances++;
      p.epoll.watches += parseEpoll(info).length;
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
