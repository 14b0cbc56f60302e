// tmpfs.nr-inodes-low: a tmpfs whose inode limit is far below what its size suggests, so it
// runs out of inodes long before it runs out of space (case 001: 1 GiB with 44492 inodes).
//
// The rule: flag a tmpfs when it has more than 16 KiB of space per inode AND fewer inodes
// than systemd's tmp.mount default (nr_inodes=1m). Files in /tmp are mostly far smaller than
// 16 KiB (case 000's were empty), so such a mount fills its inode table first. The kernel's
// own default (half the RAM pages) gives 4 KiB per inode at size=50%; systemd's 1m gives
// 8 KiB on a 16 GiB machine. A 1 GiB tmpfs with 44492 inodes has 23.6 KiB per inode.
// A read-only tmpfs creates no files: not flagged.
import type { Check, FindingOf, Fix } from './types.js';
import { percent } from '../shared/levels.js';
import { countOption, num } from '../shared/units.js';
import { shellArg } from '../shared/fix.js';
import { mountOption } from '../probe/mounts.js';
import { readOnly } from './culprits.js';

const BYTES_PER_INODE_LIMIT = 16 * 1024;
const SYSTEMD_NR_INODES = 1024 * 1024;

export interface TmpfsNrInodesEvidence {
  sizeBytes: number;
  nrInodes: number;
  bytesPerInode: number;
  limitBytesPerInode: number;
  inodesUsedPercent: number;
  blocksUsedPercent: number;
  options: string;
  /** nr_inodes= as written in the options, null when not set (the kernel default) */
  nrInodesOption: string | null;
  /** the limit the fix raises it to, as written in the option */
  proposed: string;
}

/** Mount options of a tmpfs with option `name` set (value null: a flag), for a drop-in or fstab. */
function withOption(options: string, name: string, value: string | null): string {
  const kept = options.split(',').filter((o) => o && o !== name && !o.startsWith(name + '=') && o !== 'rw' && !o.startsWith('seclabel'));
  return [...kept, value === null ? name : `${name}=${value}`].join(',');
}

/** The fix that keeps tmpfs options across reboots: tmp.mount's drop-in for /tmp, else the fstab line. */
export function persistTmpfs(mountPoint: string, options: string, name: string, value: string | null, dropIn: string): Fix {
  const opts = withOption(options, name, value);
  const fstabPath = mountPoint.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return mountPoint === '/tmp'
    ? { text: 'Keep it across reboots: a drop-in for systemd\'s tmp.mount (then systemctl daemon-reload)', file: `/etc/systemd/system/tmp.mount.d/${dropIn}`, content: `[Mount]\nOptions=${opts}` }
    : { text: 'Keep it across reboots: the fstab line', file: '/etc/fstab', content: `tmpfs ${fstabPath} tmpfs ${opts} 0 0` };
}

/** The remount command that sets a tmpfs option now. */
export function remount(mountPoint: string, option: string): string {
  return `mount -o remount,${option} ${shellArg(mountPoint)}`;
}

export const tmpfsNrInodesLow: Check<'tmpfs.nr-inodes-low'> = {
  id: 'tmpfs.nr-inodes-low',
  describe: 'tmpfs with more than 16 KiB per inode and fewer inodes than systemd\'s 1m default',
  run(ctx) {
    const out: Array<FindingOf<'tmpfs.nr-inodes-low'>> = [];
    for (const m of ctx.mounts) {
      const u = m.usage;
      if (m.mount.fstype !== 'tmpfs' || !u || u.inodes.total === 0 || readOnly(m.mount)) continue;
      const size = u.blocks.total * u.blockSize;
      const perInode = size / u.inodes.total;
      if (perInode <= BYTES_PER_INODE_LIMIT || u.inodes.total >= SYSTEMD_NR_INODES) continue;
      const want = countOption(Math.max(SYSTEMD_NR_INODES, Math.ceil(size / 8192 / 1024) * 1024));
      const mp = m.mount.mountPoint;
      out.push({
        id: 'tmpfs.nr-inodes-low',
        severity: 'warning',
        target: mp,
        title: `tmpfs inode limit ${num(u.inodes.total)} is far below its size (${Math.round(perInode / 1024)} KiB per inode): it runs out of inodes first`,
        evidence: {
          sizeBytes: size,
          nrInodes: u.inodes.total,
          bytesPerInode: Math.round(perInode),
          limitBytesPerInode: BYTES_PER_INODE_LIMIT,
          inodesUsedPercent: percent(u.inodes.used, u.inodes.total),
          blocksUsedPercent: percent(u.blocks.used, u.blocks.total),
          options: m.mount.superOptions,
          nrInodesOption: mountOption(m.mount.superOptions, 'nr_inodes') ?? null,
          proposed: want,
        },
        fix: [
          { text: `Raise the inode limit now (no data is lost)${want === '1m' ? "; 1m is systemd's default for /tmp" : ''}`, command: remount(mp, `nr_inodes=${want}`) },
          persistTmpfs(mp, m.mount.superOptions, 'nr_inodes', want, 'nr-inodes.conf'),
        ],
      });
    }
    return out;
  },
};
