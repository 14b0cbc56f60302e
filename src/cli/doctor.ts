// enospc doctor [PATH...]: every filesystem cause of ENOSPC, with evidence, culprit and fix.
// The mount checks (a child process, see probe/guard.ts) start first, and the rest of doctor
// loads while the child starts.
import { startMountChecks } from '../doctor/targets.js';
import { parseImageSpec } from '../probe/imagemagick.js';
import { wantColor } from '../report/format.js';
import { out } from './output.js';
import { progressLine } from './progress.js';
import { describeCode, fail, parseIntOption } from './fail.js';
import { importCommand } from './load.js';
import { refuseBadPath } from './root.js';

export interface DoctorFlags {
  json?: boolean;
  budget: string;
  orphanAge: string;
  image?: string;
}

export async function runDoctor(paths: string[], flags: DoctorFlags, version: string): Promise<number> {
  const budget = parseIntOption('--budget', flags.budget, 0);
  const orphanAge = parseIntOption('--orphan-age', flags.orphanAge, 0);
  const image = flags.image === undefined ? undefined : parseImageSpec(flags.image);
  if (image === null) fail(`--image takes WIDTHxHEIGHT[xDEPTH][:gray|rgb|rgba|cmyk|cmyka], not '${flags.image}'`);
  // the paths are resolved there too: one on a dead mount must not hang doctor
  for (const p of paths) refuseBadPath(p);
  const mountChecks = startMountChecks(paths);
  const { PathError, doctor } = await importCommand<typeof import('../doctor/run.js')>(new URL('../doctor/run.js', import.meta.url));
  const { doctorHuman, doctorJson } = await importCommand<typeof import('../report/doctor.js')>(new URL('../report/doctor.js', import.meta.url));
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
  if (flags.json) out(JSON.stringify(doctorJson(report, version), null, 2) + '\n');
  else out(doctorHuman(report, wantColor(process.stdout)));
  return report.exitCode;
}
