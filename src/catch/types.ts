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
  comm: string;
  uid: number | null;
  user: string | null;
  unit: string | null;
  container: string | null;
  /** the call's name (syscall_NNN when the table does not know the number) */
  syscall: string;
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
