// blocks.reserved: full for users while the root reserve still has blocks: under 1% of the
// space is left to users and the reserve (f_bfree - f_bavail) holds at least 1%. Not only at
// f_bavail 0: ext4 keeps some clusters back for metadata, so a user gets ENOSPC with a few
// hundred KiB still "available" (seen: 112 of 31,000 blocks on a 32 MiB ext4 with -m 5).
import type { Check, FindingOf } from './types.js';
import { percent } from '../shared/levels.js';
import { shellArg } from '../shared/fix.js';
import { bytes } from '../shared/units.js';
import { readOnly } from './culprits.js';
import type { FsUsage } from '../probe/mounts.js';

/** Is all but the root reserve used up? */
export function onlyReserveLeft(u: FsUsage): boolean {
  const t = u.blocks.total;
  return t > 0 && u.blocks.avail / t < 0.01 && (u.blocks.free - u.blocks.avail) / t >= 0.01;
}

export interface BlocksReservedEvidence {
  fstype: string;
  /** bytes only root can still write */
  reservedBytes: number;
  /** bytes left to other users (under 1% of the space) */
  availBytes: number;
  blockSize: number;
  blocks: { total: number; free: number; avail: number; used: number };
  readOnly: boolean;
}

export const blocksReserved: Check<'blocks.reserved'> = {
  id: 'blocks.reserved',
  describe: 'no space left for non-root users, only the root reserve',
  run(ctx) {
    const out: Array<FindingOf<'blocks.reserved'>> = [];
    for (const m of ctx.mounts) {
      const u = m.usage;
      if (!u || !onlyReserveLeft(u)) continue;
      const ro = readOnly(m.mount);
      const ext = /^ext[234]$/.test(m.mount.fstype);
      out.push({
        id: 'blocks.reserved',
        severity: ro ? 'info' : 'critical',
        target: m.mount.mountPoint,
        title: `full for users: only the root reserve is left (${percent(u.blocks.free - u.blocks.avail, u.blocks.total)}% of the space)${u.blocks.avail > 0 ? `, and ${bytes(u.blocks.avail * u.blockSize)} users cannot count on` : ''}${ro ? ' (read-only)' : ''}`,
        evidence: { fstype: m.mount.fstype, reservedBytes: (u.blocks.free - u.blocks.avail) * u.blockSize, availBytes: u.blocks.avail * u.blockSize, blockSize: u.blockSize, blocks: u.blocks, readOnly: ro },
        fix: ro ? [] : [
          { text: 'Free space: users get ENOSPC while root still writes. See what holds it, largest first', command: `du -xh --max-depth=2 ${shellArg(m.mount.mountPoint)} | sort -h | tail -20` },
          ...(ext ? [{ text: 'Or, on a data volume (not /), shrink the root reserve (default 5%) to 1%', command: `tune2fs -m 1 ${shellArg(m.mount.source)}` }] : []),
        ],
      });
    }
    return out;
  },
};
