// orphans: groups of temporary files that nobody holds open and whose creator is gone: a PID
// in the name that is not alive (opam-PID-*), or files older than the threshold open in no
// process. Only culprits whose orphans could be counted (see culprits.ts) make a finding. On a
// mount short of inodes it is information: inodes.full names the same culprits with the same
// cleanup; short of space, a warning; else information.
import type { Check, FindingOf } from './types.js';
import { culpritsOf, orphanFixes } from './culprits.js';
import { freeSeverity } from '../shared/levels.js';
import { num } from '../shared/units.js';

export interface OrphansEvidence {
  pattern: string;
  count: number;
  orphans: number;
  openCount: number | null;
  reason: string;
}

export const orphans: Check<'orphans'> = {
  id: 'orphans',
  describe: 'temporary files no process holds open whose creator is gone (dead PID in the name, or old)',
  run(ctx) {
    const out: Array<FindingOf<'orphans'>> = [];
    for (const m of ctx.mounts) {
      if (!m.census) continue;
      const u = m.usage;
      const shortOfSpace = u !== null && u.blocks.total > 0 && freeSeverity(u.blocks.avail, u.blocks.total) !== null;
      const shortOfInodes = u !== null && u.inodes.total > 0 && freeSeverity(u.inodes.free, u.inodes.total) !== null;
      for (const c of culpritsOf(m, ctx)) {
        const n = c.orphan?.count;
        if (!c.orphan || n === null || n === undefined || n === 0) continue;
        out.push({
          id: 'orphans',
          severity: shortOfSpace && !shortOfInodes ? 'warning' : 'info',
          target: c.path || m.mount.mountPoint,
          title: `${num(n)} of ${num(c.count)} ${c.pattern} look orphaned: ${c.orphan.reason}`,
          evidence: { pattern: c.pattern, count: c.count, orphans: n, openCount: c.openCount, reason: c.orphan.reason },
          culprits: [c],
          fix: orphanFixes(c, ctx),
        });
      }
    }
    return out;
  },
};
