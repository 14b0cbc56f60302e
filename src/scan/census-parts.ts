// Pieces of the census that do not walk: the top-N list of directories and the merging of
// pattern counts (used when folding word tails and when threads' censuses are joined).
import type { DirAcc, PathRef, PatternAcc, PatternDirAcc } from './census-types.js';

/** The bytes of a path held as bytes or as a chain of names. */
export function pathBytes(p: PathRef): Buffer {
  return Buffer.isBuffer(p) ? p : p.bytes();
}

/** Same path? Chains of one walk are the same object; otherwise the bytes are compared. */
function samePath(a: PathRef, b: PathRef): boolean {
  return a === b || pathBytes(a).equals(pathBytes(b));
}

/** Patterns start with this shared empty map; their own is made on the first stat (a Map per pattern costs memory when nothing is statted). Never written to. */
export const NO_OWNERS: Map<number, number> = new Map();

/** The pattern's own owner map, made on first use. */
export function ownMap(p: PatternAcc): Map<number, number> {
  if (p.owners === NO_OWNERS) p.owners = new Map();
  return p.owners;
}

/**
 * The `limit` largest directories by `key`; ties go to the smaller inode number, so the list
 * does not depend on the order (or the thread) in which directories were seen, and whether a
 * directory gets in is known before its path is built.
 */
export class TopN {
  readonly items: DirAcc[] = [];
  /** index of the item that would leave first, when full */
  private worst = -1;
  constructor(private readonly limit: number, private readonly key: (t: DirAcc) => number) {}
  /** Would a directory with this value and inode number enter the list? */
  wants(value: number, ino: number): boolean {
    if (this.limit <= 0) return false;
    if (this.items.length < this.limit) return true;
    const w = this.items[this.worst]!;
    const d = value - this.key(w);
    return d > 0 || (d === 0 && ino < w.ino);
  }
  private better(a: DirAcc, b: DirAcc): boolean {
    const d = this.key(a) - this.key(b);
    return d > 0 || (d === 0 && a.ino < b.ino);
  }
  /** Add an item that wants() accepted. */
  add(item: DirAcc): void {
    const items = this.items;
    if (items.length < this.limit) items.push(item);
    else items[this.worst] = item;
    if (items.length === this.limit) {
      let worst = 0;
      for (let i = 1; i < items.length; i++) if (this.better(items[worst]!, items[i]!)) worst = i;
      this.worst = worst;
    }
  }
  sorted(): DirAcc[] {
    return [...this.items].sort((a, b) => (this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0));
  }
}

/** Order of a pattern's directories: more first, then by inode number. */
export function dirBefore(a: PatternDirAcc, b: PatternDirAcc): boolean {
  return a.count > b.count || (a.count === b.count && a.ino < b.ino);
}
export const byDirOrder = (a: PatternDirAcc, b: PatternDirAcc) => (dirBefore(a, b) ? -1 : dirBefore(b, a) ? 1 : 0);

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
  if (src.owners.size) {
    const owners = ownMap(dst);
    for (const [uid, n] of src.owners) owners.set(uid, (owners.get(uid) ?? 0) + n);
  }
  dst.oldest = Math.min(dst.oldest, src.oldest);
  dst.newest = Math.max(dst.newest, src.newest);
  let newDirs = src.dirCount;
  for (const d of src.topDirs) {
    const same = dst.topDirs.find((w) => samePath(w.path, d.path));
    if (same) { same.count += d.count; newDirs--; } else dst.topDirs.push(d);
  }
  dst.dirCount += Math.max(0, newDirs);
  if (dst.topDirs.length > keepDirs) dst.topDirs = dst.topDirs.sort(byDirOrder).slice(0, keepDirs);
}

/**
 * A census's patterns packed into flat arrays, for handing to another thread: structured clone
 * copies typed arrays at memcpy speed, where 100k small objects with maps take most of a second.
 */
export interface PackedPatterns {
  n: number;
  /** per pattern: NUMS numbers */
  nums: Float64Array;
  keys: Uint8Array;
  keyOff: Uint32Array;
  examples: Uint8Array;
  exOff: Uint32Array;
  /** [pattern, uid, count] triplets */
  owners: Float64Array;
  /** [pattern, count, ino] triplets, with the paths in dirPaths */
  dirs: Float64Array;
  dirPaths: Uint8Array;
  dirOff: Uint32Array;
}

const NUMS = 15;
/** stands for "this pattern counted PIDs" once counting is over */
const PID_COUNTED = /(?:)/;

function concat(parts: Uint8Array[]): { bytes: Uint8Array; off: Uint32Array } {
  const off = new Uint32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) off[i + 1] = off[i]! + parts[i]!.length;
  const bytes = new Uint8Array(off[parts.length]!);
  parts.forEach((p, i) => bytes.set(p, off[i]!));
  return { bytes, off };
}

export function packPatterns(ps: PatternAcc[]): PackedPatterns {
  const nums = new Float64Array(ps.length * NUMS);
  const owners: number[] = [];
  const dirs: number[] = [];
  const dirPaths: Uint8Array[] = [];
  ps.forEach((p, i) => {
    nums.set([p.hash, p.count, p.files, p.dirs, p.bytes, p.zeroByte, p.oldest, p.newest, p.dirCount,
      p.open, p.stale, p.pidAlive, p.pidDead, p.maxIno, p.pidRe ? 1 : 0], i * NUMS);
    for (const [uid, n] of p.owners) owners.push(i, uid, n);
    for (const d of p.topDirs) {
      dirs.push(i, d.count, d.ino);
      dirPaths.push(pathBytes(d.path));
    }
  });
  const k = concat(ps.map((p) => Buffer.from(p.key, 'latin1')));
  const e = concat(ps.map((p) => Buffer.from(p.example, 'latin1')));
  const d = concat(dirPaths);
  return {
    n: ps.length, nums, keys: k.bytes, keyOff: k.off, examples: e.bytes, exOff: e.off,
    owners: Float64Array.from(owners), dirs: Float64Array.from(dirs), dirPaths: d.bytes, dirOff: d.off,
  };
}

export function unpackPatterns(pk: PackedPatterns): PatternAcc[] {
  const view = (bytes: Uint8Array, off: Uint32Array, i: number) => buf(bytes).subarray(off[i]!, off[i + 1]!);
  const text = (bytes: Uint8Array, off: Uint32Array, i: number) => buf(bytes).toString('latin1', off[i]!, off[i + 1]!);
  const out: PatternAcc[] = [];
  for (let i = 0; i < pk.n; i++) {
    const v = pk.nums.subarray(i * NUMS, (i + 1) * NUMS);
    out.push({
      key: text(pk.keys, pk.keyOff, i), hash: v[0]!, chain: null, count: v[1]!, files: v[2]!, dirs: v[3]!,
      bytes: v[4]!, zeroByte: v[5]!, owners: NO_OWNERS, oldest: v[6]!, newest: v[7]!, dirCount: v[8]!, topDirs: [],
      example: text(pk.examples, pk.exOff, i), open: v[9]!, stale: v[10]!, pidAlive: v[11]!, pidDead: v[12]!,
      maxIno: v[13]!, pidRe: v[14] ? PID_COUNTED : null, cur: 0,
    });
  }
  for (let j = 0; j < pk.owners.length; j += 3) {
    const owners = ownMap(out[pk.owners[j]!]!);
    owners.set(pk.owners[j + 1]!, pk.owners[j + 2]!);
  }
  for (let j = 0, d = 0; j < pk.dirs.length; j += 3, d++) {
    out[pk.dirs[j]!]!.topDirs.push({ path: view(pk.dirPaths, pk.dirOff, d), count: pk.dirs[j + 1]!, ino: pk.dirs[j + 2]! });
  }
  return out;
}

/** The `k` best of `all` by `before`, in order, without sorting everything. */
export function topK<T>(all: T[], k: number, before: (a: T, b: T) => boolean): T[] {
  if (k <= 0) return [];
  const top: T[] = [];
  for (const x of all) {
    if (top.length === k && !before(x, top[k - 1]!)) continue;
    let i = Math.min(top.length, k - 1);
    if (top.length < k) top.push(x);
    while (i > 0 && before(x, top[i - 1]!)) { top[i] = top[i - 1]!; i--; }
    top[i] = x;
  }
  return top;
}
