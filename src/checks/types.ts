// The shape every doctor check shares, like node_exporter's collectors: a check looks at the
// facts in the context and returns findings. Checks never change the system.
//
// A finding's evidence is typed per check: `EvidenceById` maps each check id to its evidence
// (declared next to the check), and `Finding` is the union over ids, so code that switches on
// `finding.id` sees exactly that check's fields. A new check: its file with its evidence type,
// one line in EvidenceById, one in index.ts, and its renderer in src/report/findings.ts (tsc
// asks for each).
import type { Mount, FsUsage } from '../probe/mounts.js';
import type { CensusResult } from '../scan/census.js';
import type { OpenFiles } from '../probe/procs.js';
import type { ImageSpec } from '../probe/imagemagick.js';
import type { InotifyUsage } from '../probe/watch-users.js';
import type { TableUse } from '../probe/sysctl.js';
import type { HostFiles } from '../probe/host-files.js';
import type { ContainersReport } from '../containers/run.js';
import type { Severity } from '../shared/levels.js';
import type { Fix } from '../shared/fix.js';
import type { InodesFullEvidence } from './inodes-full.js';
import type { BlocksFullEvidence } from './blocks-full.js';
import type { BlocksReservedEvidence } from './blocks-reserved.js';
import type { TmpfsNrInodesEvidence } from './tmpfs-nr-inodes.js';
import type { TmpfsInode32Evidence } from './tmpfs-inode32.js';
import type { InodeCollisionEvidence } from './inode-collision.js';
import type { Ext4DirIndexEvidence } from './ext4-dir-index.js';
import type { DeletedOpenEvidence } from './deleted-open.js';
import type { OrphansEvidence } from './orphans.js';
import type { ImagemagickEvidence } from './imagemagick.js';
import type { CopiesEvidence, UnreferencedEvidence } from './containers.js';
import type { PerUserEvidence, TableEvidence } from './kernel-limits.js';

export type { Severity } from '../shared/levels.js';
export type { Fix } from '../shared/fix.js';

/** Each check's id and the evidence its findings carry. */
export interface EvidenceById {
  'inodes.full': InodesFullEvidence;
  'blocks.full': BlocksFullEvidence;
  'blocks.reserved': BlocksReservedEvidence;
  'tmpfs.nr-inodes-low': TmpfsNrInodesEvidence;
  'tmpfs.inode32': TmpfsInode32Evidence;
  'tmpfs.inode-collision': InodeCollisionEvidence;
  'ext4.dir-index': Ext4DirIndexEvidence;
  'deleted-open': DeletedOpenEvidence;
  'orphans': OrphansEvidence;
  'imagemagick.pixel-cache': ImagemagickEvidence;
  'containers.idmapped-copies': CopiesEvidence;
  'containers.unreferenced-layers': UnreferencedEvidence;
  'inotify.watches': PerUserEvidence;
  'inotify.instances': PerUserEvidence;
  'fanotify.marks': PerUserEvidence;
  'epoll.watches': PerUserEvidence;
  'ipc.sem': TableEvidence;
  'ipc.shm': TableEvidence;
  'ipc.msg': TableEvidence;
  'mqueue.queues': TableEvidence;
  'pty.count': TableEvidence;
}

export type CheckId = keyof EvidenceById;

export interface Culprit {
  /** the directory holding most of them */
  path: string;
  /** the name pattern, `*` for the variable parts (a glob: glob characters of the names are escaped with \) */
  pattern: string;
  count: number;
  bytes: number | null;
  zeroByte: number | null;
  owners: Array<{ uid: number; user: string; count: number }> | null;
  oldest: string | null;
  newest: string | null;
  /** files of this pattern held open by a live process; null when that could not be seen (not root) */
  openCount: number | null;
  /**
   * How many look orphaned: the creator is gone (the PID in the name is not running), or the
   * file is old and open in no process. count is null when it could not be determined (why
   * says so); the whole is null when the pattern is not judged (not temp files).
   */
  orphan: { count: number | null; reason: string } | null;
  signature: { id: string; name: string } | null;
}

/** One finding of one check: what, how bad, the evidence, the culprits and the fixes. */
export interface FindingOf<K extends CheckId> {
  id: K;
  severity: Severity;
  /** what it is about: a mount point, a path, a user */
  target: string;
  title: string;
  evidence: EvidenceById[K];
  culprits?: Culprit[];
  fix: Fix[];
}

/**
 * Any finding: the union over check ids, so a switch on `id` narrows the evidence.
 * @discriminator id
 */
export type Finding = { [K in CheckId]: FindingOf<K> }[CheckId];

/** A mount as doctor sees it: mountinfo, statfs (or why statfs failed), and a census if one ran. */
export interface MountFacts {
  mount: Mount;
  usage: FsUsage | null;
  /** why usage is null: "timeout", or an errno code */
  usageError?: string;
  census?: CensusResult;
  /**
   * Inode numbers held by distinct files, from whichever census walked this filesystem: its
   * own, one of a path on it, or one made only for this (tmpfs without inode64).
   */
  numbers?: Pick<CensusResult, 'root' | 'collisions' | 'collisionsIndexed' | 'maxIno' | 'partial'>;
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
  /** other users' processes are hidden (/proc hidepid): PIDs in names cannot be judged */
  pidsHidden?: boolean;
  /** doctor runs as root: processes it cannot read are closed even to root, not other users' (open counts still hold for the rest) */
  asRoot?: boolean;
  /** the configuration files and helpers on this host that fixes name */
  host: HostFiles;
  /** kernel release, e.g. "6.1.0-18-amd64" */
  kernel: string;
  arch: string;
}

export interface Check<K extends CheckId = CheckId> {
  id: K;
  /** one line on what it looks for */
  describe: string;
  run(ctx: CheckContext): Array<FindingOf<K>>;
}

/** Any check, as a list of checks holds them: its findings are any findings. */
export interface AnyCheck {
  id: CheckId;
  describe: string;
  run(ctx: CheckContext): Finding[];
}
