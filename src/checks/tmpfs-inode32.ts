// tmpfs.inode32: a tmpfs without inode64 on a 64-bit kernel that has it (5.9+). Its inode
// numbers are 32-bit and wrap after 2^32 allocations, after which two live files can share a
// number (case 003). Info; a warning when the scan saw numbers near 2^32, with how many are
// left (and, from the agent's history of the highest number seen, when they wrap: the series
// inode_numbers, src/agent/read.ts). A read-only tmpfs allocates no inode numbers: not flagged.
import type { Check, FindingOf } from './types.js';
import { persistTmpfs, remount } from './tmpfs-nr-inodes.js';
import { readOnly } from './culprits.js';
import { mountOption, type Mount } from '../probe/mounts.js';
import { num } from '../shared/units.js';

const ARCH_64 = new Set(['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el']);
const NEAR = 0.9 * 2 ** 32;

export interface TmpfsInode32Evidence {
  kernel: string;
  arch: string;
  options: string;
  /** the largest inode number a scan saw, null without a scan */
  maxInodeSeen: number | null;
  wrapsAt: number;
  /** inode numbers left before the wrap, above the highest seen (null without a scan) */
  numbersLeft: number | null;
}

/** Does this kernel release know tmpfs inode64 (5.9 and later)? */
function kernelHasInode64(release: string): boolean {
  const [maj, min] = release.split(/[.-]/).map(Number) as [number, number];
  return maj > 5 || (maj === 5 && min >= 9);
}

/** A writable tmpfs with 32-bit inode numbers: its counter wraps after 2^32 files created. */
export function wrapsInodeNumbers(m: Mount): boolean {
  return m.fstype === 'tmpfs' && !readOnly(m) && mountOption(m.superOptions, 'inode64') === undefined;
}

export const tmpfsInode32: Check<'tmpfs.inode32'> = {
  id: 'tmpfs.inode32',
  describe: 'tmpfs with 32-bit inode numbers on a 64-bit kernel that supports inode64',
  run(ctx) {
    const out: Array<FindingOf<'tmpfs.inode32'>> = [];
    if (!ARCH_64.has(ctx.arch) || !kernelHasInode64(ctx.kernel)) return out;
    for (const m of ctx.mounts) {
      if (!wrapsInodeNumbers(m.mount)) continue;
      const maxIno = (m.numbers ?? m.census)?.maxIno ?? null;
      const near = maxIno !== null && maxIno >= NEAR;
      const mp = m.mount.mountPoint;
      out.push({
        id: 'tmpfs.inode32',
        severity: near ? 'warning' : 'info',
        target: mp,
        title: near
          ? `tmpfs inode numbers are near 2^32 without inode64: ${num(2 ** 32 - maxIno!)} left before they wrap and collide`
          : 'tmpfs without inode64: inode numbers are 32-bit and wrap after 2^32 files created',
        evidence: { kernel: ctx.kernel, arch: ctx.arch, options: m.mount.superOptions, maxInodeSeen: maxIno, wrapsAt: 2 ** 32, numbersLeft: maxIno === null ? null : Math.max(0, 2 ** 32 - maxIno) },
        fix: [
          { text: 'Switch to 64-bit inode numbers (allowed on remount)', command: remount(mp, 'inode64') },
          persistTmpfs(mp, m.mount.superOptions, 'inode64', null, 'inode64.conf'),
        ],
      });
    }
    return out;
  },
};
