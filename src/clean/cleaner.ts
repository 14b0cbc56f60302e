// The cleaner: a walk relative to directory fds (the scan walker: O_NOFOLLOW, no mount crossing,
// bind mounts included) from the root held by fd, that removes what a job allows, and nothing a
// process uses or locks, nothing that changed or got young since it was checked, nothing
// outside the root, nothing it has not logged, and, when some processes cannot be seen, nothing
// of another user's.
//
// Names that may go gather in batches of at most MAX_ITEMS of one directory. Before a batch is
// worked on: the reading of /proc it is checked against is made fresh (guard.ts: at most
// FRESH_MS old), and the directory is confirmed to be below the root by the chain the walk
// recorded (chain.ts). Then the batch goes through batch.ts: checked, logged and made durable,
// its place checked again, unlinked. A directory removed is a batch of its own, the same way.
// Paths are bytes from start to end, kept as chains of names (DirPath) and made only when needed.
import { AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, LOCK_EX, LOCK_NB, SysError, close, errnoName, flock, unlinkat, utimensat } from '../sys/libc.js';
import {
  STATX_BASIC_STATS, STATX_MNT_ID, STATX_SIZE, fstatx, lstatxAt, statDevMajor, statDevMinor, statInoNum, statMask,
  statMntId, statMode, statMtimeMs, statTimes, statUid, S_IFDIR, S_IFMT,
} from '../sys/statx.js';
import { fdHeadroom } from '../sys/fds.js';
import { openRootFd } from '../probe/root-fd.js';
import { T_DIR, Walker, direntIno, type DirPath, type EntryType, type WalkVisitor } from '../scan/walker.js';
import { patternBuf, patternInto } from '../scan/pattern.js';
import { fdPlan } from '../scan/parallel.js';
import { MASK, MAX_ITEMS, NAME_BYTES, S_ISVTX, isOld, sharedItems, type RemoveCtx } from './remove.js';
import { Batches } from './batch.js';
import { logLine, notRemovedLine, type AuditLog } from './audit.js';
import { FRESH_MS, Guard } from './guard.js';
import { ChainCheck } from './chain.js';
import { Tally, type CleanResult, type SkipReason } from './result.js';
import { devIsNotSuperblock, isMountRoot, isMountRootKeep } from './root-facts.js';
import type { CleanJob } from './job.js';
import type { WalkMount } from '../probe/mounts.js';

export { emptyResult, type CleanResult, type CleanTotals, type PatternTotals, type SkipReason } from './result.js';

const ENOTEMPTY = 39;
const EEXIST = 17;
const ENOENT = 2;
const DOT = Buffer.from('.\0');
const SLASH = Buffer.from('/');
/** fds kept free beside the walker's window: the log, fanotify, a /proc reading's, the second thread's */
const RESERVE_FDS = 16;

/** dir/name, as bytes (`name` without its NUL) */
function childPath(dir: Buffer, name: Uint8Array): Buffer {
  return Buffer.concat(dir.length === 1 && dir[0] === 47 ? [SLASH, name] : [dir, SLASH, name]);
}

export interface CleanOptions {
  apply: boolean;
  /** the audit log (with apply), or null */
  log: AuditLog | null;
  now?: number;
  onProgress?: (seen: number) => void;
  /** the mount points below the job's root (mountPointsBelow): skipped without being opened */
  mountPoints?: WalkMount[];
  /** the job's root, already opened (openRootFd); else it is opened here */
  rootFd?: number;
  /** remove other users' files even when some processes cannot be seen */
  forceUnseen?: boolean;
  /**
   * Told once, when processes that cannot be seen first change what goes: another user's file is
   * kept for it (or, with forceUnseen, at the first reading that cannot see every process).
   */
  onUnseen?: (why: string) => void;
}

interface DirState {
  /** this directory may be removed itself (when emptied and old) */
  candidate: boolean;
  /** entries below are candidates */
  inherit: boolean;
  /** this directory was old before it was cleaned */
  old: boolean;
  /** entries left in it (not candidates, skipped, failed) */
  kept: number;
  /** nothing in it is removed (locked, excluded, moved out of its place) */
  skip: boolean;
  ino: number;
  /** its path, as a chain of names (bytes made by pathOf) */
  node: DirPath;
  /** mtime before it was cleaned (for the log) */
  mtime: number;
  /** its atime and mtime before it was walked (futimens form), put back when a file in it was removed */
  times: Buffer;
  /** a file (not a directory) in it was removed */
  fileRemoved: boolean;
  /** sticky, another user's, and we are not root: the only owner whose entries may go (else -1) */
  stickyOwner: number;
}

const EUID = process.geteuid?.() ?? 0;

/** A directory's stickyOwner (see DirState) from its statx. */
function stickyOwnerOf(dst: Buffer): number {
  return EUID !== 0 && (statMode(dst) & S_ISVTX) !== 0 && statUid(dst) !== EUID ? EUID : -1;
}

/**
 * Run one job; adds to `result`. Throws SysError when the root cannot be opened, LogError when
 * the audit log cannot be written (nothing it could not log was removed; `result` counts what was).
 */
export function runJob(job: CleanJob, opts: CleanOptions, result: CleanResult): void {
  const rootFd = opts.rootFd ?? openRootFd(job.root);
  try {
    new Cleaner(job, opts, result, rootFd).run();
  } finally {
    if (opts.rootFd === undefined) close(rootFd);
  }
}

class Cleaner implements WalkVisitor {
  private readonly st = Buffer.alloc(STATX_SIZE);
  private readonly states: DirState[] = [];
  private readonly items = sharedItems();
  private readonly names = Buffer.from(this.items.names.buffer);
  /** names queued, all of the directory at batchDepth */
  private n = 0;
  private batchDepth = -1;
  private readonly tally: Tally;
  private readonly guard: Guard;
  private readonly chain: ChainCheck;
  private readonly ctx: RemoveCtx;
  private ctxGen = -1;
  private readonly batches: Batches;
  private readonly walker: Walker;
  /** the audit log, with apply */
  private readonly log: AuditLog | null;
  private seen = 0;
  private toldUnseen = false;
  /** the last path made (pathOf) */
  private lastNode: DirPath | null = null;
  private lastPath: Buffer = SLASH;
  /** components of the root's path: an entry at depth d has rootParts + d + 1 */
  private readonly rootParts: number;
  /** the root is a mount's root: its root-owned lost+found, .journal, aquota.* are kept (as systemd-tmpfiles) */
  private readonly mountRoot: boolean;

  constructor(private readonly job: CleanJob, private readonly opts: CleanOptions, result: CleanResult, private readonly rootFd: number) {
    this.tally = new Tally(result);
    this.log = opts.apply ? opts.log : null;
    const r = fstatx(rootFd, this.st, STATX_BASIC_STATS);
    if (r < 0) throw new SysError('statx', -r, job.root.toString());
    // the device of the open-file index and the moves watched: the root fd's, never a path's
    const dev = { major: statDevMajor(this.st), minor: statDevMinor(this.st) };
    this.guard = new Guard(`${dev.major}:${dev.minor}`, devIsNotSuperblock(rootFd));
    this.chain = new ChainCheck(rootFd, dev, opts.apply);
    // the audit log is outside the root by every path (audit.ts), yet a bind mount can show it
    // inside: kept as in use, as the reading of /proc leaves this process's own files out
    if (this.log && fstatx(this.log.fd, this.st, STATX_BASIC_STATS) === 0 && statDevMajor(this.st) === dev.major && statDevMinor(this.st) === dev.minor) {
      this.guard.keepOwn(statInoNum(this.st));
    }
    const cutoff = job.age === null ? Infinity : (opts.now ?? Date.now()) - job.age;
    this.ctx = { cutoff, ageBy: job.ageBy, rootMnt: -1, open: new Set(), mapped: new Set(), locked: new Set(), sockets: new Set(), ownerOnly: -1, stickyOwner: -1 };
    this.rootParts = job.root.toString('latin1').split('/').filter(Boolean).length;
    this.mountRoot = isMountRoot(rootFd, this.st);
    this.batches = new Batches(this.items, this.ctx, this.log, {
      generation: () => this.guard.generation,
      preRead: () => { if (this.guard.age() > FRESH_MS * 0.7) this.freshGuard(); },
    });
    const { fdWindow } = fdPlan(1, fdHeadroom() - RESERVE_FDS);
    this.walker = new Walker(job.root, this, {
      sameMount: true, fdWindow, startAt: { dirfd: rootFd, name: DOT }, onBatch: () => this.flush(),
      ...(opts.mountPoints ? { mountPoints: opts.mountPoints } : {}),
    });
  }

  run(): void {
    try {
      this.walker.run();
      this.flush();
    } finally {
      this.batches.close();
      this.chain.close();
    }
  }

  /** The path of a directory as bytes (the last one made is kept: a directory's batches and entries come together). */
  private pathOf(node: DirPath): Buffer {
    if (node !== this.lastNode) {
      this.lastNode = node;
      this.lastPath = node.bytes();
    }
    return this.lastPath;
  }

  // ---- what is kept, and why ----

  private keep(why: SkipReason, depth: number, n = 1): void {
    if (why === 'unseen') this.tellUnseen();
    this.tally.skipped(why, n);
    if (depth >= 0 && this.states[depth]) this.states[depth]!.kept += n;
  }

  private fail(path: () => Buffer, errno: number, depth: number): void {
    this.tally.error(path, errno);
    if (depth >= 0 && this.states[depth]) this.states[depth]!.kept++;
  }

  /** At a mount's root, the root-owned regular files systemd-tmpfiles keeps there (.journal, aquota.user, aquota.group)? */
  private mountRootFile(buf: Buffer, start: number, end: number): boolean {
    return this.mountRoot && isMountRootKeep(this.walker.fdOf(0), buf, start, end, this.st);
  }

  // ---- the checks before a removal ----

  /** A reading of /proc at most FRESH_MS old, in the context the checks use. */
  private freshGuard(): void {
    const g = this.guard;
    g.fresh();
    if (g.generation === this.ctxGen) return;
    this.ctxGen = g.generation;
    this.ctx.open = g.open;
    this.ctx.mapped = g.mapped;
    this.ctx.locked = g.locked;
    this.ctx.sockets = g.sockets;
    this.ctx.ownerOnly = g.unseen !== null && !this.opts.forceUnseen ? (process.geteuid?.() ?? -1) : -1;
    const r = this.tally.result;
    r.unreadableProcs = Math.max(r.unreadableProcs, g.unreadable);
    if (g.unseen !== null) {
      r.unseen = g.unseen;
      if (this.opts.forceUnseen) this.tellUnseen();
    }
  }

  private tellUnseen(): void {
    if (this.toldUnseen || this.tally.result.unseen === null) return;
    this.toldUnseen = true;
    this.opts.onUnseen?.(this.tally.result.unseen);
  }

  /**
   * Is the directory at `depth` (open as `fd`) still below the root by the recorded chain? When
   * a link of it was broken, nothing more is removed in or below the directory that moved.
   */
  private inPlace(depth: number, fd: number): boolean {
    if (this.states[depth]!.skip) return false;
    const broken = this.chain.inPlace(depth, fd, this.walker);
    if (broken < 0) return true;
    for (let k = broken; k <= depth; k++) this.states[k]!.skip = true;
    return false;
  }

  // ---- batches of names ----

  /** Queue name buf[start, end) of the directory at `depth` (d_ino read from the dirent). */
  private queue(depth: number, buf: Buffer, start: number, end: number): void {
    const it = this.items;
    if (this.n && (this.batchDepth !== depth || this.n >= MAX_ITEMS || it.offs[this.n]! + (end - start) + 1 > NAME_BYTES)) this.flush();
    if (this.n === 0) it.offs[0] = 0;
    this.batchDepth = depth;
    const at = it.offs[this.n]!;
    buf.copy(this.names, at, start, end + 1);
    it.inos[this.n] = direntIno(buf, start);
    it.offs[++this.n] = at + (end - start) + 1;
  }

  /** Check and (with apply) log and remove the names queued. */
  private flush(): void {
    const count = this.n;
    if (!count) return;
    this.n = 0;
    const depth = this.batchDepth;
    const dir = this.states[depth]!;
    const fd = this.walker.fdOf(depth);
    this.freshGuard();
    // last before the statx: the directory's place
    if (this.opts.apply && !this.inPlace(depth, fd)) {
      this.keep('changed', depth, count);
      return;
    }
    const path = () => this.pathOf(dir.node);
    this.ctx.stickyOwner = dir.stickyOwner;
    // once the log's fdatasync is done, the place once more: last before the unlinks
    this.batches.run(fd, count, this.opts.apply, this.log ? path() : null, () => this.inPlace(depth, fd));
    this.batches.account(count, path, {
      removed: (pattern, size, p) => { dir.fileRemoved = true; this.tally.removed(pattern, false, size, p); },
      kept: (why) => this.keep(why, depth),
      failed: (p, errno) => this.fail(p, errno, depth),
    });
  }

  // ---- directories ----

  /** rmdir an emptied candidate directory, after the checks a file gets; logged and made durable first. */
  private removeDir(depth: number, s: DirState, parent: DirState): void {
    const st = this.st;
    const pfd = this.walker.openFd(depth - 1);
    const nameZ = this.walker.nameOf(depth);
    if (pfd < 0 || parent.skip) { this.keep('changed', depth - 1); return; }
    if (lstatxAt(pfd, nameZ, st, MASK) !== 0 || statInoNum(st) !== s.ino || (statMode(st) & S_IFMT) !== S_IFDIR) { this.keep('changed', depth - 1); return; }
    this.freshGuard();
    if (this.guard.inUse(s.ino)) { this.keep('open', depth - 1); return; }
    if (this.ctx.ownerOnly >= 0 && statUid(st) !== this.ctx.ownerOnly) { this.keep('unseen', depth - 1); return; }
    if (parent.stickyOwner >= 0 && statUid(st) !== parent.stickyOwner) { this.keep('denied', depth - 1); return; }
    const pattern = patternBuf.toString('latin1', 0, patternInto(nameZ, 0, nameZ.length - 1));
    const path = () => s.node.bytes();
    if (!this.opts.apply) { this.tally.removed(pattern, true, 0, path); return; }
    if (!this.inPlace(depth - 1, pfd)) { this.keep('changed', depth - 1); return; }
    const log = this.log;
    if (log) {
      // its line, to the last byte and durable, before the rmdir (LogError stops the run here);
      // then, the fdatasync having taken its time, its place once more
      log.commit(logLine(path(), true, 0, s.mtime, statUid(st)));
      if (!this.inPlace(depth - 1, pfd)) {
        log.note(notRemovedLine(path(), 'moved'));
        this.keep('changed', depth - 1);
        return;
      }
    }
    const r = unlinkat(pfd, nameZ, AT_REMOVEDIR);
    if (r === 0) { this.tally.removed(pattern, true, 0, path); return; }
    log?.note(notRemovedLine(path(), errnoName(-r)));
    if (r === -ENOTEMPTY || r === -EEXIST) {
      // r on a directory that is not empty keeps it; elsewhere something was made meanwhile
      if (this.job.recursive || this.job.mode === 'contents') this.keep('changed', depth - 1); else parent.kept++;
    } else if (r === -ENOENT) this.keep('changed', depth - 1);
    else this.fail(path, -r, depth - 1);
  }

  // ---- the walk ----

  enterDir(depth: number, dst: Buffer): boolean {
    this.flush();
    const { job } = this;
    const node = this.walker.pathNode(depth);
    if (depth === 0) {
      if ((statMask(dst) & STATX_MNT_ID) !== 0) this.ctx.rootMnt = statMntId(dst);
      this.states[0] = { candidate: false, inherit: job.mode === 'contents' && !job.belowFirst, old: false, kept: 0, skip: false, ino: statInoNum(dst), node, mtime: statMtimeMs(dst), times: statTimes(dst), fileRemoved: false, stickyOwner: stickyOwnerOf(dst) };
      return true;
    }
    this.chain.entered(depth);
    const nameZ = this.walker.nameOf(depth);
    const p = this.states[depth - 1]!;
    const state: DirState = { candidate: false, inherit: false, old: false, kept: 0, skip: false, ino: statInoNum(dst), node, mtime: statMtimeMs(dst), times: statTimes(dst), fileRemoved: false, stickyOwner: stickyOwnerOf(dst) };
    this.states[depth] = state;
    // below a directory that moved out of its place, nothing is entered
    if (p.skip) { state.skip = true; this.keep('changed', depth - 1); return false; }
    // (r and R jobs have no protection: as systemd's --remove, other lines do not keep what they name)
    const ex = job.protect !== null && job.protect.covers(this.rootParts + depth, () => node.bytes()) ? 'all' : null;
    const matched = p.inherit || (job.mode === 'match' && (job.anyDepth || depth === 1) && job.match!.match(nameZ, 0, nameZ.length - 1));
    state.candidate = matched && ex === null && !(job.belowFirst && depth === 1);
    state.inherit = ex !== 'all' && (p.inherit || (job.mode === 'contents' && job.belowFirst && depth === 1) || (matched && job.recursive));
    state.old = isOld(dst, true, job.ageBy, this.ctx.cutoff);
    if (ex === 'all') { this.keep('excluded', depth - 1); state.skip = true; return false; }
    // systemd-tmpfiles keeps a root-owned lost+found at a mount's root
    if (depth === 1 && this.mountRoot && statUid(dst) === 0 && nameZ.length === 11 && nameZ.toString('latin1', 0, 10) === 'lost+found') {
      this.keep('builtin', 0); state.skip = true; return false;
    }
    // r: a matched directory goes only if empty, so its contents are not walked
    const walk = state.inherit || (job.mode === 'match' && job.anyDepth);
    if (!walk) {
      if (!state.candidate) { p.kept++; state.skip = true; }
      return false;
    }
    if (flock(this.walker.fdOf(depth), LOCK_EX | LOCK_NB) !== 0) {
      state.skip = true;
      this.keep('locked', depth - 1);
      return false;
    }
    return true;
  }

  entry(depth: number, buf: Buffer, start: number, end: number, type: EntryType): void {
    if (type === T_DIR) return; // decided when it is entered
    const s = this.states[depth]!;
    const { job } = this;
    if (++this.seen % 4096 === 0) this.opts.onProgress?.(this.seen);
    if (s.skip) { s.kept++; return; }
    const matched = s.inherit || (job.mode === 'match' && (job.anyDepth || depth === 0) && job.match!.match(buf, start, end));
    if (!matched || (job.belowFirst && depth === 0)) { s.kept++; return; }
    if (job.protect !== null && job.protect.covers(this.rootParts + depth + 1, () => childPath(this.pathOf(s.node), buf.subarray(start, end)))) { this.keep('excluded', depth); return; }
    if (depth === 0 && this.mountRootFile(buf, start, end)) { this.keep('builtin', depth); return; }
    this.queue(depth, buf, start, end);
  }

  leaveDir(depth: number): void {
    this.flush();
    const s = this.states[depth]!;
    // as systemd-tmpfiles: a directory files were removed from gets its atime and mtime back, so
    // that it ages as it would have (a rule's age, not enospc's run, decides when it goes)
    if (s.fileRemoved && this.opts.apply && this.job.mode === 'contents' && this.job.age !== null) this.putTimesBack(depth, s);
    this.chain.left(depth);
    if (depth === 0) return;
    const parent = this.states[depth - 1]!;
    if (s.skip) return; // counted when it was skipped
    if (!s.candidate || s.kept > 0) { parent.kept++; return; }
    if (!s.old) { this.keep('young', depth - 1); return; }
    this.removeDir(depth, s, parent);
  }

  /** The directory's atime and mtime as before the walk (its fd is closed by now: by its name in its parent, if it is still the same inode). */
  private putTimesBack(depth: number, s: DirState): void {
    if (depth === 0) {
      utimensat(AT_FDCWD, Buffer.from(`/proc/self/fd/${this.rootFd}\0`), s.times, 0);
      return;
    }
    const pfd = this.walker.openFd(depth - 1);
    const nameZ = this.walker.nameOf(depth);
    if (pfd < 0 || lstatxAt(pfd, nameZ, this.st, MASK) !== 0 || statInoNum(this.st) !== s.ino) return;
    utimensat(pfd, nameZ, s.times, AT_SYMLINK_NOFOLLOW);
  }

  unreadable(depth: number, name: Buffer | null, errno: number): void {
    const s = this.states[depth]!;
    this.fail(() => (name ? childPath(s.node.bytes(), name.subarray(0, name.length - 1)) : s.node.bytes()), errno, depth);
  }

  mountSkipped(depth: number): void {
    this.keep('mount', depth);
  }
}
