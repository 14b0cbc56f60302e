// The census's data: options, results, and what threads exchange.
import type { DirPath } from './walker.js';
import type { PackedPatterns } from './census-parts.js';
import type { WalkMount } from '../probe/mounts.js';
import type { CollisionReport, LinkSeen } from './collisions.js';

export type { CollisionReport, LinkSeen } from './collisions.js';

export interface CensusOptions {
  /** How many directories and patterns to keep (default 10). */
  limit?: number;
  /** statx every entry: owners, ages, bytes, hard links counted once. */
  stat?: boolean;
  crossMounts?: boolean;
  /** The mount points below the root (mountPointsBelow): skipped without being opened (see WalkOptions). */
  mountPoints?: WalkMount[];
  /** Stop after this many ms; the result is marked partial. */
  budgetMs?: number;
  onProgress?: (entries: number) => void;
  /** Directories per pattern to keep (default 5). */
  patternDirs?: number;
  /** Distinct patterns kept before the rarest are dropped (default 100000). */
  maxPatterns?: number;
  /** Inode numbers (on the scanned filesystem) that some process holds open: counted per pattern. */
  openInodes?: Set<number>;
  /** Regular files older than this many seconds (mtime) and not open count as `stale` per pattern. */
  staleAfter?: number;
  /**
   * Patterns whose names carry their creator's PID, with a regex whose first group is that PID
   * (`{ pattern: 'opam-*', regex: '^opam-(\\d+)-' }`): such names are counted by whether it
   * lives. Plain data, so that it reaches worker threads.
   */
  pidNames?: Array<{ pattern: string; regex: string }>;
  /** The PIDs alive now, for pidNames. */
  livePids?: Set<number>;
  /** Called after every getdents batch (for the parallel census's decision; keep it cheap). */
  onBatch?: (entries: number) => void;
  /** Directory fds kept open at once (default 256); tests lower it to exercise reopening. */
  fdWindow?: number;
  /** "now" for the age histogram, seconds since the epoch (default: the scan's start). */
  now?: number;
  /**
   * With stat: look for inode numbers held by distinct files (collisions.ts), keeping every
   * number met in an index (4-8 bytes each). For filesystems whose numbers can repeat
   * (numbersMayRepeat); ignored with crossMounts (numbers of two filesystems differ in meaning).
   * Hard links are always told from collisions by their attributes.
   */
  collisions?: boolean;
}

/** A directory in a top list; `ino` breaks ties so the lists do not depend on walk order. */
export interface DirCount { path: Buffer; inodes: number; direct: number; ino: number }
export interface PatternDir { path: Buffer; count: number; ino: number }
/** A path as bytes, or as the walker's chain of names, made into bytes only for the result (deep trees stay linear). */
export type PathRef = Buffer | DirPath;
/** DirCount and PatternDir while the census runs: paths not yet made into bytes. */
export interface DirAcc { path: PathRef; inodes: number; direct: number; ino: number }
export interface PatternDirAcc { path: PathRef; count: number; ino: number }
export interface PatternCount {
  /** the pattern's bytes */
  pattern: Buffer;
  count: number;
  files: number;
  dirs: number;
  /** the following are null unless the census stats */
  bytes: number | null;
  zeroByte: number | null;
  owners: Array<{ uid: number; count: number }> | null;
  oldest: number | null;
  newest: number | null;
  /** directories holding the most of them */
  topDirs: PatternDir[];
  /** how many directories hold at least one */
  dirCount: number;
  /** one full name of this pattern, as an example */
  example: Buffer;
  /** with stat and openInodes: how many are held open by some process */
  open: number | null;
  /** with stat and staleAfter: how many regular files are older than that and not open */
  stale: number | null;
  /** with pidNames: names whose PID is alive / not alive (null when the pattern has no PID) */
  pidAlive: number | null;
  pidDead: number | null;
  /** the largest inode number seen (with stat) */
  maxIno: number | null;
}
export interface AgeBucket { label: string; maxSeconds: number | null; count: number }

export interface CensusResult {
  root: string;
  stat: boolean;
  partial: boolean;
  elapsedMs: number;
  totals: {
    entries: number; files: number; dirs: number; symlinks: number; other: number; unreadable: number;
    mountsSkipped: number;
    /** distinct inodes (hard links once); null without stat */
    inodes: number | null;
    hardLinks: number | null;
    bytes: number | null;
  };
  dirs: DirCount[];
  dirsByDirect: DirCount[];
  patterns: PatternCount[];
  patternCount: number;
  /** patterns dropped to bound memory: any pattern count may be short by at most this much */
  patternUndercount: number;
  owners: Array<{ uid: number; count: number; bytes: number }> | null;
  ages: AgeBucket[] | null;
  unreadable: Array<{ path: Buffer; error: string }>;
  mountsSkipped: Buffer[];
  /**
   * Inode numbers held by distinct files, with stat; null without stat. Every number was
   * compared when `collisionsIndexed`, else only those of names with nlink > 1.
   */
  collisions: CollisionReport | null;
  collisionsIndexed: boolean;
  /** the largest inode number seen (with stat) */
  maxIno: number | null;
}

/** A subtree left by the frontier walk for any thread to census. */
export interface Unit {
  /** fd of its parent directory, kept open by the frontier walk */
  dirfd: number;
  /** NUL-terminated name in the parent */
  name: Buffer;
  path: Buffer;
  /** the parent was opened with O_NOATIME (so the unit is opened with it first) */
  noatime: boolean;
  /** index of its parent in the frontier list */
  parent: number;
  /** the directory's st_size, a hint of how big it is */
  sizeHint: number;
}


/** A directory read by the frontier walk: its totals are known once every unit below is done. */
export interface FrontierDir { path: PathRef; ino: number; direct: number; below: number; parent: number }

/** What a census thread hands back: everything needed to merge it into another census. */
export interface CensusState {
  counts: number[];
  /** the hard-linked inodes met: [number, what it was counted as] (a number twice where they collide) */
  seenLinks: Array<[number, LinkSeen]>;
  /** the inode numbers met (with the collisions option), the colliding ones found */
  inodes: Float64Array | null;
  collided: number[];
  collidedMore: boolean;
  owners: Map<number, { count: number; bytes: number }>;
  ages: number[];
  patterns: PackedPatterns;
  undercount: number;
  topDirs: DirCount[];
  topDirect: DirCount[];
  unreadable: Array<{ path: Uint8Array; error: string }>;
  mountsSkipped: Uint8Array[];
  unitTotals: Array<[number, number]>;
  partial: boolean;
}

/** A pattern's running counts inside a census. */
export interface PatternAcc {
  /** the pattern's bytes as a latin1 string (one character a byte): far smaller than a Buffer */
  key: string;
  hash: number;
  /** another pattern with the same hash */
  chain: PatternAcc | null;
  count: number;
  files: number;
  dirs: number;
  bytes: number;
  zeroByte: number;
  /** NO_OWNERS until the first stat, never written to (see ownMap) */
  owners: Map<number, number>;
  oldest: number;
  newest: number;
  dirCount: number;
  topDirs: PatternDirAcc[];
  /** one name of the pattern, latin1 as key */
  example: string;
  open: number;
  stale: number;
  pidRe: RegExp | null;
  pidAlive: number;
  pidDead: number;
  maxIno: number;
  /** count in the directory being read */
  cur: number;
}
