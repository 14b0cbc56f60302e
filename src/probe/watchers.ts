// Who holds inotify, fanotify and epoll objects: every process's fds, classified by their
// anon-inode link, and counted from fdinfo. Processes that vanish mid-scan are skipped quietly;
// those we may not read (not root) are listed so totals can say they are a lower bound.
import fs from 'node:fs';
import { parseEpoll, parseFanotify, parseInotify, type InotifyWatch } from './fdinfo.js';
import { comm, livePids } from './procs.js';

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

function nsInode(pid: number | 'self'): number {
  const link = fs.readlinkSync(`/proc/${pid}/ns/user`); // user:[4026531837]
  return Number(/\[(\d+)\]/.exec(link)?.[1] ?? 0);
}

function euid(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^Uid:\s+\d+\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : -1;
}

function read(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export interface ScanOptions {
  /** only these PIDs */
  pids?: Set<number>;
  /** keep every inotify watch (for --paths) */
  keepWatches?: boolean;
}

export function scanWatchers(opts: ScanOptions = {}): WatchScan {
  const procs: ProcWatchers[] = [];
  const unreadable: number[] = [];
  for (const pid of opts.pids ?? livePids()) {
    if (pid === process.pid) continue; // enospc itself (libuv's epoll) is not what the user asks about
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') unreadable.push(pid);
      continue;
    }
    const p: ProcWatchers = {
      pid, comm: '', uid: -1, userns: 0,
      inotify: { instances: 0, watches: 0 }, fanotify: { groups: 0, marks: 0 }, epoll: { instances: 0, watches: 0 },
      instances: [],
      ...(opts.keepWatches ? { watchList: [] } : {}),
    };
    let any = false;
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!link.startsWith('anon_inode:')) continue;
      const kind = link === 'anon_inode:inotify' ? 'inotify' : link === 'anon_inode:[fanotify]' ? 'fanotify' : link === 'anon_inode:[eventpoll]' ? 'epoll' : null;
      if (!kind) continue;
      const info = read(`/proc/${pid}/fdinfo/${fd}`);
      if (info === null) continue;
      any = true;
      if (kind === 'inotify') {
        const w = parseInotify(info);
        p.inotify.instances++;
        p.inotify.watches += w.length;
        p.instances.push({ fd: Number(fd), watches: w.length, key: `${w.length}:${w.slice(0, 64).map((x) => `${x.wd}.${x.ino}.${x.sdev}`).join(',')}` });
        p.watchList?.push(...w);
      } else if (kind === 'fanotify') {
        p.fanotify.groups++;
        p.fanotify.marks += parseFanotify(info).length;
      } else {
        p.epoll.instances++;
        p.epoll.watches += parseEpoll(info).length;
      }
    }
    if (!any) continue;
    try {
      p.uid = euid(pid);
      p.userns = nsInode(pid);
    } catch {
      continue; // gone
    }
    p.comm = comm(pid);
    procs.push(p);
  }
  return { procs, unreadable, userns: nsInode('self') };
}
