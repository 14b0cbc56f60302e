// enospc top PATH: what uses the inodes under PATH.
import fs from 'node:fs';
import { censusParallel } from '../scan/parallel.js';
import { PSEUDO_FSTYPES, fsUsage, mountOf, readMounts } from '../probe/mounts.js';
import { topHuman, topJson, type TopView } from '../report/top.js';
import { wantColor } from '../report/format.js';
import { SysError } from '../sys/libc.js';
import { describeCode, fail, parseIntOption } from './fail.js';

export interface TopFlags {
  by?: string;
  limit: string;
  json?: boolean;
  crossMounts?: boolean;
  stat?: boolean;
  threads?: string;
}

const VIEWS = ['dirs', 'patterns', 'owners', 'ages'];

/** Resolve and check the root the way every walking command needs it. */
export function resolveRoot(path: string, pseudoWhy = 'a kernel pseudo filesystem with no inodes to count'): string {
  let real: string;
  try {
    real = fs.realpathSync(path);
  } catch (e) {
    fail(`${path}: ${describeCode((e as NodeJS.ErrnoException).code)}`);
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(real);
  } catch (e) {
    fail(`${path}: ${describeCode((e as NodeJS.ErrnoException).code)}`);
  }
  if (!st.isDirectory()) fail(`${path}: not a directory`);
  const m = mountOf(real, readMounts());
  if (m && PSEUDO_FSTYPES.has(m.fstype)) fail(`${path}: on ${m.fstype}, ${pseudoWhy}`);
  return real;
}

export async function runTop(path: string, flags: TopFlags): Promise<void> {
  const limit = parseIntOption('--limit', flags.limit, 1);
  const threads = flags.threads === undefined ? undefined : parseIntOption('--threads', flags.threads, 1);
  if (flags.by !== undefined && !VIEWS.includes(flags.by)) fail(`--by takes one of ${VIEWS.join(', ')}, not '${flags.by}'`);
  const view = flags.by as TopView | undefined;
  const root = resolveRoot(path);
  const stat = flags.stat === true || view === 'owners' || view === 'ages';

  const progress = process.stderr.isTTY === true && !flags.json;
  const t0 = performance.now();
  let shown = false;
  let last = 0;
  const onProgress = progress ? (entries: number) => {
    const now = performance.now();
    if (now - t0 < 1000 || now - last < 200) return;
    last = now;
    shown = true;
    fs.writeSync(2, `\r\x1b[Kscanning ${root}: ${entries.toLocaleString('en-US')} entries`);
  } : undefined;

  let result;
  try {
    result = await censusParallel(root, {
      limit, stat, crossMounts: flags.crossMounts === true,
      ...(threads ? { threads } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
  } catch (e) {
    if (e instanceof SysError) fail(`${path}: ${describeCode(e.code)}`);
    throw e;
  } finally {
    if (shown) fs.writeSync(2, '\r\x1b[K');
  }
  const mount = mountOf(root, readMounts());
  let usage;
  try {
    usage = fsUsage(root);
  } catch {
    usage = undefined;
  }
  const input = { census: result, mount, usage };
  if (flags.json) process.stdout.write(JSON.stringify(topJson(input), null, 2) + '\n');
  else process.stdout.write(topHuman(input, view, wantColor(process.stdout)));
}
