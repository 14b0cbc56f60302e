// The Prometheus text exposition (format 0.0.4) of the latest sample and forecasts: what
// GET /metrics answers and what the textfile collector reads. Written directly, no library:
// one HELP and one TYPE line per family, its series together, label values escaped (\ " and
// newline), base units, `_total` on the counters, and no timestamps (Prometheus stamps the
// scrape). A figure that is not known (null) leaves its series out rather than reporting 0.
import type { Forecast, ForecastState, Sample } from './types.js';

export interface Extra {
  /** history writes that failed since the agent started (a counter) */
  writeErrors: number;
  /** the agent's version, for enospc_build_info */
  version: string;
}

type Labels = Record<string, string>;
type Kind = 'gauge' | 'counter';

/** Content-Type of the exposition, for the HTTP server. */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const STATES: ForecastState[] = ['insufficient_data', 'not_growing', 'filling'];

/** Lone UTF-16 surrogates (a name that was not valid UTF-8) become U+FFFD: the format is UTF-8. */
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** A label value as the format requires: backslash, double quote and line feed escaped. */
export function escapeLabelValue(v: string): string {
  return wellFormed(v).replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

/** HELP text: backslash and line feed escaped (a double quote stays as it is). */
function escapeHelp(v: string): string {
  return wellFormed(v).replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** A sample value: Go's ParseFloat reads all of these; NaN and the infinities spelled as Prometheus does. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Object.is(v, -0) ? '0' : String(v);
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** One metric family: its series keyed by their label text, so a repeated label set (a mount
 *  stacked on another at the same place, say) is one series, the last given winning. */
class Family {
  readonly series = new Map<string, number>();
  constructor(readonly name: string, readonly kind: Kind, readonly help: string) {}

  add(labels: Labels, value: number | null | undefined): void {
    if (value === null || value === undefined) return;
    const key = labelText(labels);
    this.series.delete(key); // keep first-seen order unless replaced: the replacement goes last
    this.series.set(key, value);
  }

  render(out: string[]): void {
    if (this.series.size === 0) return;
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.kind}`);
    for (const [labels, value] of this.series) out.push(`${this.name}${labels} ${formatValue(value)}`);
  }
}

/** The families in the order they are exposed. */
function families() {
  const g = (name: string, help: string) => new Family(name, 'gauge', help);
  return {
    files: g('enospc_filesystem_files', 'Inodes of the filesystem (statfs f_files; 0: no inode limit reported, as on btrfs).'),
    filesFree: g('enospc_filesystem_files_free', 'Free inodes of the filesystem (statfs f_ffree).'),
    size: g('enospc_filesystem_size_bytes', 'Size of the filesystem in bytes (statfs f_blocks * f_frsize).'),
    avail: g('enospc_filesystem_avail_bytes', 'Bytes available to unprivileged users (statfs f_bavail * f_frsize).'),
    deviceError: g('enospc_filesystem_device_error', '1 when statfs on the mount failed or did not answer within its timeout, else 0.'),
    tmpfsNr: g('enospc_tmpfs_nr_inodes_per_gib', 'tmpfs inode limit (nr_inodes) per GiB of its size.'),
    tmpfs64: g('enospc_tmpfs_inode64', '1 when the tmpfs mount has inode64 on, 0 when its inode numbers are 32-bit.'),
    patFiles: g('enospc_pattern_files', 'Entries matching a top name pattern of a watched mount, at the last census.'),
    patOrphans: g('enospc_pattern_orphans', 'Entries of the pattern that no process holds open and whose creator is gone, at the last census.'),
    inWatches: g('enospc_inotify_watches', 'inotify watches held by the user.'),
    inInstances: g('enospc_inotify_instances', 'inotify instances held by the user.'),
    maxWatches: g('enospc_inotify_max_user_watches', 'Kernel limit of inotify watches per user (fs.inotify.max_user_watches).'),
    maxInstances: g('enospc_inotify_max_user_instances', 'Kernel limit of inotify instances per user (fs.inotify.max_user_instances).'),
    fanMarks: g('enospc_fanotify_marks', 'fanotify marks held by the user.'),
    epoll: g('enospc_epoll_watches', 'epoll watches held by the user.'),
    tableUsed: g('enospc_kernel_table_used', 'Entries in use in a kernel table (ipc.sem, ipc.shm, ipc.msg, mqueue.queues, pty.count, ...).'),
    tableLimit: g('enospc_kernel_table_limit', 'Limit of the kernel table.'),
    collisions: g('enospc_inode_collisions', 'Inode numbers held by two or more distinct files at once, on a censused mount (hard links excluded).'),
    maxIno: g('enospc_inode_number_max', 'The highest inode number seen by the last census, on a tmpfs without inode64 (its numbers wrap at 2^32).'),
    idmapped: g('enospc_container_idmapped_copies', 'ID-mapped copies of an image\'s layers in a container store.'),
    fState: g('enospc_forecast_state', 'Forecast state of a resource: 1 for the current state (insufficient_data, not_growing, filling), 0 for the others.'),
    fAt: g('enospc_forecast_exhaustion_timestamp_seconds', 'Expected time the resource runs out (Unix seconds), while filling.'),
    fEarliest: g('enospc_forecast_exhaustion_earliest_timestamp_seconds', 'Earliest time the resource may run out (near end of the interval, Unix seconds), while filling.'),
    finding: g('enospc_finding', 'A current doctor finding at warning or worse (always 1).'),
    build: g('enospc_build_info', 'The enospc agent\'s version (always 1).'),
    duration: g('enospc_collector_duration_seconds', 'How long the collector took on its last run, in seconds.'),
    success: g('enospc_collector_success', '1 when the collector\'s last run succeeded, else 0.'),
    writeErrors: new Family('enospc_history_write_errors_total', 'counter', 'History writes that failed since the agent started.'),
    errors: new Family('enospc_errors_total', 'counter', 'System calls that failed with ENOSPC since the agent started, by command (the first 20 seen, then "other"), call and cause (a doctor check id, or "unattributed").'),
    errorsLost: new Family('enospc_errors_lost_total', 'counter', 'Failing system calls the kernel could not hand over to the agent (its trace buffer was full).'),
  };
}

/** The exposition of the latest sample (null: none yet), the forecasts and the agent's own figures. */
export function metricsText(sample: Sample | null, forecasts: Forecast[], extra: Extra): string {
  const f = families();
  if (sample) {
    for (const m of sample.mounts) {
      const l = { device: m.device, mountpoint: m.mountpoint, fstype: m.fstype };
      f.files.add(l, m.files);
      f.filesFree.add(l, m.filesFree);
      f.size.add(l, m.sizeBytes);
      f.avail.add(l, m.availBytes);
      f.deviceError.add(l, m.deviceError ? 1 : 0);
      if (m.tmpfs) {
        f.tmpfsNr.add({ mountpoint: m.mountpoint }, m.tmpfs.nrInodesPerGib);
        f.tmpfs64.add({ mountpoint: m.mountpoint }, m.tmpfs.inode64 ? 1 : 0);
      }
    }
    for (const p of sample.patterns) {
      const l = { mountpoint: p.mountpoint, pattern: p.pattern };
      f.patFiles.add(l, p.files);
      f.patOrphans.add(l, p.orphans);
    }
    for (const n of sample.inodeNumbers ?? []) {
      f.collisions.add({ mountpoint: n.mountpoint }, n.collisions);
      if (n.wraps) f.maxIno.add({ mountpoint: n.mountpoint }, n.maxIno);
    }
    for (const u of sample.users) {
      const l = { user: u.user };
      f.inWatches.add(l, u.inotifyWatches);
      f.inInstances.add(l, u.inotifyInstances);
      f.fanMarks.add(l, u.fanotifyMarks);
      f.epoll.add(l, u.epollWatches);
    }
    f.maxWatches.add({}, sample.limits.inotifyWatches);
    f.maxInstances.add({}, sample.limits.inotifyInstances);
    for (const t of sample.tables) {
      f.tableUsed.add({ table: t.table }, t.used);
      f.tableLimit.add({ table: t.table }, t.limit);
    }
    for (const c of sample.idmappedCopies) f.idmapped.add({ store: c.store, image: c.image }, c.copies);
    for (const x of sample.findings) f.finding.add({ check: x.check, severity: x.severity, target: x.target }, 1);
    for (const e of sample.errors?.totals ?? []) f.errors.add({ comm: e.comm, syscall: e.syscall, cause: e.cause }, e.count);
    if (sample.errors) f.errorsLost.add({}, sample.errors.lost);
    for (const c of sample.collectors) {
      f.duration.add({ collector: c.collector }, c.seconds);
      f.success.add({ collector: c.collector }, c.success ? 1 : 0);
    }
  }
  for (const fc of forecasts) {
    const l = { resource: fc.resource, target: fc.target };
    for (const s of STATES) f.fState.add({ ...l, state: s }, fc.state === s ? 1 : 0);
    if (fc.state === 'filling') {
      f.fAt.add(l, fc.exhaustionAt);
      f.fEarliest.add(l, fc.earliestAt);
    }
  }
  f.build.add({ version: extra.version }, 1);
  f.writeErrors.add({}, extra.writeErrors);

  const out: string[] = [];
  for (const fam of Object.values(f)) fam.render(out);
  return out.join('\n') + '\n';
}
