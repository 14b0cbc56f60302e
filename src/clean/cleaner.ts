// The cleaner: a walk relative to directory fds (the scan walker: O_NOFOLLOW, no mount crossing,
// bind mounts included) that removes what a job allows, and nothing a process holds open or
// locked, nothing that changed or got young since it was checked, nothing outside the root.
//
// Per entry: statx(dirfd, name, AT_SYMLINK_NOFOLLOW) is the check (same inode as getdents said,
// same mount, old enough, not open, not locked). Checked entries gather in batches of at most
// BATCH names of one directory; before a batch is removed the directory is confirmed to be
// where it was (its ".." is still its parent; readlink of the fd still under the root), the
// audit log lines are written, and then each name is unlinked relative to the directory fd.
import fs from 'node:fs';
import { AT_REMOVEDIR, LOCK_EX, LOCK_NB, errnoName, flock, unlinkat } from '../sys/libc.js';
import {
  STATX_BASIC_STATS, STATX_BTIME, STATX_MNT_ID, STATX_SIZE, lstatxAt, statAtimeMs, statBtimeMs, statCtimeMs,
  statInoNum, statMask, statMntId, statMode, statMtimeMs, statSize, statUid, S_IFDIR, S_IFMT,
} from '../sys/statx.js';
import { T_DIR, Walker, direntIno, type EntryType, type WalkVisitor } from '../scan/walker.js';
import { patternBuf, patternInto } from '../scan/pattern.js';
import { userName } from '../probe/users.js';
import { splitDev } from '../probe/procs.js';
import { Guard } from './guard.js';
import type { CleanJob } from './job.js';
import type { AgeBy } from './rules.js';

const BATCH = 64;
const SAMPLE = 5;
const FSYNC_MS = 1000;
const ENOTEMPTY = 39;
const EEXIST = 17;
const ENOENT = 2;
const DOTDOT = Buffer.from('..\0');
const MASK = STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID;

export type SkipReason = 'open' | 'locked' | 'young' | 'changed' | 'mount' | 'excluded' | 'error';

export interface CleanTotals {
  entries: number;
  files: number;
  dirs: number;
  bytes: number;
}

export interface PatternTotals extends CleanTotals { pattern: string; sample: string[] }

export interface CleanResult {
  apply: boolean;
  removed: CleanTotals;
  skipped: Record<SkipReason, number>;
  patterns: Map<string, PatternTotals>;
  errors: Array<{ path: string; error: string }>;
  /** processes whose fds could not be read: "open" may be missed */
  unreadableProcs: number;
}

export function emptyResult(apply: boolean): CleanResult {
  return {
    apply, removed: { entries: 0, files: 0, dirs: 0, bytes: 0 },
    skipped: { open: 0, locked: 0, young: 0, changed: 0, mount: 0, excluded: 0, error: 0 },
    patterns: new Map(), errors: [], unreadableProcs: 0,
  };
}

export interface CleanOptions {
  apply: boolean;
  /** an fd open for appending the audit log (JSON lines), or -1 */
  logFd: number;
  now?: number;
  onProgress?: (seen: number) => void;
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
  path: string;
  locked: boolean;
  /** mtime before it was cleaned (for the log) */
  mtime: number;
}

interface Pending { name: Buffer; path: string; size: number; mtime: number; uid: number; dir: boolean; pattern: string }

function isOld(st: Buffer, dir: boolean, ageBy: AgeBy, cutoff: number): boolean {
  const by = dir ? ageBy.dir : ageBy.file;
  for (const c of by) {
    if (c === 'a' && statAtimeMs(st) >= cutoff) return false;
    if (c === 'm' && statMtimeMs(st) >= cutoff) return false;
    if (c === 'c' && !dir && statCtimeMs(st) >= cutoff) return false;
    if (c === 'b' && (statMask(st) & STATX_BTIME) !== 0 && statBtimeMs(st) >= cutoff) return false;
  }
  return true;
}

/** Run one job; adds to `result`. Throws SysError when the root cannot be opened. */
export function runJob(job: CleanJob, opts: CleanOptions, result: CleanResult): void {
  const st = Buffer.alloc(STATX_SIZE);
  const rootSt = fs.statSync(job.root);
  const dev = splitDev(rootSt.dev).join(':');
  const guard = new Guard(dev);
  result.unreadableProcs = Math.max(result.unreadableProcs, guard.unreadable);
  const cutoff = job.age === null ? Infinity : (opts.now ?? Date.now()) - job.age;
  const states: DirState[] = [];
  let batch: Pending[] = [];
  let batchDepth = -1;
  let rootMnt = -1;
  let lastSync = performance.now();
  let seen = 0;

  const skip = (why: SkipReason, depth: number) => {
    result.skipped[why]++;
    if (depth >= 0 && states[depth]) states[depth]!.kept++;
  };
  const fail = (path: string, errno: number, depth: number) => {
    skip('error', depth);
    if (result.errors.length < 100) result.errors.push({ path, error: errnoName(errno) });
  };
  const excluded = (path: string): 'all' | 'self' | null => {
    for (const x of job.excludes) if (x.re.test(path)) return x.self ? 'self' : 'all';
    return null;
  };
  const count = (p: Pending) => {
    const r = result.removed;
    r.entries++;
    if (p.dir) r.dirs++; else r.files++;
    r.bytes += p.size;
    let t = result.patterns.get(p.pattern);
    if (!t) result.patterns.set(p.pattern, (t = { pattern: p.pattern, entries: 0, files: 0, dirs: 0, bytes: 0, sample: [] }));
    t.entries++;
    if (p.dir) t.dirs++; else t.files++;
    t.bytes += p.size;
    if (t.sample.length < SAMPLE) t.sample.push(p.path);
  };
  const logLine = (p: Pending) => `{"path":${JSON.stringify(p.path)},"type":"${p.dir ? 'dir' : 'file'}","size":${p.size},"mtime":"${new Date(p.mtime).toISOString()}","uid":${p.uid},"owner":${JSON.stringify(userName(p.uid))}}\n`;

  /** Is the directory at `depth` (fd) still where the walk put it? */
  const inPlace = (depth: number, fd: number): boolean => {
    const s = states[depth]!;
    if (depth > 0) {
      if (lstatxAt(fd, DOTDOT, st, STATX_BASIC_STATS) !== 0 || statInoNum(st) !== states[depth - 1]!.ino) return false;
    }
    if (s.path.length < 3000) {
      try {
        const now = fs.readlinkSync(`/proc/self/fd/${fd}`);
        if (now !== s.path) return false;
      } catch {
        return false;
      }
    }
    return true;
  };

  const flush = () => {
    if (!batch.length) return;
    const depth = batchDepth;
    const items = batch;
    batch = [];
    const fd = walker.fdOf(depth);
    if (!opts.apply) {
      for (const p of items) count(p);
      return;
    }
    if (!inPlace(depth, fd)) {
      states[depth]!.skip = true;
      for (let i = 0; i < items.length; i++) skip('changed', depth);
      return;
    }
    if (opts.logFd >= 0) {
      fs.writeSync(opts.logFd, items.map(logLine).join(''));
      const now = performance.now();
      if (now - lastSync >= FSYNC_MS) {
        fs.fdatasyncSync(opts.logFd);
        lastSync = now;
      }
    }
    for (const p of items) {
      const r = unlinkat(fd, p.name, 0);
      if (r === 0) count(p);
      else {
        if (r === -ENOENT) skip('changed', depth);
        else fail(p.path, -r, depth);
        if (opts.logFd >= 0) fs.writeSync(opts.logFd, `{"path":${JSON.stringify(p.path)},"notRemoved":"${errnoName(-r)}"}\n`);
      }
    }
    guard.maybeRefresh();
  };

  const visitor: WalkVisitor = {
    enterDir(depth, dst) {
      flush();
      const name = depth === 0 ? '' : walker.nameOf(depth).toString('utf8', 0, walker.nameOf(depth).length - 1);
      const parent = depth === 0 ? null : states[depth - 1]!;
      const path = depth === 0 ? job.root : (parent!.path === '/' ? '/' : parent!.path + '/') + name;
      if (depth === 0 && (statMask(dst) & STATX_MNT_ID) !== 0) rootMnt = statMntId(dst);
      const state: DirState = { candidate: false, inherit: false, old: false, kept: 0, skip: false, ino: statInoNum(dst), path, locked: false, mtime: statMtimeMs(dst) };
      states[depth] = state;
      if (depth === 0) {
        state.inherit = job.mode === 'contents' && !job.belowFirst;
      } else {
        const p = parent!;
        const ex = job.excludes.length ? excluded(path) : null;
        const matched = p.inherit || (job.mode === 'match' && (job.anyDepth || depth === 1) && job.match!.test(name));
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
        state.locked = true;
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
      const matched = s.inherit || (job.mode === 'match' && (job.anyDepth || depth === 0) && job.match!.test(buf.toString('utf8', start, end)));
      if (!matched || (job.belowFirst && depth === 0)) { s.kept++; return; }
      const name = Buffer.from(buf.subarray(start, end + 1));
      const path = (s.path === '/' ? '/' : s.path + '/') + buf.toString('utf8', start, end);
      if (job.excludes.length && excluded(path)) { skip('excluded', depth); return; }
      const fd = walker.fdOf(depth);
      const r = lstatxAt(fd, name, st, MASK);
      if (r !== 0) {
        if (r === -ENOENT) skip('changed', depth); else fail(path, -r, depth);
        return;
      }
      const ino = statInoNum(st);
      if (ino !== direntIno(buf, start) || (statMode(st) & S_IFMT) === S_IFDIR) { skip('changed', depth); return; }
      if (rootMnt >= 0 && (statMask(st) & STATX_MNT_ID) !== 0 && statMntId(st) !== rootMnt) { skip('mount', depth); return; }
      if (!isOld(st, false, job.ageBy, cutoff)) { skip('young', depth); return; }
      // a lock is held through an open fd: say "locked", the more telling of the two
      if (guard.isLocked(ino)) { skip('locked', depth); return; }
      if (guard.isOpen(ino)) { skip('open', depth); return; }
      const pattern = patternBuf.toString('latin1', 0, patternInto(buf, start, end));
      if (batchDepth !== depth) flush();
      batchDepth = depth;
      batch.push({ name, path, size: statSize(st), mtime: statMtimeMs(st), uid: statUid(st), dir: false, pattern });
      if (batch.length >= BATCH) flush();
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
      if (guard.isOpen(s.ino)) { skip('open', depth - 1); return; }
      const name = nameZ.subarray(0, nameZ.length - 1);
      const p: Pending = { name: nameZ, path: s.path, size: 0, mtime: s.mtime, uid: statUid(st), dir: true, pattern: patternBuf.toString('latin1', 0, patternInto(name, 0, name.length)) };
      if (!opts.apply) { count(p); return; }
      if (!inPlace(depth - 1, pfd)) { parent.skip = true; skip('changed', depth - 1); return; }
      if (opts.logFd >= 0) fs.writeSync(opts.logFd, logLine(p));
      const r = unlinkat(pfd, nameZ, AT_REMOVEDIR);
      if (r === 0) { count(p); return; }
      if (opts.logFd >= 0) fs.writeSync(opts.logFd, `{"path":${JSON.stringify(p.path)},"notRemoved":"${errnoName(-r)}"}\n`);
      if (r === -ENOTEMPTY || r === -EEXIST) {
        // r on a directory that is not empty keeps it; elsewhere something was made meanwhile
        if (job.recursive || job.mode === 'contents') skip('changed', depth - 1); else parent.kept++;
      } else if (r === -ENOENT) skip('changed', depth - 1);
      else fail(p.path, -r, depth - 1);
    },

    unreadable(depth, name, errno) {
      const s = states[depth]!;
      const path = name ? (s.path === '/' ? '/' : s.path + '/') + name.toString('utf8', 0, name.length - 1) : s.path;
      fail(path, errno, depth);
    },

    mountSkipped(depth) {
      skip('mount', depth);
    },
  };

  const walker = new Walker(job.root, visitor, { sameMount: true, onBatch: () => flush() });
  walker.run();
  flush();
}
