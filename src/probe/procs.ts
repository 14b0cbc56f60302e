// Processes and what they hold open, from /proc. Processes that vanish while being read are
// skipped quietly; ones that cannot be read (not root) are counted.
import fs from 'node:fs';

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

/** Every regular file held open by every process we can read. */
export function openFiles(): OpenFiles {
  const byDev = new Map<string, Set<number>>();
  const deleted: OpenFile[] = [];
  let unreadable = 0;
  for (const pid of livePids()) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') unreadable++;
      continue;
    }
    let name: string | undefined;
    for (const fd of fds) {
      const link = `/proc/${pid}/fd/${fd}`;
      let st: fs.Stats;
      let target: string;
      try {
        target = fs.readlinkSync(link);
        if (target.charCodeAt(0) !== 47) continue; // pipes, sockets, anon inodes
        st = fs.statSync(link);
      } catch {
        continue;
      }
      if (!st.isFile() && !st.isDirectory()) continue;
      const [major, minor] = splitDev(st.dev);
      const key = `${major}:${minor}`;
      let set = byDev.get(key);
      if (!set) byDev.set(key, (set = new Set()));
      set.add(st.ino);
      if (st.isFile() && st.nlink === 0 && target.endsWith(DELETED)) {
        name ??= comm(pid);
        deleted.push({
          pid, comm: name, fd: Number(fd), path: target.slice(0, -DELETED.length), deleted: true,
          devMajor: major, devMinor: minor, ino: st.ino, size: st.size,
        });
      }
    }
  }
  return { byDev, deleted, unreadable };
}
