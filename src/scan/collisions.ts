// Inode numbers shared by distinct live files (case 003: a tmpfs without inode64 wraps its
// 32-bit counter, and a new file gets the number of one still alive). Where numbers can repeat
// (numbersMayRepeat), two names with one number are hard links only when they agree on what one
// inode has: nlink > 1 on both, the same ctime, size, mode and owner (as statx saw them).
// Anything else is a collision: both files count. Elsewhere a number is one file.
//
// The census finds the numbers (every number it meets goes into an InodeSet, on filesystems
// where numbers can repeat); the names behind them are found by a second walk, only when there
// are any, since keeping a path for every inode would cost far more than the rare collision.
import { InodeSet } from './inode-set.js';
import { Walker, type EntryType, type WalkOptions, type WalkVisitor } from './walker.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, statCtimeNs, statCtimeS, statInoNum, statMode, statMtime, statNlink, statSize, statUid } from '../sys/statx.js';
import type { Mount } from '../probe/mounts.js';
import { mountOption } from '../probe/mounts.js';
import { jsonName } from '../shared/text.js';
import { iso } from '../shared/units.js';
import type { CensusResult } from './census-types.js';

/** Colliding numbers kept (each found again by the second walk); more are only counted. */
const MAX_TRACKED = 1000;
/** Colliding numbers listed with their files. */
export const MAX_LISTED_COLLISIONS = 20;
/** Files listed per number. */
const MAX_FILES = 10;

/** What a hard-linked inode was counted as, and what every name of it must agree on. */
export interface LinkSeen { size: number; uid: number; age: number; mode: number; ctimeS: number; ctimeNs: number }

export function linkSeen(st: Buffer, age: number): LinkSeen {
  return { size: statSize(st), uid: statUid(st), age, mode: statMode(st), ctimeS: statCtimeS(st), ctimeNs: statCtimeNs(st) };
}

/** Do two names with one inode number show one inode? */
export function sameInode(a: LinkSeen, b: LinkSeen): boolean {
  return a.size === b.size && a.uid === b.uid && a.mode === b.mode && a.ctimeS === b.ctimeS && a.ctimeNs === b.ctimeNs;
}

/**
 * The hard-linked inodes met, by number: one per number, and the others (distinct inodes that
 * collide, each maybe with links of its own) apart, since they are rare.
 */
export class Links {
  readonly first = new Map<number, LinkSeen>();
  readonly more = new Map<number, LinkSeen[]>();

  /** The inode of number `ino` that `seen` agrees with, if one was met. */
  match(ino: number, seen: LinkSeen): LinkSeen | undefined {
    const a = this.first.get(ino);
    if (a === undefined) return undefined;
    if (sameInode(a, seen)) return a;
    return this.more.get(ino)?.find((x) => sameInode(x, seen));
  }

  has(ino: number): boolean {
    return this.first.has(ino);
  }

  add(ino: number, seen: LinkSeen): void {
    if (!this.first.has(ino)) this.first.set(ino, seen);
    else {
      const list = this.more.get(ino);
      if (list) list.push(seen); else this.more.set(ino, [seen]);
    }
  }

  /** Every inode met, as [number, what it was counted as]. */
  *entries(): Generator<[number, LinkSeen]> {
    yield* this.first;
    for (const [ino, list] of this.more) for (const s of list) yield [ino, s];
  }
}

export interface CollisionFile {
  path: Buffer;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** seconds since the epoch */
  mtime: number;
  nlink: number;
}
export interface Collision { ino: number; files: CollisionFile[] }
export interface CollisionReport {
  /** inode numbers held by two or more distinct files (at least this many when `more`) */
  inodes: number;
  more: boolean;
  /** the first numbers (lowest first) with the files that hold them */
  list: Collision[];
  /** the walk for the files ran out of time: some may be missing */
  partial: boolean;
}

/**
 * Can inode numbers repeat on this filesystem? tmpfs without inode64 (a 32-bit counter that
 * wraps) and FUSE (numbers are whatever the server says). On block filesystems the number is the
 * inode's place on disk: unique while it lives, so two names of one number that differ there
 * are one file changed between the two looks. Not overlayfs: without xino its layers' files
 * have a device of their own (the number alone is not the identity), with xino numbers use the
 * top bits, beyond what a double holds exactly.
 */
export function numbersMayRepeat(m: Pick<Mount, 'fstype' | 'superOptions'>): boolean {
  if (m.fstype === 'tmpfs') return mountOption(m.superOptions, 'inode64') === undefined;
  return m.fstype === 'fuse' || m.fstype.startsWith('fuse.');
}

/** The census's collision bookkeeping. */
export class Collisions {
  /** every number met (null: only hard links are compared) */
  readonly index: InodeSet | null;
  readonly found = new Set<number>();
  more = false;

  constructor(indexAll: boolean) {
    this.index = indexAll ? new InodeSet() : null;
  }

  add(ino: number): void {
    if (this.found.has(ino)) return;
    if (this.found.size >= MAX_TRACKED) this.more = true;
    else this.found.add(ino);
  }

  /** Merge another thread's: its numbers (against this one's) and what it found itself. */
  absorb(values: Float64Array | null, found: number[], more: boolean, links: Set<number>): void {
    for (const ino of found) this.add(ino);
    if (more) this.more = true;
    if (!values || !this.index) return;
    for (const ino of values) if (this.index.add(ino) && !links.has(ino)) this.add(ino);
  }

  /** The report: the files behind the first numbers, found by a walk of `root` within `deadline`. */
  report(root: string, walk: WalkOptions): CollisionReport {
    const inos = [...this.found].sort((a, b) => a - b).slice(0, MAX_LISTED_COLLISIONS);
    const base = { inodes: this.found.size, more: this.more };
    if (!inos.length) return { ...base, list: [], partial: false };
    const finder = new FileFinder(new Set(inos), Buffer.from(root));
    const { onProgress: _p, onBatch: _b, defer: _d, ...opts } = walk;
    const walker = new Walker(root, finder, { ...opts, stat: true });
    finder.walker = walker;
    const { partial } = walker.run();
    return { ...base, list: inos.map((ino) => ({ ino, files: finder.files.get(ino) ?? [] })), partial };
  }
}

const typeOf = (mode: number): CollisionFile['type'] => {
  const t = mode & S_IFMT;
  return t === S_IFREG ? 'file' : t === S_IFDIR ? 'dir' : t === S_IFLNK ? 'symlink' : 'other';
};

/** A walk's visitor that keeps the files holding some inode numbers. */
class FileFinder implements WalkVisitor {
  walker!: Walker;
  readonly files = new Map<number, CollisionFile[]>();
  constructor(private readonly wanted: Set<number>, private readonly root: Buffer) {}

  enterDir(depth: number, st: Buffer): void {
    if (depth === 0) this.keep(st, () => this.root);
  }
  entry(depth: number, buf: Buffer, start: number, end: number, _type: EntryType, st: Buffer | null): void {
    if (st) this.keep(st, () => this.walker.childPath(depth, buf.subarray(start, end)));
  }
  leaveDir(): void {}
  unreadable(): void {}
  mountSkipped(): void {}

  private keep(st: Buffer, path: () => Buffer): void {
    const ino = statInoNum(st);
    if (!this.wanted.has(ino)) return;
    let list = this.files.get(ino);
    if (!list) this.files.set(ino, (list = []));
    if (list.length < MAX_FILES) list.push({ path: path(), type: typeOf(statMode(st)), size: statSize(st), mtime: statMtime(st), nlink: statNlink(st) });
  }
}

/** Inode numbers that two or more distinct files hold at once (case 003). */
export interface CollisionsJson {
  /**
   * `all`: every inode number was compared (filesystems whose numbers can repeat: tmpfs without
   * inode64, FUSE); `none`: numbers do not repeat on this filesystem (a number is one file)
   */
  checked: 'all' | 'none';
  /** colliding inode numbers (at least this many when `more`) */
  inodes: number;
  more: boolean;
  /** the first 20 numbers and the files holding each (at most 10) */
  list: Array<{ ino: number; files: Array<{ path: string; pathBase64?: string; type: 'file' | 'dir' | 'symlink' | 'other'; size: number; mtime: string; nlink: number }> }>;
  /** the walk for the files ran out of time: some may be missing */
  partial: boolean;
}

/** The census's collisions as --json and doctor's evidence give them (null without stat). */
export function collisionsJson(c: Pick<CensusResult, 'collisions' | 'collisionsIndexed'>): CollisionsJson | null {
  const k = c.collisions;
  if (!k) return null;
  return {
    checked: c.collisionsIndexed ? 'all' : 'none', inodes: k.inodes, more: k.more, partial: k.partial,
    list: k.list.map((x) => ({ ino: x.ino, files: x.files.map((f) => ({ ...jsonName('path', f.path), type: f.type, size: f.size, mtime: iso(f.mtime), nlink: f.nlink })) })),
  };
}
