// Watches and instances per user, the way the kernel charges them: to (user namespace, euid)
// of the creator, and up the namespace chain, so a container's watches count against its
// owner on the host (kernel/ucount.c inc_ucount). Limits are checked per user in the initial
// namespace, so processes in a child namespace are charged here to that namespace's owner.
import fs from 'node:fs';
import { ioctl, kcmpFile } from '../sys/libc.js';
import { userName } from './users.js';
import { euidOf } from './procinfo.js';
import { nsInode, scanWatchers, type ProcWatchers, type WatchScan } from './watchers.js';
import { watchLimits, type WatchLimits } from './sysctl.js';
import { resolveWatchPaths } from './watch-paths.js';

const NS_GET_PARENT = 0xb702;
const NS_GET_OWNER_UID = 0xb704;

export interface UserWatchUse {
  /** the uid charged in this (the reading) namespace */
  uid: number;
  user: string;
  watches: number;
  instances: number;
  /** instances seen in two processes (inherited over fork): counted once */
  sharedInstances: number;
  fanotifyMarks: number;
  fanotifyGroups: number;
  epollWatches: number;
  /** user namespaces its processes live in (inode numbers) */
  namespaces: number[];
  processes: ProcWatchers[];
  /** PIDs charged to this user whose fds could not be read: its figures are then a floor */
  unreadable: number[];
  /** its figures are a floor: some of its processes, or some of unknown owner, were not read */
  lowerBound: boolean;
}

/** The uid that a process in another user namespace is charged as in `ours`; null when unknown. */
function chargedUid(pid: number, ours: number): number | null {
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${pid}/ns/user`, 'r');
  } catch {
    return null;
  }
  try {
    for (let depth = 0; depth < 33; depth++) {
      const parent = ioctl(fd, NS_GET_PARENT, null);
      if (parent < 0) return null;
      const parentIno = fs.fstatSync(parent).ino;
      if (parentIno === ours) {
        fs.closeSync(parent);
        const out = Buffer.alloc(4);
        return ioctl(fd, NS_GET_OWNER_UID, out) < 0 ? null : out.readUInt32LE(0);
      }
      fs.closeSync(fd);
      fd = parent;
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The user namespace inode of a process, or null when it is gone or hidden. A process closed
 * even to root (its ns link too) whose uid_map, readable by all, is our own identity map is
 * taken to be in our namespace: a child namespace with that map could only be made with
 * CAP_SETUID here, and would be charged to its (nearly always root) maker, not to the euid.
 */
function usernsOf(pid: number, ours: number): number | null {
  try {
    return nsInode(pid) || null;
  } catch {
    try {
      return fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8') === fs.readFileSync('/proc/self/uid_map', 'utf8') ? ours : null;
    } catch {
      return null;
    }
  }
}

export function byUser(scan: WatchScan): UserWatchUse[] {
  const users = new Map<number, UserWatchUse & { seen: Map<string, Array<{ pid: number; fd: number }>> }>();
  // the owner of a namespace is the same for all its processes: ask once per namespace
  const owners = new Map<number, number>();
  const charged = (pid: number, uid: number, userns: number): number => {
    let owner: number | null | undefined = userns === scan.userns ? uid : owners.get(userns);
    if (owner === undefined) {
      owner = chargedUid(pid, scan.userns);
      if (owner !== null) owners.set(userns, owner); // null: this process went away; ask the next
    }
    return owner ?? uid;
  };
  const entry = (uid: number) => {
    let u = users.get(uid);
    if (!u) {
      u = {
        uid, user: userName(uid), watches: 0, instances: 0, sharedInstances: 0, fanotifyMarks: 0, fanotifyGroups: 0,
        epollWatches: 0, namespaces: [], processes: [], unreadable: [], lowerBound: false, seen: new Map(),
      };
      users.set(uid, u);
    }
    return u;
  };
  // a process whose fds could not be read is charged to its user, whose figures are then a
  // floor; one whose owner is not known either (gone, hidden) makes every user's a floor
  const unreadableOf = new Map<number, number[]>();
  let ownerUnknown = false;
  for (const pid of scan.unreadable) {
    const uid = euidOf(pid);
    const ns = usernsOf(pid, scan.userns);
    if (uid === null || ns === null) {
      ownerUnknown = true;
      continue;
    }
    const c = charged(pid, uid, ns);
    unreadableOf.set(c, [...(unreadableOf.get(c) ?? []), pid]);
  }
  for (const p of scan.procs) {
    const u = entry(charged(p.pid, p.uid, p.userns));
    for (const inst of p.instances) {
      // one instance inherited over fork shows in both processes: the kernel charged it once
      const same = u.seen.get(inst.key) ?? [];
      if (same.some((o) => kcmpFile(o.pid, p.pid, o.fd, inst.fd) === 0)) {
        u.sharedInstances++;
        continue;
      }
      same.push({ pid: p.pid, fd: inst.fd });
      u.seen.set(inst.key, same);
      u.instances++;
      u.watches += inst.watches;
    }
    u.fanotifyMarks += p.fanotify.marks;
    u.fanotifyGroups += p.fanotify.groups;
    u.epollWatches += p.epoll.watches;
    if (!u.namespaces.includes(p.userns)) u.namespaces.push(p.userns);
    u.processes.push(p);
  }
  return [...users.values()].map(({ seen: _s, ...u }) => {
    u.unreadable = unreadableOf.get(u.uid) ?? [];
    u.lowerBound = ownerUnknown || u.unreadable.length > 0;
    u.processes.sort((a, b) => b.inotify.watches - a.inotify.watches || b.inotify.instances - a.inotify.instances || a.pid - b.pid);
    return u;
  }).sort((a, b) => b.watches - a.watches || b.instances - a.instances);
}

export interface InotifyUsage {
  limits: WatchLimits;
  users: UserWatchUse[];
  /** PIDs whose fds could not be read: every figure is a lower bound when this is not empty */
  unreadable: number[];
  /** watch (sdev:ino) -> path, with `paths` */
  paths?: Map<string, string>;
  /** read as root: what could not be read is closed even to root */
  asRoot: boolean;
  elapsedMs: number;
}

/** Who holds watches and instances, per user and process, against the limits. */
export function inotifyUsage(opts: { pids?: Set<number>; paths?: boolean; uid?: number } = {}): InotifyUsage {
  const t0 = performance.now();
  const scan = scanWatchers({ ...(opts.pids ? { pids: opts.pids } : {}), keepWatches: opts.paths === true });
  return usageOf(scan, opts.paths === true, t0, opts.uid);
}

/**
 * The usage figures of a scan already made (doctor reads /proc once for everything); with
 * `uid`, only that user, whose watches alone are then resolved to paths.
 */
export function usageOf(scan: WatchScan, paths = false, t0 = performance.now(), uid?: number): InotifyUsage {
  const users = byUser(scan).filter((u) => uid === undefined || u.uid === uid);
  const pids = new Set(users.flatMap((u) => u.processes.map((p) => p.pid)));
  const resolved = paths ? resolveWatchPaths(scan.procs.filter((p) => pids.has(p.pid)).flatMap((p) => p.watchList ?? [])) : undefined;
  return { limits: watchLimits(), users, unreadable: scan.unreadable, asRoot: process.geteuid?.() === 0, ...(resolved ? { paths: resolved } : {}), elapsedMs: Math.round(performance.now() - t0) };
}
