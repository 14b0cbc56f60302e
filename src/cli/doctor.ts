// enospc doctor [PATH...]: every filesystem cause of ENOSPC, with evidence, culprit and fix.
// The mount checks (a child process, see probe/guard.ts) start first, and the rest of doctor
// loads while the child starts.
import { startMountChecks } from '../doctor/targets.js';
import { closedMountOf, closedWhy } from '../probe/mount-health.js';
import { parseImageSpec } from '../probe/imagemagick.js';
import { wantColor } from '../report/format.js';
import { out } from './output.js';
import { progressLine } from './progress.js';
import { describeCode, fail, parseIntOption } from './fail.js';
import { importCommand } from './load.js';
import { refuseBadPath } from './root.js';
import { config } from '../shared/config.js';

export interface DoctorFlags {
  json?: boolean;
  budget: string;
  orphanAge?: string;
  image?: string;
  /** the agent's history, read-only, for the findings' forecasts */
  db: string;
}

export async function runDoctor(paths: string[], flags: DoctorFlags, version: string): Promise<number> {
  const budget = parseIntOption('--budget', flags.budget, 0);
  const orphanAge = flags.orphanAge !== undefined ? parseIntOption('--orphan-age', flags.orphanAge, 0) : config().orphanAgeMinutes;
  const image = flags.image === undefined ? undefined : parseImageSpec(flags.image);
  if (image === null) fail(`--image takes WIDTHxHEIGHT[xDEPTH][:gray|rgb|rgba|cmyk|cmyka], not '${flags.image}'`);
  // the paths are resolved there too: one on a dead mount must not hang doctor
  for (const p of paths) refuseBadPath(p);
  const mountChecks = startMountChecks(paths);
  const { PathError, doctor } = await importCommand<typeof import('../doctor/run.js')>(new URL('../doctor/run.js', import.meta.url));
  const { doctorHuman, doctorJson } = await importCommand<typeof import('../report/doctor.js')>(new URL('../report/doctor.js', import.meta.url));
  const { doctorForecasts } = await importCommand<typeof import('../agent/read.js')>(new URL('../agent/read.js', import.meta.url));
  const progress = progressLine(flags.json, 0, 0); // stage names: every one shown
  let report;
  try {
    report = await doctor({
      ...(paths.length ? { paths } : {}),
      mountChecks,
      budgetMs: budget * 1000,
      staleAfter: orphanAge * 60,
      ...(image ? { image } : {}),
      onProgress: (what: string) => progress.update(what),
    });
  } catch (e) {
    if (e instanceof PathError) fail(`${e.path}: ${describeCode(e.code)}`);
    throw e;
  } finally {
    progress.clear();
  }
  // a history on a mount that did not answer (or an empty autofs mount point) is not touched: it would hang
  const { health } = await mountChecks.done;
  const closed = closedMountOf(flags.db, health);
  const forecasts = doctorForecasts(flags.db, report.findings, report.mountFacts.map((f) => f.mount.mountPoint), closed ? { refuse: `not opened: ${closedWhy(closed, health)}` } : {});
  if (flags.json) out(JSON.stringify(doctorJson(report, version, forecasts), null, 2) + '\n');
  else out(doctorHuman(report, wantColor(process.stdout), forecasts));
  return report.exitCode;
}
