// Mounts from /proc/self/mountinfo and their statfs figures.
import fs from 'node:fs';

export interface Mount {
  id: number;
  parent: number;
  major: number;
  minor: number;
  /** root of the mount within its filesystem */
  root: string;
  mountPoint: string;
  options: string;
  fstype: string;
  source: string;
  superOptions: string;
}

export interface FsUsage {
  /** statfs f_bsize */
  blockSize: number;
  inodes: { total: number; free: number; used: number };
  blocks: { total: number; free: number; avail: number; used: number };
}

/** Filesystems that hold no user files (node_exporter's default exclusions, and friends). */
export const PSEUDO_FSTYPES = new Set([
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'fusectl',
  'hugetlbfs', 'mqueue', 'nsfs', 'proc', 'procfs', 'pstore', 'rpc_pipefs', 'securityfs', 'selinuxfs',
  'sysfs', 'tracefs', 'efivarfs',
]);

/** Undo mountinfo's octal escapes (`\040` for a space). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse the text of /proc/PID/mountinfo (see proc(5)). Malformed lines are skipped. */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0 || dash + 3 > f.length) continue;
    const [major, minor] = f[2]!.split(':').map(Number);
    mounts.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      major: major ?? 0,
      minor: minor ?? 0,
      root: unescape(f[3]!),
      mountPoint: unescape(f[4]!),
      options: f[5]!,
      fstype: f[dash + 1]!,
      source: unescape(f[dash + 2]!),
      superOptions: f[dash + 3] ?? '',
    });
  }
  return mounts;
}

export function readMounts(pid: number | 'self' = 'self'): Mount[] {
  return parseMountinfo(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}

/**
 * The mount that holds `realPath` (an absolute path without symlinks): the last-mounted one
 * whose mount point is the longest prefix of the path.
 */
export function mountOf(realPath: string, mounts: Mount[] = readMounts()): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const under = mp === '/' || realPath === mp || realPath.startsWith(mp + '/');
    if (under && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** statfs figures as inode and block use. */
export function toUsage(s: fs.StatsFs): FsUsage {
  return {
    blockSize: s.bsize,
    inodes: { total: s.files, free: s.ffree, used: s.files - s.ffree },
    blocks: { total: s.blocks, free: s.bfree, avail: s.bavail, used: s.blocks - s.bfree },
  };
}

/** statfs of a path (may hang on a dead network mount: see statfsWithin). */
export function fsUsage(path: string): FsUsage {
  return toUsage(fs.statfsSync(path));
}

/** One option's value from a mount option string (`nr_inodes=44492` -> "44492"). */
export function mountOption(options: string, name: string): string | undefined {
  for (const o of options.split(',')) {
    if (o === name) return '';
    if (o.startsWith(name + '=')) return o.slice(name.length + 1);
  }
  return undefined;
}
