// The census of a tree: what uses its inodes, by directory, by name pattern, by owner, by age.
// It is the Walker's visitor: every figure is built while the walk streams, in memory bounded
// by the depth of the tree, the number of distinct patterns (capped) and the top-N lists.
import { fixedTailStart, hashBytes, patternBuf, patternHash, patternInto } from './pattern.js';
import { T_DIR, T_FILE, T_LINK, Walker, type EntryType, type WalkVisitor } from './walker.js';
import { statInoNum, statMtime, statNlink, statSize, statUid } from '../sys/statx.js';
import { errnoName } from '../sys/libc.js';

export interface CensusOptions {
  /** How many directories and patterns to keep (default 10). */
  limit?: number;
  /** statx every entry: owners, ages, bytes, hard links counted once. */
  stat?: boolean;
  crossMounts?: boolean;
  /** Stop after this many ms; the result is marked partial. */
  budgetMs?: number;
  onProgress?: (entries: number) => void;
  /** Directories per pattern to keep (default 5). */
  patternDirs?: number;
  /** Distinct patterns kept before the rarest are dropped (default 100000). */
  maxPatterns?: number;
  /** Directory fds kept open at once (default 256); tests lower it to exercise reopening. */
  fdWindow?: number;
  /** "now" for the age histogram, seconds since the epoch (default: the scan's start). */
  now?: number;
}

export interface DirCount { path: Buffer; inodes: number; direct: number }
export interface PatternDir { path: Buffer; count: number }
export interface PatternCount {
  /** the pattern's bytes */
  pattern: Buffer;
  count: number;
  files: number;
  dirs: number;
  /** the following are null unless the census stats */
  bytes: number | null;
  zeroByte: number | null;
  owners: Array<{ uid: number; count: number }> | null;
  oldest: number | null;
  newest: number | null;
  /** directories holding the most of them */
  topDirs: PatternDir[];
  /** how many directories hold at least one */
  dirCount: number;
  /** one full name of this pattern, as an example */
  example: Buffer;
}
export interface AgeBucket { label: string; maxSeconds: number | null; count: number }

export interface CensusResult {
  root: string;
  stat: boolean;
  partial: boolean;
  elapsedMs: number;
  totals: {
    entries: number; files: number; dirs: number; symlinks: number; other: number; unreadable: number;
    mountsSkipped: number;
    /** distinct inodes (hard links once); null without stat */
    inodes: number | null;
    hardLinks: number | null;
    bytes: number | null;
  };
  dirs: DirCount[];
  dirsByDirect: DirCount[];
  patterns: PatternCount[];
  patternCount: number;
  /** patterns dropped to bound memory: any pattern count may be short by at most this much */
  patternUndercount: number;
  owners: Array<{ uid: number; count: number; bytes: number }> | null;
  ages: AgeBucket[] | null;
  unreadable: Array<{ path: Buffer; error: string }>;
  mountsSkipped: Buffer[];
}

interface PatternAcc {
  key: Buffer;
  hash: number;
  /** another pattern with the same hash */
  chain: PatternAcc | null;
  count: number;
  files: number;
  dirs: number;
  bytes: number;
  zeroByte: number;
  owners: Map<number, number>;
  oldest: number;
  newest: number;
  dirCount: number;
  topDirs: PatternDir[];
  example: Buffer;
  /** count in the directory being read */
  cur: number;
}

const AGE_BUCKETS: Array<[string, number | null]> = [
  ['future', 0], ['<1h', 3600], ['1h-1d', 86400], ['1d-7d', 7 * 86400], ['7d-30d', 30 * 86400],
  ['30d-1y', 365 * 86400], ['>1y', null],
];
const MAX_LISTED_ERRORS = 100;

/** Keep the `limit` largest items by `key` in a small array (min at the end after sort). */
class TopN<T> {
  readonly items: T[] = [];
  private min = -1;
  constructor(private readonly limit: number, private readonly key: (t: T) => number) {}
  /** Would `value` enter the list? */
  wants(value: number): boolean {
    return this.limit > 0 && (this.items.length < this.limit || value > this.min);
  }
  add(item: T): void {
    const items = this.items;
    if (items.length < this.limit) {
      items.push(item);
    } else {
      let mi = 0;
      for (let i = 1; i < items.length; i++) if (this.key(items[i]!) < this.key(items[mi]!)) mi = i;
      items[mi] = item;
    }
    if (items.length === this.limit) {
      let m = Infinity;
      for (const t of items) m = Math.min(m, this.key(t));
      this.min = m;
    }
  }
  sorted(): T[] {
    return [...this.items].sort((a, b) => this.key(b) - this.key(a));
  }
}

export class Census implements WalkVisitor {
  private walker!: Walker;
  private readonly limit: number;
  private readonly doStat: boolean;
  private readonly perPatternDirs: number;
  private readonly maxPatterns: number;
  private readonly now: number;
  // per depth
  private direct: number[] = [];
  private below: number[] = [];
  // totals
  private files = 0; private dirs = 0; private symlinks = 0; private other = 0;
  private unreadableCount = 0; private mountsSkippedCount = 0;
  private hardLinks = 0; private bytes = 0;
  private readonly seenLinks = new Set<number>();
  private readonly owners = new Map<number, { count: number; bytes: number }>();
  private readonly ages = new Array<number>(AGE_BUCKETS.length).fill(0);
  private patterns = new Map<number, PatternAcc>();
  private patternTotal = 0;
  private touched: PatternAcc[] = [];
  private touchedDepth = -1;
  private undercount = 0;
  private readonly topDirs: TopN<DirCount>;
  private readonly topDirect: TopN<DirCount>;
  private readonly unreadableList: Array<{ path: Buffer; error: string }> = [];
  private readonly mountsSkipped: Buffer[] = [];

  constructor(private readonly opts: CensusOptions = {}) {
    this.limit = opts.limit ?? 10;
    this.doStat = opts.stat === true;
    this.perPatternDirs = opts.patternDirs ?? 5;
    this.maxPatterns = opts.maxPatterns ?? 100_000;
    this.now = opts.now ?? Math.floor(Date.now() / 1000);
    this.topDirs = new TopN(this.limit, (d) => d.inodes);
    this.topDirect = new TopN(this.limit, (d) => d.direct);
  }

  /** Walk `root` (a real path to a directory) and return the census. Throws SysError on a bad root. */
  run(root: string): CensusResult {
    const t0 = performance.now();
    const { budgetMs, crossMounts, onProgress } = this.opts;
    this.walker = new Walker(root, this, {
      stat: this.doStat,
      crossMounts: crossMounts === true,
      ...(budgetMs !== undefined ? { deadline: t0 + budgetMs } : {}),
      ...(onProgress ? { onProgress } : {}),
      ...(this.opts.fdWindow !== undefined ? { fdWindow: this.opts.fdWindow } : {}),
    });
    const { partial } = this.walker.run();
    return this.result(root, partial, performance.now() - t0);
  }

  enterDir(depth: number, _st: Buffer): void {
    if (this.touchedDepth >= 0) this.flushPatterns();
    this.direct[depth] = 0;
    this.below[depth] = 0;
    this.touchedDepth = depth;
    if (depth === 0) this.dirs++;
  }

  entry(depth: number, buf: Buffer, start: number, end: number, type: EntryType, st: Buffer | null): void {
    this.direct[depth]!++;
    if (type === T_FILE) this.files++;
    else if (type === T_DIR) this.dirs++;
    else if (type === T_LINK) this.symlinks++;
    else this.other++;

    const p = this.lookup(buf, start, end);
    p.count++;
    if (type === T_FILE) p.files++;
    else if (type === T_DIR) p.dirs++;
    if (p.cur++ === 0) this.touched.push(p);

    if (st !== null) this.statEntry(depth, type, st, p);
  }

  /** The accumulator of the name's pattern, created on first sight. */
  private lookup(buf: Buffer, start: number, end: number): PatternAcc {
    const len = patternInto(buf, start, end);
    const hash = patternHash;
    const head = this.patterns.get(hash);
    const found = this.find(head, patternBuf, len);
    if (found) return found;
    // `magick-AAKQyele`: a random tail that reads as a word joins an established `magick-*`
    const tail = fixedTailStart(patternBuf, len);
    if (tail > 0) {
      patternBuf[tail] = 42;
      const wide = this.find(this.patterns.get(hashBytes(patternBuf, tail + 1)), patternBuf, tail + 1);
      if (wide && wide.count >= 50) return wide;
      patternInto(buf, start, end);
    }
    const p: PatternAcc = {
      key: Buffer.from(patternBuf.subarray(0, len)), hash, chain: head ?? null, count: 0, files: 0, dirs: 0,
      bytes: 0, zeroByte: 0, owners: new Map(), oldest: Infinity, newest: -Infinity, dirCount: 0, topDirs: [],
      example: Buffer.from(buf.subarray(start, end)), cur: 0,
    };
    this.patterns.set(hash, p);
    if (++this.patternTotal > this.maxPatterns) this.prunePatterns();
    return p;
  }

  private find(head: PatternAcc | undefined, key: Buffer, len: number): PatternAcc | null {
    for (let p: PatternAcc | null = head ?? null; p !== null; p = p.chain) {
      const k = p.key;
      if (k.length !== len) continue;
      let i = 0;
      while (i < len && k[i] === key[i]) i++;
      if (i === len) return p;
    }
    return null;
  }

  private statEntry(depth: number, type: EntryType, st: Buffer, p: PatternAcc): void {
    if (type !== T_DIR && statNlink(st) > 1) {
      const ino = statInoNum(st);
      if (this.seenLinks.has(ino)) {
        this.hardLinks++;
        this.below[depth]!--; // the inode was counted where its first name was seen
        return;
      }
      this.seenLinks.add(ino);
    }
    const size = statSize(st);
    const uid = statUid(st);
    const mtime = statMtime(st);
    this.bytes += size;
    const o = this.owners.get(uid);
    if (o) { o.count++; o.bytes += size; } else this.owners.set(uid, { count: 1, bytes: size });
    const age = this.now - mtime;
    let b = 0;
    while (b < AGE_BUCKETS.length - 1 && age >= (AGE_BUCKETS[b]![1] as number)) b++;
    this.ages[b]!++;
    p.bytes += size;
    if (type === T_FILE && size === 0) p.zeroByte++;
    p.owners.set(uid, (p.owners.get(uid) ?? 0) + 1);
    if (mtime < p.oldest) p.oldest = mtime;
    if (mtime > p.newest) p.newest = mtime;
  }

  leaveDir(depth: number): void {
    if (this.touchedDepth >= 0) this.flushPatterns();
    const direct = this.direct[depth]!;
    const below = this.below[depth]! + direct;
    if (depth > 0) this.below[depth - 1]! += below;
    const inodes = below + 1;
    const wantA = this.topDirs.wants(inodes);
    const wantB = this.topDirect.wants(direct);
    if (wantA || wantB) {
      const item = { path: this.walker.pathOf(depth), inodes, direct };
      if (wantA) this.topDirs.add(item);
      if (wantB) this.topDirect.add(item);
    }
    if (depth === 0) this.rootInodes = inodes;
  }
  private rootInodes = 1;

  unreadable(depth: number, name: Buffer | null, errno: number): void {
    this.unreadableCount++;
    if (this.unreadableList.length < MAX_LISTED_ERRORS) {
      const path = name ? this.walker.childPath(depth, name) : this.walker.pathOf(depth);
      this.unreadableList.push({ path, error: errnoName(errno) });
    }
  }

  mountSkipped(depth: number, name: Buffer): void {
    this.mountsSkippedCount++;
    if (this.mountsSkipped.length < MAX_LISTED_ERRORS) this.mountsSkipped.push(this.walker.childPath(depth, name));
  }

  /** The directory whose entries were just read is done being read: record where patterns live. */
  private flushPatterns(): void {
    const depth = this.touchedDepth;
    this.touchedDepth = -1;
    if (this.touched.length === 0) return;
    let path: Buffer | null = null;
    const k = this.perPatternDirs;
    for (const p of this.touched) {
      const n = p.cur;
      p.cur = 0;
      p.dirCount++;
      const td = p.topDirs;
      if (k === 0) continue;
      if (td.length < k) {
        path ??= this.walker.pathOf(depth);
        td.push({ path, count: n });
      } else {
        let mi = 0;
        for (let i = 1; i < td.length; i++) if (td[i]!.count < td[mi]!.count) mi = i;
        if (n > td[mi]!.count) {
          path ??= this.walker.pathOf(depth);
          td[mi] = { path, count: n };
        }
      }
    }
    this.touched = [];
  }

  /** Too many distinct patterns: drop the rarest so memory stays bounded. */
  private prunePatterns(): void {
    let all = this.allPatterns();
    let floor = Math.max(1, this.undercount);
    while (all.length > this.maxPatterns / 2) {
      all = all.filter((p) => p.count > floor || p.cur > 0);
      this.undercount = Math.max(this.undercount, floor);
      floor *= 2;
    }
    this.patterns = new Map();
    for (const p of all) {
      p.chain = this.patterns.get(p.hash) ?? null;
      this.patterns.set(p.hash, p);
    }
    this.patternTotal = all.length;
  }

  /**
   * `magick-AAKQyele` met before `magick-*` was established: fold such `prefix-WORD` patterns
   * into `prefix-*` when that holds at least five times as many names.
   */
  private mergeWordTails(all: PatternAcc[]): PatternAcc[] {
    const byKey = new Map(all.map((p) => [p.key.toString('latin1'), p]));
    const merged = new Set<PatternAcc>();
    for (const p of all) {
      const tail = fixedTailStart(p.key, p.key.length);
      if (tail < 0) continue;
      const wide = byKey.get(p.key.toString('latin1', 0, tail) + '*');
      if (!wide || wide === p || wide.count < 5 || wide.count < 5 * p.count) continue;
      wide.count += p.count; wide.files += p.files; wide.dirs += p.dirs;
      wide.bytes += p.bytes; wide.zeroByte += p.zeroByte;
      for (const [uid, n] of p.owners) wide.owners.set(uid, (wide.owners.get(uid) ?? 0) + n);
      wide.oldest = Math.min(wide.oldest, p.oldest);
      wide.newest = Math.max(wide.newest, p.newest);
      for (const d of p.topDirs) {
        const same = wide.topDirs.find((w) => w.path.equals(d.path));
        if (same) same.count += d.count;
        else { wide.topDirs.push(d); wide.dirCount++; }
      }
      merged.add(p);
    }
    return merged.size ? all.filter((p) => !merged.has(p)) : all;
  }

  private allPatterns(): PatternAcc[] {
    const all: PatternAcc[] = [];
    for (const head of this.patterns.values()) for (let p: PatternAcc | null = head; p; p = p.chain) all.push(p);
    return all;
  }

  private result(root: string, partial: boolean, elapsedMs: number): CensusResult {
    const stat = this.doStat;
    const all = this.mergeWordTails(this.allPatterns()).sort((a, b) => b.count - a.count || Buffer.compare(a.key, b.key));
    const patterns: PatternCount[] = all.slice(0, this.limit).map((p) => ({
      pattern: p.key,
      count: p.count,
      files: p.files,
      dirs: p.dirs,
      bytes: stat ? p.bytes : null,
      zeroByte: stat ? p.zeroByte : null,
      owners: stat ? [...p.owners].map(([uid, count]) => ({ uid, count })).sort((a, b) => b.count - a.count) : null,
      oldest: stat && p.oldest !== Infinity ? p.oldest : null,
      newest: stat && p.newest !== -Infinity ? p.newest : null,
      topDirs: [...p.topDirs].sort((a, b) => b.count - a.count).slice(0, this.perPatternDirs),
      dirCount: p.dirCount,
      example: p.example,
    }));
    const entries = this.files + this.dirs + this.symlinks + this.other;
    return {
      root,
      stat,
      partial,
      elapsedMs: Math.round(elapsedMs),
      totals: {
        entries,
        files: this.files,
        dirs: this.dirs,
        symlinks: this.symlinks,
        other: this.other,
        unreadable: this.unreadableCount,
        mountsSkipped: this.mountsSkippedCount,
        inodes: stat ? this.rootInodes : null,
        hardLinks: stat ? this.hardLinks : null,
        bytes: stat ? this.bytes : null,
      },
      dirs: this.topDirs.sorted(),
      dirsByDirect: this.topDirect.sorted(),
      patterns,
      patternCount: this.patternTotal,
      patternUndercount: this.undercount,
      owners: stat ? [...this.owners].map(([uid, o]) => ({ uid, ...o })).sort((a, b) => b.count - a.count) : null,
      ages: stat ? AGE_BUCKETS.map(([label, maxSeconds], i) => ({ label, maxSeconds, count: this.ages[i]! })) : null,
      unreadable: this.unreadableList,
      mountsSkipped: this.mountsSkipped,
    };
  }
}

/** Census of the tree at `root`. */
export function census(root: string, opts: CensusOptions = {}): CensusResult {
  return new Census(opts).run(root);
}
