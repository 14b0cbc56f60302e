// The fanotify source (root, kernel >= 5.9): a filesystem mark on the filesystem holding the
// root, directory-entry events with the directory's file handle and the name, and the pid of
// the process that caused each. Directory handles become paths through open_by_handle_at and a
// cache; events outside the root are dropped.
import {
  AT_FDCWD, O_CLOEXEC, O_DIRECTORY, O_RDONLY, close, cpath, errnoName, fanotifyInit, fanotifyMark, openat, pendingBytes, read,
} from '../sys/libc.js';
import { pathOfHandle } from '../probe/watch-paths.js';
import {
  FAN_CLASS_NOTIF, FAN_CLOEXEC, FAN_CLOSE_WRITE, FAN_CREATE, FAN_DELETE, FAN_EVENT_METADATA_LEN, FAN_MARK_ADD,
  FAN_MARK_FILESYSTEM, FAN_MOVED_FROM, FAN_MOVED_TO, FAN_NONBLOCK, FAN_ONDIR, FAN_Q_OVERFLOW, FAN_RENAME,
  FAN_REPORT_DFID_NAME, FAN_REPORT_FID, FAN_REPORT_TARGET_FID, FAN_UNLIMITED_QUEUE, decodeFanotify, fanotifyMasks,
  handleOf, type FanEvent,
} from '../sys/fanotify.js';
import { ProcTable } from './procs.js';
import { nameText, type Source, type SourceStats, type TraceEvent } from './types.js';

const O_LARGEFILE = 0o100000;
const EINVAL = 22;
/**
 * enospc stops processing (and counts exactly what it skips) beyond this many queued events
 * (about 200 MiB as read, at some 100 bytes an event)
 */
const BACKLOG_MAX = 2_000_000;
const DIR_CACHE_MAX = 200_000;

export class FanotifyUnavailable extends Error {}

export class FanotifySource implements Source {
  readonly backend = 'fanotify' as const;
  readonly notes: string[] = [];
  readonly stats: SourceStats = { raw: 0, overflows: 0, dropped: 0, unresolved: 0, unwatched: 0 };
  readonly procs = new ProcTable();
  readonly fd: number;
  private readonly mountFd: number;
  private readonly dirs = new Map<string, string | null>();
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private readonly rootSlash: string;
  private readonly self = process.pid;
  private now = 0;
  private emit: (e: TraceEvent) => void = () => {};

  /** Throws FanotifyUnavailable when this kernel, user or filesystem cannot do it. */
  constructor(private readonly root: string) {
    this.rootSlash = root === '/' ? '/' : root + '/';
    const base = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | FAN_REPORT_DFID_NAME | FAN_REPORT_FID;
    let fd = fanotifyInit(base | FAN_REPORT_TARGET_FID, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    let modern = true;
    if (fd === -EINVAL) {
      modern = false; // before 5.17: no target FID, no FAN_RENAME
      fd = fanotifyInit(base, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
      this.notes.push('kernel before 5.17: renames show as a move out and a move in');
    }
    if (fd < 0) throw new FanotifyUnavailable(fd === -EINVAL ? 'the kernel has no fanotify name events (5.9 or later needed)' : `fanotify_init: ${errnoName(-fd)}`);
    const moves = modern ? FAN_RENAME : FAN_MOVED_FROM | FAN_MOVED_TO;
    const mask = FAN_CREATE | FAN_DELETE | moves | FAN_ONDIR;
    let r = fanotifyMark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, BigInt(mask | FAN_CLOSE_WRITE), root);
    if (r === -EINVAL) {
      r = fanotifyMark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, BigInt(mask), root);
      if (r === 0) this.notes.push('this kernel does not report close-write with names: "closed" is not tracked');
    }
    if (r < 0) {
      close(fd);
      throw new FanotifyUnavailable(`fanotify_mark on ${root}: ${errnoName(-r)}`);
    }
    this.fd = fd;
    // open_by_handle_at needs an fd on the filesystem that is not O_PATH
    this.mountFd = openat(AT_FDCWD, cpath(root), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (this.mountFd < 0) {
      close(fd);
      throw new FanotifyUnavailable(`open ${root}: ${errnoName(-this.mountFd)}`);
    }
  }

  /** Events queued: FIONREAD on fanotify adds 24 bytes an event, whatever the event's size (see FAN_EVENT_METADATA_LEN). */
  queued(): number {
    const b = pendingBytes(this.fd);
    return b > 0 ? Math.floor(b / FAN_EVENT_METADATA_LEN) : 0;
  }

  /** Returns the events read. */
  pump(emit: (e: TraceEvent) => void): number {
    const n = read(this.fd, this.buf);
    if (n <= 0) return 0;
    const before = this.stats.raw;
    this.now = Date.now();
    this.emit = emit;
    decodeFanotify(this.buf, n, this.one);
    let events = this.stats.raw - before;
    // far behind: read and count what we skip rather than let the kernel queue grow without end
    // (FIONREAD walks the whole queue: asked once here, not once a read)
    const queued = this.queued();
    if (queued > BACKLOG_MAX) {
      for (let excess = queued - BACKLOG_MAX / 2; excess > 0;) {
        const m = this.skip(Infinity);
        if (m <= 0) break;
        excess -= m;
        events += m;
      }
    }
    return events;
  }

  skip(max: number): number {
    const n = read(this.fd, this.buf);
    if (n <= 0) return 0;
    const masks = fanotifyMasks(this.buf, n, max);
    for (const mask of masks) {
      this.stats.raw++;
      if (mask & FAN_Q_OVERFLOW) this.stats.overflows++;
      else this.stats.dropped++;
    }
    return masks.length;
  }

  flush(): void {}

  private readonly one = (e: FanEvent): void => {
    this.stats.raw++;
    if (e.mask & FAN_Q_OVERFLOW) {
      this.stats.overflows++;
      return;
    }
    if (e.pid === this.self) return;
    const dir = (e.mask & FAN_ONDIR) !== 0;
    if (e.mask & FAN_RENAME) return this.rename(e, dir);
    const path = this.path(e.dir, e.name);
    if (path === null) {
      this.stats.unresolved++;
      return;
    }
    if (!this.inside(path)) return;
    const proc = this.procs.of(e.pid, this.now);
    const ts = this.now;
    if (e.mask & FAN_CREATE) {
      if (dir && e.child) this.dirs.set(e.child, path);
      this.emit({ ts, kind: 'create', path, dir, proc });
    }
    if (e.mask & FAN_MOVED_TO) this.emit({ ts, kind: 'move-in', path, dir, proc });
    if (e.mask & FAN_CLOSE_WRITE) this.emit({ ts, kind: 'close', path, dir, proc });
    if (e.mask & FAN_MOVED_FROM) {
      if (dir) this.dirs.clear();
      this.emit({ ts, kind: 'move-out', path, dir, proc });
    }
    if (e.mask & FAN_DELETE) {
      if (dir && e.child) this.dirs.delete(e.child);
      this.emit({ ts, kind: 'delete', path, dir, proc });
    }
  };

  private rename(e: FanEvent, dir: boolean): void {
    const from = this.path(e.oldDir, e.oldName);
    const to = this.path(e.dir, e.name);
    if (dir) {
      // every cached path below the old name is stale
      this.dirs.clear();
      if (e.child && to !== null) this.dirs.set(e.child, to);
    }
    const fromIn = from !== null && this.inside(from);
    const toIn = to !== null && this.inside(to);
    if (!fromIn && !toIn) {
      if (from === null || to === null) this.stats.unresolved++;
      return;
    }
    const proc = this.procs.of(e.pid, this.now);
    const ts = this.now;
    if (fromIn && toIn) this.emit({ ts, kind: 'rename', path: to, from, dir, proc });
    else if (fromIn) this.emit({ ts, kind: 'move-out', path: from, dir, proc });
    else this.emit({ ts, kind: 'move-in', path: to!, dir, proc });
  }

  private inside(path: string): boolean {
    return path.startsWith(this.rootSlash) || path === this.root;
  }

  /** The path of `name` in the directory with handle `dir`; null when the directory is gone. */
  private path(dir: string | null, name: Buffer | null): string | null {
    if (dir === null) return null;
    let d = this.dirs.get(dir);
    if (d === undefined) {
      d = pathOfHandle(this.mountFd, handleOf(dir));
      if (this.dirs.size >= DIR_CACHE_MAX) this.dirs.clear();
      this.dirs.set(dir, d);
    }
    if (d === null) return null;
    if (name === null || name.length === 0 || (name.length === 1 && name[0] === 46)) return d;
    return (d === '/' ? '/' : d + '/') + nameText(name);
  }


  close(): void {
    close(this.fd);
    close(this.mountFd);
  }
}
