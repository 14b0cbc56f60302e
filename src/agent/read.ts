// The agent's history as the commands that only look at it read it: `enospc forecast` (every
// series) and `enospc doctor` (the series its findings are about). Doctor opens the database
// read-only and creates nothing (it runs when disks are full); whatever goes wrong is a reason
// in its result, never an exception.
import fs from 'node:fs';
import path from 'node:path';
import type { Finding } from '../checks/types.js';
import { forecast } from './forecast.js';
import { History, HistoryOpenError } from './history.js';
import type { Forecast, Resource } from './types.js';

/** How far back a forecast reads: its longest window, and the cleanup cycles it looks for. */
export const FORECAST_LOOKBACK_SECONDS = 7 * 86400;

/** The agent's last sample tells of ENOSPC failures up to this long after it (s); older, it is stale. */
const CAUGHT_FRESH_SECONDS = 900;

/** A forecast series: the resource and target the metrics name it by. */
export interface SeriesRef { resource: Resource; target: string }

const keyOf = (s: SeriesRef): string => `${s.resource}\0${s.target}`;

/** The forecast at `now` of every forecast series of the history, or of those of `only` it has. */
export function forecastsOf(h: History, now: number, only?: SeriesRef[]): Forecast[] {
  const wanted = only && new Set(only.map(keyOf));
  return h.targets().filter((t) => !wanted || wanted.has(keyOf(t)))
    .map((t) => forecast(t.resource, t.target, h.series(t.resource, t.target, now - FORECAST_LOOKBACK_SECONDS), now));
}

/** The mount point of `mountPoints` that holds `p` (the longest that is a prefix of it), or null. */
function mountHolding(p: string, mountPoints: string[]): string | null {
  let best: string | null = null;
  for (const mp of mountPoints) {
    const under = mp === '/' || p === mp || p.startsWith(`${mp}/`);
    if (under && (best === null || mp.length > best.length)) best = mp;
  }
  return best;
}

/**
 * The series a doctor finding is about, by check id (null: one the agent does not forecast).
 * The agent names mounts by mount point, users by name (the uid when there is none), patterns
 * as `mountpoint:pattern` (src/agent/history-data.ts, extract):
 *   inodes.full, tmpfs.nr-inodes-low            inodes of the mount point (the target)
 *   blocks.full, blocks.reserved, deleted-open  blocks of the mount point (size less what users
 *                                               may still use, against the size)
 *   inotify.watches                             inotify_watches of the user
 *   orphans                                     pattern of the mount holding the target directory
 *   tmpfs.inode32                               inode_numbers of the mount point (the highest
 *                                               number seen, against the wrap at 2^32)
 * Not mapped: inotify.instances (kept, not forecast), fanotify.marks and epoll.watches, the kernel
 * tables, container stores (ID-mapped copies have a pace of their own), tmpfs.inode-collision
 * (already wrong), ext4.dir-index and imagemagick.pixel-cache (no series).
 */
export function findingSeries(f: Finding, mountPoints: string[]): SeriesRef | null {
  switch (f.id) {
    case 'inodes.full':
    case 'tmpfs.nr-inodes-low':
      return { resource: 'inodes', target: f.target };
    case 'blocks.full':
    case 'blocks.reserved':
    case 'deleted-open':
      return { resource: 'blocks', target: f.target };
    case 'tmpfs.inode32':
      return { resource: 'inode_numbers', target: f.target };
    case 'inotify.watches':
      return { resource: 'inotify_watches', target: f.evidence.user || String(f.evidence.uid) };
    case 'orphans': {
      const mp = mountHolding(f.target, mountPoints);
      return mp === null ? null : { resource: 'pattern', target: `${mp}:${f.evidence.pattern}` };
    }
    default:
      return null;
  }
}

/** Where doctor's forecasts come from (`forecasts` in doctor --json). */
export interface ForecastSource {
  /** the agent's history database (--db) */
  source: string;
  /**
   * read: it was read, and each finding whose series it holds carries `forecast`; missing: there
   * is no database there (no agent runs here, or another --db); failed: it could not be read
   * (`error` says why)
   */
  state: 'read' | 'missing' | 'failed';
  /** why it could not be read (state failed), else null */
  error: string | null;
  /** when the forecasts were made (Unix s): what exhaustionAt and earliestAt are counted from */
  now: number;
  /**
   * system calls that failed with ENOSPC in the 5 minutes before the agent's last sample (agent
   * --catch), one per command and call; empty when there were none, when the agent does not
   * catch, or when its last sample is older than 15 minutes
   */
  caught: Array<{ target: string; title: string; at: number }>;
}

/** Doctor's forecasts: where they come from, and the forecast of each finding that has one. */
export interface DoctorForecasts extends ForecastSource {
  of: Map<Finding, Forecast>;
}

/**
 * The forecasts of doctor's `findings` from the history at `file`, read-only. `mountPoints`: the
 * mounts doctor looked at (an orphans finding is placed on one); `refuse`: a reason not to open
 * the file at all (it is on a mount that did not answer). Never throws.
 */
export function doctorForecasts(file: string, findings: Finding[], mountPoints: string[], opts: { now?: number; refuse?: string } = {}): DoctorForecasts {
  const source = path.resolve(file), now = opts.now ?? Date.now() / 1000, of = new Map<Finding, Forecast>();
  const failed = (error: string): DoctorForecasts => ({ source, state: 'failed', error, now, of, caught: [] });
  if (opts.refuse !== undefined) return failed(opts.refuse);
  try {
    fs.statSync(source);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { source, state: 'missing', error: null, now, of, caught: [] };
    return failed((e as Error).message);
  }
  let h: History;
  try {
    h = History.open(source, { readOnly: true });
  } catch (e) {
    return failed(e instanceof HistoryOpenError ? e.reason : (e as Error).message);
  }
  try {
    const refs = findings.map((f) => findingSeries(f, mountPoints));
    const made = new Map(forecastsOf(h, now, refs.filter((r) => r !== null)).map((f) => [keyOf(f), f]));
    findings.forEach((f, i) => {
      const fc = refs[i] ? made.get(keyOf(refs[i]!)) : undefined;
      if (fc) of.set(f, fc);
    });
    const last = h.latest();
    const caught = last && now - last.t <= CAUGHT_FRESH_SECONDS
      ? last.findings.filter((f) => f.check === 'enospc.caught').map((f) => ({ target: f.target, title: f.title, at: last.t }))
      : [];
    return { source, state: 'read', error: null, now, of, caught };
  } catch (e) {
    return failed((e as Error).message);
  } finally {
    h.close();
  }
}
