// What the agent knows at one moment (a sample), what it keeps over time (series), and what it
// says about the future (forecasts). The sampler makes samples, the history stores them, the
// forecaster reads series, and the exporter and the API render the latest of everything.
import type { Fix } from '../shared/fix.js';

/** One mount at one sample (statfs; null figures when it failed or timed out). */
export interface MountSample {
  device: string;
  mountpoint: string;
  fstype: string;
  /** statfs f_files / f_ffree; 0 files: the filesystem reports no inode limit (btrfs...) */
  files: number | null;
  filesFree: number | null;
  sizeBytes: number | null;
  availBytes: number | null;
  /** statfs failed or did not answer within its timeout */
  deviceError: boolean;
  /** tmpfs only: nr_inodes per GiB of size, and whether inode64 is on */
  tmpfs: { nrInodesPerGib: number; inode64: boolean } | null;
  /** changes on every (re)mount: a new segment of its series starts (the unique ID from Linux 6.8; mountinfo's, reused, before) */
  mountId: number;
}

/** One user's inotify, fanotify and epoll use. */
export interface UserWatchSample {
  user: string;
  uid: number;
  inotifyWatches: number;
  inotifyInstances: number;
  fanotifyMarks: number;
  epollWatches: number;
  /** the processes holding the most inotify watches (at most 5), most first */
  top?: Array<{ pid: number; comm: string; watches: number; instances: number }>;
}

/** A top name pattern of a watched path, from the last census. */
export interface PatternSample {
  mountpoint: string;
  pattern: string;
  files: number;
  /** files whose creator is gone or that are old and open in no process; null when that could not be judged */
  orphans: number | null;
  /** owners by entries, most first (user names) */
  owners: string[];
  /** the known producer, from the culprit signatures, when one matches */
  producer: string | null;
}

export interface Sample {
  /** Unix time, seconds */
  t: number;
  /** boot ID: a new one starts a new segment of every series */
  bootId: string;
  mounts: MountSample[];
  users: UserWatchSample[];
  /** when `users` was read, when before this sample (the reading is spaced out where it is dear; not written again to the history) */
  usersAt?: number;
  limits: { inotifyWatches: number | null; inotifyInstances: number | null };
  /** kernel tables (ipc.sem, ipc.shm, ipc.msg, mqueue.queues, pty.count, ...): used and limit */
  tables: Array<{ table: string; used: number | null; limit: number | null }>;
  /** from the last census (not every sample has one) */
  patterns: PatternSample[];
  /**
   * From the last census, per censused mount: distinct files sharing an inode number (null when
   * not compared), the highest inode number seen, and whether it is a tmpfs whose 32-bit numbers
   * wrap (no inode64: its highest number is kept as the series inode_numbers)
   */
  inodeNumbers?: Array<{ mountpoint: string; collisions: number | null; maxIno: number | null; wraps: boolean }>;
  /** ID-mapped layer copies per store and image (hourly) */
  idmappedCopies: Array<{ store: string; image: string; copies: number }>;
  /** current doctor findings at warning or worse, with doctor's evidence and fixes (as in doctor --json) */
  findings: Array<{ check: string; severity: 'warning' | 'critical'; target: string; title: string; evidence?: object; fix?: Fix[] }>;
  /** system calls that failed with ENOSPC since the agent started (root, with system-call tracing; absent otherwise) */
  errors?: {
    /** by command (the first 20 commands seen, then "other"), call, and cause (a check id or "unattributed") */
    totals: Array<{ comm: string; syscall: string; cause: string; count: number }>;
    /** failures the kernel could not hand over (its buffer was full) */
    lost: number;
  };
  /** how each collector went this time */
  collectors: Array<{ collector: string; seconds: number; success: boolean }>;
}

/** A series the agent forecasts: resource and target name it as the metrics do. */
export type Resource = 'inodes' | 'blocks' | 'inotify_watches' | 'pattern' | 'inode_numbers';

/**
 * A 32-bit tmpfs's highest inode number is kept as the series inode_numbers once it is past
 * this (half of 2^32): years ahead of the wrap on most hosts, weeks of history before doctor's
 * warning at 90%, and no series (no cost) on the hosts where the wrap is far off.
 */
export const INODE_NUMBERS_FROM = 2 ** 31;

/**
 * One point of a series: time (s), use, and the limit it runs into (null: none known); `reset`:
 * the point starts a new segment (a new boot ID, a remount or a changed limit).
 */
export interface Point { t: number; used: number; limit: number | null; reset?: boolean }

export type ForecastState = 'insufficient_data' | 'not_growing' | 'filling';

export interface Forecast {
  resource: Resource;
  /** mount point, user, or "mountpoint:pattern" */
  target: string;
  state: ForecastState;
  /** insufficient_data: how many more samples, or how much more time (s), before a forecast */
  needSamples?: number;
  needSeconds?: number;
  /** filling: when the limit is reached, expected and at the earliest (Unix s) */
  exhaustionAt?: number;
  earliestAt?: number;
  /** the trend (use per second) and its interval; the span and samples it was judged on */
  slopePerSecond: number | null;
  slopeLow: number | null;
  slopeHigh: number | null;
  samples: number;
  spanSeconds: number;
  /** when the segment judged began (a reboot, a remount or a change of the limit starts one) */
  segmentStart: number;
}

/** GET /api/status: what the page needs to know about the agent itself (docs/json.md). */
export interface AgentStatus {
  version: string;
  host: string;
  /** the agent's clock (Unix s), so a page can tell staleness whatever the browser's clock */
  now: number;
  startedAt: number;
  /** the time of the last sample, null before the first */
  sampleAt: number | null;
  intervalS: number;
  censusIntervalS: number;
}
