// The agent's history: samples kept in SQLite (libsql), read back as series for the forecaster.
//
// Storage. Each sample is one row of `recent` (every series' point, binary); compact() seals
// the past hours into `chunks`: one row per series and window, deflated (history-data.ts).
// Raw points are kept 48 h, then 5-minute aggregates (min, max and last used, last limit) for
// 90 days, then hourly aggregates for 2 years (the bound); a series with nothing left is dropped.
// The agent calls compact() every 5 minutes: the hourly work runs once the hour has turned,
// otherwise it only checkpoints the WAL (truncating it). Boot-ID and mount-ID changes and device
// errors are rows of `events`; the last full sample is in `latest` (rewritten at most once a
// minute, and at close). One file, WAL mode, no temporary files (temp_store in memory).
//
// Storage trouble never escapes record() or compact(): a failed write (no space, no inode, EIO,
// read-only) is counted in writeErrors and the samples wait in memory (the last hour) until a
// write works again. An unusable path at open() throws HistoryOpenError; a full filesystem at
// open() does not: the history starts in memory and opens the file when there is room. With
// readOnly (doctor) it only reads, creating nothing (history-store.ts, openReadOnly).
import path from 'node:path';
import type { Point, Resource, Sample } from './types.js';
import {
  type Cols, type Entry, type RecentPoints, type SegState, type StoredResource, FORECAST_RESOURCES, RESET, aggregate, unchangedSince, bytes, decodeChunk,
  decodeRecent, emptyCols, encodeChunk, encodeRecent, extract, forget, labelsOf, mergeCols, newState, pushPoint, restore, seriesKey, splitKey,
} from './history-data.js';
import { type Db, type Stmt, BROKEN, HistoryOpenError, codeOf, describe, isFull, openDatabase, openReadOnly } from './history-store.js';
import { compareText } from '../shared/text.js';

export type { StoredResource } from './history-data.js';
export { HistoryOpenError } from './history-store.js';

/** A point as the history returns it; aggregates also carry min and max of used over `span` s. */
export interface HistoryPoint extends Point { min?: number; max?: number; span?: number }

export const RAW_SECONDS = 48 * 3600;
export const FIVE_MINUTE_SECONDS = 90 * 86400;
export const HOURLY_SECONDS = 730 * 86400;
/** how long samples wait in memory while writing fails */
export const PENDING_SECONDS = 3600;
const PENDING_MAX = 1440;
/** per level: the window of one chunk, the width of one aggregate (0: raw) */
const LEVELS = [{ window: 3600, bucket: 0 }, { window: 86400, bucket: 300 }, { window: 30 * 86400, bucket: 3600 }] as const;
const NEVER = Number.MAX_SAFE_INTEGER;

export interface HistoryOptions {
  /** seconds between two writes of the latest sample (default 60; 0: every sample) */
  latestEverySeconds?: number;
  /** read an existing database, creating and writing nothing (openReadOnly): record and compact do nothing */
  readOnly?: boolean;
}

export class History {
  private db: Db | null = null;
  private readonly ids = new Map<string, number>();
  private readonly keys = new Map<number, string>();
  private state: SegState = newState();
  /** raw points written since the last seal, per series id */
  private readonly open = new Map<number, Cols>();
  private openMin = Infinity;
  private queue: Array<Entry & { index?: Map<string, number> }> = [];
  private latestSample: Sample | null = null;
  private latestWrittenT = -Infinity;
  private lastT = -Infinity;
  private writtenT = -Infinity;
  private compactedHour = -1;
  private closed = false;
  private readonly latestEvery: number;
  private readonly readOnly: boolean;
  /** prepared once per connection: libsql frees a statement's memory only when it is garbage */
  private stmts = new Map<string, Stmt>();
  /** failed writes (record, compact, close): enospc_history_write_errors_total */
  writeErrors = 0;
  lastWriteError: string | null = null;

  private constructor(readonly file: string, opts: HistoryOptions) {
    this.latestEvery = opts.latestEverySeconds ?? 60;
    this.readOnly = opts.readOnly ?? false;
  }

  /** Open (or create; readOnly: only open) the history at `file`; throws HistoryOpenError when the path cannot be used. */
  static open(file: string, opts: HistoryOptions = {}): History {
    const h = new History(path.resolve(file), opts);
    h.connect(true);
    return h;
  }

  /** samples waiting in memory for a write that works */
  get queued(): number { return this.queue.length; }

  /** Whether the database is open (false while a full filesystem keeps it in memory). */
  get connected(): boolean { return this.db !== null; }

  private connect(first: boolean): boolean {
    const dir = path.dirname(this.file);
    let db: Db | null = null;
    try {
      this.stmts = new Map();
      db = this.readOnly ? openReadOnly(this.file) : openDatabase(this.file, (d, sql) => this.st(d, sql));
      this.load(db);
      this.db = db;
      return true;
    } catch (e) {
      try { db?.close(); } catch { /* closing what failed */ }
      if (first && (this.readOnly || !isFull(e, dir))) throw new HistoryOpenError(this.file, describe(e), { cause: e });
      this.lastWriteError = describe(e);
      return false;
    }
  }

  /** What the database knows; memory that is newer (samples recorded while it was shut) wins. */
  private load(db: Db): void {
    const ids = new Map<string, number>();
    for (const [id, resource, target, labels, seg] of this.st(db, 'SELECT id, resource, target, labels, seg FROM series').all([]) as Array<[number, string, string, string, string | null]>) {
      ids.set(seriesKey(resource, target), id);
      restore(this.state, resource, target, labels, seg);
    }
    const events = this.st(db, 'SELECT kind, target, value FROM events WHERE rowid IN (SELECT max(rowid) FROM events GROUP BY kind, target) ORDER BY rowid').all([]) as Array<[string, string, string]>;
    for (const [kind, target, value] of events) {
      if (kind === 'boot') this.state.boot ??= value;
      if (kind === 'mount' && !this.state.mounts.has(target)) this.state.mounts.set(target, { id: Number(value), error: false });
    }
    for (const [kind, target, value] of events) {
      const m = this.state.mounts.get(target);
      if (kind === 'device_error' && m) m.error = value === '1';
    }
    this.ids.clear(); this.keys.clear(); this.open.clear(); this.openMin = Infinity;
    for (const [key, id] of ids) { this.ids.set(key, id); this.keys.set(id, key); }
    let last = (this.st(db, 'SELECT max(t1) FROM chunks').get([]) as [number | null])[0] ?? -Infinity;
    for (const [t, blob] of this.st(db, 'SELECT t, points FROM recent ORDER BY t').all([]) as Array<[number, unknown]>) {
      this.addOpen(t, decodeRecent(bytes(blob)));
      last = Math.max(last, t);
    }
    this.writtenT = last;
    this.lastT = Math.max(this.lastT, last);
  }

  private addOpen(t: number, p: RecentPoints): void {
    for (let i = 0; i < p.ids.length; i++) {
      let c = this.open.get(p.ids[i]!);
      if (!c) this.open.set(p.ids[i]!, c = emptyCols());
      c.t.push(t); c.used.push(p.used[i]!); c.lim.push(Number.isNaN(p.lim[i]) ? null : p.lim[i]!); c.flags.push(p.flags[i]!);
    }
    if (p.ids.length) this.openMin = Math.min(this.openMin, t);
  }

  /** A prepared statement of this connection; readers return rows as arrays. */
  private st(db: Db, sql: string): Stmt {
    let s = this.stmts.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (s.reader) s.raw();
      this.stmts.set(sql, s);
    }
    return s;
  }

  private tx(fn: (db: Db) => void): void {
    const db = this.db!;
    db.exec('BEGIN IMMEDIATE');
    try {
      fn(db);
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) try { db.exec('ROLLBACK'); } catch { /* rolled back already */ }
      throw e;
    }
  }

  private fail(e: unknown): void {
    this.writeErrors++;
    this.lastWriteError = describe(e);
    if (this.db && BROKEN.test(codeOf(e))) {
      try { this.db.close(); } catch { /* it is being dropped */ }
      this.db = null;
      this.stmts = new Map();
    }
  }

  /** Store one sample. Never throws: when writing fails it waits in memory (see writeErrors). */
  record(sample: Sample): void {
    if (this.closed || this.readOnly) return;
    try {
      const t = Math.floor(sample.t);
      if (!(t > this.lastT)) return; // not after the last one (the clock stepped back): dropped
      this.lastT = t;
      this.latestSample = sample;
      this.queue.push(extract(sample, t, this.state));
      this.bound();
      this.flush();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Keep the last hour of unwritten samples; a reset flag of a dropped one passes to the next. */
  private bound(): void {
    const newest = this.queue[this.queue.length - 1]!.t;
    while (this.queue.length > PENDING_MAX || this.queue[0]!.t < newest - PENDING_SECONDS) {
      const gone = this.queue.shift()!, next = this.queue[0]!, at = new Map(next.keys.map((k, i) => [k, i]));
      gone.keys.forEach((k, i) => {
        const j = at.get(k);
        if (j !== undefined) next.flags[j]! |= gone.flags[i]!;
      });
      next.events.unshift(...gone.events);
      next.segs.unshift(...gone.segs);
      next.defs.unshift(...gone.defs);
    }
  }

  /** Write what waits in memory; false when it could not (counted in writeErrors). */
  flush(force = false): boolean {
    const latestDue = this.latestSample !== null && this.latestSample.t > this.latestWrittenT &&
      (force || this.latestSample.t - this.latestWrittenT >= this.latestEvery);
    if (!this.queue.length && !latestDue) return true;
    if (!this.db && !this.connect(false)) { this.writeErrors++; return false; }
    try {
      while (this.queue.length) {
        const e = this.queue[0]!;
        if (e.t > this.writtenT) {
          const ids = new Map<string, number>(), sids: number[] = [];
          this.tx((db) => this.writeEntry(db, e, ids, sids));
          for (const [k, id] of ids) { this.ids.set(k, id); this.keys.set(id, k); }
          this.addOpen(e.t, { ...e, ids: sids });
          this.writtenT = e.t;
        }
        this.queue.shift();
      }
      if (latestDue) {
        const s = this.latestSample!;
        this.tx((db) => this.st(db, 'INSERT INTO latest(id, t, sample) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET t = excluded.t, sample = excluded.sample').run([s.t, JSON.stringify(s)]));
        this.latestWrittenT = s.t;
      }
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  /** Write one entry; `ids` gets the ids of new series, `sids` the series id of each point. */
  private writeEntry(db: Db, e: Entry, ids: Map<string, number>, sids: number[]): void {
    const upsert = this.st(db, 'INSERT INTO series(resource, target, labels) VALUES (?, ?, ?) ON CONFLICT(resource, target) DO UPDATE SET labels = excluded.labels RETURNING id');
    const idOf = (key: string): number => {
      let id = this.ids.get(key) ?? ids.get(key);
      if (id === undefined) {
        const { resource, target } = splitKey(key);
        id = (upsert.get([resource, target, labelsOf(this.state, key)]) as [number])[0];
        ids.set(key, id);
      }
      return id;
    };
    for (const d of e.defs) ids.set(d.key, (upsert.get([d.resource, d.target, d.labels]) as [number])[0]);
    const seg = this.st(db, 'UPDATE series SET seg = ? WHERE id = ?');
    for (const [key, s] of e.segs) seg.run([s, idOf(key)]);
    sids.length = 0;
    for (const k of e.keys) sids.push(idOf(k));
    this.st(db, 'INSERT OR REPLACE INTO recent(t, points) VALUES (?, ?)').run([e.t, encodeRecent({ ...e, ids: sids })]);
    const ev = this.st(db, 'INSERT INTO events(t, kind, target, value) VALUES (?, ?, ?, ?)');
    for (const x of e.events) ev.run([e.t, x.kind, x.target, x.value]);
  }

  /**
   * Seal past hours into chunks, age raw points into 5-minute and hourly aggregates, drop what is
   * past its retention, checkpoint the WAL. The agent calls it every 5 minutes. Never throws.
   */
  compact(now = Date.now() / 1000): boolean {
    if (this.closed || this.readOnly || !this.flush() || !this.db) return false;
    try {
      const boundary = Math.floor(now / 3600) * 3600;
      if (this.openMin < boundary) {
        this.tx((db) => this.seal(db, boundary));
        this.openMin = Infinity;
        for (const [id, c] of this.open) {
          const k = c.t.findIndex((t) => t >= boundary);
          if (k < 0) { this.open.delete(id); continue; }
          for (const col of [c.t, c.used, c.lim, c.flags]) col.splice(0, k);
          this.openMin = Math.min(this.openMin, c.t[0]!);
        }
      }
      if (boundary !== this.compactedHour) {
        this.tx((db) => this.age(db, now));
        this.compactedHour = boundary;
        const [free, pages] = this.st(this.db, 'SELECT freelist_count, page_count FROM pragma_freelist_count, pragma_page_count').get([]) as [number, number];
        if (free > 1024 && free > pages / 4) this.db.exec('PRAGMA incremental_vacuum');
      }
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  private merge(db: Db, id: number, level: number, t0: number, c: Cols): void {
    const old = this.st(db, 'SELECT data FROM chunks WHERE series_id = ? AND level = ? AND t0 = ?').get([id, level, t0]) as [unknown] | undefined;
    const all = old === undefined ? c : mergeCols(decodeChunk(bytes(old[0])), c);
    this.st(db, 'INSERT OR REPLACE INTO chunks(series_id, level, t0, t1, n, data) VALUES (?, ?, ?, ?, ?, ?)')
      .run([id, level, t0, all.t[all.t.length - 1]!, all.t.length, encodeChunk(all)]);
  }

  private seal(db: Db, boundary: number): void {
    for (const [id, c] of this.open) {
      let part = emptyCols(), hour = -1;
      for (let i = 0; i < c.t.length && c.t[i]! < boundary; i++) {
        const h = Math.floor(c.t[i]! / 3600) * 3600;
        if (h !== hour && part.t.length) { this.merge(db, id, 0, hour, part); part = emptyCols(); }
        hour = h;
        pushPoint(part, c, i);
      }
      if (part.t.length) this.merge(db, id, 0, hour, part);
    }
    this.st(db, 'DELETE FROM recent WHERE t < ?').run([boundary]);
  }

  /** Per series (by its key, not a scan of every chunk): raw hours into 5-minute aggregates, days into hourly ones, old months out. */
  private age(db: Db, now: number): void {
    const cuts = [now - RAW_SECONDS, now - FIVE_MINUTE_SECONDS], cut = now - HOURLY_SECONDS;
    const due = this.st(db, 'SELECT t0, data FROM chunks WHERE series_id = ? AND level = ? AND t0 <= ?');
    const del = this.st(db, 'DELETE FROM chunks WHERE series_id = ? AND level = ? AND t0 = ?');
    const expire = this.st(db, 'DELETE FROM chunks WHERE series_id = ? AND level = 2 AND t0 <= ?');
    for (const id of this.ids.values()) {
      for (const level of [0, 1]) {
        const next = LEVELS[level + 1]!;
        for (const [t0, data] of due.all([id, level, cuts[level]! - LEVELS[level]!.window]) as Array<[number, unknown]>) {
          this.merge(db, id, level + 1, Math.floor(t0 / next.window) * next.window, aggregate(decodeChunk(bytes(data)), next.bucket));
          del.run([id, level, t0]);
        }
      }
      expire.run([id, cut - LEVELS[2].window]);
    }
    this.st(db, 'DELETE FROM events WHERE t < ? AND rowid NOT IN (SELECT max(rowid) FROM events GROUP BY kind, target)').run([cut]);
    const empty = this.st(db, 'SELECT id FROM series WHERE NOT EXISTS (SELECT 1 FROM chunks WHERE series_id = series.id)').all([]) as Array<[number]>;
    const drop = this.st(db, 'DELETE FROM series WHERE id = ?');
    for (const [id] of empty) {
      if (this.open.has(id)) continue;
      drop.run([id]);
      const key = this.keys.get(id);
      if (key === undefined) continue;
      this.keys.delete(id); this.ids.delete(key); forget(this.state, key);
    }
  }

  /**
   * The points of a series from `since` to `until` (Unix s), oldest first: raw points where they
   * are kept, aggregates further back (used is the last of the bucket, with min, max and span),
   * samples still waiting in memory last. `reset` marks the first point of a segment.
   */
  series(resource: StoredResource, target: string, since: number, until = NEVER): HistoryPoint[] {
    const key = seriesKey(resource, target), id = this.ids.get(key);
    const parts: Array<{ c: Cols; span: number }> = [];
    if (id !== undefined && this.db) {
      try {
        const rows = this.st(this.db, 'SELECT level, data FROM chunks WHERE series_id = ? AND t1 >= ? AND t0 <= ?').all([id, Math.floor(since), Math.min(NEVER, Math.ceil(until))]) as Array<[number, unknown]>;
        for (const [level, data] of rows) parts.push({ c: decodeChunk(bytes(data)), span: LEVELS[level]!.bucket });
      } catch { /* unreadable: what memory holds */ }
    }
    if (id !== undefined && this.open.has(id)) parts.push({ c: this.open.get(id)!, span: 0 });
    const out: HistoryPoint[] = [];
    for (const { c, span } of parts) {
      for (let i = 0; i < c.t.length; i++) {
        if (c.t[i]! < since || c.t[i]! > until) continue;
        const p: HistoryPoint = { t: c.t[i]!, used: c.used[i]!, limit: c.lim[i]! };
        if (c.flags[i]! & RESET) p.reset = true;
        if (span) Object.assign(p, { min: c.min![i]!, max: c.max![i]!, span });
        out.push(p);
      }
    }
    for (const e of this.queue) {
      e.index ??= new Map(e.keys.map((k, i) => [k, i]));
      const i = e.index.get(key);
      if (i === undefined || e.t < since || e.t > until || e.t <= this.writtenT) continue;
      const p: HistoryPoint = { t: e.t, used: e.used[i]!, limit: Number.isNaN(e.lim[i]) ? null : e.lim[i]! };
      if (e.flags[i]! & RESET) p.reset = true;
      out.push(p);
    }
    return out.sort((a, b) => a.t - b.t);
  }

  /** Since when a series has had the value of its last point, as recorded this run (undefined: not known). */
  unchangedSince(resource: Resource, target: string): number | undefined {
    return unchangedSince(this.state, resource, target);
  }

  /** The series the forecaster reads (inodes, blocks, inotify_watches, pattern), sorted. */
  targets(): Array<{ resource: Resource; target: string }> {
    const keys = new Set(this.ids.keys());
    for (const e of this.queue) for (const k of e.keys) keys.add(k);
    return [...keys].map(splitKey).filter((s): s is { resource: Resource; target: string } => FORECAST_RESOURCES.has(s.resource))
      .sort((a, b) => compareText(a.resource, b.resource) || compareText(a.target, b.target));
  }

  /** The last sample recorded (this run, or from the database after a restart). */
  latest(): Sample | null {
    if (this.latestSample || !this.db) return this.latestSample;
    try {
      const row = this.st(this.db, 'SELECT sample FROM latest WHERE id = 1').get([]) as [string] | undefined;
      if (row) this.latestSample = JSON.parse(row[0]) as Sample;
      if (this.latestSample) this.latestWrittenT = this.latestSample.t;
    } catch { /* unreadable: none */ }
    return this.latestSample;
  }

  /** Write what waits and close the file; samples that still cannot be written are lost (counted). */
  close(): void {
    if (this.closed) return;
    if (!this.readOnly) this.flush(true);
    this.closed = true;
    // libsql closes the connection only once its statements are garbage (at exit, never): the
    // -wal and -shm files stay, the WAL empty
    try { if (!this.readOnly) this.db?.exec('PRAGMA wal_checkpoint(TRUNCATE)'); this.db?.close(); } catch (e) { this.fail(e); }
    this.db = null;
  }
}
