// inodes.full: the filesystem is out of (or low on) inodes. Skipped where f_files is 0
// (btrfs and others allocate inodes dynamically). On a read-only mount nothing new can be
// created whatever the count, so it is only information there.
import type { Check, FindingOf } from './types.js';
import { freeSeverity, percent } from '../shared/levels.js';
import { num } from '../shared/units.js';
import { culpritsOf, cleanupFixes, readOnly } from './culprits.js';
import { scanOf, type ScanEvidence } from './scan.js';

export interface InodesFullEvidence {
  fstype: string;
  inodes: { total: number; free: number; used: number };
  inodesUsedPercent: number;
  blocksUsedPercent: number;
  readOnly: boolean;
  /** the census that named the culprits, when one ran */
  scan: ScanEvidence | null;
}

export const inodesFull: Check<'inodes.full'> = {
  id: 'inodes.full',
  describe: 'free inodes below 10% (warning) or 3% (critical)',
  run(ctx) {
    const out: Array<FindingOf<'inodes.full'>> = [];
    for (const m of ctx.mounts) {
      const u = m.usage;
      if (!u || u.inodes.total === 0) continue;
      const sev = freeSeverity(u.inodes.free, u.inodes.total);
      if (!sev) continue;
      const ro = readOnly(m.mount);
      const blocksUsed = percent(u.blocks.used, u.blocks.total);
      const culprits = culpritsOf(m, ctx);
      out.push({
        id: 'inodes.full',
        severity: ro ? 'info' : sev,
        target: m.mount.mountPoint,
        title: (u.inodes.free === 0
          ? `out of inodes: ${num(u.inodes.total)} of ${num(u.inodes.total)} used, while space is ${blocksUsed}% used`
          : `low on inodes: ${num(u.inodes.free)} free (${percent(u.inodes.free, u.inodes.total)}%)`) + (ro ? ' (read-only: nothing is created here)' : ''),
        evidence: {
          fstype: m.mount.fstype,
          inodes: u.inodes,
          inodesUsedPercent: percent(u.inodes.used, u.inodes.total),
          blocksUsedPercent: blocksUsed,
          readOnly: ro,
          scan: scanOf(m),
        },
        culprits,
        fix: ro ? [] : cleanupFixes(m, culprits, ctx),
      });
    }
    return out;
  },
};
