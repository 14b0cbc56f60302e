// Census patterns turned into culprits: who made them, whether anyone holds them open, whether
// their creator is gone; and the fixes that clean them up.
import type { CheckContext, Culprit, Fix, MountFacts } from './types.js';
import type { PatternCount } from '../scan/census.js';
import { signatureOf, SIGNATURES } from './signatures.js';
import { display } from '../report/text.js';
import { iso, span } from '../report/format.js';
import { userName } from '../probe/users.js';

/** Patterns smaller than this share of the scan are not worth naming as culprits. */
const MIN_SHARE = 0.01;

function toCulprit(p: PatternCount, staleAfter: number): Culprit {
  const dir = p.topDirs[0] ? display(p.topDirs[0].path) : '';
  const sig = signatureOf(display(p.example), dir);
  let orphan: Culprit['orphan'] = null;
  if (p.pidDead !== null && p.pidAlive !== null) {
    orphan = { count: p.pidDead, reason: `the PID in the name is not running (${p.pidAlive} with a live PID)` };
  } else if (p.stale !== null) {
    orphan = { count: p.stale, reason: `not modified for over ${span(staleAfter)} and open in no process` };
  }
  return {
    path: dir,
    pattern: display(p.pattern),
    count: p.count,
    bytes: p.bytes,
    zeroByte: p.zeroByte,
    owners: p.owners?.map((o) => ({ uid: o.uid, user: userName(o.uid), count: o.count })) ?? null,
    oldest: p.oldest === null ? null : iso(p.oldest),
    newest: p.newest === null ? null : iso(p.newest),
    openCount: p.open,
    orphan,
    signature: sig ? { id: sig.id, name: sig.name } : null,
  };
}

const made = new WeakMap<MountFacts, Culprit[]>();

/** The culprits of a mount's census: its largest patterns (made once per mount, asked by several checks). */
export function culpritsOf(m: MountFacts, ctx: CheckContext): Culprit[] {
  const c = m.census;
  if (!c) return [];
  let list = made.get(m);
  if (!list) {
    const min = Math.max(2, c.totals.entries * MIN_SHARE);
    list = c.patterns.filter((p) => p.count >= min).slice(0, 5).map((p) => toCulprit(p, ctx.staleAfter));
    made.set(m, list);
  }
  return list;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Fixes for a mount out of inodes: clean the culprits, then stop them coming back. */
export function cleanupFixes(m: MountFacts, culprits: Culprit[], ctx: CheckContext): Fix[] {
  const fixes: Fix[] = [];
  const mins = Math.max(1, Math.round(ctx.staleAfter / 60));
  for (const c of culprits) {
    if (c.orphan && c.orphan.count > 0 && c.path) {
      const open = c.openCount ? ` ${c.openCount.toLocaleString('en-US')} of them are open in a live process now, and find cannot tell which: stop that process first, or expect it to fail.` : ' None is open in a process now.';
      fixes.push({
        text: `Remove the ${c.orphan.count.toLocaleString('en-US')} orphaned ${c.pattern} in ${c.path} (untouched for over ${span(ctx.staleAfter)}).${open} Look at the list first`,
        command: `find ${quote(c.path)} -xdev -maxdepth 1 -name ${quote(c.pattern)} -mmin +${mins} -print | head; find ${quote(c.path)} -xdev -maxdepth 1 -name ${quote(c.pattern)} -mmin +${mins} -delete`,
      });
    }
    const sig = c.signature && SIGNATURES.find((s) => s.id === c.signature!.id);
    if (!sig) continue;
    for (const f of sig.fix) {
      if (fixes.some((x) => x.text === f.text)) continue;
      fixes.push(f.command ? { ...f, command: f.command.replaceAll('{dir}', quote(c.path || m.mount.mountPoint)) } : f);
    }
  }
  if (m.mount.fstype === 'tmpfs' && m.usage) {
    const more = Math.max(m.usage.inodes.total * 2, 1 << 20);
    fixes.push({
      text: 'Immediate relief on tmpfs: raise the inode limit in place (no data is lost)',
      command: `mount -o remount,nr_inodes=${more} ${m.mount.mountPoint}`,
    });
  }
  if (culprits.length === 0) {
    fixes.push({ text: 'Find what holds the inodes', command: `enospc top ${m.mount.mountPoint}` });
  }
  return fixes;
}
