// blocks.full: little space left for non-root users (statfs f_bavail).
import type { Check, Finding } from './types.js';
import { freeSeverity, percent } from './levels.js';
import { culpritsOf } from './culprits.js';

export const blocksFull: Check = {
  id: 'blocks.full',
  describe: 'space available to users below 10% (warning) or 3% (critical)',
  run(ctx) {
    const out: Finding[] = [];
    for (const m of ctx.mounts) {
      const u = m.usage;
      if (!u || u.blocks.total === 0) continue;
      if (u.blocks.avail === 0 && u.blocks.free > 0) continue; // blocks.reserved says it better
      const sev = freeSeverity(u.blocks.avail, u.blocks.total);
      if (!sev) continue;
      const bytes = (n: number) => n * u.blockSize;
      out.push({
        id: 'blocks.full',
        severity: sev,
        target: m.mount.mountPoint,
        title: `low on space: ${percent(u.blocks.avail, u.blocks.total)}% available`,
        evidence: {
          fstype: m.mount.fstype,
          bytes: { total: bytes(u.blocks.total), free: bytes(u.blocks.free), avail: bytes(u.blocks.avail) },
          blocksUsedPercent: percent(u.blocks.used, u.blocks.total),
        },
        culprits: culpritsOf(m, ctx),
        fix: [
          { text: 'See what holds the space, largest first', command: `du -xh --max-depth=2 ${m.mount.mountPoint} | sort -h | tail -20` },
          { text: 'Deleted files still held open keep their space: see the deleted-open finding, or', command: `enospc doctor ${m.mount.mountPoint}` },
        ],
      });
    }
    return out;
  },
};
