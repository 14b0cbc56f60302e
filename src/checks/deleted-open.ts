// deleted-open: files deleted while a process still holds them open. They keep their blocks
// and their inode until the last fd closes, invisible to du and find.
import type { Check, Finding } from './types.js';
import type { OpenFile } from '../probe/procs.js';
import { bytes } from '../report/format.js';
import { RANK } from './levels.js';

export const deletedOpen: Check = {
  id: 'deleted-open',
  describe: 'deleted files still held open, per mount, with pid, command and bytes',
  run(ctx) {
    const out: Finding[] = [];
    if (!ctx.openFiles) return out;
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
      out.push({
        id: 'deleted-open',
        severity,
        target: m.mount.mountPoint,
        title: `${inodes.size.toLocaleString('en-US')} deleted file${inodes.size === 1 ? '' : 's'} still open, holding ${bytes(total)}`,
        evidence: {
          files: inodes.size,
          bytes: total,
          processes: [...byPid].map(([pid, fs]) => ({
            pid, comm: fs[0]!.comm, files: fs.length, bytes: fs.reduce((a, f) => a + f.size, 0),
            examples: fs.slice(0, 5).map((f) => ({ fd: f.fd, path: f.path, size: f.size })),
          })).sort((a, b) => b.bytes - a.bytes).slice(0, 20),
        },
        fix: RANK[severity] > 0 ? [
          { text: 'Restart (or reload) the processes that hold them, e.g. a daemon that keeps a rotated log open' },
          { text: 'Or free the space at once by truncating the open file through its fd (the data is lost)', command: files[0] ? `: > /proc/${files[0].pid}/fd/${files[0].fd}` : '' },
        ] : [{ text: 'Nothing to do unless the space is needed: it returns when the process closes the file' }],
      });
    }
    return out;
  },
};
