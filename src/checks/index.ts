// Every doctor check. A new cause of ENOSPC is a new file here and one line below (and its
// evidence in types.ts, its renderer in src/report/findings.ts).
import type { AnyCheck } from './types.js';
import { blocksFull } from './blocks-full.js';
import { blocksReserved } from './blocks-reserved.js';
import { inodesFull } from './inodes-full.js';
import { tmpfsNrInodesLow } from './tmpfs-nr-inodes.js';
import { tmpfsInode32 } from './tmpfs-inode32.js';
import { inodeCollision } from './inode-collision.js';
import { ext4DirIndex } from './ext4-dir-index.js';
import { deletedOpen } from './deleted-open.js';
import { orphans } from './orphans.js';
import { imagemagickCache } from './imagemagick.js';
import { KERNEL_LIMIT_CHECKS } from './kernel-limits.js';
import { containersIdmappedCopies, containersUnreferencedLayers } from './containers.js';

export const CHECKS: AnyCheck[] = [
  inodesFull, blocksFull, blocksReserved, tmpfsNrInodesLow, tmpfsInode32, inodeCollision, ext4DirIndex, deletedOpen, orphans, imagemagickCache, containersIdmappedCopies, containersUnreferencedLayers,
  ...KERNEL_LIMIT_CHECKS,
];
