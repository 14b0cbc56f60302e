// enospc top PATH: what uses the inodes under PATH.
import { censusParallel } from '../scan/parallel.js';
import { PSEUDO_FSTYPES, fsUsage } from '../probe/mounts.js';
import { checkMounts, walkMounts } from '../probe/mount-health.js';
import { topHuman, topJson, type TopView } from '../report/top.js';
import { wantColor } from '../report/format.js';
import { SysError } from '../sys/libc.js';
import { fdExhausted } from '../sys/fds.js';
import { out } from './output.js';
import { progressLine } from './progress.js';
import { describeCode, fail, parseIntOption } from './fail.js';
import { resolveRoot } from './root.js';
import { numbersMayRepeat } from '../scan/collisions.js';
import { num } from '../shared/units.js';

export interface TopFlags {
  by?: string;
  limit: string;
  json?: boolean;
  crossMounts?: boolean;
  stat?: boolean;
  threads?: string;
}

const VIEWS = ['dirs', 'patterns', 'owners', 'ages'];

export async function runTop(path: string, flags: TopFlags): Promise<void> {
  const limit = parseIntOption('--limit', flags.limit, 1);
  const threads = flags.threads === undefined ? undefined : parseIntOption('--threads', flags.threads, 1);
  if (flags.by !== undefined && !VIEWS.includes(flags.by)) fail(`--by takes one of ${VIEWS.join(', ')}, not '${flags.by}'`);
  const view = flags.by as TopView | undefined;
  const { root, mount, mounts: now } = resolveRoot(path);
  // the walk skips the mount points below the root without opening them; crossing into them, it
  // enters only those that answer statfs (asked in a child process that cannot hang this one)
  const mounts = flags.crossMounts ? (await checkMounts({ all: now.all, under: root })).health : now;
  const stat = flags.stat === true || view === 'owners' || view === 'ages';

  const progress = progressLine(flags.json);
  const onProgress = (entries: number) => progress.update(() => `scanning ${root}: ${num(entries)} entries`);

  let result;
  try {
    result = await censusParallel(root, {
      limit, stat, crossMounts: flags.crossMounts === true, mountPoints: walkMounts(root, mounts),
      // every inode number compared where numbers can repeat (hard links are told apart everywhere)
      collisions: mount !== undefined && numbersMayRepeat(mount),
      ...(threads ? { threads } : {}),
      onProgress,
    });
  } catch (e) {
    if (e instanceof SysError && !fdExhausted(e)) fail(`${path}: ${describeCode(e.code)}`);
    throw e;
  } finally {
    progress.clear();
  }
  let usage;
  try {
    usage = fsUsage(root);
  } catch {
    usage = undefined;
  }
  // crossing mounts: each filesystem entered has its own inode and space figures
  const crossed = flags.crossMounts
    ? mounts.visible.filter((m) => m.mountPoint.startsWith(root === '/' ? '/' : root + '/') && m.mountPoint !== root && !mounts.dead.has(m.id) && !PSEUDO_FSTYPES.has(m.fstype))
      .map((m) => ({ mount: m, usage: mounts.usage.get(m.id)?.usage ?? null }))
    : [];
  const input = { census: result, mount, usage, ...(crossed.length ? { crossed } : {}) };
  if (flags.json) out(JSON.stringify(topJson(input), null, 2) + '\n');
  else out(topHuman(input, view, wantColor(process.stdout)));
}
