// enospc doctor [PATH...]: every filesystem cause of ENOSPC, with evidence, culprit and fix.
import { doctor } from '../doctor/run.js';
import { parseImageSpec } from '../probe/imagemagick.js';
import { doctorHuman, doctorJson } from '../report/doctor.js';
import { wantColor } from '../report/format.js';
import { out } from './output.js';
import { progressLine } from './progress.js';
import { realPathOrFail, refusePseudo } from './root.js';
import { fail, parseIntOption } from './fail.js';

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
  const real = paths.map((p) => {
    const r = realPathOrFail(p);
    refusePseudo(p, r);
    return r;
  });
  const progress = progressLine(flags.json, 0, 0); // stage names: every one shown
  const report = await doctor({
    ...(real.length ? { paths: real } : {}),
    budgetMs: budget * 1000,
    staleAfter: orphanAge * 60,
    ...(image ? { image } : {}),
    onProgress: (what: string) => progress.update(what),
  });
  progress.clear();
  if (flags.json) out(JSON.stringify(doctorJson(report, version), null, 2) + '\n');
  else out(doctorHuman(report, wantColor(process.stdout)));
  return report.exitCode;
}
