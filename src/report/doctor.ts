// `enospc doctor`: the JSON document and the human report.
import type { DoctorReport, MountSummary, Unknown } from '../doctor/run.js';
import type { Finding, Fix, MountFacts } from '../checks/types.js';
import { displayText } from '../shared/text.js';
import { num, pct, style } from './format.js';
import { culpritLines, evidenceLines } from './findings.js';

export const DOCTOR_SCHEMA = 2;

/** `enospc doctor --json` (docs/json.md; schemas/doctor.schema.json). */
export interface DoctorJson {
  schema: typeof DOCTOR_SCHEMA;
  /** enospc's version */
  version: string;
  host: DoctorReport['host'];
  /** as the process exit: 0 ok, 1 warning, 2 critical, 3 unknown */
  exitCode: number;
  /** every mount looked at */
  mounts: MountSummary[];
  /** critical first, then warning, then info */
  findings: Finding[];
  /** what could not be checked */
  unknown: Unknown[];
}

export function doctorJson(r: DoctorReport, version: string): DoctorJson {
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

/** A fix as report lines: the text, the command to run, the file and what goes in it. */
export function fixLines(fix: Fix): string[] {
  const out = [`  fix: ${displayText(fix.text)}`];
  if (fix.command) out.push(`    $ ${fix.command}`);
  if (fix.content !== undefined) {
    out.push(fix.file ? `    in ${displayText(fix.file)}:` : '    like this:');
    for (const line of fix.content.split('\n')) out.push(`      ${displayText(line)}`);
  }
  return out;
}

function unknownLine(u: Unknown): string {
  const head = u.kind === 'needs-root' ? 'not seen without root' : u.kind === 'hidden' ? 'not seen' : 'unknown';
  return `${head}: ${displayText(u.what)}: ${displayText(u.error)}`;
}

export function doctorHuman(r: DoctorReport, color: boolean): string {
  const s = style(color);
  const out: string[] = [];
  const sev = (x: Finding) => (x.severity === 'critical' ? s.red('CRITICAL') : x.severity === 'warning' ? s.yellow('WARNING') : s.dim('info'));
  for (const f of r.mountFacts) {
    const v = verdict(f, r.findings);
    if (v) out.push(s.bold(`${displayText(f.mount.mountPoint)}: ${displayText(v)}`));
  }
  if (out.length === 0) out.push(s.bold(r.findings.some((x) => x.severity !== 'info') ? 'problems found:' : `no cause of ENOSPC found (${num(r.mounts.length)} mount${r.mounts.length === 1 ? '' : 's'} and the kernel's inotify, fanotify, epoll, IPC, mqueue and pty limits checked)`));
  for (const u of r.unknown) out.push(s.yellow(unknownLine(u)));
  const infos = r.findings.filter((x) => x.severity === 'info');
  for (const x of r.findings) {
    if (x.severity === 'info') continue;
    out.push('', `${sev(x)} ${x.id} ${displayText(x.target)}: ${displayText(x.title)}`);
    for (const line of evidenceLines(x, s)) out.push(s.dim(`    ${line}`));
    if (x.culprits?.length) out.push(...culpritLines(x.culprits, s, '    '));
    for (const fix of x.fix) out.push(...fixLines(fix));
  }
  if (infos.length) {
    out.push('', s.dim('for information (details and fixes with --json):'));
    for (const x of infos) out.push(`  ${sev(x)} ${x.id} ${displayText(x.target)}: ${displayText(x.title)}`);
  }
  return out.join('\n') + '\n';
}
