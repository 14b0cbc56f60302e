// blocks.reserved: full for users (f_bavail 0) while the root reserve still has blocks.
import type { Check, Finding } from './types.js';
import { percent } from './levels.js';

export const blocksReserved: Check = {
  id: 'blocks.reserved',
  describe: 'no space left for non-root users, only the root reserve',
  run(ctx) {
    const out: Finding[] = [];
    for (const m of ctx.mounts) {
      const u = m.usage;
      if (!u || u.blocks.avail > 0 || u.blocks.free === 0) continue;
      const reserved = u.blocks.free * u.blockSize;
      const ext = /^ext[234]$/.test(m.mount.fstype);
      out.push({
        id: 'blocks.reserved',
        severity: 'critical',
        target: m.mount.mountPoint,
        title: `full for users: only the root reserve is left (${percent(u.blocks.free, u.blocks.total)}%)`,
        evidence: { fstype: m.mount.fstype, reservedBytes: reserved, blocks: u.blocks },
        fix: [
          { text: 'Free space: users see ENOSPC while root still writes' },
          ...(ext ? [{ text: 'Or, on a data volume, shrink the root reserve (default 5%) to 1%', command: `tune2fs -m 1 ${m.mount.source}` }] : []),
        ],
      });
    }
    return out;
  },
};
