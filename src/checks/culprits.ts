// Census patterns turned into culprits: who made them, whether anyone holds them open, whether
// their creator is gone; and the fixes that clean them up.
//
// Orphans are judged only where the answer means something: temporary files (a known temp-file
// producer, or names with a random part in a temp-like place: a tmpfs, /tmp, /var/tmp, a cache
// directory), files only for the age rule (a directory's mtime says little), and only when the
// open files of every process could be read; otherwise the count is null and the reason says why.
import type { CheckContext, Culprit, Fix, MountFacts } from './types.js';
import type { PatternCount } from '../scan/census.js';
import type { Mount } from '../probe/mounts.js';
import { isUtf8 } from 'node:buffer';
import { cleanCommand, signatureOf, SIGNATURES } from './signatures.js';
import { textOf } from '../shared/text.js';
import { age, countOption, iso, num, span } from '../shared/units.js';
import { shellArg } from '../shared/fix.js';
import { userName } from '../probe/users.js';

/** Patterns smaller than this share of the scan are not worth naming as culprits. */
const MIN_SHARE = 0.01;

const TEMP_DIR = /^\/(tmp|var\/tmp|dev\/shm|run\/user\/\d+)(\/|$)|\/(\.cache|cache)(\/|$)/;

/** A place where files are temporary by nature. */
function tempLike(dir: string, mount: Mount): boolean {
  return mount.fstype === 'tmpfs' || TEMP_DIR.test(dir);
}

/** Does a pattern (a glob with \ escapes) have a variable part, a `*` not escaped? */
function hasWildcard(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === '*') return true;
  }
  return false;
}

const AS_ROOT = ' (run as root)';

/**
 * Why the open files are not known, or null when they are: every process could be read, or
 * doctor runs as root and only a few processes are closed even to root (named in unknown).
 */
export function openUnknown(ctx: CheckContext): string | null {
  const o = ctx.openFiles;
  if (!o) return 'the open files of processes could not be read';
  if (o.unreadable === 0 || ctx.asRoot) return null;
  return `the open files of ${num(o.unreadable)} process${o.unreadable === 1 ? '' : 'es'} of other users could not be read`;
}

/** As root with processes closed even to root: enospc clean then keeps other users' files unless told. */
function unseenNote(ctx: CheckContext): string {
  const n = ctx.asRoot ? ctx.openFiles?.unreadable ?? 0 : 0;
  return n ? `. While ${num(n)} process${n === 1 ? ' is' : 'es are'} closed even to root, enospc clean keeps the files of users other than root; add --force-unseen once you know ${n === 1 ? 'it holds' : 'they hold'} none of them` : '';
}

/** What the orphan count leaves out, as root: processes whose open files even root cannot read. */
function closedToRoot(ctx: CheckContext): string {
  const n = ctx.asRoot ? ctx.openFiles?.unreadable ?? 0 : 0;
  return n ? ` (${num(n)} process${n === 1 ? '' : 'es'} closed even to root not counted)` : '';
}

function orphanOf(p: PatternCount, judged: boolean, ctx: CheckContext): Culprit['orphan'] {
  if (p.pidDead !== null && p.pidAlive !== null) {
    if (ctx.pidsHidden) return { count: null, reason: `not determined: the processes of other users are hidden (/proc hidepid), so whether the PID in the name runs is unknown${AS_ROOT}` };
    return { count: p.pidDead, reason: `the PID in the name is not running (${num(p.pidAlive)} with a live PID)` };
  }
  if (!judged || p.stale === null) return null;
  const unknown = openUnknown(ctx);
  if (unknown !== null || p.open === null) return { count: null, reason: `not determined: ${unknown ?? 'open files were not counted'}${AS_ROOT}` };
  return { count: p.stale, reason: `files not modified for over ${span(ctx.staleAfter)} and open in no process${closedToRoot(ctx)}` };
}

/** The bytes of a culprit's pattern and directory (its text has \x escapes where they are not UTF-8). */
const bytesOf = new WeakMap<Culprit, { pattern: Buffer; dir: Buffer }>();

function toCulprit(p: PatternCount, m: MountFacts, ctx: CheckContext): Culprit {
  const dir = p.topDirs[0] ? textOf(p.topDirs[0].path) : '';
  const pattern = textOf(p.pattern);
  const sig = signatureOf(textOf(p.example), dir);
  const judged = sig ? sig.temp : hasWildcard(pattern) && tempLike(dir, m.mount);
  const c: Culprit = {
    path: dir,
    pattern,
    count: p.count,
    bytes: p.bytes,
    zeroByte: p.zeroByte,
    owners: p.owners?.map((o) => ({ uid: o.uid, user: userName(o.uid), count: o.count })) ?? null,
    oldest: p.oldest === null ? null : iso(p.oldest),
    newest: p.newest === null ? null : iso(p.newest),
    openCount: openUnknown(ctx) === null ? p.open : null,
    orphan: orphanOf(p, judged, ctx),
    signature: sig ? { id: sig.id, name: sig.name } : null,
  };
  const dirBytes = p.topDirs[0]?.path;
  if (!isUtf8(p.pattern) || (dirBytes && !isUtf8(dirBytes))) bytesOf.set(c, { pattern: p.pattern, dir: dirBytes ?? Buffer.alloc(0) });
  return c;
}

const made = new WeakMap<MountFacts, Culprit[]>();

/** The culprits of a mount's census: its largest patterns (made once per mount, asked by several checks). */
export function culpritsOf(m: MountFacts, ctx: CheckContext): Culprit[] {
  const c = m.census;
  if (!c) return [];
  let list = made.get(m);
  if (!list) {
    const min = Math.max(2, c.totals.entries * MIN_SHARE);
    list = c.patterns.filter((p) => p.count >= min).slice(0, 5).map((p) => toCulprit(p, m, ctx));
    made.set(m, list);
  }
  return list;
}


/** The fixes that remove a culprit's orphans: enospc clean's dry run, the removal, and the rule that keeps doing it. */
export function orphanFixes(c: Culprit, ctx: CheckContext): Fix[] {
  const n = c.orphan?.count;
  if (!c.path || !c.orphan) return [];
  if (n === null || n === undefined) {
    const why = c.orphan.reason.replace(/^not determined: /, '').replace(AS_ROOT, '');
    return [{ text: `Whether the ${num(c.count)} ${c.pattern} in ${c.path} are orphans could not be checked: ${why}. Remove none before a run that sees every process (as root)`, command: `sudo enospc doctor ${shellArg(c.path)}` }];
  }
  if (n === 0) return [];
  if (c.signature?.id === 'opam') return [];
  const ageText = age(ctx.staleAfter);
  // names that are not UTF-8 are given as their bytes ($'\xHH'); tmpfiles.d lines cannot hold them
  const raw = bytesOf.get(c);
  const dir = raw?.dir ?? c.path;
  const glob = raw?.pattern ?? c.pattern;
  return [
    { text: `See which of the ${c.pattern} in ${c.path} would go: untouched for over ${span(ctx.staleAfter)} (a dry run; files open in a process or locked are kept)`, command: cleanCommand(dir, glob, ageText) },
    { text: `Then remove them (${num(n)} looked orphaned; each removal is logged before it happens)${unseenNote(ctx)}`, command: cleanCommand(dir, glob, ageText, true) },
    ...(raw ? [] : [{ text: 'Keep them from piling up again: the tmpfiles.d rule that does the same (prints it, for /etc/tmpfiles.d/)', command: `${cleanCommand(dir, glob, ageText)} --emit-rule` }]),
  ];
}

/** Fixes for a mount out of inodes: clean the culprits, then stop them coming back. */
export function cleanupFixes(m: MountFacts, culprits: Culprit[], ctx: CheckContext): Fix[] {
  const fixes: Fix[] = [];
  const add = (f: Fix) => {
    if (!fixes.some((x) => x.text === f.text && x.command === f.command)) fixes.push(f);
  };
  for (const c of culprits) {
    orphanFixes(c, ctx).forEach(add);
    const sig = c.signature && SIGNATURES.find((s) => s.id === c.signature!.id);
    if (sig) sig.fix({ dir: c.path || m.mount.mountPoint, owner: c.owners?.[0]?.user ?? null, host: ctx.host }).forEach(add);
  }
  // nothing known to remove: look before touching anything
  if (fixes.length === 0) {
    const where = culprits[0]?.path || m.mount.mountPoint;
    add({ text: culprits.length ? `Look at what they are (owners, ages, sizes) before removing anything: no culprit is a known temp-file producer with orphans` : 'Find what holds the inodes', command: `enospc top ${shellArg(where)} --stat` });
  }
  const fix = tmpfsRelief(m);
  if (fix) add(fix);
  return fixes;
}

/** Is the mount read-only (nothing can be created or removed there, so no remount advice)? */
export function readOnly(m: Mount): boolean {
  return m.options.split(',').includes('ro') || m.superOptions.split(',').includes('ro');
}

/** Immediate relief on a writable tmpfs: raise its inode limit in place. */
function tmpfsRelief(m: MountFacts): Fix | null {
  if (m.mount.fstype !== 'tmpfs' || !m.usage || readOnly(m.mount)) return null;
  const more = Math.max(m.usage.inodes.total * 2, 1 << 20);
  return {
    text: 'Immediate relief on tmpfs: raise the inode limit in place (no data is lost)',
    command: `mount -o remount,nr_inodes=${countOption(Math.ceil(more / 1024) * 1024)} ${shellArg(m.mount.mountPoint)}`,
  };
}
