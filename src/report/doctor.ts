// `enospc doctor`: the JSON document and the human report.
import type { DoctorReport } from '../checks/doctor.js';
import type { Culprit, Finding, Fix, MountFacts } from '../checks/types.js';
import { bytes, num, pct, style, headedTable, type Style } from './format.js';

export const DOCTOR_SCHEMA = 1;

export function doctorJson(r: DoctorReport, version: string): Record<string, unknown> {
  return {
    schema: DOCTOR_SCHEMA,
    version,
    host: r.host,
    exitCode: r.exitCode,
    mounts: r.mounts,
    findings: r.findings,
    unknown: r.unknown,
  };
}

/** `/tmp: out of inodes (100%), not space (13% used)` for a mount in trouble, else null. */
export function verdict(f: MountFacts, findings: Finding[]): string | null {
  const mine = findings.filter((x) => x.target === f.mount.mountPoint && x.severity !== 'info');
  if (mine.length === 0 || !f.usage) return null;
  const u = f.usage;
  const ip = pct(u.inodes.used, u.inodes.total);
  const bp = pct(u.blocks.used, u.blocks.total);
  const ids = new Set(mine.map((x) => x.id));
  if (ids.has('inodes.full')) {
    const what = u.inodes.free === 0 ? `out of inodes (${ip})` : `low on inodes (${ip} used)`;
    return ids.has('blocks.full') || ids.has('blocks.reserved') ? `${what}, and of space (${bp} used)` : `${what}, not space (${bp} used)`;
  }
  if (ids.has('blocks.reserved')) return `full for non-root users: only the root reserve is left (${bp} used)`;
  if (ids.has('blocks.full')) return `low on space (${bp} used), inodes ${ip} used`;
  return mine[0]!.title;
}

function culpritLines(cs: Culprit[], s: Style): string[] {
  const rows = cs.map((c) => [
    num(c.count),
    c.pattern,
    c.zeroByte === null ? '-' : num(c.zeroByte),
    c.owners?.slice(0, 2).map((o) => o.user).join(',') ?? '-',
    c.openCount === null ? '-' : num(c.openCount),
    c.orphan ? num(c.orphan.count) : '-',
    c.signature?.name ?? '',
    c.path,
  ]);
  return headedTable([['COUNT', 'PATTERN', 'EMPTY', 'OWNER', 'OPEN', 'ORPHANS', 'KNOWN AS', 'WHERE'], ...rows], [true, false, true, false, true, true, false, false], s, '    ');
}

function evidenceLine(e: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(e)) {
    if (v === null || v === undefined || typeof v === 'object') continue;
    parts.push(`${k}=${typeof v === 'number' ? num(v) : String(v)}`);
  }
  return parts.join('  ');
}

/** A fix as report lines: the text, the command to run, the file and what goes in it. */
export function fixLines(fix: Fix): string[] {
  const out = [`  fix: ${fix.text}`];
  if (fix.command) out.push(`    $ ${fix.command}`);
  if (fix.file) {
    out.push(`    in ${fix.file}:`);
    for (const line of (fix.content ?? '').split('\n')) out.push(`      ${line}`);
  }
  return out;
}

export function doctorHuman(r: DoctorReport, color: boolean): string {
  const s = style(color);
  const out: string[] = [];
  const sev = (x: Finding) => (x.severity === 'critical' ? s.red('CRITICAL') : x.severity === 'warning' ? s.yellow('WARNING') : s.dim('info'));
  for (const f of r.mountFacts) {
    const v = verdict(f, r.findings);
    if (v) out.push(s.bold(`${f.mount.mountPoint}: ${v}`));
  }
  if (out.length === 0) out.push(s.bold(r.findings.some((x) => x.severity !== 'info') ? 'problems found:' : `no cause of ENOSPC found (${r.mounts.length} mount${r.mounts.length === 1 ? '' : 's'} and the kernel's inotify, fanotify, epoll, IPC, mqueue and pty limits checked)`));
  for (const u of r.unknown) out.push(s.yellow(`unknown: ${u.what}: ${u.error}`));
  const infos = r.findings.filter((x) => x.severity === 'info');
  for (const x of r.findings) {
    if (x.severity === 'info') continue;
    out.push('', `${sev(x)} ${x.id} ${x.target}: ${x.title}`);
    const ev = evidenceLine(x.evidence);
    if (ev) out.push(s.dim(`    ${ev}`));
    const why = x.evidence['why'] as string[] | undefined;
    if (why) for (const w of why) out.push(`    why: ${w}`);
    const procs = (x.evidence['processes'] as Array<{ pid: number; comm: string; files: number; bytes: number }> | undefined);
    if (procs) for (const p of procs.slice(0, 5)) out.push(`    pid ${p.pid} (${p.comm}): ${num(p.files)} file${p.files === 1 ? '' : 's'}, ${bytes(p.bytes)}`);
    const scan = x.evidence['scan'] as { entries: number; partial: boolean; elapsedMs: number } | undefined;
    if (scan) out.push(s.dim(`    scanned ${num(scan.entries)} entries in ${(scan.elapsedMs / 1000).toFixed(1)} s${scan.partial ? ' (partial: the time budget ran out)' : ''}`));
    if (x.culprits?.length) out.push(...culpritLines(x.culprits, s));
    for (const fix of x.fix) out.push(...fixLines(fix));
  }
  if (infos.length) {
    out.push('', s.dim('for information (details and fixes with --json):'));
    for (const x of infos) out.push(`  ${sev(x)} ${x.id} ${x.target}: ${x.title}`);
  }
  return out.join('\n') + '\n';
}
