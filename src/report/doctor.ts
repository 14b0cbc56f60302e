// `enospc doctor`: the JSON document and the human report.
import type { DoctorReport, MountSummary, Unknown } from '../doctor/run.js';
import type { CheckId, Finding, FindingOf, Fix, MountFacts } from '../checks/types.js';
import type { DoctorForecasts, ForecastSource } from '../agent/read.js';
import type { Forecast } from '../agent/types.js';
import { displayText } from '../shared/text.js';
import { num, pct, style } from './format.js';
import { culpritLines, evidenceLines } from './findings.js';
import { forecastLines } from './history.js';

export const DOCTOR_SCHEMA = 2;

/**
 * A finding as doctor --json gives it: the check's, and the forecast of the series it is about
 * when the agent's history has one (src/agent/read.ts, findingSeries, says which series).
 */
export type DoctorFindingOf<K extends CheckId> = FindingOf<K> & {
  /** the agent's forecast of what this finding is about, as `enospc forecast` makes it */
  forecast?: Forecast;
};

/**
 * Any finding of doctor --json.
 * @discriminator id
 */
export type DoctorFinding = { [K in CheckId]: DoctorFindingOf<K> }[CheckId];

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
  findings: DoctorFinding[];
  /** what could not be checked */
  unknown: Unknown[];
  /** where the findings' forecasts come from (the agent's history), or why there are none; absent when not looked for */
  forecasts?: ForecastSource;
}

export function doctorJson(r: DoctorReport, version: string, forecasts?: DoctorForecasts): DoctorJson {
  return {
    schema: DOCTOR_SCHEMA,
    version,
    host: r.host,
    exitCode: r.exitCode,
    mounts: r.mounts,
    findings: r.findings.map((f) => {
      const forecast = forecasts?.of.get(f);
      return forecast ? { ...f, forecast } : f;
    }),
    unknown: r.unknown,
    ...(forecasts ? { forecasts: { source: forecasts.source, state: forecasts.state, error: forecasts.error, now: forecasts.now, caught: forecasts.caught } } : {}),
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

/** The note when the agent's history is there but could not be read (none when there is none: no agent runs here). */
function forecastNote(f: DoctorForecasts | undefined): string[] {
  return f?.state === 'failed' ? [`no forecasts: the agent's history ${displayText(f.source)} could not be read: ${displayText(f.error ?? 'unknown error')}`] : [];
}

export function doctorHuman(r: DoctorReport, color: boolean, forecasts?: DoctorForecasts): string {
  const s = style(color);
  const out: string[] = [];
  const sev = (x: Finding) => (x.severity === 'critical' ? s.red('CRITICAL') : x.severity === 'warning' ? s.yellow('WARNING') : s.dim('info'));
  for (const f of r.mountFacts) {
    const v = verdict(f, r.findings);
    if (v) out.push(s.bold(`${displayText(f.mount.mountPoint)}: ${displayText(v)}`));
  }
  if (out.length === 0) out.push(s.bold(r.findings.some((x) => x.severity !== 'info') ? 'problems found:' : `no cause of ENOSPC found (${num(r.mounts.length)} mount${r.mounts.length === 1 ? '' : 's'} and the kernel's inotify, fanotify, epoll, IPC, mqueue and pty limits checked)`));
  for (const u of r.unknown) out.push(s.yellow(unknownLine(u)));
  for (const line of forecastNote(forecasts)) out.push(s.dim(line));
  // failures the agent caught (agent --catch): what already went wrong, before what may
  for (const c of forecasts?.caught ?? []) {
    out.push('', `${s.red('CRITICAL')} enospc.caught ${displayText(c.target)}: ${displayText(c.title)}`);
    out.push(s.dim(`    caught by the agent (its sample of ${new Date(c.at * 1000).toISOString().replace(/\.\d+Z$/, 'Z')}); run 'enospc catch' to see each failure live`));
  }
  /** a series' forecast is said once, at its first (worst) finding */
  const said = new Set<Forecast>();
  const infos = r.findings.filter((x) => x.severity === 'info');
  for (const x of r.findings) {
    if (x.severity === 'info') continue;
    out.push('', `${sev(x)} ${x.id} ${displayText(x.target)}: ${displayText(x.title)}`);
    for (const line of evidenceLines(x, s)) out.push(s.dim(`    ${line}`));
    const fc = forecasts?.of.get(x), lines = fc && !said.has(fc) ? forecastLines(fc, forecasts!.now) : null;
    if (lines) {
      said.add(fc!);
      out.push(`    ${s.bold(lines[0])}`, s.dim(`    ${lines[1]}`));
    }
    if (x.culprits?.length) out.push(...culpritLines(x.culprits, s, '    '));
    for (const fix of x.fix) out.push(...fixLines(fix));
  }
  if (infos.length) {
    out.push('', s.dim('for information (details and fixes with --json):'));
    for (const x of infos) out.push(`  ${sev(x)} ${x.id} ${displayText(x.target)}: ${displayText(x.title)}`);
  }
  return out.join('\n') + '\n';
}
