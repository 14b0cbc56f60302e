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

/**
 * The mounts hidden now (their ids): a mount is hidden when another one sits on its root (a
 * later mount on the same mount point), when another mount on the same parent covers a
 * directory between the two mount points, or when its parent is hidden. Its mount point then
 * leads to another filesystem (or nowhere): statfs of that path would not be about it.
 */
export function hiddenMounts(all: Mount[]): Set<number> {
  const byId = new Map(all.map((m) => [m.id, m]));
  // mount points per parent mount
  const onParent = new Map<number, Set<string>>();
  for (const m of all) {
    let s = onParent.get(m.parent);
    if (!s) onParent.set(m.parent, (s = new Set()));
    s.add(m.mountPoint);
  }
  /** another mount on the same parent covers a directory above this mount point */
  const coveredAbove = (m: Mount, parentPoint: string): boolean => {
    const siblings = onParent.get(m.parent)!;
    for (let i = m.mountPoint.lastIndexOf('/'); i > parentPoint.length; i = m.mountPoint.lastIndexOf('/', i - 1)) {
      if (siblings.has(m.mountPoint.slice(0, i))) return true;
    }
    return false;
  };
  // reachable: the mount point's path leads to this mount (or to one mounted on its root)
  const reach = new Map<number, boolean>();
  const reachable = (m: Mount): boolean => {
    const known = reach.get(m.id);
    if (known !== undefined) return known;
    reach.set(m.id, true); // a loop in the parent chain (never seen) ends here
    const parent = byId.get(m.parent);
    let r = true;
    if (parent && parent !== m) {
      // mounted on its parent's root (stacked): as reachable as the parent; else the parent must be visible
      r = !coveredAbove(m, parent.mountPoint) && (m.mountPoint === parent.mountPoint ? reachable(parent) : visible(parent));
    }
    reach.set(m.id, r);
    return r;
  };
  const visible = (m: Mount): boolean => reachable(m) && !onParent.get(m.id)?.has(m.mountPoint);
  return new Set(all.filter((m) => !visible(m)).map((m) => m.id));
}

/** The mounts not hidden by others, in mountinfo order. */
export function visibleMounts(all: Mount[]): Mount[] {
  const hidden = hiddenMounts(all);
  return all.filter((m) => !hidden.has(m.id));
}

/** A mount point below a walk's root, for the walker (plain data: it reaches worker threads). */
export interface WalkMount {
  /** absolute path as a latin1 string of its bytes (the walker's names are) */
  path: string;
  major: number;
  minor: number;
  /** false: never enter it, even when crossing mounts (it did not answer, or is autofs with nothing mounted) */
  enter: boolean;
}

/**
 * The visible mount points strictly below `root` (a real path), for the walker: it skips them
 * without opening them when it stays on one filesystem, and never enters those in `closed` nor
 * an autofs mount point (entering one triggers an automount, which waits for its daemon).
 */
export function mountPointsBelow(root: string, visible: Mount[], closed: ReadonlySet<number> = new Set()): WalkMount[] {
  const prefix = root === '/' ? '/' : root + '/';
  const out: WalkMount[] = [];
  // the last one mounted on a point is what the walker meets there
  const byPoint = new Map<string, Mount>();
  for (const m of visible) if (m.mountPoint.startsWith(prefix) && m.mountPoint.length > prefix.length) byPoint.set(m.mountPoint, m);
  for (const [p, m] of byPoint) {
    out.push({
      path: Buffer.from(p).toString('latin1'), major: m.major, minor: m.minor,
      enter: !closed.has(m.id) && m.fstype !== 'autofs',
    });
  }
  return out;
}

/** statfs figures as inode and block use. */
export function toUsage(s: Pick<fs.StatsFs, 'bsize' | 'blocks' | 'bfree' | 'bavail' | 'files' | 'ffree'>): FsUsage {
  return {
    blockSize: s.bsize,
    inodes: { total: s.files, free: s.ffree, used: s.files - s.ffree },
    blocks: { total: s.blocks, free: s.bfree, avail: s.bavail, used: s.blocks - s.bfree },
  };
}

/** statfs of a path (may hang on a dead network or FUSE mount: see guard.ts). */
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
