// enospc inotify: who holds inotify watches and instances, per user and process.
import fs from 'node:fs';
import { inotifyUsage } from '../probe/watch-users.js';
import { uidOf } from '../probe/users.js';
import { inotifyHuman, inotifyJson } from '../report/inotify.js';
import { wantColor } from '../report/format.js';
import { out } from './output.js';
import { fail } from './fail.js';
import { displayText } from '../shared/text.js';

export interface InotifyFlags { user?: string; pid?: string; paths?: boolean; json?: boolean }

export function runInotify(flags: InotifyFlags): void {
  let uid: number | undefined;
  if (flags.user !== undefined) {
    const u = uidOf(flags.user);
    if (u === undefined) fail(`no such user: ${flags.user}`);
    uid = u;
  }
  let pids: Set<number> | undefined;
  if (flags.pid !== undefined) {
    const pid = Number(flags.pid);
    if (!/^\d+$/.test(flags.pid) || pid < 1) fail(`--pid takes a process ID (a whole number of at least 1), not '${displayText(flags.pid)}'`);
    if (!fs.existsSync(`/proc/${pid}`)) fail(`no such process: ${pid}`);
    pids = new Set([pid]);
  }
  const usage = inotifyUsage({ ...(pids ? { pids } : {}), paths: flags.paths === true, ...(uid !== undefined ? { uid } : {}) });
  if (flags.json) out(JSON.stringify(inotifyJson(usage), null, 2) + '\n');
  else out(inotifyHuman(usage, wantColor(process.stdout)));
}
