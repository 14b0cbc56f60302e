// The cleaner: a walk relative to directory fds (the scan walker: O_NOFOLLOW, no mount crossing,
// bind mounts included) that removes what a job allows, and nothing a process holds open or
// locked, nothing that changed or got young since it was checked, nothing outside the root.
//
// Names that may go gather in batches of at most MAX_ITEMS of one directory. Before a batch is
// worked on, the directory is confirmed to be where it was (its ".." is still its parent;
// readlink of its fd is still its path under the root). Then remove.ts checks each name with
// statx (same inode as getdents said, not a directory, same mount, old enough, not locked,
// not open), writes the audit log lines, and unlinks them relative to the directory fd. Big
// batches are split between this thread and a second one (statx runs beside the other
// thread's unlinks; the kernel serialises the unlinks of one directory anyway).
import fs from 'node:fs';
import os from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { AT_REMOVEDIR, LOCK_EX, LOCK_NB, errnoName, flock, unlinkat } from '../sys/libc.js';
import {
  STATX_BASIC_STATS, STATX_MNT_ID, STATX_SIZE, lstatxAt, statInoNum, statMask, statMntId, statMode,
  statMtimeMs, statUid, S_IFDIR, S_IFMT,
} from '../sys/statx.js';
import {
  HELPER_FAILED, HELPER_READY, MASK, MAX_ITEMS, NAME_BYTES, S_CHANGED, S_ERRNO, S_LOCKED, S_MOUNT, S_OPEN, S_REMOVED, S_YOUNG, isOld, logLine, removeItems,
  sharedItems, type RemoveCtx,
} from './remove.js';
import type { RemoveTask, RemoveWorkerInput } from './remove-worker.js';
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
const FSYNC_MS = 1000;
const ENOTEMPTY = 39;
const EEXIST = 17;
const ENOENT = 2;
const DOTDOT = Buffer.from('..\0');

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
  path: string;
  /** mtime before it was cleaned (for the log) */
  mtime: number;
}

/** Run one job; adds to `result`. Throws SysError when the root cannot be opened. */
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
  let lastSync = performance.now();
  let seen = 0;
  const ctx: RemoveCtx = { apply: opts.apply, logFd: opts.logFd, cutoff, ageBy: job.ageBy, rootMnt: -1, open: new Set(), locked: new Set() };
  let ctxGen = -1;

  // The second thread: started at the first batch big enough to split, when there is a second
  // CPU and fds to spare; given halves once it is loaded (until then, and if it cannot load,
  // this thread does all). Not unref'd: told to quit, it ends by itself (ended from outside
  // while loading koffi, it would abort the process). `gen`: the guard generation it was sent.
  let helper = null as { ctl: Int32Array; port: MessagePort; seq: number; gen: number } | null;
  const twoCpus = os.availableParallelism() > 1 && fdHeadroom() >= MIN_FDS_FOR_HELPER;
  const startHelper = () => {
    const ctl = new Int32Array(new SharedArrayBuffer(12));
    const { port1, port2 } = new MessageChannel();
    const input: RemoveWorkerInput = { items, ctl, port: port2 };
    try {
      new Worker(new URL('./remove-worker.js', import.meta.url), { workerData: input, transferList: [port2] }).on('error', () => {});
    } catch { /* never ready */ }
    return { ctl, port: port1, seq: 0, gen: -1 };
  };

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
  const tally = (pattern: string, dir: boolean, size: number, path: () => string) => {
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
        if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== s.path) return false;
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
    if (guard.generation !== ctxGen) {
      ctx.open = guard.open;
      ctx.locked = guard.locked;
    }
    if (twoCpus && count >= SPLIT) helper ??= startHelper();
    const split = helper && count >= SPLIT && Atomics.load(helper.ctl, 2) === HELPER_READY ? count >> 1 : count;
    if (split < count) {
      const h = helper!;
      const task: RemoveTask = { dirfd: fd, dirPath: dir.path, from: split, to: count, ...(h.gen !== guard.generation ? { ctx } : {}) };
      h.gen = guard.generation;
      h.port.postMessage(task);
      Atomics.store(h.ctl, 0, ++h.seq);
      Atomics.notify(h.ctl, 0);
    }
    ctxGen = guard.generation;
    removeItems(fd, dir.path, items, 0, split, ctx);
    if (split < count) {
      const h = helper!;
      while (Atomics.load(h.ctl, 1) !== h.seq) Atomics.wait(h.ctl, 1, Atomics.load(h.ctl, 1), 1000);
      if (Atomics.load(h.ctl, 2) === HELPER_FAILED) {
        // what failed there (the audit log's write, say) fails here, as if this thread had done it
        const m = receiveMessageOnPort(h.port)?.message as { message: string; code?: string } | undefined;
        throw Object.assign(new Error(m?.message ?? 'the second thread failed'), m?.code ? { code: m.code } : {});
      }
    }
    if (opts.logFd >= 0 && performance.now() - lastSync >= FSYNC_MS) {
      fs.fdatasyncSync(opts.logFd);
      lastSync = performance.now();
    }
    const prefix = dir.path === '/' ? '/' : dir.path + '/';
    for (let i = 0; i < count; i++) {
      const code = items.status[i]!;
      const start = items.offs[i]!;
      const end = items.offs[i + 1]! - 1;
      const path = () => prefix + nameBuf.toString('utf8', start, end);
      switch (code) {
        case S_REMOVED: tally(patternBuf.toString('latin1', 0, patternInto(nameBuf, start, end)), false, items.size[i]!, path); break;
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
      const name = depth === 0 ? '' : walker.nameOf(depth).toString('utf8', 0, walker.nameOf(depth).length - 1);
      const parent = depth === 0 ? null : states[depth - 1]!;
      const path = depth === 0 ? job.root : (parent!.path === '/' ? '/' : parent!.path + '/') + name;
      if (depth === 0 && (statMask(dst) & STATX_MNT_ID) !== 0) ctx.rootMnt = statMntId(dst);
      const state: DirState = { candidate: false, inherit: false, old: false, kept: 0, skip: false, ino: statInoNum(dst), path, mtime: statMtimeMs(dst) };
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
      if (job.excludes.length && excluded((s.path === '/' ? '/' : s.path + '/') + buf.toString('utf8', start, end))) { skip('excluded', depth); return; }
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
      if (opts.logFd >= 0) fs.writeSync(opts.logFd, logLine(s.path, true, 0, s.mtime, statUid(st)));
      const r = unlinkat(pfd, nameZ, AT_REMOVEDIR);
      if (r === 0) { tally(pattern, true, 0, () => s.path); return; }
      if (opts.logFd >= 0) fs.writeSync(opts.logFd, `{"path":${JSON.stringify(s.path)},"notRemoved":"${errnoName(-r)}"}\n`);
      if (r === -ENOTEMPTY || r === -EEXIST) {
        // r on a directory that is not empty keeps it; elsewhere something was made meanwhile
        if (job.recursive || job.mode === 'contents') skip('changed', depth - 1); else parent.kept++;
      } else if (r === -ENOENT) skip('changed', depth - 1);
      else fail(s.path, -r, depth - 1);
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

  const walker = new Walker(job.root, visitor, { sameMount: true, onBatch: () => flush(), ...(opts.mountPoints ? { mountPoints: opts.mountPoints } : {}) });
  try {
    walker.run();
    flush();
  } finally {
    if (helper) {
      Atomics.store(helper.ctl, 0, -1);
      Atomics.notify(helper.ctl, 0);
      helper.port.close();
    }
  }
}
