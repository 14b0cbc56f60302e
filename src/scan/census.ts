// The census of a tree: what uses its inodes, by directory, by name pattern, by owner, by age.
// It is the Walker's visitor: every figure is built while the walk streams, in memory bounded
// by the depth of the tree, the number of distinct patterns (capped) and the top-N lists.
import { hashBytes, patternBuf, patternHash, patternInto, wideLength } from './pattern.js';
import { T_DIR, T_FILE, T_LINK, Walker, type DirPath, type EntryType, type WalkOptions, type WalkVisitor } from './walker.js';
import { STATX_SIZE, lstatxAt, statInoNum, statMtime, statNlink, statSize, statUid } from '../sys/statx.js';
import { Collisions, linkSeen, sameInode } from './collisions.js';
import { SysError, errnoName } from '../sys/libc.js';
import type {
  CensusOptions, CensusResult, CensusState, DirAcc, DirCount, FrontierDir, LinkSeen, PatternAcc, PatternCount, Unit,
} from './census-types.js';
import { NO_OWNERS, TopN, buf, byDirOrder, dirBefore, mergePattern, ownMap, packPatterns, pathBytes, topK, unpackPatterns } from './census-parts.js';

export type * from './census-types.js';

const AGE_BUCKETS: Array<[string, number | null]> = [
  ['future', 0], ['<1h', 3600], ['1h-1d', 86400], ['1d-7d', 7 * 86400], ['7d-30d', 30 * 86400],
  ['30d-1y', 365 * 86400], ['>1y', null],
];
const MAX_LISTED_ERRORS = 100;
/** this many `prefix-WORD` patterns with one prefix: the words are random (see mergeWordTails) */
const MANY_TAILS = 16;
const bytesOf = (d: DirAcc): DirCount => ({ ...d, path: pathBytes(d.path) });

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
  private hardLinks = 0; private bytes = 0; private maxIno = 0;
  private readonly seenLinks = new Map<number, LinkSeen>();
  private readonly collisions: Collisions;
  private deadline: number | undefined;
  private readonly owners = new Map<number, { count: number; bytes: number }>();
  private readonly ages = new Array<number>(AGE_BUCKETS.length).fill(0);
  private patterns = new Map<number, PatternAcc>();
  private patternTotal = 0;
  private touched: PatternAcc[] = [];
  private touchedDepth = -1;
  private undercount = 0;
  private readonly topDirs: TopN;
  private readonly topDirect: TopN;
  private readonly unreadableList: Array<{ path: Buffer; error: string }> = [];
  private readonly mountsSkipped: Buffer[] = [];
  /** whole: one walk of everything; frontier: the top of a parallel walk; unit: a deferred subtree */
  private mode: 'whole' | 'frontier' | 'unit' = 'whole';
  private frontier: FrontierDir[] = [];
  private frontierAt: number[] = [];
  private units: Unit[] = [];
  private unitTotals: Array<[number, number]> = [];
  private partial = false;
  /** hard links whose names were counted in two threads */

  constructor(private readonly opts: CensusOptions = {}) {
    this.limit = opts.limit ?? 10;
    this.doStat = opts.stat === true;
    this.perPatternDirs = opts.patternDirs ?? 5;
    this.maxPatterns = opts.maxPatterns ?? 100_000;
    this.now = opts.now ?? Math.floor(Date.now() / 1000);
    this.topDirs = new TopN(this.limit, (d) => d.inodes);
    this.topDirect = new TopN(this.limit, (d) => d.direct);
    this.collisions = new Collisions(this.doStat && opts.collisions === true && opts.crossMounts !== true);
  }

  private walkOptions(deadline: number | undefined): WalkOptions {
    const { crossMounts, onProgress, onBatch, fdWindow, mountPoints } = this.opts;
    return {
      stat: this.doStat,
      crossMounts: crossMounts === true,
      ...(mountPoints ? { mountPoints } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
      ...(onProgress ? { onProgress } : {}),
      ...(onBatch ? { onBatch } : {}),
      ...(fdWindow !== undefined ? { fdWindow } : {}),
    };
  }

  /** Walk `root` (a real path to a directory) and return the census. Throws SysError on a bad root. */
  run(root: string): CensusResult {
    const t0 = performance.now();
    const deadline = this.opts.budgetMs === undefined ? undefined : t0 + this.opts.budgetMs;
    this.deadline = deadline;
    this.walker = new Walker(root, this, this.walkOptions(deadline));
    this.partial = this.walker.run().partial;
    return this.result(root, performance.now() - t0);
  }

  /**
   * The top of a parallel census: read `root` and its directories, but leave subtrees as units:
   * the subdirectories of the root when it has `wideRoot` or more, else those of any directory
   * below the root with two or more (down to `maxDepth`), so that one big child of the root
   * (a home directory holding most of the tree) is still split. Returns the units, largest
   * first; their parents' fds stay open until `closeKept()`.
   */
  runFrontier(root: string, deadline: number | undefined, wideRoot = 64, maxDepth = 6): Unit[] {
    this.mode = 'frontier';
    this.deadline = deadline;
    this.walker = this.frontierWalker = new Walker(root, this, {
      ...this.walkOptions(deadline),
      defer: (depth, subdirs) => (depth === 0 ? subdirs >= wideRoot : subdirs >= 2 && depth < maxDepth),
    });
    this.partial = this.walker.run().partial;
    for (const u of this.units) {
      u.sizeHint = lstatxAt(u.dirfd, u.name, this.st) === 0 ? statSize(this.st) : 0;
    }
    return this.units.sort((a, b) => b.sizeHint - a.sizeHint);
  }
  private readonly st = Buffer.alloc(STATX_SIZE);

  /** The device of the root the frontier walked. */
  rootDev(): { major: number; minor: number } {
    return (this.frontierWalker ?? this.walker).rootDev();
  }

  /** Entries counted and distinct patterns held so far. */
  load(): { entries: number; patterns: number } {
    return { entries: this.files + this.dirs + this.symlinks + this.other, patterns: this.patternTotal };
  }

  /** Some units were never taken: the census is partial. */
  markPartial(): void {
    this.partial = true;
  }

  /** Close the fds the frontier walk kept open for its units. */
  closeKept(): void {
    this.frontierWalker?.closeKept();
  }
  private frontierWalker: Walker | undefined;

  /** Census one unit (a subtree deferred by a frontier walk) into this census. */
  runUnit(unit: Unit, index: number, dev: { major: number; minor: number }, deadline: number | undefined): void {
    this.mode = 'unit';
    const walker = new Walker(unit.path, this, {
      ...this.walkOptions(deadline), startAt: { dirfd: unit.dirfd, name: unit.name, noatime: unit.noatime }, dev,
    });
    this.walker = walker;
    let r;
    try {
      r = walker.run();
    } catch (e) {
      // out of fds is no unreadable unit: the census fails rather than count too few
      if (!(e instanceof SysError) || e.code === 'EMFILE' || e.code === 'ENFILE') throw e;
      this.unreadableCount++;
      if (this.unreadableList.length < MAX_LISTED_ERRORS) this.unreadableList.push({ path: unit.path, error: e.code });
      this.unitTotals.push([index, 0]);
      return;
    }
    if (r.partial) this.partial = true;
    if (r.otherMount) {
      this.mountsSkippedCount++;
      if (this.mountsSkipped.length < MAX_LISTED_ERRORS) this.mountsSkipped.push(unit.path);
      this.unitTotals.push([index, 0]);
      return;
    }
    this.unitTotals.push([index, this.rootInodes]);
  }

  deferred(depth: number, name: Buffer): void {
    this.units.push({
      dirfd: this.walker.fdOf(depth), name, path: this.walker.childPath(depth, name), noatime: this.walker.noatimeOf(depth),
      parent: this.frontierAt[depth]!, sizeHint: 0,
    });
  }

  /** Everything this census holds, for absorb() in another thread. */
  exportState(): CensusState {
    if (this.touchedDepth >= 0) this.flushPatterns();
    const patterns = packPatterns(this.allPatterns());
    return {
      counts: [this.files, this.dirs, this.symlinks, this.other, this.unreadableCount, this.mountsSkippedCount, this.hardLinks, this.bytes, this.maxIno],
      seenLinks: this.seenLinks, inodes: this.collisions.index?.values() ?? null, collided: [...this.collisions.found], collidedMore: this.collisions.more,
      owners: this.owners, ages: this.ages, patterns, undercount: this.undercount,
      topDirs: this.topDirs.items.map(bytesOf), topDirect: this.topDirect.items.map(bytesOf), unreadable: this.unreadableList,
      mountsSkipped: this.mountsSkipped, unitTotals: this.unitTotals, partial: this.partial,
    };
  }

  /** Merge the census another thread made of other parts of the same tree. */
  absorb(st: CensusState): void {
    const [files, dirs, symlinks, other, unreadable, mounts, hardLinks, bytes, maxIno] = st.counts as [number, number, number, number, number, number, number, number, number];
    this.maxIno = Math.max(this.maxIno, maxIno);
    this.files += files; this.dirs += dirs; this.symlinks += symlinks; this.other += other;
    this.unreadableCount += unreadable; this.mountsSkippedCount += mounts;
    this.hardLinks += hardLinks; this.bytes += bytes;
    for (const [uid, o] of st.owners) {
      const mine = this.owners.get(uid);
      if (mine) { mine.count += o.count; mine.bytes += o.bytes; } else this.owners.set(uid, { ...o });
    }
    st.ages.forEach((n, i) => { this.ages[i]! += n; });
    const links = new Set<number>();
    for (const [ino, seen] of st.seenLinks) {
      const mine = this.seenLinks.get(ino);
      if (!mine) {
        this.seenLinks.set(ino, seen);
        continue;
      }
      // one number, two inodes: both count
      if (!sameInode(mine, seen)) {
        this.collisions.add(ino);
        continue;
      }
      // names of one inode counted in two threads: undo the second count
      links.add(ino);
      this.hardLinks++;
      this.bytes -= seen.size;
      const o = this.owners.get(seen.uid)!;
      o.count--;
      o.bytes -= seen.size;
      this.ages[seen.age]!--;
    }
    this.collisions.absorb(st.inodes, st.collided, st.collidedMore, links);
    for (const q of unpackPatterns(st.patterns)) {
      let mine: PatternAcc | null = this.patterns.get(q.hash) ?? null;
      while (mine !== null && mine.key !== q.key) mine = mine.chain;
      if (mine) mergePattern(mine, q, this.perPatternDirs);
      else {
        q.chain = this.patterns.get(q.hash) ?? null;
        this.patterns.set(q.hash, q);
        this.patternTotal++;
      }
    }
    this.undercount = Math.max(this.undercount, st.undercount);
    for (const d of st.topDirs) if (this.topDirs.wants(d.inodes, d.ino)) this.topDirs.add({ ...d, path: buf(d.path) });
    for (const d of st.topDirect) if (this.topDirect.wants(d.direct, d.ino)) this.topDirect.add({ ...d, path: buf(d.path) });
    for (const u of st.unreadable) if (this.unreadableList.length < MAX_LISTED_ERRORS) this.unreadableList.push({ path: buf(u.path), error: u.error });
    for (const m of st.mountsSkipped) if (this.mountsSkipped.length < MAX_LISTED_ERRORS) this.mountsSkipped.push(buf(m));
    this.unitTotals.push(...st.unitTotals);
    if (st.partial) this.partial = true;
  }

  /** After every unit is absorbed: the frontier directories' totals, and the result. */
  finish(root: string, elapsedMs: number): CensusResult {
    const f = this.frontier;
    // a unit's total counts the unit directory, which its parent already counts as an entry
    for (const [i, inodes] of this.unitTotals) if (inodes > 0) f[this.units[i]!.parent]!.below += inodes - 1;
    // frontier dirs were recorded when entered, parents first: children add up into parents
    for (let i = f.length - 1; i >= 0; i--) {
      const d = f[i]!;
      const inodes = d.below + d.direct + 1;
      if (d.parent >= 0) f[d.parent]!.below += d.below + d.direct;
      if (this.topDirs.wants(inodes, d.ino)) this.topDirs.add({ path: d.path, inodes, direct: d.direct, ino: d.ino });
      if (this.topDirect.wants(d.direct, d.ino)) this.topDirect.add({ path: d.path, inodes, direct: d.direct, ino: d.ino });
    }
    if (f.length) this.rootInodes = f[0]!.below + f[0]!.direct + 1;
    return this.result(root, elapsedMs);
  }

  enterDir(depth: number, st: Buffer): void {
    if (this.touchedDepth >= 0) this.flushPatterns();
    this.direct[depth] = 0;
    this.below[depth] = 0;
    this.touchedDepth = depth;
    if (depth === 0 && this.mode !== 'unit') {
      // the root is no entry of a scanned directory: count it here
      this.dirs++;
      if (this.doStat) {
        this.statOwnerAge(statSize(st), statUid(st), statMtime(st));
        const ino = statInoNum(st);
        this.collisions.index?.add(ino);
        if (ino > this.maxIno) this.maxIno = ino;
      }
    }
    if (this.mode === 'frontier') {
      this.frontierAt[depth] = this.frontier.length;
      this.frontier.push({ path: this.walker.pathNode(depth), ino: this.walker.inoOf(depth), direct: 0, below: 0, parent: depth ? this.frontierAt[depth - 1]! : -1 });
    }
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
    if (p.pidRe !== null) this.countPid(p, buf, start, end);

    if (st !== null) this.statEntry(depth, type, st, p);
  }

  private pidRegex(pattern: string): RegExp | null {
    const hit = this.opts.pidNames?.find((x) => x.pattern === pattern);
    return hit ? new RegExp(hit.regex) : null;
  }

  private countPid(p: PatternAcc, buf: Buffer, start: number, end: number): void {
    const m = p.pidRe!.exec(buf.toString('latin1', start, end));
    if (!m) return;
    if (this.opts.livePids?.has(Number(m[1]))) p.pidAlive++;
    else p.pidDead++;
  }

  /** Count an inode's bytes, owner and age; returns its age bucket. */
  private statOwnerAge(size: number, uid: number, mtime: number): number {
    this.bytes += size;
    const o = this.owners.get(uid);
    if (o) { o.count++; o.bytes += size; } else this.owners.set(uid, { count: 1, bytes: size });
    const age = this.now - mtime;
    let b = 0;
    while (b < AGE_BUCKETS.length - 1 && age >= (AGE_BUCKETS[b]![1] as number)) b++;
    this.ages[b]!++;
    return b;
  }

  /** The accumulator of the name's pattern, created on first sight. */
  private lookup(buf: Buffer, start: number, end: number): PatternAcc {
    const len = patternInto(buf, start, end);
    const hash = patternHash;
    const head = this.patterns.get(hash);
    const found = this.find(head, patternBuf, len);
    if (found) return found;
    // `magick-AAKQyele`: a random tail that reads as a word joins an established `magick-*`
    const wl = wideLength(patternBuf, len);
    if (wl > 0) {
      const was = patternBuf[wl - 1]!;
      patternBuf[wl - 1] = 42;
      const wide = this.find(this.patterns.get(hashBytes(patternBuf, wl)), patternBuf, wl);
      patternBuf[wl - 1] = was;
      if (wide && wide.count >= 50) return wide;
    }
    const key = patternBuf.toString('latin1', 0, len);
    // a name without variable parts is its own pattern (most names of a tree like /usr): one copy
    const example = end - start === len && patternBuf.compare(buf, start, end, 0, len) === 0 ? key : buf.toString('latin1', start, end);
    const p = this.added(key, hash, example);
    if (++this.patternTotal > this.maxPatterns) this.prunePatterns();
    return p;
  }

  /** A new pattern, no name counted yet, put in the table. */
  private added(key: string, hash: number, example: string): PatternAcc {
    const p: PatternAcc = {
      key, hash, chain: this.patterns.get(hash) ?? null, count: 0, files: 0, dirs: 0,
      bytes: 0, zeroByte: 0, owners: NO_OWNERS, oldest: Infinity, newest: -Infinity, dirCount: 0, topDirs: [],
      example, open: 0, stale: 0, pidAlive: 0, pidDead: 0, maxIno: 0, cur: 0,
      pidRe: this.opts.pidNames ? this.pidRegex(key) : null,
    };
    this.patterns.set(hash, p);
    return p;
  }

  private find(head: PatternAcc | undefined, key: Buffer, len: number): PatternAcc | null {
    for (let p: PatternAcc | null = head ?? null; p !== null; p = p.chain) {
      const k = p.key;
      if (k.length !== len) continue;
      let i = 0;
      while (i < len && k.charCodeAt(i) === key[i]) i++;
      if (i === len) return p;
    }
    return null;
  }

  private statEntry(depth: number, type: EntryType, st: Buffer, p: PatternAcc): void {
    const linked = type !== T_DIR && statNlink(st) > 1;
    const inode = statInoNum(st);
    const index = this.collisions.index;
    const seen = linked ? this.seenLinks.get(inode) : undefined;
    if (index ? index.add(inode) : seen !== undefined) {
      if (seen && sameInode(seen, linkSeen(st, 0))) {
        this.hardLinks++;
        this.below[depth]!--; // the inode was counted where its first name was seen
        return;
      }
      this.collisions.add(inode); // one number, two inodes: both count
    }
    const size = statSize(st);
    const uid = statUid(st);
    const mtime = statMtime(st);
    const b = this.statOwnerAge(size, uid, mtime);
    if (linked && !seen) this.seenLinks.set(inode, linkSeen(st, b));
    if (inode > p.maxIno) p.maxIno = inode;
    if (inode > this.maxIno) this.maxIno = inode;
    const open = this.opts.openInodes?.has(inode) === true;
    if (open) p.open++;
    else if (type === T_FILE && this.opts.staleAfter !== undefined && this.now - mtime > this.opts.staleAfter) p.stale++;
    p.bytes += size;
    if (type === T_FILE && size === 0) p.zeroByte++;
    const owners = ownMap(p);
    owners.set(uid, (owners.get(uid) ?? 0) + 1);
    if (mtime < p.oldest) p.oldest = mtime;
    if (mtime > p.newest) p.newest = mtime;
  }

  leaveDir(depth: number): void {
    if (this.touchedDepth >= 0) this.flushPatterns();
    const direct = this.direct[depth]!;
    if (this.mode === 'frontier') {
      // totals wait for the units below: finish() adds them up
      const f = this.frontier[this.frontierAt[depth]!]!;
      f.direct = direct;
      f.below += this.below[depth]!;
      return;
    }
    const below = this.below[depth]! + direct;
    if (depth > 0) this.below[depth - 1]! += below;
    const inodes = below + 1;
    const ino = this.walker.inoOf(depth);
    const wantA = this.topDirs.wants(inodes, ino);
    const wantB = this.topDirect.wants(direct, ino);
    if (wantA || wantB) {
      const item = { path: this.walker.pathNode(depth), inodes, direct, ino };
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
    let path: DirPath | null = null;
    const k = this.perPatternDirs;
    const ino = this.walker.inoOf(depth);
    for (const p of this.touched) {
      const n = p.cur;
      p.cur = 0;
      p.dirCount++;
      const td = p.topDirs;
      if (k === 0) continue;
      if (td.length < k) {
        path ??= this.walker.pathNode(depth);
        td.push({ path, count: n, ino });
        continue;
      }
      let worst = 0;
      for (let i = 1; i < td.length; i++) if (dirBefore(td[worst]!, td[i]!)) worst = i;
      const w = td[worst]!;
      if (n < w.count || (n === w.count && ino > w.ino)) continue;
      path ??= this.walker.pathNode(depth);
      td[worst] = { path, count: n, ino };
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
   * `prefix-WORD` patterns whose tail is random letters: folded into `prefix-*`. One such met
   * before `magick-*` was established (`magick-AAKQyele`) when that holds at least five times
   * as many names; and all of them when MANY_TAILS or more share one prefix (`opam-*-htt`,
   * `opam-*-gwo`, ... of `opam-PID-abc` names are `opam-*`), `prefix-*` made if need be.
   */
  private mergeWordTails(all: PatternAcc[]): PatternAcc[] {
    const merged = new Set<PatternAcc>();
    const wideKey = Buffer.alloc(4096);
    const groups = new Map<string, PatternAcc[]>();
    for (const p of all) {
      if (p.key.length > wideKey.length) continue;
      const wl = wideLength(wideKey, wideKey.write(p.key, 0, 'latin1'));
      if (wl < 0) continue;
      wideKey[wl - 1] = 42;
      const key = wideKey.toString('latin1', 0, wl);
      if (key === p.key) continue;
      const g = groups.get(key);
      if (g) g.push(p); else groups.set(key, [p]);
    }
    for (const [key, tails] of groups) {
      const n = wideKey.write(key, 0, 'latin1'), hash = hashBytes(wideKey, n);
      let wide = this.find(this.patterns.get(hash), wideKey, n);
      const many = tails.length >= MANY_TAILS;
      if (!wide && !many) continue;
      if (!wide) {
        wide = this.added(key, hash, tails[0]!.example);
        all.push(wide);
      }
      for (const p of tails) {
        if (!many && (wide.count < 5 || wide.count < 5 * p.count)) continue;
        mergePattern(wide, p, many ? 4 * this.perPatternDirs : Infinity);
        merged.add(p);
      }
    }
    return merged.size ? all.filter((p) => !merged.has(p)) : all;
  }

  private allPatterns(): PatternAcc[] {
    const all: PatternAcc[] = [];
    for (const head of this.patterns.values()) for (let p: PatternAcc | null = head; p; p = p.chain) all.push(p);
    return all;
  }

  private result(root: string, elapsedMs: number): CensusResult {
    const partial = this.partial;
    const stat = this.doStat;
    const all = topK(this.mergeWordTails(this.allPatterns()), this.limit, (a, b) => a.count > b.count || (a.count === b.count && a.key < b.key));
    const patterns: PatternCount[] = all.map((p) => ({
      pattern: Buffer.from(p.key, 'latin1'),
      count: p.count,
      files: p.files,
      dirs: p.dirs,
      bytes: stat ? p.bytes : null,
      zeroByte: stat ? p.zeroByte : null,
      owners: stat ? [...p.owners].map(([uid, count]) => ({ uid, count })).sort((a, b) => b.count - a.count) : null,
      oldest: stat && p.oldest !== Infinity ? p.oldest : null,
      newest: stat && p.newest !== -Infinity ? p.newest : null,
      topDirs: [...p.topDirs].sort(byDirOrder).slice(0, this.perPatternDirs).map((d) => ({ ...d, path: pathBytes(d.path) })),
      dirCount: p.dirCount,
      example: Buffer.from(p.example, 'latin1'),
      open: stat && this.opts.openInodes ? p.open : null,
      stale: stat && this.opts.staleAfter !== undefined ? p.stale : null,
      pidAlive: p.pidRe ? p.pidAlive : null,
      pidDead: p.pidRe ? p.pidDead : null,
      maxIno: stat ? p.maxIno : null,
    }));
    const { entries } = this.load();
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
      dirs: this.topDirs.sorted().map(bytesOf),
      dirsByDirect: this.topDirect.sorted().map(bytesOf),
      patterns,
      patternCount: this.patternTotal,
      patternUndercount: this.undercount,
      owners: stat ? [...this.owners].map(([uid, o]) => ({ uid, ...o })).sort((a, b) => b.count - a.count) : null,
      ages: stat ? AGE_BUCKETS.map(([label, maxSeconds], i) => ({ label, maxSeconds, count: this.ages[i]! })) : null,
      unreadable: this.unreadableList,
      mountsSkipped: this.mountsSkipped,
      collisions: stat ? this.collisions.report(root, this.walkOptions(this.deadline)) : null,
      collisionsIndexed: this.collisions.index !== null,
      maxIno: stat ? this.maxIno : null,
    };
  }
}

/** Census of the tree at `root`, in this thread. */
export function census(root: string, opts: CensusOptions = {}): CensusResult {
  return new Census(opts).run(root);
}
