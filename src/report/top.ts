// `enospc top`: the JSON document and the human report of a census.
import type { CensusResult, PatternCount } from '../scan/census.js';
import type { FsUsage, Mount } from '../probe/mounts.js';
import { userName } from '../probe/users.js';
import { display, jsonName } from '../shared/text.js';
import { collisionsJson, type CollisionsJson } from '../scan/collisions.js';
import { ageOf, bytes, count, elapsed, iso, num, pct, style, headedTable, type Style } from './format.js';

export const TOP_SCHEMA = 1;

export interface TopInput {
  census: CensusResult;
  mount: Mount | undefined;
  usage: FsUsage | undefined;
  /** with --cross-mounts: the other filesystems below the root the walk entered, each with its statfs (null: it did not answer) */
  crossed?: Array<{ mount: Mount; usage: FsUsage | null }>;
}

export type TopView = 'dirs' | 'patterns' | 'owners' | 'ages';

/** A directory in a top list. */
export interface TopDirJson {
  path: string;
  /** the exact bytes of path, when they are not valid UTF-8 */
  pathBase64?: string;
  /** entries below it, recursively, counting the directory itself */
  inodes: number;
  /** entries directly inside it */
  direct: number;
}

/** A name pattern and what holds it. */
export interface TopPatternJson {
  /** the name with its variable parts (digit runs, hex ids, random runs) replaced by `*` */
  pattern: string;
  /** the exact bytes of pattern, when they are not valid UTF-8 */
  patternBase64?: string;
  count: number;
  kinds: { files: number; dirs: number; other: number };
  /** with --stat: total size in bytes, else null */
  bytes: number | null;
  /** with --stat: regular files of size 0, else null */
  zeroByte: number | null;
  /** with --stat: its owners, most first, else null */
  owners: Array<{ uid: number; user: string; count: number }> | null;
  /** with --stat: ISO 8601 mtime of the oldest, else null */
  oldest: string | null;
  /** with --stat: ISO 8601 mtime of the newest, else null */
  newest: string | null;
  /** the directories holding the most of them (up to 5) */
  dirs: Array<{ path: string; pathBase64?: string; count: number }>;
  /** how many directories hold at least one */
  dirCount: number;
  /** one real name of this pattern */
  example: string;
  /** the exact bytes of example, when they are not valid UTF-8 */
  exampleBase64?: string;
}

/** The counts of the whole walk. */
export interface TopTotalsJson {
  /** every name below root, plus root: `find ROOT -xdev | wc -l` */
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  other: number;
  /** directories that could not be opened or read */
  unreadable: number;
  /** mount points below root not entered */
  mountsSkipped: number;
  /** with --stat: distinct inodes (hard links once), else null */
  inodes: number | null;
  /** with --stat: names beyond the first of a hard-linked file, else null */
  hardLinks: number | null;
  /** with --stat: sum of sizes (hard links once), else null */
  bytes: number | null;
}

/** `enospc top PATH --json` (docs/json.md; schemas/top.schema.json). */
export interface TopJson {
  schema: typeof TOP_SCHEMA;
  /** the real path scanned */
  root: string;
  /** the exact bytes of root, when they are not valid UTF-8 */
  rootBase64?: string;
  /** the filesystem holding root; null when unknown */
  mount: {
    path: string;
    fstype: string;
    source: string;
    /** the superblock options (mountinfo) */
    options: string;
    /** statfs f_files, f_ffree; null when unknown */
    inodes: { total: number; free: number; used: number } | null;
    /** statfs blocks, in units of size; null when unknown */
    blocks: { size: number; total: number; free: number; avail: number; used: number } | null;
  } | null;
  /** true with --stat (or --by owners|ages): every entry was stat-ed */
  stat: boolean;
  /** true when a time budget cut the walk short */
  partial: boolean;
  totals: TopTotalsJson;
  /** top directories by recursive inode count */
  dirs: TopDirJson[];
  /** top directories by entries directly inside */
  dirsByDirect: TopDirJson[];
  /** top name patterns by count */
  patterns: TopPatternJson[];
  /** distinct patterns seen */
  patternCount: number;
  /** more than 0 when rare patterns were dropped to bound memory: any count may be short by at most this much */
  patternUndercount: number;
  /** with --stat: owners by count, else null */
  owners: Array<{ uid: number; user: string; count: number; bytes: number }> | null;
  /** with --stat: entries by mtime age (buckets future, <1h, 1h-1d, 1d-7d, 7d-30d, 30d-1y, >1y), else null */
  ages: Array<{ bucket: string; maxSeconds: number | null; count: number }> | null;
  /** directories that could not be read (the first 100) */
  unreadable: Array<{ path: string; pathBase64?: string; error: string }>;
  /** mount points below root not entered (the first 100) */
  mountsSkipped: string[];
  /** with --stat: inode numbers held by distinct files (not hard links); null without --stat */
  collisions: CollisionsJson | null;
  elapsedMs: number;
}

function patternJson(p: PatternCount): TopPatternJson {
  return {
    ...jsonName('pattern', p.pattern),
    count: p.count,
    kinds: { files: p.files, dirs: p.dirs, other: p.count - p.files - p.dirs },
    bytes: p.bytes,
    zeroByte: p.zeroByte,
    owners: p.owners?.map((o) => ({ uid: o.uid, user: userName(o.uid), count: o.count })) ?? null,
    oldest: p.oldest === null ? null : iso(p.oldest),
    newest: p.newest === null ? null : iso(p.newest),
    dirs: p.topDirs.map((d) => ({ ...jsonName('path', d.path), count: d.count })),
    dirCount: p.dirCount,
    ...jsonName('example', p.example),
  };
}

/** The documented JSON shape (docs/json.md). */
export function topJson({ census: c, mount, usage }: TopInput): TopJson {
  return {
    schema: TOP_SCHEMA,
    ...jsonName('root', Buffer.from(c.root)),
    mount: mount ? {
      path: mount.mountPoint,
      fstype: mount.fstype,
      source: mount.source,
      options: mount.superOptions,
      inodes: usage?.inodes ?? null,
      blocks: usage ? { size: usage.blockSize, ...usage.blocks } : null,
    } : null,
    stat: c.stat,
    partial: c.partial,
    totals: c.totals,
    dirs: c.dirs.map((d) => ({ ...jsonName('path', d.path), inodes: d.inodes, direct: d.direct })),
    dirsByDirect: c.dirsByDirect.map((d) => ({ ...jsonName('path', d.path), inodes: d.inodes, direct: d.direct })),
    patterns: c.patterns.map(patternJson),
    patternCount: c.patternCount,
    patternUndercount: c.patternUndercount,
    owners: c.owners?.map((o) => ({ uid: o.uid, user: userName(o.uid), count: o.count, bytes: o.bytes })) ?? null,
    ages: c.ages?.map((a) => ({ bucket: a.label, maxSeconds: a.maxSeconds, count: a.count })) ?? null,
    unreadable: c.unreadable.map((u) => ({ ...jsonName('path', u.path), error: u.error })),
    mountsSkipped: c.mountsSkipped.map((m) => jsonName('path', m).path),
    collisions: collisionsJson(c),
    elapsedMs: c.elapsedMs,
  };
}

function usageLines(mount: Mount | undefined, usage: FsUsage | undefined, s: Style): string[] {
  if (!mount || !usage) return ['filesystem: unknown'];
  const { inodes, blocks, blockSize } = usage;
  const lines = [s.bold(`${mount.mountPoint}`) + s.dim(` (${mount.fstype}, ${mount.source})`)];
  if (inodes.total === 0) {
    lines.push(`  inodes  no fixed inode table (${mount.fstype}): inode exhaustion cannot happen here`);
  } else {
    const p = pct(inodes.used, inodes.total);
    const line = `  inodes  ${num(inodes.used)} used of ${num(inodes.total)} (${p}), ${num(inodes.free)} free`;
    lines.push(inodes.free / inodes.total < 0.1 ? s.red(line) : line);
  }
  const used = blocks.used * blockSize;
  const line = `  space   ${bytes(used)} used of ${bytes(blocks.total * blockSize)} (${pct(blocks.used, blocks.total)}), ${bytes(blocks.avail * blockSize)} available`;
  lines.push(blocks.total && blocks.avail / blocks.total < 0.1 ? s.red(line) : line);
  return lines;
}

function ownersText(p: PatternCount): string {
  if (!p.owners) return '';
  const top = p.owners.slice(0, 2).map((o) => userName(o.uid)).join(',');
  return p.owners.length > 2 ? `${top},+${p.owners.length - 2}` : top;
}

function whereText(p: PatternCount): string {
  const first = p.topDirs[0];
  if (!first) return '';
  if (p.dirCount === 1) return display(first.path);
  return `${num(p.dirCount)} dirs, most in ${display(first.path)} (${num(first.count)})`;
}

function patternsSection(c: CensusResult, s: Style): string[] {
  const now = Date.now() / 1000;
  const head = c.stat
    ? ['COUNT', 'SHARE', 'PATTERN', 'BYTES', 'EMPTY', 'OWNER', 'OLDEST', 'NEWEST', 'WHERE']
    : ['COUNT', 'SHARE', 'PATTERN', 'WHERE'];
  const rows = c.patterns.map((p) => {
    const base = [num(p.count), pct(p.count, c.totals.entries)];
    const stat = c.stat
      ? [bytes(p.bytes ?? 0), num(p.zeroByte ?? 0), ownersText(p),
         p.oldest === null ? '-' : ageOf(now - p.oldest, now), p.newest === null ? '-' : ageOf(now - p.newest, now)]
      : [];
    return [...base, display(p.pattern), ...stat, whereText(p)];
  });
  const right = c.stat ? [true, true, false, true, true, false, true, true, false] : [true, true, false, false];
  return [s.bold('Top name patterns by count'), ...headedTable([head, ...rows], right, s, '  ')];
}

function dirsSection(c: CensusResult, s: Style, full: boolean): string[] {
  const out = [s.bold('Top directories by inodes (recursive)')];
  const rows = c.dirs.map((d) => [num(d.inodes), num(d.direct), display(d.path)]);
  out.push(...headedTable([['INODES', 'DIRECT', 'PATH'], ...rows], [true, true, false], s, '  '));
  if (full) {
    out.push('', s.bold('Top directories by direct entries'));
    const rows2 = c.dirsByDirect.map((d) => [num(d.direct), num(d.inodes), display(d.path)]);
    out.push(...headedTable([['DIRECT', 'INODES', 'PATH'], ...rows2], [true, true, false], s, '  '));
  }
  return out;
}

function ownersSection(c: CensusResult, s: Style): string[] {
  const rows = (c.owners ?? []).slice(0, 20).map((o) => [num(o.count), pct(o.count, c.totals.entries), bytes(o.bytes), userName(o.uid)]);
  return [s.bold('Owners by inode count'), ...headedTable([['COUNT', 'SHARE', 'BYTES', 'USER'], ...rows], [true, true, true, false], s, '  ')];
}

function agesSection(c: CensusResult, s: Style): string[] {
  const ages = c.ages ?? [];
  const max = Math.max(1, ...ages.map((a) => a.count));
  const rows = ages.map((a) => [a.label, num(a.count), pct(a.count, c.totals.entries), '#'.repeat(Math.round((30 * a.count) / max))]);
  return [s.bold('Age (modification time)'), ...headedTable([['AGE', 'COUNT', 'SHARE', ''], ...rows], [false, true, true, false], s, '  ')];
}

/** Inode numbers held by distinct files: each with its files (counted apart, not as hard links). */
function collisionLines(c: CensusResult, s: Style): string[] {
  const k = c.collisions;
  if (!k?.inodes) return [];
  const out = [s.red(`  ${k.more ? 'at least ' : ''}${count(k.inodes, 'inode number')} held by distinct files at once (counted apart, not as hard links):`)];
  for (const x of k.list) {
    out.push(`    inode ${x.ino}: ${x.files.map((f) => `${display(f.path)} (${f.type}, ${bytes(f.size)}, modified ${iso(f.mtime)}, ${count(f.nlink, 'link')})`).join('; ')}`);
  }
  if (k.inodes > k.list.length) out.push(s.dim(`    and ${num(k.inodes - k.list.length)} more (--json lists the first ${k.list.length})`));
  if (k.partial) out.push(s.yellow('    the files behind them were not all found in time'));
  return out;
}

/** The report for a terminal or a pipe. */
export function topHuman(input: TopInput, view: TopView | undefined, color: boolean): string {
  const s = style(color);
  const c = input.census;
  const t = c.totals;
  const out = usageLines(input.mount, input.usage, s);
  for (const x of input.crossed ?? []) out.push(...(x.usage ? usageLines(x.mount, x.usage, s) : [s.bold(x.mount.mountPoint) + s.dim(` (${x.mount.fstype}, ${x.mount.source}): statfs did not answer`)]));
  out.push(`scanned ${display(Buffer.from(c.root))}: ${count(t.entries, 'entry', 'entries')} (${count(t.files, 'file')}, ${count(t.dirs, 'dir')}, ${count(t.symlinks, 'symlink')}, ${num(t.other)} other) in ${elapsed(c.elapsedMs)}`);
  if (t.hardLinks) out.push(`  ${num(t.hardLinks)} extra hard links counted once: ${num(t.inodes ?? 0)} inodes`);
  out.push(...collisionLines(c, s));
  if (c.partial) out.push(s.yellow('  partial: the time budget ran out before the walk finished'));
  if (t.unreadable) out.push(s.yellow(`  ${num(t.unreadable)} directories could not be read (e.g. ${display(c.unreadable[0]!.path)}: ${c.unreadable[0]!.error})`));
  if (t.mountsSkipped) out.push(s.dim(`  ${num(t.mountsSkipped)} mount points not crossed (e.g. ${display(c.mountsSkipped[0]!)}); --cross-mounts enters them`));
  if (c.patternUndercount) out.push(s.dim(`  too many distinct names: pattern counts may be short by up to ${num(c.patternUndercount)}`));
  out.push('');
  if (view === undefined || view === 'patterns') out.push(...patternsSection(c, s), '');
  if (view === undefined || view === 'dirs') out.push(...dirsSection(c, s, view === 'dirs'), '');
  if (view === 'owners') out.push(...ownersSection(c, s), '');
  if (view === 'ages') out.push(...agesSection(c, s), '');
  if (!c.stat && view === undefined) out.push(s.dim('sizes, owners and ages: add --stat'));
  return out.join('\n').trimEnd() + '\n';
}
