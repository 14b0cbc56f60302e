// One batch of names of one directory (at most MAX_ITEMS), from its checks to its unlinks, in
// the order that keeps the audit log whole:
//
//   1. check: statx and check each name (remove.ts); with a second thread, each thread checks
//      one half and makes that half's log lines; the second thread hands its lines back
//   2. log: the main thread, and it alone, writes all the batch's lines to their last byte and
//      fdatasyncs them (AuditLog.commit); a failure throws LogError before any unlink of the
//      batch
//   3. place: the directory is checked once more to be below the root (the fdatasync took its
//      time); if it moved out, nothing of the batch is unlinked ("notRemoved":"moved")
//   4. unlink: the main thread unlinks what passed, all of it (unlinks in one directory take its
//      lock in turn: a second thread there only adds contention); what failed gets a notRemoved
//      line, written with the next commit
//
// The second thread only checks. Its steps carry sequence numbers (helper.ts): a step that never
// reaches it is done here, and its late arrival there is skipped. Lines that do not come back
// are made here from the shared items.
import { patternBuf, patternInto } from '../scan/pattern.js';
import {
  S_BUILTIN, S_CHANGED, S_DENIED, S_ERRNO, S_LOCKED, S_MOUNT, S_MOVED, S_OPEN, S_REMOVED, S_UNLINK_ERRNO, S_UNSEEN, S_YOUNG, checkItems, holdItems,
  itemPath, logLines, notRemovedLines, unlinkItems, type Items, type RemoveCtx,
} from './remove.js';
import { Helper, SPLIT } from './helper.js';
import type { AuditLog } from './audit.js';
import type { SkipReason } from './result.js';

const ENOENT = 2;

/** What the batch needs of the guard: its generation (the context sent along), and a reading taken while the other thread works. */
export interface GuardHooks { generation(): number; preRead(): void }

/** Where account() says what became of each name. */
export interface BatchSinks {
  removed(pattern: string, size: number, path: () => Buffer): void;
  kept(why: SkipReason): void;
  failed(path: () => Buffer, errno: number): void;
}

export class Batches {
  private helper: Helper | null = null;
  private readonly twoCpus = Helper.possible();
  private readonly names: Buffer;

  constructor(private readonly items: Items, private readonly ctx: RemoveCtx, private readonly log: AuditLog | null, private readonly guard: GuardHooks) {
    this.names = Buffer.from(items.names.buffer);
  }

  /**
   * Items [0, count) of the directory `fd`: check; with `apply`, log (when `dirPath`, the
   * directory's path: there is a log), check the place again (`stillInPlace`), unlink. Throws
   * LogError when the log cannot be written or synced: nothing of the batch was unlinked.
   */
  run(fd: number, count: number, apply: boolean, dirPath: Buffer | null, stillInPlace: () => boolean): void {
    const it = this.items;
    if (this.twoCpus && count >= SPLIT) this.helper ??= new Helper(it);
    const h = this.helper && count >= SPLIT && this.helper.ready() ? this.helper : null;
    const split = h ? count >> 1 : count;
    const task = { dirfd: fd, dirPath, from: split, to: count };

    // 1. check (the second thread makes its half's lines; it writes nothing)
    h?.post({ op: 'check', ...task }, this.ctx, this.guard.generation());
    checkItems(fd, it, 0, split, this.ctx);
    let lines = dirPath ? logLines(dirPath, it, 0, split) : '';
    if (h) {
      // while the other thread finishes its half: read /proc for the next batches if it is nearly due
      this.guard.preRead();
      const got = h.wait();
      if (got.missed) checkItems(fd, it, split, count, this.ctx);
      if (dirPath) lines += (got.missed ? null : got.text) ?? logLines(dirPath, it, split, count);
    }
    if (!apply) return;

    // 2. the whole batch's lines, to the last byte and durable, before its first unlink
    if (this.log && lines) {
      this.log.commit(lines);
      // 3. last before the unlinks: the directory's place
      if (!stillInPlace()) {
        holdItems(it, 0, count);
        this.log.note(notRemovedLines(dirPath!, it, 0, count));
        return;
      }
    }

    // 4. unlink, all here
    unlinkItems(fd, it, 0, count);
    if (this.log && dirPath) {
      const notes = notRemovedLines(dirPath, it, 0, count);
      if (notes) this.log.note(notes);
    }
  }

  /** Say what became of each name of the batch; `dirPath` is asked only for what is kept (samples, errors). */
  account(count: number, dirPath: () => Buffer, to: BatchSinks): void {
    const it = this.items;
    for (let i = 0; i < count; i++) {
      const code = it.status[i]!;
      const path = () => itemPath(dirPath(), it, i);
      switch (code) {
        case S_REMOVED: to.removed(patternBuf.toString('latin1', 0, patternInto(this.names, it.offs[i]!, it.offs[i + 1]! - 1)), it.size[i]!, path); break;
        case S_OPEN: to.kept('open'); break;
        case S_LOCKED: to.kept('locked'); break;
        case S_YOUNG: to.kept('young'); break;
        case S_CHANGED: case S_MOVED: to.kept('changed'); break;
        case S_MOUNT: to.kept('mount'); break;
        case S_UNSEEN: to.kept('unseen'); break;
        case S_BUILTIN: to.kept('builtin'); break;
        case S_DENIED: to.kept('denied'); break;
        default:
          if (code >= S_UNLINK_ERRNO) {
            if (code - S_UNLINK_ERRNO === ENOENT) to.kept('changed'); else to.failed(path, code - S_UNLINK_ERRNO);
          } else to.failed(path, code - S_ERRNO);
      }
    }
  }

  close(): void {
    this.helper?.quit();
  }
}
