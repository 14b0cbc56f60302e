// blocks.full: little space left for non-root users (statfs f_bavail). Information only on a
// read-only mount (nothing is written there).
import type { Check, FindingOf } from './types.js';
import { freeSeverity, percent } from '../shared/levels.js';
import { shellArg } from '../shared/fix.js';
import { culpritsOf, readOnly } from './culprits.js';
import { onlyReserveLeft } from './blocks-reserved.js';
import { scanOf, type ScanEvidence } from './scan.js';

export interface BlocksFullEvidence {
  fstype: string;
  bytes: { total: number; free: number; avail: number };
  blocksUsedPercent: number;
  readOnly: boolean;
  scan: ScanEvidence | null;
}

export const blocksFull: Check<'blocks.full'> = {
  id: 'blocks.full',
  describe: 'space available to users below 10% (warning) or 3% (critical)',
  run(ctx) {
    const out: Array<FindingOf<'blocks.full'>> = [];
    for (const m of ctx.mounts) {
      const u = m.usage;
      if (!u || u.blocks.total === 0) continue;
      if (onlyReserveLeft(u)) continue; // blocks.reserved says it better
      const sev = freeSeverity(u.blocks.avail, u.blocks.total);
      if (!sev) continue;
      const ro = readOnly(m.mount);
      const bytes = (n: number) => n * u.blockSize;
      const mp = shellArg(m.mount.mountPoint);
      out.push({
        id: 'blocks.full',
        severity: ro ? 'info' : sev,
        target: m.mount.mountPoint,
        title: `low on space: ${percent(u.blocks.avail, u.blocks.total)}% available${ro ? ' (read-only: nothing is written here)' : ''}`,
        evidence: {
          fstype: m.mount.fstype,
          bytes: { total: bytes(u.blocks.total), free: bytes(u.blocks.free), avail: bytes(u.blocks.avail) },
          blocksUsedPercent: percent(u.blocks.used, u.blocks.total),
          readOnly: ro,
          scan: scanOf(m),
        },
        culprits: culpritsOf(m, ctx),
        fix: ro ? [] : [
          { text: 'See what holds the space, largest first', command: `du -xh --max-depth=2 ${mp} | sort -h | tail -20` },
          { text: 'Deleted files still held open keep their space: see the deleted-open finding (as root, every process is seen)', command: `enospc doctor ${mp}` },
        ],
      });
    }
    return out;
  },
};
