// What the history keeps, and in which form.
//
// Of a sample: one point per series (inodes and blocks per mount, inotify watches and instances
// per user, files and orphans per top pattern), each flagged when it starts a new segment (a new
// boot ID, a new mount ID or a changed limit), and events: a new boot ID, a mount's new mount
// ID, a mount's device error coming or going.
//
// Binary forms. A chunk is one series over a fixed window (an hour of raw points, a day of
// 5-minute aggregates, 30 days of hourly ones): column by column, times and values as zigzag
// varint deltas, then deflated; a series that does not change costs a few bytes an hour. A
// recent row is one sample's points of every series, undeflated (it lives an hour at most).
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { INODE_NUMBERS_FROM, type Resource, type Sample } from './types.js';

/** Points of one series, column by column; min and max only in aggregates (levels 1 and 2). */
export interface Cols {
  t: number[];
  used: number[];
  lim: Array<number | null>;
  /** bit 0: the point starts a new segment (new boot, remount, changed limit) */
  flags: number[];
  min?: number[];
  max?: number[];
}

export const RESET = 1;

export const emptyCols = (agg = false): Cols =>
  agg ? { t: [], used: [], lim: [], flags: [], min: [], max: [] } : { t: [], used: [], lim: [], flags: [] };

class Enc {
  buf = new Uint8Array(1024);
  n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }
  /** unsigned, up to 2^53 */
  uv(x: number): void {
    this.room(8);
    if (x < 128) { this.buf[this.n++] = x; return; }
    while (x >= 128) { this.buf[this.n++] = (x % 128) | 128; x = Math.floor(x / 128); }
    this.buf[this.n++] = x;
  }
  /** signed (zigzag) */
  sv(x: number): void { this.uv(x >= 0 ? x * 2 : -x * 2 - 1); }
  bytes(): Uint8Array { return this.buf.subarray(0, this.n); }
}

class Dec {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  uv(): number {
    let x = 0, m = 1, b: number;
    do {
      if (this.pos >= this.buf.length) throw new Error('history: truncated record');
      b = this.buf[this.pos++]!;
      x += (b & 127) * m;
      m *= 128;
    } while (b & 128);
    return x;
  }
  sv(): number { const z = this.uv(); return z % 2 ? -(z + 1) / 2 : z / 2; }
  get done(): boolean { return this.pos >= this.buf.length; }
}

/** A BLOB as libsql hands it back (Buffer, or ArrayBuffer when plucked). */
export function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new Error('history: a blob was expected');
}

const CHUNK_VERSION = 1;

export function encodeChunk(c: Cols): Buffer {
  const e = new Enc(), n = c.t.length, agg = c.min !== undefined && c.max !== undefined;
  e.uv(CHUNK_VERSION); e.uv(n); e.uv(agg ? 1 : 0);
  for (let i = 0; i < n; i++) e.sv(c.t[i]! - (i ? c.t[i - 1]! : 0));
  for (let i = 0; i < n; i++) e.sv(c.used[i]! - (i ? c.used[i - 1]! : 0));
  if (agg) {
    for (let i = 0; i < n; i++) e.uv(c.used[i]! - c.min![i]!);
    for (let i = 0; i < n; i++) e.uv(c.max![i]! - c.used[i]!);
  }
  for (let i = 0; i < n; i++) e.sv((c.lim[i] ?? -1) - (i ? c.lim[i - 1] ?? -1 : -1));
  for (let i = 0; i < n; i++) e.uv(c.flags[i]!);
  return deflateRawSync(e.bytes(), { level: 1 });
}

export function decodeChunk(blob: Uint8Array): Cols {
  const d = new Dec(inflateRawSync(blob));
  if (d.uv() !== CHUNK_VERSION) throw new Error('history: unknown chunk version');
  const n = d.uv(), agg = d.uv() === 1, c = emptyCols(agg);
  for (let i = 0, p = 0; i < n; i++) c.t.push(p += d.sv());
  for (let i = 0, p = 0; i < n; i++) c.used.push(p += d.sv());
  if (agg) {
    for (let i = 0; i < n; i++) c.min!.push(c.used[i]! - d.uv());
    for (let i = 0; i < n; i++) c.max!.push(c.used[i]! + d.uv());
  }
  for (let i = 0, p = -1; i < n; i++) { p += d.sv(); c.lim.push(p === -1 ? null : p); }
  for (let i = 0; i < n; i++) c.flags.push(d.uv());
  return c;
}

/** Append point i of `from` to `to` (min and max default to used for raw points). */
export function pushPoint(to: Cols, from: Cols, i: number): void {
  to.t.push(from.t[i]!); to.used.push(from.used[i]!); to.lim.push(from.lim[i]!); to.flags.push(from.flags[i]!);
  if (to.min) { to.min.push(from.min?.[i] ?? from.used[i]!); to.max!.push(from.max?.[i] ?? from.used[i]!); }
}

/** The points of both, by time; on equal times `b`'s point wins. */
export function mergeCols(a: Cols, b: Cols): Cols {
  const out = emptyCols(a.min !== undefined || b.min !== undefined);
  let i = 0, j = 0;
  while (i < a.t.length || j < b.t.length) {
    if (j >= b.t.length || (i < a.t.length && a.t[i]! < b.t[j]!)) pushPoint(out, a, i++);
    else { if (i < a.t.length && a.t[i] === b.t[j]) i++; pushPoint(out, b, j++); }
  }
  return out;
}

/**
 * Aggregates per `width` seconds: min and max of used, the last used and limit (at the time of
 * the last point of the bucket), and a reset when any point of the bucket had one.
 */
export function aggregate(c: Cols, width: number): Cols {
  const out = emptyCols(true);
  for (let i = 0; i < c.t.length; i++) {
    const bucket = Math.floor(c.t[i]! / width), k = out.t.length - 1;
    const lo = c.min?.[i] ?? c.used[i]!, hi = c.max?.[i] ?? c.used[i]!;
    if (k >= 0 && Math.floor(out.t[k]! / width) === bucket) {
      out.t[k] = c.t[i]!; out.used[k] = c.used[i]!; out.lim[k] = c.lim[i]!;
      out.min![k] = Math.min(out.min![k]!, lo); out.max![k] = Math.max(out.max![k]!, hi);
      out.flags[k] = out.flags[k]! | c.flags[i]!;
    } else {
      out.t.push(c.t[i]!); out.used.push(c.used[i]!); out.lim.push(c.lim[i]!);
      out.min!.push(lo); out.max!.push(hi); out.flags.push(c.flags[i]!);
    }
  }
  return out;
}

/** One sample's points of every series, as a recent row holds them (lim NaN: none). */
export interface RecentPoints { ids: ArrayLike<number>; used: ArrayLike<number>; lim: ArrayLike<number>; flags: ArrayLike<number> }

/** One sample's points: series ids, used, limits (NaN: none), flags. */
export function encodeRecent({ ids, used, lim, flags }: RecentPoints): Uint8Array {
  const e = new Enc();
  e.uv(CHUNK_VERSION);
  for (let i = 0; i < ids.length; i++) { e.uv(ids[i]!); e.uv(flags[i]!); e.sv(used[i]!); e.uv(Number.isNaN(lim[i]) ? 0 : lim[i]! + 1); }
  return e.bytes().slice();
}

export function decodeRecent(blob: Uint8Array): RecentPoints {
  const d = new Dec(blob), ids: number[] = [], used: number[] = [], lim: number[] = [], flags: number[] = [];
  if (d.uv() !== CHUNK_VERSION) throw new Error('history: unknown recent row version');
  while (!d.done) {
    ids.push(d.uv()); flags.push(d.uv()); used.push(d.sv());
    const l = d.uv();
    lim.push(l === 0 ? NaN : l - 1);
  }
  return { ids, used, lim, flags };
}

/** The 32-bit tmpfs of a sample whose highest inode number is kept as the series inode_numbers (past INODE_NUMBERS_FROM). */
export function inodeNumbersKept(s: Sample): Array<{ mountpoint: string; maxIno: number }> {
  return (s.inodeNumbers ?? []).flatMap((n) => (n.wraps && n.maxIno !== null && n.maxIno >= INODE_NUMBERS_FROM ? [{ mountpoint: n.mountpoint, maxIno: n.maxIno }] : []));
}

/** Every series the history keeps: the forecast resources, and two it only stores. */
export type StoredResource = Resource | 'inotify_instances' | 'pattern_orphans';

export const FORECAST_RESOURCES: ReadonlySet<string> = new Set<Resource>(['inodes', 'blocks', 'inotify_watches', 'pattern', 'inode_numbers']);

/** The key of a series in memory: resource and target, joined by a NUL (never in a resource). */
export const seriesKey = (resource: string, target: string): string => `${resource}\0${target}`;
export const splitKey = (key: string): { resource: StoredResource; target: string } => {
  const i = key.indexOf('\0');
  return { resource: key.slice(0, i) as StoredResource, target: key.slice(i + 1) };
};

/** A series' labels (device and fstype of a mount, uid of a user, mountpoint and pattern of a pattern). */
export interface SeriesDef { key: string; resource: StoredResource; target: string; labels: string }

export interface HistoryEvent { kind: 'boot' | 'mount' | 'device_error'; target: string; value: string }

/** One sample as it is written, or waits in memory while writing fails. */
export interface Entry {
  t: number;
  keys: string[];
  used: Float64Array;
  /** NaN: no limit known */
  lim: Float64Array;
  flags: Uint8Array;
  /** series whose segment changed (written to series.seg) */
  segs: Array<[string, string]>;
  /** series that are new or whose labels changed */
  defs: SeriesDef[];
  events: HistoryEvent[];
}

/** A series as the last sample left it: its segment (boot ID, mount ID, limit) and labels. */
interface SeriesState {
  key: string;
  boot: string | null;
  mount: number | string;
  lim: number | null;
  labels: Array<string | number> | null;
  json: string;
  /** the time of its last point (a second point at one time is dropped) */
  t: number;
  /** its last value, and since when it has had it (a new segment counts as a change); not kept over a restart */
  v?: number;
  since?: number;
}

/** What the next sample is compared with: kept in memory, loaded from the database at open. */
export interface SegState {
  boot: string | null;
  mounts: Map<string, { id: number; error: boolean }>;
  /** resource -> target -> state */
  series: Map<string, Map<string, SeriesState>>;
}

export const newState = (): SegState => ({ boot: null, mounts: new Map(), series: new Map() });

function stateOf(state: SegState, resource: string, target: string): SeriesState {
  let byTarget = state.series.get(resource);
  if (!byTarget) state.series.set(resource, byTarget = new Map());
  let s = byTarget.get(target);
  if (!s) byTarget.set(target, s = { key: seriesKey(resource, target), boot: null, mount: '', lim: null, labels: null, json: '{}', t: -Infinity });
  return s;
}

/** A series as the database has it (labels JSON, segment "boot|mount|limit"), unless memory knows it already. */
export function restore(state: SegState, resource: string, target: string, json: string, seg: string | null): void {
  if (state.series.get(resource)?.has(target)) return;
  const s = stateOf(state, resource, target);
  s.json = json;
  s.labels = Object.values(JSON.parse(json) as Record<string, string | number>);
  if (seg === null) return;
  const i = seg.lastIndexOf('|'), j = seg.lastIndexOf('|', i - 1), mount = seg.slice(j + 1, i), lim = seg.slice(i + 1);
  s.boot = seg.slice(0, j);
  s.mount = mount === '' ? '' : Number(mount);
  s.lim = lim === '' ? null : Number(lim);
}

/** Since when a series has had its present value (this run), or undefined. */
export const unchangedSince = (state: SegState, resource: string, target: string): number | undefined =>
  state.series.get(resource)?.get(target)?.since;

export const labelsOf = (state: SegState, key: string): string => {
  const { resource, target } = splitKey(key);
  return state.series.get(resource)?.get(target)?.json ?? '{}';
};
export const forget = (state: SegState, key: string): void => {
  const { resource, target } = splitKey(key);
  state.series.get(resource)?.delete(target);
};

const num = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x);
const limit = (x: number | null | undefined): number | null => {
  const v = num(x);
  return v !== null && v > 0 ? v : null;
};
const MOUNT_LABELS = ['device', 'fstype'], USER_LABELS = ['uid'], PATTERN_LABELS = ['mountpoint', 'pattern'];

/** The entry of one sample; `state` moves on to it. */
export function extract(sample: Sample, t: number, state: SegState): Entry {
  const keys: string[] = [], used: number[] = [], lims: number[] = [], flags: number[] = [];
  const segs: Array<[string, string]> = [], defs: SeriesDef[] = [], events: HistoryEvent[] = [];
  const boot = sample.bootId;
  if (state.boot !== boot) { events.push({ kind: 'boot', target: '', value: boot }); state.boot = boot; }

  const add = (resource: StoredResource, target: string, names: string[], a: string | number, b: string | number, u: number | null, l: number | null, mount: number | string): void => {
    if (u === null) return;
    const s = stateOf(state, resource, target);
    if (s.t === t) return;
    s.t = t;
    const reset = s.boot !== boot || s.mount !== mount || s.lim !== l;
    if (reset) {
      s.boot = boot; s.mount = mount; s.lim = l;
      segs.push([s.key, `${boot}|${mount}|${l ?? ''}`]);
    }
    if (!s.labels || s.labels[0] !== a || (names.length > 1 && s.labels[1] !== b)) {
      s.labels = names.length > 1 ? [a, b] : [a];
      s.json = JSON.stringify(Object.fromEntries(names.map((n, i) => [n, s.labels![i]])));
      defs.push({ key: s.key, resource, target, labels: s.json });
    }
    if (reset || s.v !== u) { s.v = u; s.since = t; }
    keys.push(s.key); used.push(u); lims.push(l ?? NaN); flags.push(reset ? RESET : 0);
  };

  const mountFiles = new Map<string, { files: number | null; id: number }>();
  for (const m of sample.mounts) {
    const before = state.mounts.get(m.mountpoint);
    if (before?.id !== m.mountId) events.push({ kind: 'mount', target: m.mountpoint, value: String(m.mountId) });
    if ((before?.error ?? false) !== m.deviceError) events.push({ kind: 'device_error', target: m.mountpoint, value: m.deviceError ? '1' : '0' });
    if (before) { before.id = m.mountId; before.error = m.deviceError; } else state.mounts.set(m.mountpoint, { id: m.mountId, error: m.deviceError });
    const files = num(m.files), ffree = num(m.filesFree), size = num(m.sizeBytes), avail = num(m.availBytes);
    if (!mountFiles.has(m.mountpoint)) mountFiles.set(m.mountpoint, { files: limit(files), id: m.mountId });
    if (files !== null && ffree !== null) add('inodes', m.mountpoint, MOUNT_LABELS, m.device, m.fstype, files - ffree, limit(files), m.mountId);
    if (size !== null && avail !== null) add('blocks', m.mountpoint, MOUNT_LABELS, m.device, m.fstype, size - avail, limit(size), m.mountId);
  }
  // a 32-bit tmpfs's highest inode number seen, against the wrap at 2^32 (its pace is the counter's)
  for (const n of inodeNumbersKept(sample)) {
    const m = sample.mounts.find((x) => x.mountpoint === n.mountpoint);
    if (m) add('inode_numbers', n.mountpoint, MOUNT_LABELS, m.device, m.fstype, n.maxIno, 2 ** 32, m.mountId);
  }
  const watchLimit = limit(sample.limits.inotifyWatches), instanceLimit = limit(sample.limits.inotifyInstances);
  // the users' watches of an earlier reading are not written again
  for (const u of sample.usersAt === undefined ? sample.users : []) {
    const name = u.user || String(u.uid);
    add('inotify_watches', name, USER_LABELS, u.uid, '', num(u.inotifyWatches), watchLimit, '');
    add('inotify_instances', name, USER_LABELS, u.uid, '', num(u.inotifyInstances), instanceLimit, '');
  }
  for (const p of sample.patterns) {
    const target = `${p.mountpoint}:${p.pattern}`, m = mountFiles.get(p.mountpoint);
    add('pattern', target, PATTERN_LABELS, p.mountpoint, p.pattern, num(p.files), m?.files ?? null, m?.id ?? '');
    add('pattern_orphans', target, PATTERN_LABELS, p.mountpoint, p.pattern, num(p.orphans), null, m?.id ?? '');
  }
  return { t, keys, segs, defs, events, used: Float64Array.from(used), lim: Float64Array.from(lims), flags: Uint8Array.from(flags) };
}
