// Turning inotify watches back into paths. With the file handle from fdinfo and a mount fd of
// the watch's device, open_by_handle_at(O_PATH) and readlink of /proc/self/fd/N give the path
// at once (needs CAP_DAC_READ_SEARCH). Watches without a handle, or when that fails, are looked
// for by a walk of their filesystem matching d_ino, within a time budget; what is still not
// found stays "dev:ino".
import fs from 'node:fs';
import { O_CLOEXEC, O_DIRECTORY, O_PATH, close, openByHandleAt } from '../sys/libc.js';
import { Walker, direntIno, type WalkVisitor } from '../scan/walker.js';
import { devOf, type InotifyWatch } from './fdinfo.js';
import { readMounts, type Mount } from './mounts.js';

export type WatchKey = string;
export const watchKey = (w: { sdev: number; ino: number }): WatchKey => `${w.sdev}:${w.ino}`;

function mountForDev(mounts: Mount[], sdev: number): Mount | undefined {
  const { major, minor } = devOf(sdev);
  const same = mounts.filter((m) => m.major === major && m.minor === minor);
  return same.find((m) => m.root === '/') ?? same[0];
}

/** Resolve watches to paths; returns key -> path (absent when not found). */
export function resolveWatchPaths(watches: InotifyWatch[], crawlBudgetMs = 2000): Map<WatchKey, string> {
  const out = new Map<WatchKey, string>();
  const mounts = readMounts();
  // one lookup per distinct inode, grouped by device
  const bySdev = new Map<number, Map<WatchKey, InotifyWatch>>();
  for (const w of watches) {
    let m = bySdev.get(w.sdev);
    if (!m) bySdev.set(w.sdev, (m = new Map()));
    if (!m.has(watchKey(w))) m.set(watchKey(w), w);
  }
  const left: InotifyWatch[] = [];
  for (const [sdev, list] of bySdev) {
    const m = mountForDev(mounts, sdev);
    let mfd = -1;
    try {
      if (m) mfd = fs.openSync(m.mountPoint, O_DIRECTORY); // not O_PATH: open_by_handle_at refuses that (EBADF)
    } catch {
      mfd = -1;
    }
    for (const [key, w] of list) {
      if (mfd >= 0 && w.handle) {
        const fh = Buffer.alloc(8 + w.handle.bytes.length);
        fh.writeUInt32LE(w.handle.bytes.length, 0);
        fh.writeInt32LE(w.handle.type, 4);
        w.handle.bytes.copy(fh, 8);
        const path = pathOfHandle(mfd, fh);
        if (path !== null) {
          out.set(key, path);
          continue;
        }
      }
      left.push(w);
    }
    if (mfd >= 0) fs.closeSync(mfd);
  }
  if (left.length) crawl(left, mounts, out, crawlBudgetMs);
  return out;
}

/** Look for the inode numbers of `left` by walking their filesystems, until the budget runs out. */
function crawl(left: InotifyWatch[], mounts: Mount[], out: Map<WatchKey, string>, budgetMs: number): void {
  const deadline = performance.now() + budgetMs;
  const bySdev = new Map<number, Set<number>>();
  for (const w of left) bySdev.set(w.sdev, (bySdev.get(w.sdev) ?? new Set()).add(w.ino));
  for (const [sdev, inos] of bySdev) {
    const m = mountForDev(mounts, sdev);
    if (!m || performance.now() > deadline) continue;
    // the mount point itself, which no directory entry of the walk names
    try {
      const st = fs.statSync(m.mountPoint);
      if (inos.delete(st.ino)) out.set(`${sdev}:${st.ino}`, m.mountPoint);
    } catch { /* ignore */ }
    if (inos.size === 0) continue;
    let walker: Walker;
    const visitor: WalkVisitor = {
      enterDir() {},
      entry(depth, buf, start, end) {
        const ino = direntIno(buf, start);
        if (!inos.has(ino)) return;
        out.set(`${sdev}:${ino}`, walker.childPath(depth, buf.subarray(start, end)).toString());
        inos.delete(ino);
        if (inos.size === 0) walker.stop(); // every one found: no need to walk the rest
      },
      leaveDir() {},
      unreadable() {},
      mountSkipped() {},
    };
    walker = new Walker(m.mountPoint, visitor, { deadline });
    try {
      walker.run();
    } catch { /* unreadable mount point */ }
  }
}

/**
 * The path of the object a struct file_handle names, through an fd (not O_PATH) on its
 * filesystem; a deleted one keeps its last path. Null when it cannot be opened.
 */
export function pathOfHandle(mountFd: number, fh: Buffer): string | null {
  const fd = openByHandleAt(mountFd, fh, O_PATH | O_CLOEXEC);
  if (fd < 0) return null;
  try {
    const p = fs.readlinkSync(`/proc/self/fd/${fd}`);
    return p.endsWith(' (deleted)') ? p.slice(0, -10) : p;
  } catch {
    return null; // raced away
  } finally {
    close(fd);
  }
}

/**
 * Collapse watched paths to the directories that hold them: the shallowest prefixes that keep
 * at most `max` groups. Returns [directory, count] by count.
 */
export function collapsePaths(paths: string[], max = 8): Array<[string, number]> {
  if (paths.length === 0) return [];
  const split = paths.map((p) => p.split('/').filter(Boolean));
  let lcp = 0;
  const first = split[0]!;
  while (lcp < first.length - 1 && split.every((s) => s.length > lcp + 1 && s[lcp] === first[lcp])) lcp++;
  let best: Map<string, number> = new Map([['/' + first.slice(0, lcp).join('/'), paths.length]]);
  let deepest = 0;
  for (const s of split) if (s.length > deepest) deepest = s.length;
  for (let depth = lcp + 1; depth <= deepest; depth++) {
    const groups = new Map<string, number>();
    for (const s of split) {
      const k = '/' + s.slice(0, Math.min(depth, s.length)).join('/');
      groups.set(k, (groups.get(k) ?? 0) + 1);
    }
    if (groups.size > max) break;
    best = groups;
  }
  return [...best].sort((a, b) => b[1] - a[1]);
}
