// blocks.reserved: full for users (f_bavail 0) while the root reserve still has blocks.
import type { Check, FindingOf } from './types.js';
import { percent } from '../shared/levels.js';
import { shellArg } from '../shared/fix.js';
import { readOnly } from './culprits.js';

export interface BlocksReservedEvidence {
  fstype: string;
  /** bytes only root can still write */
  reservedBytes: number;
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
      if (!u || u.blocks.avail > 0 || u.blocks.free === 0) continue;
      const ro = readOnly(m.mount);
      const ext = /^ext[234]$/.test(m.mount.fstype);
      out.push({
        id: 'blocks.reserved',
        severity: ro ? 'info' : 'critical',
        target: m.mount.mountPoint,
        title: `full for users: only the root reserve is left (${percent(u.blocks.free, u.blocks.total)}%)${ro ? ' (read-only)' : ''}`,
        evidence: { fstype: m.mount.fstype, reservedBytes: u.blocks.free * u.blockSize, blockSize: u.blockSize, blocks: u.blocks, readOnly: ro },
        fix: ro ? [] : [
          { text: 'Free space: users get ENOSPC while root still writes. See what holds it, largest first', command: `du -xh --max-depth=2 ${shellArg(m.mount.mountPoint)} | sort -h | tail -20` },
          ...(ext ? [{ text: 'Or, on a data volume (not /), shrink the root reserve (default 5%) to 1%', command: `tune2fs -m 1 ${shellArg(m.mount.source)}` }] : []),
        ],
      });
    }
    return out;
  },
};
