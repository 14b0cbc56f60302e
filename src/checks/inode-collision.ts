// tmpfs.inode-collision: two or more distinct live files hold the same inode number (case 003).
// A tmpfs without inode64 takes its numbers from a 32-bit counter; after 2^32 files created it
// wraps, and a new file gets the number of one that still lives. Anything keying on
// (dev, inode) — caches, backup and sync tools, `find -samefile`, tar's hard-link detection —
// then takes one file for the other. Critical: it is wrong now, not later. Found by the
// census (src/scan/collisions.ts) on any filesystem whose numbers can repeat (tmpfs without
// inode64, FUSE): names sharing a number count as hard links only when they agree on nlink,
// ctime, size, mode and owner.
import type { Check, Fix, FindingOf } from './types.js';
import { persistTmpfs, remount } from './tmpfs-nr-inodes.js';
import { mountOption } from '../probe/mounts.js';
import { collisionsJson, type CollisionsJson } from '../scan/collisions.js';
import { count } from '../shared/units.js';

export interface InodeCollisionEvidence {
  fstype: string;
  options: string;
  /** tmpfs: mounted with inode64; null for other filesystems */
  inode64: boolean | null;
  /** the census root the numbers were compared under */
  root: string;
  collisions: CollisionsJson;
}

const APP_FIX: Fix = {
  text: 'In programs: never identify a file by (device, inode number) alone; compare ctime and size too, or keep the file open and compare with fstat',
};

export const inodeCollision: Check<'tmpfs.inode-collision'> = {
  id: 'tmpfs.inode-collision',
  describe: 'distinct live files sharing an inode number (tmpfs without inode64 after its 32-bit counter wrapped; FUSE)',
  run(ctx) {
    const out: Array<FindingOf<'tmpfs.inode-collision'>> = [];
    for (const m of ctx.mounts) {
      const c = m.numbers ?? m.census;
      const json = c ? collisionsJson(c) : null;
      if (!c || !json?.inodes) continue;
      const { mountPoint: mp, fstype, superOptions } = m.mount;
      const tmpfs = fstype === 'tmpfs';
      const inode64 = tmpfs ? mountOption(superOptions, 'inode64') !== undefined : null;
      const first = json.list[0];
      // the files were found by a second walk: one may be gone since, or the walk cut short
      // two that differ (the first two may be names of one hard-linked file)
      const a = first?.files[0];
      const b = a && first.files.find((f) => f.size !== a.size || f.mtime !== a.mtime || f.type !== a.type || f.nlink !== a.nlink);
      const pair = a && b ? `: ${a.path} and ${b.path} are both inode ${first.ino}` : '';
      const fix: Fix[] = [];
      if (tmpfs && !inode64) {
        fix.push(
          { text: 'Switch to 64-bit inode numbers (allowed on remount; new files get numbers that never wrap)', command: remount(mp, 'inode64') },
          persistTmpfs(mp, superOptions, 'inode64', null, 'inode64.conf'),
        );
      } else if (fstype.startsWith('fuse')) {
        fix.push({ text: `The FUSE server of ${mp} gives these numbers: fix how it assigns them, or mount it without use_ino (the kernel then numbers the files itself)` });
      }
      fix.push(
        { text: 'The files that share a number now keep it: give one of each a new inode once nothing holds it open, by copying it over itself (cp -p FILE FILE.new && mv FILE.new FILE)' },
        APP_FIX,
      );
      out.push({
        id: 'tmpfs.inode-collision',
        severity: 'critical',
        target: mp,
        title: `${json.more ? 'at least ' : ''}${count(json.inodes, 'inode number')} shared by distinct live files${pair}`,
        evidence: { fstype, options: superOptions, inode64, root: c.root, collisions: json },
        fix,
      });
    }
    return out;
  },
};
