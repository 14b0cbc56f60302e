// One cleaning job: a directory to walk and what in it may go. Made from a tmpfiles.d rule or
// from the command line.
import type { AgeBy } from './rules.js';
import type { Glob } from './glob.js';
import type { Protected } from './protected.js';

/** Where `enospc clean --apply` logs what it removes unless told otherwise. */
export const DEFAULT_LOG = '/var/log/enospc/clean.jsonl';

export interface CleanJob {
  /** real path of an existing directory, as bytes; never removed itself */
  root: Buffer;
  /**
   * `contents`: every entry below the root (tmpfiles e, d, D);
   * `match`: entries whose name matches `match` (r, R, and --match), with what is below them when `recursive`.
   */
  mode: 'contents' | 'match';
  match: Glob | null;
  /** match names at any depth (--match) or only directly in the root (r, R) */
  anyDepth: boolean;
  /** a matched directory goes with its contents (R, --match); else only when empty (r) */
  recursive: boolean;
  /** ms; null: any age */
  age: number | null;
  ageBy: AgeBy;
  /** tmpfiles `~`: keep the entries directly in the root, clean below them */
  belowFirst: boolean;
  /** paths that have a tmpfiles.d line of their own: never entered or removed by this job (null: none) */
  protect: Protected | null;
  /** where the job came from: "file:line" or "command line" */
  source: string;
}
