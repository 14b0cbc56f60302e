// inodes.full: the filesystem is out of (or low on) inodes. Skipped where f_files is 0
// (btrfs and others allocate inodes dynamically).
import type { Check, Finding } from './types.js';
import { freeSeverity, percent } from './levels.js';
import { culpritsOf, cleanupFixes } from './culprits.js';

export const inodesFull: Check = {
  id: 'inodes.full',
  describe: 'free inodes below 10% (warning) or 3% (critical)',
  run(ctx) {
    const out: Finding[] = [];
    for (const m of ctx.mounts) {
      const u = m.usage;
      if (!u || u.inodes.total === 0) continue;
      const sev = freeSeverity(u.inodes.free, u.inodes.total);
      if (!sev) continue;
      const blocksUsed = percent(u.blocks.used, u.blocks.total);
      const culprits = culpritsOf(m, ctx);
      out.push({
        id: 'inodes.full',
        severity: sev,
        target: m.mount.mountPoint,
        title: u.inodes.free === 0
          ? `out of inodes: ${u.inodes.total.toLocaleString('en-US')} of ${u.inodes.total.toLocaleString('en-US')} used, while space is ${blocksUsed}% used`
          : `low on inodes: ${u.inodes.free.toLocaleString('en-US')} free (${percent(u.inodes.free, u.inodes.total)}%)`,
        evidence: {
          fstype: m.mount.fstype,
          inodes: u.inodes,
          inodesUsedPercent: percent(u.inodes.used, u.inodes.total),
          blocksUsedPercent: blocksUsed,
          ...(m.census ? { scan: { entries: m.census.totals.entries, partial: m.census.partial, elapsedMs: m.census.elapsedMs } } : {}),
        },
        culprits,
        fix: cleanupFixes(m, culprits, ctx),
      });
    }
    return out;
  },
};
