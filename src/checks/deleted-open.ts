// deleted-open: files deleted while a process still holds them open. They keep their blocks
// and their inode until the last fd closes, invisible to du and find. Without root only the
// caller's own processes can be read: the figures are then a floor (lowerBound).
import type { Check, FindingOf } from './types.js';
import type { OpenFile } from '../probe/procs.js';
import { RANK } from '../shared/levels.js';
import { bytes, num } from '../shared/units.js';

export interface DeletedOpenEvidence {
  /** deleted inodes still open (an inode open in many fds counts once) */
  files: number;
  bytes: number;
  processes: Array<{ pid: number; comm: string; files: number; bytes: number; examples: Array<{ fd: number; path: string; size: number }> }>;
  /** some processes could not be read: there may be more */
  lowerBound: boolean;
  /** how many, and why: not root (needs-root), or closed even to root (hidden); null when all were read */
  unreadable: number;
  unreadableWhy: 'needs-root' | 'hidden' | null;
}

export const deletedOpen: Check<'deleted-open'> = {
  id: 'deleted-open',
  describe: 'deleted files still held open, per mount, with pid, command and bytes',
  run(ctx) {
    const out: Array<FindingOf<'deleted-open'>> = [];
    if (!ctx.openFiles) return out;
    const lowerBound = ctx.openFiles.unreadable > 0;
    for (const m of ctx.mounts) {
      const files = ctx.openFiles.deleted.filter((f) => f.devMajor === m.mount.major && f.devMinor === m.mount.minor);
      if (files.length === 0) continue;
      // one inode may be open in many fds: count it once
      const inodes = new Map<number, OpenFile>();
      for (const f of files) inodes.set(f.ino, f);
      const total = [...inodes.values()].reduce((a, f) => a + f.size, 0);
      const u = m.usage;
      const size = u ? u.blocks.total * u.blockSize : 0;
      const big = size > 0 && total / size >= 0.1;
      const tight = u !== null && u.blocks.total > 0 && u.blocks.avail / u.blocks.total < 0.1;
      const severity = big || (tight && total > 0) ? 'warning' : 'info';
      const byPid = new Map<number, OpenFile[]>();
      for (const f of files) {
        const list = byPid.get(f.pid);
        if (list) list.push(f); else byPid.set(f.pid, [f]);
      }
      const first = files[0]!;
      out.push({
        id: 'deleted-open',
        severity,
        target: m.mount.mountPoint,
        title: `${lowerBound ? 'at least ' : ''}${num(inodes.size)} deleted file${inodes.size === 1 ? '' : 's'} still open, holding ${bytes(total)}`,
        evidence: {
          files: inodes.size,
          bytes: total,
          processes: [...byPid].map(([pid, fs]) => ({
            pid, comm: fs[0]!.comm, files: fs.length, bytes: fs.reduce((a, f) => a + f.size, 0),
            examples: fs.slice(0, 5).map((f) => ({ fd: f.fd, path: f.path, size: f.size })),
          })).sort((a, b) => b.bytes - a.bytes).slice(0, 20),
          lowerBound,
          unreadable: ctx.openFiles.unreadable,
          unreadableWhy: lowerBound ? (ctx.asRoot ? 'hidden' : 'needs-root') : null,
        },
        fix: RANK[severity] > 0 ? [
          { text: 'Restart (or reload) the processes that hold them, e.g. a daemon that keeps a rotated log open' },
          { text: `Or free the space at once by truncating the open file through its fd (the data is lost): ${first.comm} (pid ${first.pid}) holds ${first.path}`, command: `: > /proc/${first.pid}/fd/${first.fd}` },
        ] : [{ text: 'Nothing to do unless the space is needed: it returns when the process closes the file' }],
      });
    }
    return out;
  },
};
