// What `enospc catch` reports: each system call that failed with ENOSPC, who made it, and the
// limit it hit (a doctor check id and target where one fits).

export interface CatchCause {
  /** doctor's check id of the limit (inodes.full, blocks.full, inotify.watches, ipc.sem, ...), null when unattributed */
  check: string | null;
  /** the check's target: a mountpoint, a user, a sysctl */
  target: string | null;
  /** what was judged, with its figures, for people */
  detail: string;
  /** other mounts that were full as well (the call's own path is not in the event) */
  also?: string[];
}

export interface CatchEvent {
  /** epoch seconds of the failure (the kernel's time stamp) */
  t: number;
  /** the process (thread group) id; the thread's when the process could not be read */
  pid: number;
  /** the thread that made the call */
  tid: number;
  /** the thread's command name when it made the call (the kernel's record) */
  comm: string;
  /** effective uid, as this (the host's) user namespace sees it; null when the process had exited */
  uid: number | null;
  user: string | null;
  /** the systemd unit of its cgroup */
  unit: string | null;
  /** a 64-hex container ID or "lxc:NAME" from its cgroup */
  container: string | null;
  /** the call's name (syscall_NNN when the table does not know the number) */
  syscall: string;
  /** the call's number in its ABI */
  nr: number;
  /** x86_64, i386 (a 32-bit process on x86_64), aarch64 */
  abi: string | null;
  /** the process had exited before enospc could look at it: user, unit and mounts are unknown or enospc's own */
  gone: boolean;
  cause: CatchCause;
}

export interface CatchSummaryRow {
  comm: string;
  syscall: string;
  check: string | null;
  target: string | null;
  count: number;
  /** epoch seconds */
  first: number;
  last: number;
}

export interface CatchReport {
  /** epoch seconds */
  started: number;
  ended: number;
  events: CatchEvent[];
  /** events beyond the kept list (counted in the summary all the same) */
  eventsDropped: number;
  summary: CatchSummaryRow[];
  /** events the kernel could not hand over (its buffer was full), from the instance's counters */
  lost: number;
  /** what the capture did on the way: tracefs mounted, stale instances removed */
  notes: string[];
}
