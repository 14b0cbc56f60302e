// enospc doctor [PATH...]: every filesystem cause of ENOSPC, with evidence, culprit and fix.
import fs from 'node:fs';
import { doctor } from '../checks/doctor.js';
import { parseImageSpec } from '../probe/imagemagick.js';
import { doctorHuman, doctorJson } from '../report/doctor.js';
import { wantColor } from '../report/format.js';
import { describeCode, fail, parseIntOption } from './fail.js';

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
    try {
      return fs.realpathSync(p);
    } catch (e) {
      fail(`${p}: ${describeCode((e as NodeJS.ErrnoException).code)}`);
    }
  });
  const progress = process.stderr.isTTY === true && !flags.json;
  const report = await doctor({
    ...(real.length ? { paths: real } : {}),
    budgetMs: budget * 1000,
    staleAfter: orphanAge * 60,
    ...(image ? { image } : {}),
    ...(progress ? { onProgress: (what: string) => fs.writeSync(2, `\r\x1b[K${what}`) } : {}),
  });
  if (progress) fs.writeSync(2, '\r\x1b[K');
  if (flags.json) process.stdout.write(JSON.stringify(doctorJson(report, version), null, 2) + '\n');
  else process.stdout.write(doctorHuman(report, wantColor(process.stdout)));
  return report.exitCode;
}
