// Who a process is, for attributing an event to it: command, executable, user, and the
// systemd unit or container its cgroup names. Read from /proc the moment an event arrives.
import fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  /** /proc/PID/comm, or "?" when the process was gone before it could be read */
  comm: string;
  exe: string | null;
  /** effective uid */
  uid: number | null;
  /** the systemd unit (service or scope) of its cgroup */
  unit: string | null;
  /** a container ID (Docker, Podman, containerd, CRI-O) or LXC container name from its cgroup */
  container: string | null;
  /** true when the process had exited before enospc could look at it */
  gone: boolean;
  /** start time in clock ticks after boot (field 22 of /proc/PID/stat): tells a reused pid apart */
  start: number;
}

/** comm and start time from /proc/PID/stat (readable even for a zombie), or null when it is gone. */
function stat(pid: number): { comm: string; start: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm may hold spaces and parentheses: the fields after it start after the last ')'
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return { comm: text.slice(text.indexOf('(') + 1, close), start: Number(rest[19]) };
}

/** Start time of `pid` (clock ticks after boot), or -1 when it is gone. */
export function startTime(pid: number): number {
  return stat(pid)?.start ?? -1;
}

/** The text of a /proc file, or null when it cannot be read (the process is gone, say). */
export function readOr(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The effective uid of `pid` from /proc/PID/status, or null when it is gone. */
export function euidOf(pid: number): number | null {
  const m = /^Uid:\s+\d+\s+(\d+)/m.exec(readOr(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) : null;
}

/** The systemd unit at the deepest level of a cgroup path, e.g. php8.2-fpm.service. */
export function unitOf(cgroup: string): string | null {
  const parts = cgroup.split('/');
  for (let i = parts.length - 1; i >= 0; i--) {
    if (/\.(service|scope|socket|mount|swap|timer)$/.test(parts[i]!)) return parts[i]!;
  }
  return null;
}

/** A container named by a cgroup path: a 64-hex ID (docker-ID.scope, libpod-ID, /docker/ID, cri-containerd-ID) or an LXC name. */
export function containerOf(cgroup: string): string | null {
  const id = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:\/|$)/.exec(cgroup);
  if (id) return id[1]!;
  const lxc = /\/lxc(?:\.payload)?[./]([^/]+)/.exec(cgroup);
  return lxc ? `lxc:${lxc[1]}` : null;
}

/** The unified (v2) cgroup path of a process, else the first v1 line's path. */
export function cgroupOf(text: string): string {
  let first: string | null = null;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    if (line.startsWith('0::')) return path;
    first ??= path;
  }
  return first ?? '';
}

/** Everything enospc can tell about `pid` now. */
export function procInfo(pid: number): ProcInfo {
  const st = stat(pid);
  if (!st) return { pid, comm: '?', exe: null, uid: null, unit: null, container: null, gone: true, start: -1 };
  const { comm, start } = st;
  let exe: string | null = null;
  try {
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // kernel threads have none; gone meanwhile
  }

  const cg = cgroupOf(readOr(`/proc/${pid}/cgroup`) ?? '');
  return {
    pid, comm, exe, uid: euidOf(pid),
    unit: cg ? unitOf(cg) : null, container: cg ? containerOf(cg) : null, gone: false, start,
  };
}
