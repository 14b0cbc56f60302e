// Processes and what they hold open, from /proc. Processes that vanish while being read are
// skipped quietly; ones that cannot be read (not root) are counted.
import fs from 'node:fs';
import { mountOf } from './mounts.js';
import type { MountHealth } from './mount-health.js';

export interface OpenFile {
  pid: number;
  comm: string;
  fd: number;
  /** what /proc/PID/fd/N points to, without the " (deleted)" mark */
  path: string;
  deleted: boolean;
  devMajor: number;
  devMinor: number;
  ino: number;
  size: number;
}

export interface OpenFiles {
  /** "major:minor" -> inode numbers held open on that device */
  byDev: Map<string, Set<number>>;
  /** every open regular file that has been deleted */
  deleted: OpenFile[];
  /** processes whose fds could not be read (EACCES): the figures are a lower bound */
  unreadable: number;
}

/** PIDs alive now. */
export function livePids(): Set<number> {
  const pids = new Set<number>();
  for (const name of fs.readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.add(Number(name));
  }
  return pids;
}

export function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return '?';
  }
}

/** Decode Node's st_dev (the kernel's new_encode_dev) into major and minor. */
export function splitDev(dev: number): [number, number] {
  return [(dev >>> 8) & 0xfff, (dev & 0xff) | ((dev >>> 12) & 0xfff00)];
}

const DELETED = ' (deleted)';

/** What one reading of /proc/PID/fd hands every fd to. */
export interface FdSink {
  fd(pid: number, fd: number, link: string): void;
  /** all of a process's fds were handed over */
  done?(pid: number): void;
}

/**
 * Read the fd table of every process (or of `pids`) once, and hand each fd with its link
 * target to every sink. Returns the PIDs whose fds could not be read: EACCES without root, or
 * a process whose fd links are closed even to root (the list reads, the links do not).
 */
export function scanFds(sinks: FdSink[], pids: Iterable<number> = livePids()): number[] {
  const unreadable: number[] = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') unreadable.push(pid);
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch (e) {
        // closed meanwhile (ENOENT); EACCES: this process's links cannot be read at all
        if ((e as NodeJS.ErrnoException).code === 'EACCES') {
          unreadable.push(pid);
          break;
        }
        continue;
      }
      for (const s of sinks) s.fd(pid, Number(fd), link);
    }
    for (const s of sinks) s.done?.(pid);
  }
  return unreadable;
}

/**
 * Collects the regular files (and directories) processes hold open, and the deleted ones.
 * Statting /proc/PID/fd/N asks the file's own filesystem: given the mounts' health, fds whose
 * link lies on a dead mount (matched lexically) are skipped, as a hung server would hang the stat.
 */
export class OpenFilesSink implements FdSink {
  private readonly byDev = new Map<string, Set<number>>();
  private readonly deleted: OpenFile[] = [];
  private name: { pid: number; comm: string } | undefined;
  /** the mount points of the dead mounts, to test links against before asking mountOf */
  private readonly deadPoints: string[];
  /** fds skipped because their file is on a dead mount */
  skipped = 0;

  constructor(private readonly health?: MountHealth) {
    this.deadPoints = health ? health.visible.filter((m) => health.dead.has(m.id)).map((m) => (m.mountPoint === '/' ? '/' : m.mountPoint + '/')) : [];
  }

  /** Is `target` (a link of /proc/PID/fd) on a dead mount? */
  private onDead(target: string): boolean {
    const path = target.endsWith(DELETED) ? target.slice(0, -DELETED.length) : target;
    for (const p of this.deadPoints) {
      if (path.startsWith(p) || path + '/' === p) return this.health!.dead.has(mountOf(path, this.health!.visible)?.id ?? -1);
    }
    return false;
  }

  fd(pid: number, fd: number, target: string): void {
    if (target.charCodeAt(0) !== 47) return; // pipes, sockets, anon inodes
    if (this.deadPoints.length && this.onDead(target)) {
      this.skipped++;
      return;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return;
    }
    if (!st.isFile() && !st.isDirectory()) return;
    const [major, minor] = splitDev(st.dev);
    const key = `${major}:${minor}`;
    let set = this.byDev.get(key);
    if (!set) this.byDev.set(key, (set = new Set()));
    set.add(st.ino);
    if (st.isFile() && st.nlink === 0 && target.endsWith(DELETED)) {
      if (this.name?.pid !== pid) this.name = { pid, comm: comm(pid) };
      this.deleted.push({
        pid, comm: this.name.comm, fd, path: target.slice(0, -DELETED.length), deleted: true,
        devMajor: major, devMinor: minor, ino: st.ino, size: st.size,
      });
    }
  }

  result(unreadable: number): OpenFiles {
    return { byDev: this.byDev, deleted: this.deleted, unreadable };
  }
}
