// A directory walker built on openat/getdents64/statx, relative to directory fds.
//
// - An explicit stack, no JS recursion; depth is limited by nothing but memory, and the work
//   per directory does not grow with its depth. Only a window of the deepest directories keeps
//   its fd open; on the way back up, an ancestor whose fd was closed is opened as ".." of its
//   child and checked to be the same directory (dev, ino); only when that fails (it was moved)
//   is it looked for by name from the nearest open ancestor. Paths are chains of names
//   (DirPath), made into bytes only when a visitor asks.
// - Never follows a symlink: every open is O_NOFOLLOW|O_DIRECTORY and entries are typed from
//   d_type (statx without following only when d_type is DT_UNKNOWN).
// - Opens directories O_NOATIME where the kernel allows it (noatime.ts): their atimes stay.
// - Stays on the root's filesystem unless crossMounts. Mount points it is given are skipped by
//   name, never opened or statted (a dead FUSE/NFS or unserved autofs mount would hang that).
// - Reads each directory in getdents64 batches and hands every entry to the visitor at once,
//   so a directory of millions of entries costs the buffer, not millions of objects. Only the
//   names of subdirectories still to visit are kept.
// - statx of entries only when `stat` is asked for.
import {
  AT_FDCWD, DT_DIR, DT_LNK, DT_REG, DT_UNKNOWN, EMFILE, ENFILE, O_DIR_WALK,
  SysError, close, cpath, getdents64,
} from '../sys/libc.js';
import {
  STATX_BASIC_STATS, STATX_BTIME, STATX_MNT_ID, STATX_SIZE, fstatx, lstatxAt, modeToDtype,
  statDevMajor, statDevMinor, statInoNum, statMask, statMntId, statMode,
} from '../sys/statx.js';
import { MountPoints } from './walk-mounts.js';
import { DirPath } from './dir-path.js';
import { NoatimeOpener } from './noatime.js';
import { T_DIR, T_FILE, T_LINK, T_OTHER, type EntryType, type WalkFrame as Frame, type WalkOptions, type WalkResult, type WalkVisitor } from './walk-types.js';

export * from './walk-types.js';

const DOT = 46;
const SHARED_BUF = Buffer.allocUnsafe(256 * 1024);
const SLASH = Buffer.from('/');
const DOTDOT = Buffer.from('..\0');
const ESTALE = 116;

export class Walker {
  private readonly stack: Frame[] = [];
  /** one getdents buffer per thread: walkers in a thread run one after another */
  private readonly buf = SHARED_BUF;
  private readonly st = Buffer.alloc(STATX_SIZE);
  private readonly dirSt = Buffer.alloc(STATX_SIZE);
  private readonly rootBytes: Buffer;
  private devMajor = 0;
  private devMinor = 0;
  private mntId = -1;
  private readonly dirMask: number;
  private openFds = 0;
  private evictFrom = 1;
  private entries = 0;
  private stopped = false;
  private lastProgress = 0;
  private readonly kept: number[] = [];
  /** at most this many fds open, since an open failed with EMFILE/ENFILE */
  private fdCap = Infinity;
  private readonly mounts: MountPoints;
  private readonly opener = new NoatimeOpener();

  constructor(root: string | Buffer, private readonly visitor: WalkVisitor, private readonly opts: WalkOptions = {}) {
    const bytes = Buffer.from(root);
    this.rootBytes = bytes.length === 1 && bytes[0] === 47 ? Buffer.alloc(0) : bytes;
    this.dirMask = STATX_BASIC_STATS | STATX_MNT_ID | STATX_BTIME; // btime: a directory's age (clean)
    this.mounts = new MountPoints(opts.mountPoints, this.rootBytes.toString('latin1'));
  }

  /** Is `name` in `frame` (which has mount points below it) a mount point not to enter, open or stat? */
  private skipsMount(frame: Frame, name: string): boolean {
    const m = this.mounts.at(frame.path!, name);
    if (!m) return false;
    if (!m.enter) return true;
    if (this.opts.crossMounts) return false;
    return this.opts.sameMount === true || m.major !== this.devMajor || m.minor !== this.devMinor;
  }

  /** NUL-terminated name of the directory at `depth` in its parent. */
  nameOf(depth: number): Buffer {
    return this.stack[depth]!.name;
  }

  /** The fd of the directory at `depth`, reopened if the window closed it; -1 when it changed meanwhile. */
  openFd(depth: number): number {
    const f = this.stack[depth]!;
    if (f.fd >= 0 || depth === 0) return f.fd;
    return this.reopen(depth) ? f.fd : -1;
  }

  /** Another mount than the root's (with sameMount: also a bind mount of the same filesystem)? */
  private otherMount(st: Buffer): boolean {
    if (statDevMajor(st) !== this.devMajor || statDevMinor(st) !== this.devMinor) return true;
    return this.mntId >= 0 && (statMask(st) & STATX_MNT_ID) !== 0 && statMntId(st) !== this.mntId;
  }

  /** Was the directory at `depth` opened with O_NOATIME? */
  noatimeOf(depth: number): boolean {
    return this.stack[depth]!.noatime;
  }

  /** The inode number of the directory at `depth` (on the stack). */
  inoOf(depth: number): number {
    return this.stack[depth]!.ino;
  }

  /** The fd of the directory at `depth` (valid while it is on the stack, or kept). */
  fdOf(depth: number): number {
    return this.stack[depth]!.fd;
  }

  /** The device the walk stays on. */
  rootDev(): { major: number; minor: number } {
    return { major: this.devMajor, minor: this.devMinor };
  }

  /** End the walk after the current getdents batch (it reports itself partial). */
  stop(): void {
    this.stopped = true;
  }

  /** Close the fds kept open for deferred children. */
  closeKept(): void {
    for (const fd of this.kept) close(fd);
    this.kept.length = 0;
  }

  /** Path of the directory at `depth`, as bytes (O(its length): see pathNode). */
  pathOf(depth: number): Buffer {
    return this.stack[depth]!.node.bytes();
  }

  /** The path of the directory at `depth` as a chain of names, O(1): bytes() when needed. */
  pathNode(depth: number): DirPath {
    return this.stack[depth]!.node;
  }

  /** Path of a child `name` of the directory at `depth`. */
  childPath(depth: number, name: Buffer | Uint8Array): Buffer {
    const end = name[name.length - 1] === 0 ? name.length - 1 : name.length;
    const base = depth === 0 ? this.rootBytes : this.pathOf(depth);
    return Buffer.concat([base, SLASH, name.subarray(0, end)]);
  }

  /** Walk the tree. Throws SysError when the root itself cannot be opened. */
  run(): WalkResult {
    const rootNode = new DirPath(null, this.rootBytes);
    const rootName = this.opts.startAt?.name ?? cpath(rootNode.bytes());
    const fd = this.opener.open(this.opts.startAt?.dirfd ?? AT_FDCWD, rootName, O_DIR_WALK, this.opts.startAt?.noatime ?? true);
    const shown = rootNode.bytes().toString();
    if (fd < 0) throw new SysError('open', -fd, shown);
    const r = fstatx(fd, this.dirSt, this.dirMask);
    if (r < 0) {
      close(fd);
      throw new SysError('statx', -r, shown);
    }
    if (this.opts.sameMount && (statMask(this.dirSt) & STATX_MNT_ID) !== 0) this.mntId = statMntId(this.dirSt);
    this.devMajor = this.opts.dev?.major ?? statDevMajor(this.dirSt);
    this.devMinor = this.opts.dev?.minor ?? statDevMinor(this.dirSt);
    if (!this.opts.crossMounts && (statDevMajor(this.dirSt) !== this.devMajor || statDevMinor(this.dirSt) !== this.devMinor)) {
      close(fd);
      return { entries: 0, partial: false, otherMount: true };
    }
    const frame: Frame = {
      fd, name: rootName, ino: statInoNum(this.dirSt), pending: [], next: 0, keep: false, path: this.mounts.root(), node: rootNode,
      noatime: this.opener.settle(fd, this.dirSt),
    };
    this.stack.push(frame);
    this.openFds++;
    try {
      if (this.visitor.enterDir(0, this.dirSt) !== false) this.read(0);
      this.loop();
    } finally {
      for (const f of this.stack) {
        if (f.fd < 0) continue;
        if (f.keep) this.kept.push(f.fd);
        else close(f.fd);
      }
      this.stack.length = 0;
    }
    return { entries: this.entries, partial: this.stopped };
  }

  private loop(): void {
    const stack = this.stack;
    while (stack.length && !this.stopped) {
      const depth = stack.length - 1;
      const top = stack[depth]!;
      if (top.next < top.pending.length) {
        const name = top.pending[top.next]!;
        top.pending[top.next++] = '';
        if (top.path !== null && this.skipsMount(top, name)) {
          this.visitor.mountSkipped(depth, Buffer.from(name + '\0', 'latin1'));
          continue;
        }
        if (this.opts.defer && this.opts.defer(depth, top.pending.length)) {
          if (!top.keep && top.fd < 0 && !this.reopen(depth)) continue;
          top.keep = true;
          this.visitor.deferred?.(depth, Buffer.from(name + '\0', 'latin1'));
          continue;
        }
        if (top.fd < 0 && !this.reopen(depth)) continue;
        this.descend(depth, name);
      } else {
        if (top.fd >= 0) {
          this.openParentFromChild(depth);
          if (top.keep) this.kept.push(top.fd);
          else close(top.fd);
          this.openFds--;
        }
        this.visitor.leaveDir(depth);
        stack.pop();
        if (this.evictFrom > stack.length - 1) this.evictFrom = Math.max(1, stack.length - 1);
      }
    }
  }

  private descend(depth: number, name: string): void {
    const parent = this.stack[depth]!;
    const nameZ = Buffer.from(name + '\0', 'latin1');
    const fd = this.opener.open(parent.fd, nameZ, O_DIR_WALK, parent.noatime);
    if (fd < 0) {
      if (this.shed(-fd, depth)) return this.descend(depth, name);
      this.visitor.unreadable(depth, nameZ, -fd);
      return;
    }
    const r = fstatx(fd, this.dirSt, this.dirMask);
    if (r < 0) {
      close(fd);
      this.visitor.unreadable(depth, nameZ, -r);
      return;
    }
    if (!this.opts.crossMounts && this.otherMount(this.dirSt)) {
      close(fd);
      this.visitor.mountSkipped(depth, nameZ);
      return;
    }
    const path = parent.path === null ? null : this.mounts.way(parent.path, name);
    const node = new DirPath(parent.node, nameZ.subarray(0, nameZ.length - 1));
    const noatime = this.opener.settle(fd, this.dirSt); // before the read
    this.stack.push({ fd, name: nameZ, ino: statInoNum(this.dirSt), pending: [], next: 0, keep: false, path, node, noatime });
    this.openFds++;
    if (this.visitor.enterDir(depth + 1, this.dirSt) !== false) this.read(depth + 1);
  }

  /** Read the whole directory at `depth` in batches, reporting each entry. */
  private read(depth: number): void {
    const frame = this.stack[depth]!;
    const buf = this.buf;
    const visitor = this.visitor;
    const doStat = this.opts.stat === true;
    const st = this.st;
    for (;;) {
      const n = getdents64(frame.fd, buf);
      if (n < 0) {
        visitor.unreadable(depth, null, -n);
        break;
      }
      if (n === 0) break;
      let off = 0;
      while (off < n) {
        const reclen = buf[off + 16]! | (buf[off + 17]! << 8);
        let dtype = buf[off + 18]!;
        const start = off + 19;
        let end = start;
        while (buf[end] !== 0) end++;
        off += reclen;
        if (buf[start] === DOT && (end === start + 1 || (end === start + 2 && buf[start + 1] === DOT))) continue;
        this.entries++;
        let haveStat = false;
        if (dtype === DT_UNKNOWN || doStat) {
          if (frame.path !== null && this.skipsMount(frame, buf.toString('latin1', start, end))) {
            dtype = DT_DIR; // a mount point not to be entered: its statx could hang
          } else if (lstatxAt(frame.fd, buf.subarray(start, end + 1), st) === 0) {
            haveStat = true;
            if (dtype === DT_UNKNOWN) dtype = modeToDtype(statMode(st));
          }
        }
        if (dtype === DT_DIR) {
          frame.pending.push(buf.toString('latin1', start, end));
          visitor.entry(depth, buf, start, end, T_DIR, haveStat && doStat ? st : null);
        } else {
          const type: EntryType = dtype === DT_REG ? T_FILE : dtype === DT_LNK ? T_LINK : T_OTHER;
          visitor.entry(depth, buf, start, end, type, doStat && haveStat ? st : null);
        }
      }
      this.opts.onBatch?.(this.entries);
      this.checkTime();
      if (this.stopped) break;
    }
    if (frame.pending.length === 0) {
      this.openParentFromChild(depth);
      close(frame.fd);
      frame.fd = -1;
      this.openFds--;
    } else {
      this.evict();
    }
  }

  private checkTime(): void {
    const { deadline, onProgress } = this.opts;
    if (deadline === undefined && onProgress === undefined) return;
    const now = performance.now();
    if (deadline !== undefined && now > deadline) this.stopped = true;
    if (onProgress && now - this.lastProgress >= (this.opts.progressMs ?? 250)) {
      this.lastProgress = now;
      onProgress(this.entries);
    }
  }

  /** Keep at most fdWindow directory fds open: close the shallowest ones (never the root's). */
  private evict(): void {
    const window = Math.min(this.opts.fdWindow ?? 256, this.fdCap);
    const top = this.stack.length - 1;
    while (this.openFds > window && this.evictFrom < top) {
      const f = this.stack[this.evictFrom]!;
      if (f.fd >= 0 && !f.keep) {
        close(f.fd);
        f.fd = -1;
        this.openFds--;
      }
      this.evictFrom++;
    }
  }

  /**
   * The directory at `depth` is about to close its fd and be left: when its parent's fd was
   * closed by the window, open the parent as its "..", so that going up costs one open a level
   * whatever the depth. A ".." that is not the recorded parent (the child was moved) is not
   * used: the parent is then looked for by name from above when it is needed (reopen).
   */
  private openParentFromChild(depth: number): void {
    if (depth === 0) return;
    const f = this.stack[depth]!;
    const parent = this.stack[depth - 1]!;
    if (parent.fd >= 0 || f.fd < 0) return;
    let fd = this.opener.open(f.fd, DOTDOT, O_DIR_WALK, parent.noatime);
    if (fd < 0 && this.shed(-fd, depth - 1, false)) fd = this.opener.open(f.fd, DOTDOT, O_DIR_WALK, parent.noatime);
    if (fd < 0) return;
    if (fstatx(fd, this.dirSt, STATX_BASIC_STATS) < 0 || statInoNum(this.dirSt) !== parent.ino
      || statDevMajor(this.dirSt) !== this.devMajor || statDevMinor(this.dirSt) !== this.devMinor) {
      close(fd);
      return;
    }
    parent.fd = fd;
    this.openFds++;
  }

  /** Reopen the directory at `depth` from its nearest open ancestor; false when it changed. */
  private reopen(depth: number): boolean {
    let a = depth - 1;
    while (this.stack[a]!.fd < 0) a--;
    for (let k = a + 1; k <= depth; k++) {
      const parent = this.stack[k - 1]!;
      const f = this.stack[k]!;
      const fd = this.opener.open(parent.fd, f.name, O_DIR_WALK, f.noatime);
      let errno = fd < 0 ? -fd : 0;
      if (errno && this.shed(errno, k - 1)) { k--; continue; }
      if (fd >= 0) {
        const r = fstatx(fd, this.dirSt, STATX_BASIC_STATS);
        if (r < 0) errno = -r;
        else if (statInoNum(this.dirSt) !== f.ino || statDevMajor(this.dirSt) !== this.devMajor && !this.opts.crossMounts) errno = ESTALE;
        if (errno) close(fd);
      }
      if (errno) {
        // The directory was moved or replaced while we were below it: give up on what is left
        // of it rather than read some other directory under its name.
        this.visitor.unreadable(k - 1, f.name, errno);
        for (let j = k; j <= depth; j++) this.stack[j]!.next = this.stack[j]!.pending.length;
        return false;
      }
      f.fd = fd;
      this.openFds++;
    }
    this.evictFrom = Math.min(this.evictFrom, a + 1);
    this.evict();
    return this.stack[depth]!.fd >= 0;
  }

  /** An open failed: on EMFILE/ENFILE close one fd the walk can reopen (keeping fewer from now on) and retry; none left: fail. */
  private shed(errno: number, parent: number, orThrow = true): boolean {
    if (errno !== EMFILE && errno !== ENFILE) return false;
    for (let d = 1; d < parent; d++) {
      const f = this.stack[d]!;
      if (f.fd < 0 || f.keep) continue;
      close(f.fd);
      f.fd = -1;
      this.openFds--;
      this.fdCap = Math.max(1, this.openFds);
      return true;
    }
    if (!orThrow) return false;
    throw new SysError('openat', errno, this.pathOf(parent).toString());
  }
}
