// The cleaner: a walk relative to directory fds (the scan walker: O_NOFOLLOW, no mount crossing,
// bind mounts included) that removes what a job allows, and nothing a process holds open or
// locked, nothing that changed or got young since it was checked, nothing outside the root.
//
// Names that may go gather in batches of at most MAX_ITEMS of one directory. Before a batch is
// worked on, the directory is confirmed to be where it was (its ".." is still its parent;
// readlink of its fd is still its path under the root). Then remove.ts checks each name with
// statx (same inode as getdents said, not a directory, same mount, old enough, not locked,
// not open). With --apply, the lines of those that passed are written to the audit log and
// made durable (fdatasync), and only then are they unlinked relative to the directory fd: a
// log that cannot be written (LogError) stops the run before the batch's first unlink. Big
// batches are split between this thread and a second one: each checks its half and makes its
// lines, this thread writes them all, then each unlinks its half (the kernel serialises the
// unlinks of one directory anyway). Paths are bytes from start to end.
import fs from 'node:fs';
import os from 'node:os';
import { AT_REMOVEDIR, LOCK_EX, LOCK_NB, errnoName, flock, unlinkat } from '../sys/libc.js';
import {
  STATX_BASIC_STATS, STATX_MNT_ID, STATX_SIZE, lstatxAt, statInoNum, statMask, statMntId, statMode,
  statMtimeMs, statUid, S_IFDIR, S_IFMT,
} from '../sys/statx.js';
import {
  MASK, MAX_ITEMS, NAME_BYTES, S_CHANGED, S_ERRNO, S_LOCKED, S_MOUNT, S_OPEN, S_REMOVED, S_YOUNG, checkItems, isOld, itemPath, logLines,
  sharedItems, unlinkItems, type RemoveCtx,
} from './remove.js';
import { Helper } from './helper.js';
import { logLine, notRemovedLine, type AuditLog } from './audit.js';
import { T_DIR, Walker, direntIno, type EntryType, type WalkVisitor } from '../scan/walker.js';
import { patternBuf, patternInto } from '../scan/pattern.js';
import { splitDev } from '../probe/procs.js';
import { fdHeadroom } from '../sys/fds.js';
import { Guard } from './guard.js';
import type { CleanJob } from './job.js';
import type { WalkMount } from '../probe/mounts.js';

const SAMPLE = 5;
/** batches at least this big are split between two threads */
const SPLIT = 256;
/** a second thread only with this many fds to spare (its event loop, its modules loading) */
const MIN_FDS_FOR_HELPER = 128;
const ENOTEMPTY = 39;
const EEXIST = 17;
const ENOENT = 2;
const DOTDOT = Buffer.from('..\0');
const SLASH = Buffer.from('/');

/** dir/name, as bytes (`name` without its NUL) */
function childPath(dir: Buffer, name: Uint8Array): Buffer {
  return Buffer.concat(dir.length === 1 && dir[0] === 47 ? [SLASH, name] : [dir, SLASH, name]);
}

export type SkipReason = 'open' | 'locked' | 'young' | 'changed' | 'mount' | 'excluded' | 'error';

export interface CleanTotals {
  entries: number;
  files: number;
  dirs: number;
  bytes: number;
}

/** `pattern`: the name pattern's bytes as a latin1 string (a map key); `sample`: paths */
export interface PatternTotals extends CleanTotals { pattern: string; sample: Buffer[] }

export interface CleanResult {
  apply: boolean;
  removed: CleanTotals;
  skipped: Record<SkipReason, number>;
  patterns: Map<string, PatternTotals>;
  errors: Array<{ path: Buffer; error: string }>;
  /** processes whose fds could not be read: "open" may be missed */
  unreadableProcs: number;
  /** why the run stopped before its end (the audit log failed), or null */
  stopped: { error: string; message: string } | null;
}

export function emptyResult(apply: boolean): CleanResult {
  return {
    apply, removed: { entries: 0, files: 0, dirs: 0, bytes: 0 },
    skipped: { open: 0, locked: 0, young: 0, changed: 0, mount: 0, excluded: 0, error: 0 },
    patterns: new Map(), errors: [], unreadableProcs: 0, stopped: null,
  };
}

export interface CleanOptions {
  apply: boolean;
  /** the audit log (with apply), or null */
  log: AuditLog | null;
  now?: number;
  onProgress?: (seen: number) => void;
  /** the mount points below the job's root (mountPointsBelow): skipped without being opened */
  mountPoints?: WalkMount[];
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
  skip: boolean;
  ino: number;
  path: Buffer;
  /** mtime before it was cleaned (for the log) */
  mtime: number;
}

/**
 * Run one job; adds to `result`. Throws SysError when the root cannot be opened, LogError when
 * the audit log cannot be written (nothing it could not log was removed; `result` counts what was).
 */
export function runJob(job: CleanJob, opts: CleanOptions, result: CleanResult): void {
  const st = Buffer.alloc(STATX_SIZE);
  const rootSt = fs.statSync(job.root);
  const guard = new Guard(splitDev(rootSt.dev).join(':'));
  result.unreadableProcs = Math.max(result.unreadableProcs, guard.unreadable);
  const cutoff = job.age === null ? Infinity : (opts.now ?? Date.now()) - job.age;
  const states: DirState[] = [];
  const items = sharedItems();
  const nameBuf = Buffer.from(items.names.buffer);
  let n = 0;
  let batchDepth = -1;
  let seen = 0;
  const log = opts.apply ? opts.log : null;
  const ctx: RemoveCtx = { cutoff, ageBy: job.ageBy, rootMnt: -1, open: new Set(), locked: new Set() };
  // the second thread (helper.ts), when there is a second CPU and fds to spare
  let helper: Helper | null = null;
  const twoCpus = os.availableParallelism() > 1 && fdHeadroom() >= MIN_FDS_FOR_HELPER;

  const skip = (why: SkipReason, depth: number) => {
    result.skipped[why]++;
    if (depth >= 0 && states[depth]) states[depth]!.kept++;
  };
  const fail = (path: Buffer, errno: number, depth: number) => {
    skip('error', depth);
    if (result.errors.length < 100) result.errors.push({ path, error: errnoName(errno) });
  };
  const excluded = (path: Buffer): 'all' | 'self' | null => {
    for (const x of job.excludes) if (x.glob.match(path)) return x.self ? 'self' : 'all';
    return null;
  };
  const tally = (pattern: string, dir: boolean, size: number, path: () => Buffer) => {
    const r = result.removed;
    r.entries++;
    if (dir) r.dirs++; else r.files++;
    r.bytes += size;
    let t = result.patterns.get(pattern);
    if (!t) result.patterns.set(pattern, (t = { pattern, entries: 0, files: 0, dirs: 0, bytes: 0, sample: [] }));
    t.entries++;
    if (dir) t.dirs++; else t.files++;
    t.bytes += size;
    if (t.sample.length < SAMPLE) t.sample.push(path());
  };

  /** Is the directory at `depth` (fd) still where the walk put it? */
  const inPlace = (depth: number, fd: number): boolean => {
    const s = states[depth]!;
    if (depth > 0) {
      if (lstatxAt(fd, DOTDOT, st, STATX_BASIC_STATS) !== 0 || statInoNum(st) !== states[depth - 1]!.ino) return false;
    }
    if (s.path.length < 3000) {
      try {
        if (!fs.readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' }).equals(s.path)) return false;
      } catch {
        return false;
      }
    }
    return true;
  };

  const flush = () => {
    if (!n) return;
    const depth = batchDepth;
    const count = n;
    n = 0;
    const dir = states[depth]!;
    const fd = walker.fdOf(depth);
    if (opts.apply && !inPlace(depth, fd)) {
      dir.skip = true;
      for (let i = 0; i < count; i++) skip('changed', depth);
      return;
    }
    guard.maybeRefresh();
    ctx.open = guard.open;
    ctx.locked = guard.locked;
    if (twoCpus && count >= SPLIT) helper ??= Helper.start(items);
    const h = helper?.ready() && count >= SPLIT ? helper : null;
    const split = h ? count >> 1 : count;
    const task = { dirfd: fd, dirPath: dir.path, from: split, to: count, log: log !== null };
    h?.post({ op: 'check', ...task }, ctx, guard.generation);
    checkItems(fd, items, 0, split, ctx);
    let lines = log ? logLines(dir.path, items, 0, split) : '';
    if (h) lines += h.wait();
    if (opts.apply) {
      // the whole batch's lines, to the last byte and durable, before its first unlink
      if (log && lines) log.commit(lines);
      h?.post({ op: 'unlink', ...task }, ctx, guard.generation);
      let notes = unlinkItems(fd, dir.path, items, 0, split);
      if (h) notes += h.wait();
      if (log && notes) log.note(notes);
    }
    for (let i = 0; i < count; i++) {
      const code = items.status[i]!;
      const path = () => itemPath(dir.path, items, i);
      switch (code) {
        case S_REMOVED: tally(patternBuf.toString('latin1', 0, patternInto(nameBuf, items.offs[i]!, items.offs[i + 1]! - 1)), false, items.size[i]!, path); break;
        case S_OPEN: skip('open', depth); break;
        case S_LOCKED: skip('locked', depth); break;
        case S_YOUNG: skip('young', depth); break;
        case S_CHANGED: skip('changed', depth); break;
        case S_MOUNT: skip('mount', depth); break;
        default: fail(path(), code - S_ERRNO, depth);
      }
    }
  };

  /** Queue name buf[start, end) of the directory at `depth` (d_ino read from the dirent). */
  const queue = (depth: number, buf: Buffer, start: number, end: number) => {
    if (n && (batchDepth !== depth || n >= MAX_ITEMS || items.offs[n]! + (end - start) + 1 > NAME_BYTES)) flush();
    if (n === 0) items.offs[0] = 0;
    batchDepth = depth;
    const at = items.offs[n]!;
    buf.copy(nameBuf, at, start, end + 1);
    items.inos[n] = direntIno(buf, start);
    items.offs[++n] = at + (end - start) + 1;
  };

  const visitor: WalkVisitor = {
    enterDir(depth, dst) {
      flush();
      const nameZ = walker.nameOf(depth);
      const parent = depth === 0 ? null : states[depth - 1]!;
      const path = depth === 0 ? job.root : childPath(parent!.path, nameZ.subarray(0, nameZ.length - 1));
      if (depth === 0 && (statMask(dst) & STATX_MNT_ID) !== 0) ctx.rootMnt = statMntId(dst);
      const state: DirState = { candidate: false, inherit: false, old: false, kept: 0, skip: false, ino: statInoNum(dst), path, mtime: statMtimeMs(dst) };
      states[depth] = state;
      if (depth === 0) {
        state.inherit = job.mode === 'contents' && !job.belowFirst;
      } else {
        const p = parent!;
        const ex = job.excludes.length ? excluded(path) : null;
        const matched = p.inherit || (job.mode === 'match' && (job.anyDepth || depth === 1) && job.match!.match(nameZ, 0, nameZ.length - 1));
        state.candidate = matched && ex === null && !(job.belowFirst && depth === 1);
        state.inherit = ex !== 'all' && (p.inherit || (job.mode === 'contents' && job.belowFirst && depth === 1) || (matched && job.recursive));
        state.old = isOld(dst, true, job.ageBy, cutoff);
        if (ex === 'all') { skip('excluded', depth - 1); state.skip = true; return false; }
        if (ex === 'self') result.skipped.excluded++;
        // r: a matched directory goes only if empty, so its contents are not walked
        const walk = state.inherit || (job.mode === 'match' && job.anyDepth);
        if (!walk) {
          if (!state.candidate) { p.kept++; state.skip = true; }
          return false;
        }
      }
      const fd = walker.fdOf(depth);
      if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
        state.skip = true;
        skip('locked', depth - 1);
        return false;
      }
      if (opts.apply && !inPlace(depth, fd)) {
        state.skip = true;
        skip('changed', depth - 1);
        return false;
      }
      return true;
    },

    entry(depth, buf, start, end, type: EntryType) {
      if (type === T_DIR) return; // decided when it is entered
      const s = states[depth]!;
      if (++seen % 4096 === 0) opts.onProgress?.(seen);
      if (s.skip) { s.kept++; return; }
      const matched = s.inherit || (job.mode === 'match' && (job.anyDepth || depth === 0) && job.match!.match(buf, start, end));
      if (!matched || (job.belowFirst && depth === 0)) { s.kept++; return; }
      if (job.excludes.length && excluded(childPath(s.path, buf.subarray(start, end)))) { skip('excluded', depth); return; }
      queue(depth, buf, start, end);
    },

    leaveDir(depth) {
      flush();
      const s = states[depth]!;
      if (depth === 0) return;
      const parent = states[depth - 1]!;
      if (s.skip) return; // counted when it was skipped
      if (!s.candidate || s.kept > 0) { parent.kept++; return; }
      if (!s.old) { skip('young', depth - 1); return; }
      const pfd = walker.openFd(depth - 1);
      const nameZ = walker.nameOf(depth);
      if (pfd < 0 || parent.skip) { skip('changed', depth - 1); return; }
      if (lstatxAt(pfd, nameZ, st, MASK) !== 0 || statInoNum(st) !== s.ino || (statMode(st) & S_IFMT) !== S_IFDIR) { skip('changed', depth - 1); return; }
      if (guard.open.has(s.ino)) { skip('open', depth - 1); return; }
      const pattern = patternBuf.toString('latin1', 0, patternInto(nameZ, 0, nameZ.length - 1));
      if (!opts.apply) { tally(pattern, true, 0, () => s.path); return; }
      if (!inPlace(depth - 1, pfd)) { parent.skip = true; skip('changed', depth - 1); return; }
      // its line, to the last byte and durable, before the unlink
      log?.commit(logLine(s.path, true, 0, s.mtime, statUid(st)));
      const r = unlinkat(pfd, nameZ, AT_REMOVEDIR);
      if (r === 0) { tally(pattern, true, 0, () => s.path); return; }
      log?.note(notRemovedLine(s.path, errnoName(-r)));
      if (r === -ENOTEMPTY || r === -EEXIST) {
        // r on a directory that is not empty keeps it; elsewhere something was made meanwhile
        if (job.recursive || job.mode === 'contents') skip('changed', depth - 1); else parent.kept++;
      } else if (r === -ENOENT) skip('changed', depth - 1);
      else fail(s.path, -r, depth - 1);
    },

    unreadable(depth, name, errno) {
      const s = states[depth]!;
      const path = name ? childPath(s.path, name.subarray(0, name.length - 1)) : s.path;
      fail(path, errno, depth);
    },

    mountSkipped(depth) {
      skip('mount', depth);
    },
  };

  const walker = new Walker(job.root, visitor, { sameMount: true, onBatch: () => flush(), ...(opts.mountPoints ? { mountPoints: opts.mountPoints } : {}) });
  try {
    walker.run();
    flush();
  } finally {
    (helper as Helper | null)?.quit();
  }
}
