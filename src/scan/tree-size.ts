// Inodes and allocated bytes of one directory tree (du --inodes and du -s in one walk), on the
// tree's own filesystem, within a deadline: a walk cut short says so and its counts are a floor.
import { Walker, type WalkVisitor } from './walker.js';
import { S_IFDIR, S_IFMT, statBlocks, statInoNum, statMode, statNlink } from '../sys/statx.js';
import type { WalkMount } from '../probe/mounts.js';

export interface TreeSize {
  /** the directory itself and everything below it; hard links once */
  inodes: number;
  /** allocated bytes (blocks x 512), hard links once */
  bytes: number;
  /** the deadline came first: both numbers are a floor */
  partial: boolean;
  /** subdirectories that could not be read */
  unreadable: number;
}

/**
 * Count `dir` within `deadline` (a performance.now() value), skipping `mountPoints` without
 * opening them (see WalkOptions). Throws SysError if `dir` cannot be opened.
 */
export function treeSize(dir: string, deadline?: number, mountPoints?: WalkMount[]): TreeSize {
  let blocks = 0;
  let unreadable = 0;
  let linked = 0;
  const seen = new Set<number>();
  const visitor: WalkVisitor = {
    enterDir(depth, st) {
      if (depth === 0) blocks += statBlocks(st);
    },
    entry(_depth, _buf, _start, _end, _type, st) {
      if (!st) return;
      if (statNlink(st) > 1 && (statMode(st) & S_IFMT) !== S_IFDIR) {
        const ino = statInoNum(st);
        if (seen.has(ino)) {
          linked++;
          return;
        }
        seen.add(ino);
      }
      blocks += statBlocks(st);
    },
    leaveDir() {},
    unreadable() {
      unreadable++;
    },
    mountSkipped() {},
  };
  const r = new Walker(dir, visitor, { stat: true, ...(deadline !== undefined ? { deadline } : {}), ...(mountPoints ? { mountPoints } : {}) }).run();
  return { inodes: r.entries + 1 - linked, bytes: blocks * 512, partial: r.partial, unreadable };
}
