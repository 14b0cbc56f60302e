// orphans: groups of files that nobody holds open and whose creator is gone: a PID in the
// name that is not alive (opam-PID-*), or files older than the threshold open in no process.
import type { Check, Finding } from './types.js';
import { culpritsOf } from './culprits.js';
import { freeSeverity } from './levels.js';

export const orphans: Check = {
  id: 'orphans',
  describe: 'file groups no process holds open whose creator is gone (dead PID in the name, or old)',
  run(ctx) {
    const out: Finding[] = [];
    for (const m of ctx.mounts) {
      if (!m.census) continue;
      const u = m.usage;
      const troubled = u !== null && u.inodes.total > 0 && freeSeverity(u.inodes.free, u.inodes.total) !== null;
      for (const c of culpritsOf(m, ctx)) {
        if (!c.orphan || c.orphan.count === 0) continue;
        out.push({
          id: 'orphans',
          severity: troubled ? 'warning' : 'info',
          target: c.path || m.mount.mountPoint,
          title: `${c.orphan.count.toLocaleString('en-US')} of ${c.count.toLocaleString('en-US')} ${c.pattern} look orphaned: ${c.orphan.reason}`,
          evidence: { pattern: c.pattern, count: c.count, orphans: c.orphan.count, openCount: c.openCount, reason: c.orphan.reason },
          culprits: [c],
          fix: [{
            text: `Review, then remove the orphaned ${c.pattern}`,
            command: `enospc top ${c.path || m.mount.mountPoint} --stat`,
          }],
        });
      }
    }
    return out;
  },
};
