// enospc containers [--root DIR]: inode growth in container storage (ID-mapped copies,
// unreferenced layers, directories no layer names). Reads metadata only; never changes a store.
import fs from 'node:fs';
import { containers } from '../containers/run.js';
import { storeAt } from '../containers/stores.js';
import { checkMounts, closedMountOf, closedWhy } from '../probe/mount-health.js';
import { containersHuman, containersJson } from '../report/containers.js';
import { wantColor } from '../report/format.js';
import { out, say } from './output.js';
import { progressLine } from './progress.js';
import { describeCode, fail, parseIntOption } from './fail.js';

export interface ContainersFlags { root?: string; json?: boolean; budget: string; limit: string }

export async function runContainers(flags: ContainersFlags): Promise<number> {
  const budget = parseIntOption('--budget', flags.budget, 0);
  const limit = parseIntOption('--limit', flags.limit, 1);
  // which mounts answer, asked in a child process: stores and homes on dead ones are not read
  const { health } = await checkMounts();
  let stores;
  if (flags.root !== undefined) {
    const closed = closedMountOf(flags.root, health);
    if (closed) fail(`${flags.root}: not read: ${closedWhy(closed, health)}`);
    let st: fs.Stats;
    try {
      st = fs.statSync(flags.root);
    } catch (e) {
      fail(`${flags.root}: ${describeCode((e as NodeJS.ErrnoException).code)}`);
    }
    if (!st.isDirectory()) fail(`${flags.root}: not a directory`);
    const store = storeAt(flags.root, health);
    if (!store) fail(`${flags.root}: not a container store (no DRIVER-layers/layers.json of containers/storage, no image/overlay2/layerdb of Docker)`);
    stores = [store];
  }
  const progress = progressLine(flags.json);
  const report = await containers({ ...(stores ? { stores } : {}), health, budgetMs: budget * 1000, onProgress: (w) => progress.update(w) });
  progress.clear();
  if (flags.json) out(JSON.stringify(containersJson(report), null, 2) + '\n');
  else out(containersHuman(report, wantColor(process.stdout), limit));
  const errors = report.stores.flatMap((s) => s.errors);
  for (const e of errors) say(`enospc: cannot read ${e.file}: ${e.error}
`);
  // a store that is there (or may be) but unreadable is not "no store": say so, exit 1
  const denied = report.denied.filter((d) => d.root !== null);
  for (const d of denied) say(`enospc: ${d.what}: ${d.error}
`);
  return errors.length || denied.length ? 1 : 0;
}
