// Pieces of the census that do not walk: the top-N list of directories and the merging of
// pattern counts (used when folding word tails and when threads' censuses are joined).
import type { DirCount, PatternAcc, PatternDir } from './census-types.js';

/**
 * The `limit` largest directories by `key`; ties go to the smaller path, so the list does not
 * depend on the order (or the thread) in which directories were seen.
 */
export class TopN {
  readonly items: DirCount[] = [];
  private min = -1;
  constructor(private readonly limit: number, private readonly key: (t: DirCount) => number) {}
  /** Could `value` enter the list? (Ties might.) */
  wants(value: number): boolean {
    return this.limit > 0 && (this.items.length < this.limit || value >= this.min);
  }
  private better(a: DirCount, b: DirCount): boolean {
    const d = this.key(a) - this.key(b);
    return d > 0 || (d === 0 && Buffer.compare(a.path, b.path) < 0);
  }
  add(item: DirCount): void {
    const items = this.items;
    if (items.length < this.limit) {
      items.push(item);
    } else {
      let worst = 0;
      for (let i = 1; i < items.length; i++) if (this.better(items[worst]!, items[i]!)) worst = i;
      if (!this.better(item, items[worst]!)) return;
      items[worst] = item;
    }
    if (items.length === this.limit) {
      let m = Infinity;
      for (const t of items) m = Math.min(m, this.key(t));
      this.min = m;
    }
  }
  sorted(): DirCount[] {
    return [...this.items].sort((a, b) => (this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0));
  }
}

/** Order of a pattern's directories: more first, then by path. */
export function dirBefore(a: PatternDir, b: PatternDir): boolean {
  return a.count > b.count || (a.count === b.count && Buffer.compare(a.path, b.path) < 0);
}
export const byDirOrder = (a: PatternDir, b: PatternDir) => (dirBefore(a, b) ? -1 : dirBefore(b, a) ? 1 : 0);

export function buf(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length);
}

/**
 * Add `src`'s counts to `dst`. Directory lists are joined; `dirCount` adds up, exact when the
 * two were counted in different directories (threads never share one), else an upper bound.
 */
export function mergePattern(dst: PatternAcc, src: PatternAcc, keepDirs: number): void {
  dst.count += src.count; dst.files += src.files; dst.dirs += src.dirs;
  dst.bytes += src.bytes; dst.zeroByte += src.zeroByte;
  dst.open += src.open; dst.stale += src.stale; dst.pidAlive += src.pidAlive; dst.pidDead += src.pidDead;
  dst.maxIno = Math.max(dst.maxIno, src.maxIno);
  for (const [uid, n] of src.owners) dst.owners.set(uid, (dst.owners.get(uid) ?? 0) + n);
  dst.oldest = Math.min(dst.oldest, src.oldest);
  dst.newest = Math.max(dst.newest, src.newest);
  let newDirs = src.dirCount;
  for (const d of src.topDirs) {
    const same = dst.topDirs.find((w) => w.path.equals(d.path));
    if (same) { same.count += d.count; newDirs--; } else dst.topDirs.push(d);
  }
  dst.dirCount += Math.max(0, newDirs);
  if (dst.topDirs.length > keepDirs) dst.topDirs = dst.topDirs.sort(byDirOrder).slice(0, keepDirs);
}
