// The census of a tree: what uses its inodes, by directory, by name pattern, by owner, by age.
// It is the Walker's visitor: every figure is built while the walk streams, in memory bounded
// by the depth of the tree, the number of distinct patterns (capped) and the top-N lists.
import { PatternTable } from './pattern-table.js';
import { T_DIR, T_FILE, T_LINK, Walker, type DirPath, type EntryType, type WalkOptions, type WalkVisitor } from './walker.js';
import { STATX_SIZE, lstatxAt, statInoNum, statMtime, statNlink, statSize, statUid } from '../sys/statx.js';
import { Collisions, Links, linkSeen } from './collisions.js';
import { SysError, errnoName } from '../sys/libc.js';
import type {
  CensusOptions, CensusResult, CensusState, DirAcc, DirCount, FrontierDir, PatternAcc, PatternCount, Unit,
} from './census-types.js';
import { TopN, buf, byDirOrder, dirBefore, ownMap, packPatterns, pathBytes, topK } from './census-parts.js';

export type * from './census-types.js';

const AGE_BUCKETS: Array<[string, number | null]> = [
  ['future', 0], ['<1h', 3600], ['1h-1d', 86400], ['1d-7d', 7 * 86400], ['7d-30d', 30 * 86400],
  ['30d-1y', 365 * 86400], ['>1y', null],
];
const MAX_LISTED_ERRORS = 100;
const bytesOf = (d: DirAcc): DirCount => ({ ...d, path: pathBytes(d.path) });

export class Census implements WalkVisitor {
  private walker!: Walker;
  private readonly limit: number;
  private readonly doStat: boolean;
  private readonly perPatternDirs: number;
  private readonly now: number;
  // per depth
  private direct: number[] = [];
  private below: number[] = [];
  // totals
  private files = 0; private dirs = 0; private symlinks = 0; private other = 0;
  private unreadableCount = 0; private mountsSkippedCount = 0;
  private hardLinks = 0; private bytes = 0; private maxIno = 0;
  private readonly links = new Links();
  private readonly collisions: Collisions;
  private deadline: number | undefined;
  private readonly owners = new Map<number, { count: number; bytes: number }>();
  private readonly ages = new Array<number>(AGE_BUCKETS.length).fill(0);
  private readonly table: PatternTable;
  private touched: PatternAcc[] = [];
  private touchedDepth = -1;
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
    this.table = new PatternTable(opts.maxPatterns ?? 100_000, this.perPatternDirs, opts.pidNames);
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
    return { entries: this.files + this.dirs + this.symlinks + this.other, patterns: this.table.total };
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
    const patterns = packPatterns(this.table.all());
    return {
      counts: [this.files, this.dirs, this.symlinks, this.other, this.unreadableCount, this.mountsSkippedCount, this.hardLinks, this.bytes, this.maxIno],
      seenLinks: [...this.links.entries()], inodes: this.collisions.index?.values() ?? null, collided: [...this.collisions.found], collidedMore: this.collisions.more,
      owners: this.owners, ages: this.ages, patterns, undercount: this.table.undercount,
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
    const indexed = this.collisions.index !== null;
    for (const [ino, seen] of st.seenLinks) {
      if (!this.links.has(ino)) {
        this.links.add(ino, seen);
        continue;
      }
      // where numbers repeat, one number and two inodes: both count (elsewhere a number is one file)
      if (indexed && !this.links.match(ino, seen)) {
        this.collisions.add(ino);
        this.links.add(ino, seen);
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
    this.table.absorb(st.patterns, st.undercount);
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

    const p = this.table.lookup(buf, start, end);
    p.count++;
    if (type === T_FILE) p.files++;
    else if (type === T_DIR) p.dirs++;
    if (p.cur++ === 0) this.touched.push(p);
    if (p.pidRe !== null) this.countPid(p, buf, start, end);

    if (st !== null) this.statEntry(depth, type, st, p);
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

  private statEntry(depth: number, type: EntryType, st: Buffer, p: PatternAcc): void {
    const linked = type !== T_DIR && statNlink(st) > 1;
    const inode = statInoNum(st);
    const index = this.collisions.index;
    // where numbers repeat, names of one number are one file only when they agree (collisions.ts);
    // elsewhere a number is one file, whatever changed between two looks at it
    if (index ? index.add(inode) : linked && this.links.has(inode)) {
      if (!index || (linked && this.links.match(inode, linkSeen(st, 0)))) {
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
    if (linked) this.links.add(inode, linkSeen(st, b));
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
        // the first: an array of one (a push would give it room for 17, ~130 bytes a pattern)
        if (td.length === 0) p.topDirs = [{ path, count: n, ino }];
        else td.push({ path, count: n, ino });
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

  private result(root: string, elapsedMs: number): CensusResult {
    const partial = this.partial;
    const stat = this.doStat;
    const all = topK(this.table.foldWordTails(this.table.all()), this.limit, (a, b) => a.count > b.count || (a.count === b.count && a.key < b.key));
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
      // merged patterns add their directories up (census-parts.ts): never more than there are
      dirCount: Math.min(p.dirCount, this.dirs),
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
      patternCount: this.table.total,
      patternUndercount: this.table.undercount,
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
