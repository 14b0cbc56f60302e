// Each check's evidence as terminal lines. One renderer per check id, typed by that check's
// evidence: tsc refuses a renderer that reads a field its check does not give, and a check
// without a renderer.
import type { CheckId, Culprit, Finding, FindingOf } from '../checks/types.js';
import type { ScanEvidence } from '../checks/scan.js';
import type { StoreEvidence } from '../checks/containers.js';
import { bytes, count, elapsed, num, pct } from '../shared/units.js';
import { displayText } from '../shared/text.js';
import { headedTable, type Style } from './format.js';

type Render<K extends CheckId> = (f: FindingOf<K>, s: Style) => string[];

/** "scanned 1,200 entries in 0.4 s", and when the budget cut it, how much of the mount that was. */
export function scanLine(scan: ScanEvidence | null): string[] {
  if (!scan) return [];
  const t = `scanned ${num(scan.entries)} entries of ${displayText(scan.root)} in ${elapsed(scan.elapsedMs)}`;
  if (!scan.partial) return [t];
  const share = scan.mountInodesUsed ? ` (${pct(Math.min(scan.entries, scan.mountInodesUsed), scan.mountInodesUsed)} of the ${num(scan.mountInodesUsed)} inodes in use)` : '';
  return [`${t}${share}: PARTIAL, the time budget ran out; the counts below are a floor (--budget for more)`];
}

function processLines(ps: Array<{ pid: number; comm: string; count: number }>, what: string): string[] {
  return ps.slice(0, 5).map((p) => `pid ${p.pid} (${displayText(p.comm)}): ${num(p.count)} ${what}`);
}

function storeLine(e: StoreEvidence): string {
  const mount = e.mount ? `; on ${e.mount}${e.mountInodesUsedPercent !== null ? `, inodes ${e.mountInodesUsedPercent}% used, ${num(e.mountInodesFree ?? 0)} free` : ''}` : '';
  return `${e.engine} store ${displayText(e.store)} (${e.rootless ? `rootless, ${e.owner}` : `owner ${e.owner}`})${mount}`;
}

function perUser(f: FindingOf<'inotify.watches' | 'inotify.instances' | 'fanotify.marks' | 'epoll.watches'>): string[] {
  const e = f.evidence;
  return [
    `user ${displayText(e.user)} (uid ${e.uid}): ${e.lowerBound ? 'at least ' : ''}${num(e.used)} of ${num(e.limit)} ${e.what} (${e.percent}%), limit ${e.limitName}`,
    ...(e.processes.length ? processLines(e.processes, e.what) : ['no readable process of this user holds any']),
    ...(e.processes.length > 5 ? [`... ${e.processes.length - 5} more processes (enospc inotify --user ${displayText(e.user)})`] : []),
    ...(e.lowerBound ? [unreadableLine(e.unreadable, e.unreadableWhy)] : []),
  ];
}

function unreadableLine(pids: number[], why: 'needs-root' | 'hidden' | null): string {
  const reason = why === 'hidden' ? 'closed even to root' : 'not root';
  return pids.length
    ? `${pids.length === 1 ? `pid ${pids[0]}` : `pids ${pids.join(', ')}`} of this user could not be read (${reason}): there may be more`
    : `some processes whose owner is not known could not be read (${reason}): there may be more`;
}

function table(f: FindingOf<'ipc.sem' | 'ipc.shm' | 'ipc.msg' | 'mqueue.queues' | 'pty.count'>): string[] {
  const e = f.evidence;
  return [
    `${num(e.used)} of ${num(e.limit)} ${e.what} (${e.percent}%), limit ${e.limitName}`,
    ...(e.holders.length ? [`held by ${e.holders.slice(0, 5).map((h) => `${displayText(h.user)} ${num(h.count)}`).join(', ')}`] : []),
  ];
}

const RENDER: { [K in CheckId]: Render<K> } = {
  'inodes.full': ({ evidence: e }) => [
    `${e.fstype}: ${num(e.inodes.used)} of ${num(e.inodes.total)} inodes used (${e.inodesUsedPercent}%), ${num(e.inodes.free)} free; space ${e.blocksUsedPercent}% used`,
    ...scanLine(e.scan),
  ],
  'blocks.full': ({ evidence: e }) => [
    `${e.fstype}: ${bytes(e.bytes.avail)} of ${bytes(e.bytes.total)} available to users (${e.blocksUsedPercent}% used)`,
    ...scanLine(e.scan),
  ],
  'blocks.reserved': ({ evidence: e }) => [
    `${e.fstype}: ${bytes(e.availBytes)} available to users, ${bytes(e.reservedBytes)} in the root reserve (${pct(e.blocks.used, e.blocks.total)} used)`,
  ],
  'tmpfs.nr-inodes-low': ({ evidence: e }) => [
    `size ${bytes(e.sizeBytes)}, nr_inodes ${e.nrInodesOption ?? `${num(e.nrInodes)} (the kernel's default: not set)`}: ${bytes(e.bytesPerInode)} per inode, over the ${bytes(e.limitBytesPerInode)} flagged`,
    `now: inodes ${e.inodesUsedPercent}% used, space ${e.blocksUsedPercent}% used`,
  ],
  'tmpfs.inode32': ({ evidence: e }) => [
    `kernel ${e.kernel} (${e.arch}) has inode64; options ${e.options}`,
    e.maxInodeSeen === null ? 'no scan ran: the highest inode number in use is not known' : `highest inode number seen ${num(e.maxInodeSeen)} of ${num(e.wrapsAt)}: ${num(e.numbersLeft ?? 0)} left before the counter wraps`,
  ],
  'tmpfs.inode-collision': ({ evidence: e }) => {
    const k = e.collisions;
    const why = e.fstype === 'tmpfs'
      ? (e.inode64 ? 'tmpfs with inode64: numbers from before a switch to inode64 keep their old values' : 'tmpfs without inode64: its 32-bit inode counter wrapped after 2^32 files created, and new files got numbers still in use')
      : e.fstype.startsWith('fuse') ? `${e.fstype}: the FUSE server gives these numbers (use_ino)` : `${e.fstype}: the filesystem gives these numbers`;
    return [
      ...k.list.flatMap((x) => [`inode ${x.ino}:`, ...x.files.map((f) => `  ${displayText(f.path)} (${f.type}, ${bytes(f.size)}, modified ${f.mtime}, ${count(f.nlink, 'link')})`)]),
      ...(k.inodes > k.list.length ? [`... ${num(k.inodes - k.list.length)} more numbers`] : []),
      ...(k.partial ? ['the walk for the files ran out of time: some may be missing'] : []),
      `names sharing a number count as one file only when nlink, ctime, size, mode and owner agree; every inode number under ${displayText(e.root)} was compared`,
      why,
    ];
  },
  'ext4.dir-index': ({ evidence: e }) => [
    `${num(e.entries)} entries directly in it; about ${num(e.approxLimit)} fit a 2-level index; large_dir ${e.largeDir === 'unknown' ? `unknown (${e.device} could not be read)` : `off on ${e.device}`}`,
  ],
  'deleted-open': ({ evidence: e }) => [
    ...e.processes.slice(0, 5).map((p) => `pid ${p.pid} (${displayText(p.comm)}): ${count(p.files, 'file')}, ${bytes(p.bytes)}, e.g. fd ${p.examples[0]?.fd} ${displayText(p.examples[0]?.path ?? '')}`),
    ...(e.processes.length > 5 ? [`... ${e.processes.length - 5} more processes`] : []),
    ...(e.lowerBound ? [`${count(e.unreadable, 'process', 'processes')} could not be read (${e.unreadableWhy === 'hidden' ? 'closed even to root' : 'not root'}): there may be more`] : []),
  ],
  'orphans': ({ evidence: e }) => [
    `${num(e.orphans)} of ${num(e.count)} ${displayText(e.pattern)}; open in a process: ${e.openCount === null ? 'unknown' : num(e.openCount)}`,
  ],
  'imagemagick.pixel-cache': ({ evidence: e }) => [
    e.arithmetic,
    e.policyFile
      ? `${e.policyFile}: memory ${e.memory ?? 'not set'}, map ${e.map ?? 'not set'}, disk ${e.disk ?? 'not set'}${e.temporaryPath ? `, temporary-path ${e.temporaryPath}` : ''}: the cache goes to ${e.goesTo}`
      : `no policy.xml (looked for ${e.searched.join(', ')})`,
  ],
  'containers.idmapped-copies': ({ evidence: e }) => [
    storeLine(e),
    ...e.images.slice(0, 5).map((i) => `${displayText(i.image)}: ${count(i.copies, 'copy', 'copies')}, ${num(i.inodes)} inodes`),
    'unknown' in e.growth ? `pace: ${e.growth.unknown}` : `pace: ${e.growth.perDay} copies a day, ${num(e.growth.inodesPerDay)} inodes a day${e.growth.daysLeft !== null ? `; the mount's free inodes last ${e.growth.daysLeft} days at that pace` : ''}`,
    ...e.why.map((w) => `why: ${w}`),
  ],
  'containers.unreferenced-layers': ({ evidence: e }) => [
    storeLine(e),
    ...e.layers.slice(0, 5).map((l) => `layer ${l.id.slice(0, 12)}: ${l.inodes === null ? '?' : num(l.inodes)} inodes, ${l.reason}`),
    ...e.dirs.slice(0, 5).map((d) => `${displayText(d.path)}: ${d.inodes === null ? '?' : num(d.inodes)} inodes`),
    ...e.why.map((w) => `why: ${w}`),
  ],
  'inotify.watches': perUser,
  'inotify.instances': perUser,
  'fanotify.marks': perUser,
  'epoll.watches': perUser,
  'ipc.sem': table,
  'ipc.shm': table,
  'ipc.msg': table,
  'mqueue.queues': table,
  'pty.count': table,
};

/** The evidence lines of a finding (without indentation). */
export function evidenceLines(f: Finding, s: Style): string[] {
  return (RENDER[f.id] as Render<typeof f.id>)(f as never, s);
}

/** The culprits table: count, pattern, empty files, owners, open, orphans, known producer, where. */
export function culpritLines(cs: Culprit[], s: Style, indent: string): string[] {
  const known = (n: number | null | undefined) => (n === null ? '?' : n === undefined ? '-' : num(n));
  const rows = cs.map((c) => [
    num(c.count),
    displayText(c.pattern),
    c.zeroByte === null ? '-' : num(c.zeroByte),
    c.owners?.slice(0, 2).map((o) => o.user).join(',') ?? '-',
    known(c.openCount),
    c.orphan ? known(c.orphan.count) : '-',
    c.signature?.name ?? '',
    displayText(c.path),
  ]);
  const out = headedTable([['COUNT', 'PATTERN', 'EMPTY', 'OWNER', 'OPEN', 'ORPHANS', 'KNOWN AS', 'WHERE'], ...rows], [true, false, true, false, true, true, false, false], s, indent);
  const why = cs.find((c) => c.orphan && c.orphan.count === null)?.orphan?.reason;
  if (why || cs.some((c) => c.openCount === null)) out.push(s.dim(`${indent}? ${why ?? 'open files were not counted'}`));
  return out;
}
