// The inotify source (no root needed, any kernel): one watch per directory under the root,
// added as directories appear. inotify gives no pid: events carry proc -1.
import fs from 'node:fs';
import { close, cpath, errnoName, inotifyAddWatch, inotifyInit, inotifyRmWatch, pendingBytes, read } from '../sys/libc.js';
import {
  IN_CLOEXEC, IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DONT_FOLLOW, IN_IGNORED, IN_ISDIR, IN_MOVED_FROM, IN_MOVED_TO,
  IN_NONBLOCK, IN_ONLYDIR, IN_Q_OVERFLOW, decodeInotify, inotifyMasks, type InEvent,
} from '../sys/inotify.js';
import { nameText, type Source, type SourceStats, type TraceEvent } from './types.js';
import { readMounts, visibleMounts } from '../probe/mounts.js';
import { splitDev } from '../probe/procs.js';

const MASK = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW;

/** Why the inotify source could not start: `watches` and `instances` are the case-004 condition. */
export class InotifyUnavailable extends Error {
  constructor(readonly reason: 'watches' | 'instances' | 'other', message: string, readonly watchesAdded = 0) {
    super(message);
  }
}

export class InotifySource implements Source {
  readonly backend = 'inotify' as const;
  readonly notes = ['inotify gives no process: pids and commands are unknown'];
  readonly stats: SourceStats = { raw: 0, overflows: 0, dropped: 0, unresolved: 0, unwatched: 0 };
  readonly fd: number;
  private readonly wds = new Map<number, string>();
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  /** moved-from halves waiting for their moved-to, by cookie; `age` counts pumps */
  private pending = new Map<number, { path: string; dir: boolean; ts: number; age: number }>();
  private readonly dev: number;
  /** mount points of other filesystems: not statted (one whose server does not answer would hang it) */
  private readonly otherMounts = new Set<string>();
  private emit: (e: TraceEvent) => void = () => {};
  private now = 0;

  constructor(private readonly root: string) {
    const fd = inotifyInit(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      const code = errnoName(-fd);
      throw new InotifyUnavailable(code === 'EMFILE' ? 'instances' : 'other', `inotify_init1: ${code}`);
    }
    this.fd = fd;
    this.dev = fs.statSync(root).dev;
    const [major, minor] = splitDev(this.dev);
    for (const m of visibleMounts(readMounts())) if (m.major !== major || m.minor !== minor) this.otherMounts.add(m.mountPoint);
    try {
      this.watchTree(root, false);
    } catch (e) {
      close(fd);
      throw e;
    }
  }

  /** Watch `top` and every directory below it on the same filesystem; `announce` emits a create for each name found. */
  private watchTree(top: string, announce: boolean): void {
    const stack = [top];
    while (stack.length) {
      const dir = stack.pop()!;
      const wd = inotifyAddWatch(this.fd, cpath(dir), MASK);
      if (wd < 0) {
        const code = errnoName(-wd);
        if (code === 'ENOSPC') throw new InotifyUnavailable('watches', `inotify_add_watch ${dir}: no watches left`, this.wds.size);
        if (code === 'ENOENT' || code === 'ENOTDIR') continue; // gone meanwhile
        if (dir === this.root) throw new InotifyUnavailable('other', `inotify_add_watch ${dir}: ${code}`);
        this.stats.unwatched++;
        continue;
      }
      this.wds.set(wd, dir);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const d of entries) {
        const path = (dir === '/' ? '/' : dir + '/') + d.name;
        const isDir = d.isDirectory();
        if (announce) this.emit({ ts: this.now, kind: 'create', path, dir: isDir, proc: -1 });
        if (isDir && !this.otherMounts.has(path)) {
          let dev: number;
          try {
            dev = fs.lstatSync(path).dev;
          } catch {
            continue;
          }
          if (dev === this.dev) stack.push(path);
        }
      }
    }
  }

  /** Forget the watches on `top` and below (moved out of the root). */
  private unwatchTree(top: string): void {
    const prefix = top + '/';
    for (const [wd, dir] of this.wds) {
      if (dir === top || dir.startsWith(prefix)) {
        inotifyRmWatch(this.fd, wd);
        this.wds.delete(wd);
      }
    }
  }

  private renameTree(from: string, to: string): void {
    const prefix = from + '/';
    for (const [wd, dir] of this.wds) {
      if (dir === from) this.wds.set(wd, to);
      else if (dir.startsWith(prefix)) this.wds.set(wd, to + dir.slice(from.length));
    }
  }

  /** Bytes queued (FIONREAD on inotify counts the bytes read(2) will return). */
  queued(): number {
    const b = pendingBytes(this.fd);
    return b > 0 ? b : 0;
  }

  /** Returns the bytes read. */
  pump(emit: (e: TraceEvent) => void): number {
    const n = read(this.fd, this.buf);
    if (n <= 0) return 0;
    this.now = Date.now();
    this.emit = emit;
    decodeInotify(this.buf, n, this.one);
    // a moved-from whose moved-to did not come in this read or the next left the root
    for (const [cookie, p] of this.pending) if (++p.age > 1) this.moveOut(cookie);
    return n;
  }

  skip(max: number): number {
    const n = read(this.fd, this.buf);
    if (n <= 0) return 0;
    const { masks, bytes } = inotifyMasks(this.buf, n, max);
    for (const mask of masks) {
      this.stats.raw++;
      if (mask & IN_Q_OVERFLOW) this.stats.overflows++;
      else if (!(mask & IN_IGNORED)) this.stats.dropped++; // a watch gone is no name event
    }
    return bytes;
  }

  flush(emit: (e: TraceEvent) => void): void {
    this.emit = emit;
    for (const cookie of [...this.pending.keys()]) this.moveOut(cookie);
  }

  private moveOut(cookie: number): void {
    const p = this.pending.get(cookie)!;
    this.pending.delete(cookie);
    if (p.dir) this.unwatchTree(p.path);
    this.emit({ ts: p.ts, kind: 'move-out', path: p.path, dir: p.dir, proc: -1 });
  }

  private readonly one = (e: InEvent): void => {
    this.stats.raw++;
    if (e.mask & IN_Q_OVERFLOW) {
      this.stats.overflows++;
      return;
    }
    if (e.mask & IN_IGNORED) {
      this.wds.delete(e.wd);
      return;
    }
    const dir = this.wds.get(e.wd);
    if (dir === undefined || e.name === null) return;
    const path = (dir === '/' ? '/' : dir + '/') + nameText(e.name);
    const isDir = (e.mask & IN_ISDIR) !== 0;
    const ts = this.now;
    if (e.mask & IN_CREATE) {
      this.emit({ ts, kind: 'create', path, dir: isDir, proc: -1 });
      // names made in it before the watch took hold are found by listing it
      if (isDir) this.watchTreeSafe(path, true);
    }
    if (e.mask & IN_CLOSE_WRITE) this.emit({ ts, kind: 'close', path, dir: isDir, proc: -1 });
    if (e.mask & IN_DELETE) this.emit({ ts, kind: 'delete', path, dir: isDir, proc: -1 });
    if (e.mask & IN_MOVED_FROM) this.pending.set(e.cookie, { path, dir: isDir, ts, age: 0 });
    if (e.mask & IN_MOVED_TO) {
      const from = this.pending.get(e.cookie);
      if (from) {
        this.pending.delete(e.cookie);
        if (isDir) this.renameTree(from.path, path);
        this.emit({ ts, kind: 'rename', path, from: from.path, dir: isDir, proc: -1 });
      } else {
        if (isDir) this.watchTreeSafe(path, false);
        this.emit({ ts, kind: 'move-in', path, dir: isDir, proc: -1 });
      }
    }
  };

  /** watchTree during the trace: running out of watches is counted, not fatal. */
  private watchTreeSafe(top: string, announce: boolean): void {
    try {
      this.watchTree(top, announce);
    } catch (e) {
      if (!(e instanceof InotifyUnavailable)) throw e;
      this.stats.unwatched++;
      if (!this.notes.some((n) => n.startsWith('ran out of inotify watches'))) this.notes.push('ran out of inotify watches during the trace: new directories after that are not watched');
    }
  }

  close(): void {
    close(this.fd);
  }
}
