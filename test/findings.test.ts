// Every check's finding rendered for a terminal, at each severity it has, from facts read on
// this machine (a real census, real kernel tables, a real container store) put in a context
// whose figures are set to the level being shown: what a person sees, for every check.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHECKS } from '../src/checks/index.js';
import type { CheckContext, Finding, MountFacts } from '../src/checks/types.js';
import { parseMountinfo, type FsUsage } from '../src/probe/mounts.js';
import { hostFiles } from '../src/probe/host-files.js';
import { kernelTables } from '../src/probe/sysctl.js';
import { census } from '../src/scan/census.js';
import { containers } from '../src/containers/run.js';
import { storeAt } from '../src/containers/stores.js';
import { doctorHuman } from '../src/report/doctor.js';
import { cannotMount, tmpfs, touch, unmountAll } from './helpers.js';
import { build } from './docker-tree.js';

after(unmountAll);

const rendered = new Set<string>();

/** The terminal report of these findings (no colour), as doctor prints it. */
function render(findings: Finding[]): string {
  for (const f of findings) rendered.add(`${f.id}:${f.severity}`);
  return doctorHuman({ host: { kernel: '', arch: '', hostname: '', node: '' }, mounts: [], findings, unknown: [], exitCode: 0, mountFacts: [], extraCensus: [] }, false);
}

function run(id: string, ctx: CheckContext): Finding[] {
  return CHECKS.find((c) => c.id === id)!.run(ctx);
}

function context(mounts: MountFacts[], extra: Partial<CheckContext> = {}): CheckContext {
  return { mounts, staleAfter: 3600, openFiles: { byDev: new Map(), deleted: [], unreadable: 0 }, host: hostFiles(), kernel: '6.18.44', arch: 'x64', ...extra };
}

/** A mount from a mountinfo line as this machine prints it. */
function mount(line: string) {
  return parseMountinfo(line)[0]!;
}
const TMPFS = mount('412 27 0:61 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw,size=1048576k,nr_inodes=44492');
const EXT4 = mount('27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard');
const RO = mount('28 27 0:25 / /mnt/ro ro,nosuid,nodev,relatime - tmpfs tmp ro,size=4k,mode=755');

function usage(inodes: [number, number], blocks: [number, number, number], bsize = 4096): FsUsage {
  return {
    blockSize: bsize,
    inodes: { total: inodes[0], free: inodes[1], used: inodes[0] - inodes[1] },
    blocks: { total: blocks[0], free: blocks[1], avail: blocks[2], used: blocks[0] - blocks[1] },
  };
}

const lines = (text: string) => text.split('\n');

test('inodes.full, orphans, tmpfs.nr-inodes-low and tmpfs.inode32: from a real census of orphaned magick-* files', { skip: cannotMount ?? false }, () => {
  const dir = tmpfs('size=16m,nr_inodes=3000');
  const old = new Date(Date.now() - 3 * 3600e3);
  for (let i = 0; i < 400; i++) {
    const f = `${dir}/magick-${(i * 2654435761 % 2 ** 32).toString(36)}Qz`;
    touch(f);
    fs.utimesSync(f, old, old);
  }
  const c = census(dir, { stat: true, staleAfter: 3600, openInodes: new Set() });
  const facts = (u: FsUsage): MountFacts => ({ mount: { ...TMPFS, mountPoint: dir }, usage: u, census: c });

  const critical = facts(usage([44492, 0], [262144, 261000, 261000]));
  let f = run('inodes.full', context([critical]));
  let out = render(f);
  assert.equal(f[0]!.severity, 'critical');
  assert.match(out, new RegExp(`^CRITICAL inodes.full ${dir}: out of inodes: 44,492 of 44,492 used, while space is 0.4% used$`, 'm'));
  assert.match(out, /^ {4}tmpfs: 44,492 of 44,492 inodes used \(100%\), 0 free; space 0.4% used$/m);
  assert.match(out, new RegExp(`^ {4}scanned 401 entries of ${dir} in (\\d+ ms|\\d+\\.\\d s)$`, 'm'));
  assert.match(out, /^ {4}COUNT +PATTERN +EMPTY +OWNER +OPEN +ORPHANS +KNOWN AS +WHERE$/m);
  assert.match(out, new RegExp(`^ {6}400 +magick-\\* +400 +root +0 +400 +ImageMagick pixel cache / delegate temp files +${dir}$`, 'm'));
  assert.ok(lines(out).includes(`    $ enospc clean ${dir} --match='magick-*' --older-than 1h`), out);
  assert.ok(lines(out).includes(`    $ enospc clean ${dir} --match='magick-*' --older-than 1h --apply`), out);
  assert.ok(lines(out).includes(`    $ mount -o remount,nr_inodes=1m ${dir}`), out);

  // a scan the budget cut short says so, with how much of the mount it saw
  out = render(run('inodes.full', context([{ ...critical, census: { ...c, partial: true } }])));
  assert.match(out, new RegExp(`^ {4}scanned 401 entries of ${dir} in (\\d+ ms|\\d+\\.\\d s) \\(0.9% of the 44,492 inodes in use\\): PARTIAL, the time budget ran out; the counts below are a floor \\(--budget for more\\)$`, 'm'));

  const warning = facts(usage([44492, 3000], [262144, 261000, 261000]));
  out = render(run('inodes.full', context([warning])));
  assert.match(out, new RegExp(`^WARNING inodes.full ${dir}: low on inodes: 3,000 free \\(6.7%\\)$`, 'm'));

  // the same mount read-only: information, no fix
  f = run('inodes.full', context([{ ...critical, mount: { ...RO, mountPoint: dir } }]));
  assert.equal(f[0]!.severity, 'info');
  assert.deepEqual(f[0]!.fix, []);
  assert.match(render(f), /^ {2}info inodes.full .*\(read-only: nothing is created here\)$/m);

  // orphans: information on a mount short of inodes (inodes.full carries them), a warning when short of space
  out = render(run('orphans', context([critical])));
  assert.match(out, new RegExp(`^ {2}info orphans ${dir}: 400 of 400 magick-\\* look orphaned: files not modified for over 1 h and open in no process$`, 'm'));
  const spaceShort = facts(usage([44492, 40000], [262144, 1000, 1000]));
  out = render(run('orphans', context([spaceShort])));
  assert.match(out, new RegExp(`^WARNING orphans ${dir}: 400 of 400 magick-\\*`, 'm'));
  assert.match(out, /^ {4}400 of 400 magick-\*; open in a process: 0$/m);

  // tmpfs.nr-inodes-low: 1 GiB with 44492 inodes (case 001)
  out = render(run('tmpfs.nr-inodes-low', context([facts(usage([44492, 44000], [262144, 262000, 262000]))])));
  assert.match(out, new RegExp(`^WARNING tmpfs.nr-inodes-low ${dir}: tmpfs inode limit 44,492 is far below its size \\(24 KiB per inode\\)`, 'm'));
  assert.match(out, /^ {4}size 1.0 GiB, nr_inodes 44492: 24 KiB per inode, over the 16 KiB flagged$/m);
  assert.ok(lines(out).includes(`    $ mount -o remount,nr_inodes=1m ${dir}`), out);
  assert.ok(lines(out).includes(`      tmpfs ${dir} tmpfs size=1048576k,nr_inodes=1m 0 0`), out);

  // tmpfs.inode32: information, and a warning once the numbers seen near 2^32
  const plain = facts(usage([44492, 44000], [1000, 900, 900]));
  out = render(run('tmpfs.inode32', context([plain])));
  assert.match(out, new RegExp(`^ {2}info tmpfs.inode32 ${dir}: tmpfs without inode64: inode numbers are 32-bit and wrap after 2\\^32 files created$`, 'm'));
  const near = { ...plain, census: { ...c, maxIno: 4_100_000_000 } };
  out = render(run('tmpfs.inode32', context([near])));
  assert.match(out, /^WARNING tmpfs.inode32 .*: tmpfs inode numbers are near 2\^32 without inode64: 194,967,296 left before they wrap and collide$/m);
  assert.match(out, /^ {4}highest inode number seen 4,100,000,000 of 4,294,967,296: 194,967,296 left before the counter wraps$/m);
  assert.ok(lines(out).includes(`    $ mount -o remount,inode64 ${dir}`), out);
});

test('tmpfs.inode-collision: two real files of a tmpfs given one number, as a wrapped counter does (case 003)', { skip: cannotMount ?? false }, () => {
  // the kernel cannot be made to wrap here (2^32 files): the census of a real tmpfs, with the
  // number of one file seen on another, as collide-fs.py shows it over FUSE (collisions.test.ts)
  const dir = tmpfs('size=4m,nr_inodes=100');
  fs.writeFileSync(`${dir}/session.db`, 'x'.repeat(100));
  fs.writeFileSync(`${dir}/upload.part`, 'y'.repeat(2000));
  const c = census(dir, { stat: true, collisions: true });
  assert.deepEqual(c.collisions, { inodes: 0, more: false, list: [], partial: false });
  const when = Date.UTC(2026, 10, 29, 10, 0, 0) / 1000;
  const file = (name: string, size: number, t: number) => ({ path: Buffer.from(`${dir}/${name}`), type: 'file' as const, size, mtime: t, nlink: 1 });
  const list = [{ ino: fs.statSync(`${dir}/session.db`).ino, files: [file('session.db', 100, when), file('upload.part', 2000, when + 120)] }];
  const facts: MountFacts = { mount: { ...TMPFS, mountPoint: dir }, usage: usage([100, 97], [1024, 1000, 1000]), census: { ...c, collisions: { inodes: 1, more: false, list, partial: false } } };
  const f = run('tmpfs.inode-collision', context([facts]));
  assert.equal(f.length, 1);
  assert.equal(f[0]!.severity, 'critical');
  const out = render(f);
  const ino = list[0]!.ino;
  assert.match(out, new RegExp(`^CRITICAL tmpfs.inode-collision ${dir}: 1 inode number shared by distinct live files: ${dir}/session.db and ${dir}/upload.part are both inode ${ino}$`, 'm'));
  assert.ok(lines(out).includes(`    inode ${ino}:`), out);
  assert.ok(lines(out).includes(`      ${dir}/session.db (file, 100 B, modified 2026-11-29T10:00:00Z, 1 link)`), out);
  assert.ok(lines(out).includes(`      ${dir}/upload.part (file, 2.0 KiB, modified 2026-11-29T10:02:00Z, 1 link)`), out);
  assert.ok(lines(out).includes('    tmpfs without inode64: its 32-bit inode counter wrapped after 2^32 files created, and new files got numbers still in use'), out);
  assert.ok(lines(out).includes(`    $ mount -o remount,inode64 ${dir}`), out);
  assert.match(out, /^ {2}fix: The files that share a number now keep it: give one of each a new inode/m);
  // no finding without a collision
  assert.deepEqual(run('tmpfs.inode-collision', context([{ ...facts, census: c }])), []);
});

test('blocks.full and blocks.reserved', () => {
  const ext4 = (u: FsUsage): MountFacts => ({ mount: EXT4, usage: u });
  let out = render(run('blocks.full', context([ext4(usage([1000, 900], [1000, 80, 80]))])));
  assert.match(out, /^WARNING blocks.full \/: low on space: 8% available$/m);
  assert.match(out, /^ {4}ext4: 320 KiB of 3.9 MiB available to users \(92% used\)$/m);
  assert.ok(lines(out).includes('    $ du -xh --max-depth=2 / | sort -h | tail -20'), out);
  out = render(run('blocks.full', context([ext4(usage([1000, 900], [1000, 10, 10]))])));
  assert.match(out, /^CRITICAL blocks.full \/: low on space: 1% available$/m);
  out = render(run('blocks.reserved', context([ext4(usage([1000, 900], [1000, 50, 0]))])));
  assert.match(out, /^CRITICAL blocks.reserved \/: full for users: only the root reserve is left \(5% of the space\)$/m);
  assert.match(out, /^ {4}ext4: 0 B available to users, 200 KiB in the root reserve \(95% used\)$/m);
  assert.ok(lines(out).includes('    $ tune2fs -m 1 /dev/vda'), out);
});

test('ext4.dir-index, with large_dir read from a real ext4 superblock', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-ext4-'));
  try {
    execFileSync('truncate', ['-s', '8M', `${dir}/img`]);
    execFileSync('mkfs.ext4', ['-q', '-O', '^large_dir', `${dir}/img`]);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    t.skip(`mkfs.ext4: ${(e as Error).message}`);
    return;
  }
  try {
    // the directory counts of a census that saw one huge directory (5.5M and 1.2M entries)
    const big = (direct: number) => ({ path: Buffer.from('/srv/spool/queue'), inodes: direct + 1, direct, ino: 12 });
    const facts = (direct: number): MountFacts => ({
      mount: { ...EXT4, mountPoint: '/srv', source: `${dir}/img` }, usage: usage([10_000_000, 2_000_000], [1000, 900, 900]),
      census: { ...census(dir), dirsByDirect: [big(direct)] },
    });
    let out = render(run('ext4.dir-index', context([facts(5_500_000)])));
    assert.match(out, /^WARNING ext4.dir-index \/srv\/spool\/queue: 5,500,000 entries in one ext4 directory; the index holds about 10,000,000 without large_dir$/m);
    assert.match(out, new RegExp(`^ {4}5,500,000 entries directly in it; about 10,000,000 fit a 2-level index; large_dir off on ${dir}/img$`, 'm'));
    assert.ok(lines(out).includes(`    $ tune2fs -O large_dir ${dir}/img`), out);
    out = render(run('ext4.dir-index', context([facts(1_200_000)])));
    assert.match(out, /^ {2}info ext4.dir-index \/srv\/spool\/queue: 1,200,000 entries/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('deleted-open: the holding process, its files and bytes', () => {
  const deleted = { pid: 4321, comm: 'rsyslogd', fd: 7, path: '/var/log/syslog.1', deleted: true, devMajor: 254, devMinor: 0, ino: 99, size: 3 * 2 ** 30 };
  const facts: MountFacts = { mount: EXT4, usage: usage([1000, 900], [2_000_000, 150_000, 150_000]) };
  let out = render(run('deleted-open', context([facts], { openFiles: { byDev: new Map(), deleted: [deleted], unreadable: 0 } })));
  assert.match(out, /^WARNING deleted-open \/: 1 deleted file still open, holding 3.0 GiB$/m);
  assert.match(out, /^ {4}pid 4321 \(rsyslogd\): 1 file, 3.0 GiB, e.g. fd 7 \/var\/log\/syslog.1$/m);
  assert.ok(lines(out).includes('    $ : > /proc/4321/fd/7'), out);
  const roomy: MountFacts = { mount: EXT4, usage: usage([1000, 900], [2_000_000, 1_500_000, 1_500_000]) };
  out = render(run('deleted-open', context([roomy], { openFiles: { byDev: new Map(), deleted: [{ ...deleted, size: 1000 }], unreadable: 3 } })));
  assert.match(out, /^ {2}info deleted-open \/: at least 1 deleted file still open, holding 1000 B$/m);
  out = render(run('deleted-open', context([facts], { openFiles: { byDev: new Map(), deleted: [deleted], unreadable: 3 } })));
  assert.match(out, /^ {4}3 processes could not be read \(not root\): there may be more$/m);
  out = render(run('deleted-open', context([facts], { asRoot: true, openFiles: { byDev: new Map(), deleted: [deleted], unreadable: 1 } })));
  assert.match(out, /^ {4}1 process could not be read \(closed even to root\): there may be more$/m);
});

test('imagemagick.pixel-cache: from the policy.xml ImageMagick reads (MAGICK_CONFIGURE_PATH)', { skip: cannotMount ?? false }, () => {
  const conf = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-magick-'));
  try {
    fs.writeFileSync(`${conf}/policy.xml`, '<policymap>\n  <policy domain="resource" name="memory" value="256MiB"/>\n  <policy domain="resource" name="map" value="512MiB"/>\n</policymap>\n');
    const host = hostFiles({ ...process.env, MAGICK_CONFIGURE_PATH: conf });
    const dir = tmpfs('size=4m,nr_inodes=200');
    for (let i = 0; i < 20; i++) touch(`${dir}/magick-${(i * 7919 + 100000).toString(36)}Xy`);
    const facts: MountFacts = { mount: { ...TMPFS, mountPoint: dir }, usage: usage([200, 10], [1024, 1000, 1000]), census: census(dir, { stat: true }) };
    let out = render(run('imagemagick.pixel-cache', context([facts], { host })));
    assert.match(out, new RegExp(`^WARNING imagemagick.pixel-cache ${conf}/policy.xml: a 12000x12000x16:rgba image \\(1.1 GiB pixel cache\\) exceeds the memory limit: its cache goes to a disk cache file`, 'm'));
    assert.match(out, /^ {4}12000 x 12000 x 4 channels x 2 bytes = 1.1 GiB per image \(about twice that while resizing\)$/m);
    assert.match(out, new RegExp(`^ {4}${conf}/policy.xml: memory 256MiB, map 512MiB, disk not set: the cache goes to disk cache file$`, 'm'));
    assert.ok(lines(out).includes(`    in ${conf}/policy.xml:`), out);
    // asked about a small image, without magick-* culprits: information
    out = render(run('imagemagick.pixel-cache', context([], { host, image: { width: 100, height: 100, depth: 16, channels: 4, text: '100x100x16:rgba' } })));
    assert.match(out, /^ {2}info imagemagick.pixel-cache .*: a 100x100x16:rgba image \(78 KiB pixel cache\) fits the memory limit: no cache file$/m);
  } finally {
    fs.rmSync(conf, { recursive: true, force: true });
  }
});

test('containers.idmapped-copies and containers.unreferenced-layers: from real store metadata', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-docker-'));
  try {
    build(root);
    const report = await containers({ stores: [storeAt(root)!], budgetMs: 5000 });
    const store = report.stores[0]!;
    let out = render(run('containers.unreferenced-layers', context([], { containers: report })));
    assert.match(out, new RegExp(`^ {2}info containers.unreferenced-layers ${root}: 2 directories no layer names hold 6 inodes$`, 'm'));
    const short = { ...report, stores: [{ ...store, mount: { path: '/', fstype: 'ext4', inodes: { total: 1000, free: 20, used: 980 }, severity: 'critical' as const } }] };
    out = render(run('containers.unreferenced-layers', context([], { containers: short })));
    assert.match(out, new RegExp(`^WARNING containers.unreferenced-layers ${root}:`, 'm'));
    assert.match(out, new RegExp(`^ {4}docker store ${root} \\(owner root\\); on /, inodes 98% used, 20 free$`, 'm'));
    assert.match(out, new RegExp(`^ {4}${root}/overlay2/dangling1: \\d+ inodes$`, 'm'));
    assert.match(out, /^ {4}why: 2 directories in overlay2\/ are named by no layer/m);
    assert.match(out, /^ {4}\$ systemctl stop docker && rm -rf -- .*dangling1/m);

    // ID-mapped copies as podman records them: the store's own analysis with two mapped copies of the top layer
    const top = store.analysis.images[0]!.top!;
    const copy = (id: string, n: number) => ({ ...top, id, listed: true, created: `2026-11-2${n}T10:00:00Z`, uidmap: [{ containerId: 0, hostId: 100000 * n, size: 65536 }], gidmap: [], containers: [] });
    const images = store.analysis.images.map((i, k) => (k === 0 ? { ...i, copies: [copy('a1', 1), copy('b2', 2)] } : i));
    const withCopies = {
      ...report, podman: '4.3.1',
      stores: [{ ...short.stores[0]!, store: { ...store.store, engine: 'podman' as const, driver: 'overlay' }, analysis: { ...store.analysis, images }, totals: { ...store.totals, copies: { count: 2, inodes: 10, bytes: 8192, complete: true } }, copies: { why: ['two copies, for two mappings'], fixes: [{ text: 'Remove the image', command: 'podman rmi app:1.0' }] } }],
    };
    out = render(run('containers.idmapped-copies', context([], { containers: withCopies })));
    assert.match(out, new RegExp(`^WARNING containers.idmapped-copies ${root}: 2 ID-mapped copies of 1 image hold 10 inodes; removing containers never frees them$`, 'm'));
    assert.match(out, /^ {4}why: two copies, for two mappings$/m);
    out = render(run('containers.idmapped-copies', context([], { containers: { ...withCopies, stores: [{ ...withCopies.stores[0]!, mount: null }] } })));
    assert.match(out, /^ {2}info containers.idmapped-copies /m);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('inotify.watches, inotify.instances, fanotify.marks, epoll.watches: the user, the processes, the counts', () => {
  const proc = (pid: number, comm: string, n: number) => ({
    pid, comm, uid: 1000, userns: 1, inotify: { instances: n, watches: n }, fanotify: { groups: 1, marks: n }, epoll: { instances: 1, watches: n }, instances: [],
  });
  const user = { uid: 1000, user: 'alice', watches: 7900, instances: 127, sharedInstances: 0, fanotifyMarks: 7900, fanotifyGroups: 2, epollWatches: 7900, namespaces: [1], processes: [proc(111, 'code', 7000), proc(222, 'node', 900)], unreadable: [] as number[], lowerBound: false };
  const limits = { inotifyWatches: 8192, inotifyInstances: 128, fanotifyMarks: 8192, fanotifyGroups: 128, epollWatches: 8192 };
  const ctx = context([], { watchUse: { limits, users: [user], unreadable: [], asRoot: false, elapsedMs: 1 } });
  for (const [id, what] of [['inotify.watches', 'inotify watches'], ['fanotify.marks', 'fanotify marks'], ['epoll.watches', 'epoll watches']] as const) {
    const out = render(run(id, ctx));
    assert.match(out, new RegExp(`^CRITICAL ${id} alice: alice holds 7,900 of 8,192 ${what} \\(96.4%\\)`, 'm'));
    assert.match(out, new RegExp(`^ {4}user alice \\(uid 1000\\): 7,900 of 8,192 ${what} \\(96.4%\\)`, 'm'));
    assert.match(out, new RegExp(`^ {4}pid 111 \\(code\\): 7,000 ${what}$`, 'm'));
    assert.match(out, new RegExp(`^ {4}pid 222 \\(node\\): 900 ${what}$`, 'm'));
  }
  let out = render(run('inotify.instances', ctx));
  assert.match(out, /^CRITICAL inotify.instances alice: alice holds 127 of 128 inotify instances \(99.2%\): inotify_init fails with EMFILE/m);
  const warn = context([], { watchUse: { limits, users: [{ ...user, watches: 7000, unreadable: [5], lowerBound: true }], unreadable: [5], asRoot: false, elapsedMs: 1 } });
  out = render(run('inotify.watches', warn));
  assert.match(out, /^WARNING inotify.watches alice: alice holds at least 7,000 of 8,192 inotify watches \(85.4%\)/m);
  assert.match(out, /^ {4}pid 5 of this user could not be read \(not root\): there may be more$/m);
  // as root, a process closed even to root of another user leaves alice's figure exact
  const other = context([], { asRoot: true, watchUse: { limits, users: [{ ...user, watches: 7000 }], unreadable: [1], asRoot: true, elapsedMs: 1 } });
  out = render(run('inotify.watches', other));
  assert.match(out, /^WARNING inotify.watches alice: alice holds 7,000 of 8,192/m);
  assert.doesNotMatch(out, /could not be read/);
  const hidden = context([], { asRoot: true, watchUse: { limits, users: [{ ...user, watches: 7000, unreadable: [1, 7], lowerBound: true }], unreadable: [1, 7], asRoot: true, elapsedMs: 1 } });
  assert.match(render(run('inotify.watches', hidden)), /^ {4}pids 1, 7 of this user could not be read \(closed even to root\): there may be more$/m);
});

test('ipc.sem, ipc.shm, ipc.msg, mqueue.queues, pty.count: this machine\'s tables at their limit', () => {
  const sem = /(\d+)/.exec(execFileSync('ipcmk', ['-S', '2']).toString())![1]!;
  try {
    const real = kernelTables();
    const at = (key: string, used: number) => ({ ...real[key]!, used, limit: used });
    const warnAt = (key: string) => ({ ...real[key]!, used: 85, limit: 100 });
    const tables = { 'ipc.sem': at('ipc.sem', real['ipc.sem']!.used!), 'ipc.shm': warnAt('ipc.shm'), 'ipc.msg': at('ipc.msg', 10), 'mqueue.queues': at('mqueue.queues', 256), 'pty.count': warnAt('pty.count') };
    const ctx = context([], { tables });
    let out = render(run('ipc.sem', ctx));
    assert.match(out, new RegExp(`^CRITICAL ipc.sem kernel.sem \\(SEMMNI\\): ${real['ipc.sem']!.used} of ${real['ipc.sem']!.used} semaphore sets in use \\(100%\\)$`, 'm'));
    assert.match(out, /^ {4}held by root \d+/m);
    assert.ok(lines(out).includes('    $ ipcs -a'), out);
    out = render(run('ipc.shm', ctx));
    assert.match(out, /^WARNING ipc.shm kernel.shmmni: 85 of 100 shared memory segments in use \(85%\)$/m);
    out = render(run('ipc.msg', ctx));
    assert.match(out, /^CRITICAL ipc.msg kernel.msgmni: 10 of 10 message queues in use \(100%\)$/m);
    out = render(run('mqueue.queues', ctx));
    assert.match(out, /^CRITICAL mqueue.queues fs.mqueue.queues_max: 256 of 256 POSIX message queues/m);
    out = render(run('pty.count', ctx));
    assert.match(out, /^WARNING pty.count kernel.pty.max: 85 of 100 pseudo-terminals in use \(85%\)$/m);
    assert.match(out, /^ {4}in \/etc\/sysctl.d\/90-pty.conf:$/m);
  } finally {
    spawnSync('ipcrm', ['-s', sem]);
  }
});

test('every check was rendered above, at each severity it gives', { skip: cannotMount ?? false }, () => {
  const missing = CHECKS.map((c) => c.id).filter((id) => ![...rendered].some((r) => r.startsWith(`${id}:`)));
  assert.deepEqual(missing, []);
  for (const id of ['inodes.full', 'blocks.full', 'inotify.watches']) {
    assert.ok(rendered.has(`${id}:warning`) && rendered.has(`${id}:critical`), id);
  }
});
