// ext4.dir-index: an ext4 directory near the limit of its 2-level htree index (about 10M
// entries) while the large_dir feature is off; past it the kernel logs "Directory index
// full!" and creating a file fails with ENOSPC although inodes and blocks are free.
// It can only speak of directories a scan has seen.
import fs from 'node:fs';
import type { Check, FindingOf } from './types.js';
import { textOf } from '../shared/text.js';
import { num } from '../shared/units.js';
import { shellArg } from '../shared/fix.js';

const LIMIT = 10_000_000;
const WARN = 5_000_000;
const INFO = 1_000_000;
const INCOMPAT_LARGEDIR = 0x4000;

export interface Ext4DirIndexEvidence {
  /** entries directly in the directory */
  entries: number;
  approxLimit: number;
  /** the large_dir feature, from the superblock; 'unknown' when the device could not be read */
  largeDir: false | 'unknown';
  device: string;
}

/** large_dir from the ext4 superblock of a block device; null when it cannot be read. */
function ext4LargeDir(device: string): boolean | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(device, 'r');
    const sb = Buffer.alloc(1024);
    if (fs.readSync(fd, sb, 0, 1024, 1024) !== 1024 || sb.readUInt16LE(0x38) !== 0xef53) return null;
    return (sb.readUInt32LE(0x60) & INCOMPAT_LARGEDIR) !== 0;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export const ext4DirIndex: Check<'ext4.dir-index'> = {
  id: 'ext4.dir-index',
  describe: 'ext4 directory near the htree entry limit with large_dir off (when a scan saw it)',
  run(ctx) {
    const out: Array<FindingOf<'ext4.dir-index'>> = [];
    for (const m of ctx.mounts) {
      if (m.mount.fstype !== 'ext4' || !m.census) continue;
      const big = m.census.dirsByDirect.filter((d) => d.direct >= INFO);
      if (big.length === 0) continue;
      const largeDir = ext4LargeDir(m.mount.source);
      if (largeDir === true) continue;
      for (const d of big) {
        const path = textOf(d.path);
        out.push({
          id: 'ext4.dir-index',
          severity: d.direct >= WARN ? 'warning' : 'info',
          target: path,
          title: `${num(d.direct)} entries in one ext4 directory; the index holds about ${num(LIMIT)} without large_dir`,
          evidence: { entries: d.direct, approxLimit: LIMIT, largeDir: largeDir ?? 'unknown', device: m.mount.source },
          fix: [
            { text: 'Spread the files over subdirectories, or remove the ones no longer needed', command: `enospc top ${shellArg(path)}` },
            { text: 'Or enable large_dir (3-level index; needs kernel 4.13+ and e2fsprogs 1.44+; older kernels cannot mount it then)', command: `tune2fs -O large_dir ${shellArg(m.mount.source)}` },
          ],
        });
      }
    }
    return out;
  },
};
