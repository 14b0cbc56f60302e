// The shape every doctor check shares, like node_exporter's collectors: a check looks at the
// facts in the context and returns findings. Checks never change the system.
import type { Mount, FsUsage } from '../probe/mounts.js';
import type { CensusResult } from '../scan/census.js';
import type { OpenFiles } from '../probe/procs.js';
import type { ImageSpec } from '../probe/imagemagick.js';
import type { InotifyUsage } from '../probe/watch-users.js';
import type { TableUse } from '../probe/sysctl.js';
import type { ContainersReport } from '../containers/run.js';

export type Severity = 'critical' | 'warning' | 'info';

export interface Fix {
  text: string;
  /** a command to run */
  command?: string;
  /** a file to create or edit, with what goes in it */
  file?: string;
  content?: string;
}

export interface Culprit {
  path: string;
  pattern: string;
  count: number;
  bytes: number | null;
  zeroByte: number | null;
  owners: Array<{ uid: number; user: string; count: number }> | null;
  oldest: string | null;
  newest: string | null;
  /** files of this pattern held open by a live process */
  openCount: number | null;
  /** how many look orphaned: creator gone (PID in the name not alive) or old and not open */
  orphan: { count: number; reason: string } | null;
  signature: { id: string; name: string } | null;
}

export interface Finding {
  id: string;
  severity: Severity;
  /** what it is about: a mount point, a path, a user */
  target: string;
  title: string;
  evidence: Record<string, unknown>;
  culprits?: Culprit[];
  fix: Fix[];
}

/** A mount as doctor sees it: mountinfo, statfs (or why statfs failed), and a census if one ran. */
export interface MountFacts {
  mount: Mount;
  usage: FsUsage | null;
  /** why usage is null: "timeout", or an errno code */
  usageError?: string;
  census?: CensusResult;
}

export interface CheckContext {
  mounts: MountFacts[];
  /** files not modified for this many seconds and not open count as orphans */
  staleAfter: number;
  /** inotify/fanotify/epoll use per user, or null when not gathered */
  watchUse?: InotifyUsage | null;
  /** SysV IPC, mqueue and pty use against their limits */
  tables?: Record<string, TableUse> | null;
  /** container stores: ID-mapped copies, unreferenced layers (null: none looked at) */
  containers?: ContainersReport | null;
  /** the image size asked about with --image */
  image?: ImageSpec;
  /** open files of every readable process, or null when /proc could not be read */
  openFiles: OpenFiles | null;
  /** kernel release, e.g. "6.1.0-18-amd64" */
  kernel: string;
  arch: string;
}

export interface Check {
  id: string;
  /** one line on what it looks for */
  describe: string;
  run(ctx: CheckContext): Finding[];
}
