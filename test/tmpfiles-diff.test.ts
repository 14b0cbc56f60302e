// Differential test: `enospc clean --rules FILE --apply` against the real `systemd-tmpfiles --clean FILE`
// (systemd 252, src/tmpfiles/tmpfiles.c, as Debian 12 ships it).
//
// Every case is a rules text (`@ROOT@` stands for the case's scratch directory) and a tree. The tree
// is built twice, identically, on one tmpfs: A/<case> for systemd-tmpfiles, B/<case> for enospc.
// ctime and btime cannot be set back, so every tree is built first (time T0), then the test sleeps
// a few seconds: an entry left alone is then older than the 5 s ages the rules use by every
// timestamp. Just before a case runs, its "new" entries are touched (or created) in both trees, so
// they are younger than 5 s by the timestamps touched. Then systemd-tmpfiles cleans tree A, enospc
// tree B, and what survives in both is compared. A case with `differs` is a documented, deliberate
// difference: enospc's survivors must be the ones given. A case with `todo` waits for an enospc
// feature (`--remove`, `--boot`): it runs and reports, but does not fail.
//
// Tree entries are strings: `NAME[/] [-> TARGET] [ATTR...]` (NAME in double quotes when it has
// spaces; a trailing `/` makes a directory; parents are made as old directories). ATTRs:
//   new      atime and mtime set to now (ctime follows)     newA / newM  only atime / mtime now
//   newC     ctime now only (a chown to the same owner)     born         created just before the run
//   bornOld  created just before the run, atime and mtime set back: only ctime and btime are new
//   past=S   atime and mtime set S seconds back at build time (ctime and btime stay T0)
//   mode=OCT chmod   nobody  owned by uid/gid 65534
//   fifo, chr (1:3), sock (bound and listening, by this process), deadsock (its binder exited),
//   mount (a tmpfs mounted there), open (held open by this process during the run),
//   lock (flock'ed by a helper process during the run: a file, or a directory)
// Survivors are listed relative to the case root with a suffix for the type: `/` directory,
// `@` symlink, `|` FIFO, `=` socket, `%` device; a directory whose mtime the run changed is marked
// ` (mtime changed)` (the root as `.`). A case fails when other entries survive; when only the
// marks differ it is listed by the last test instead (systemd puts directory times back).
//
// The cases run three at a time (enospc spawned as helpers.enospc() does, but without blocking);
// a case's new entries are touched right before its own runs, so that does not age them.
// TMPFILES_DIFF_VERBOSE=1 prints every case's survivors; TMPFILES_DIFF_ONLY=REGEX runs the matching cases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI, NOBODY, cannotMount, enospc, tmpfs, unmountAll, type Run } from './helpers.js';

const TMPFILES = '/usr/bin/systemd-tmpfiles';
const VERBOSE = process.env['TMPFILES_DIFF_VERBOSE'] === '1';
const ONLY = process.env['TMPFILES_DIFF_ONLY'] ? new RegExp(process.env['TMPFILES_DIFF_ONLY']) : null;
/** How long after the trees are built the first case runs: older than the 5 s ages by a margin. */
const SETTLE_MS = 8000;

const tmpfilesVersion: string | undefined = (() => {
  const r = spawnSync(TMPFILES, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? /systemd (\d+)/.exec(r.stdout)?.[1] : undefined;
})();
const cannotRun: string | undefined = cannotMount
  ?? (tmpfilesVersion === undefined ? `no ${TMPFILES}` : undefined)
  ?? (tmpfilesVersion !== '252' ? `systemd-tmpfiles is version ${tmpfilesVersion}; these cases were written against 252` : undefined);
if (cannotRun) console.log(`# skipping: ${cannotRun}`);

const cleanHelp = cannotRun ? '' : enospc(['clean', '--help']).stdout;
const HAS_REMOVE = /--remove\b/.test(cleanHelp);
const HAS_BOOT = /--boot\b/.test(cleanHelp);

// ---- what the specifiers expand to here ----

function osRelease(): Record<string, string> {
  let text = '';
  for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      text = fs.readFileSync(f, 'utf8');
      break;
    } catch { /* the next */ }
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=("?)(.*)\2$/.exec(line.trim());
    if (m) out[m[1]!] = m[3]!;
  }
  return out;
}
const release = osRelease();
const readTrim = (f: string) => {
  try {
    return fs.readFileSync(f, 'utf8').trim();
  } catch {
    return '';
  }
};
const BOOT_ID = readTrim('/proc/sys/kernel/random/boot_id').replace(/-/g, '');
const OTHER_BOOT = BOOT_ID.replace(/^./, (c) => (c === '0' ? '1' : '0'));
const SUBST: Record<string, string> = {
  '@BOOT@': BOOT_ID,
  '@OTHERBOOT@': OTHER_BOOT,
  '@MID@': readTrim('/etc/machine-id'),
  '@HOST@': os.hostname(),
  '@SHORTHOST@': os.hostname().split('.')[0]!,
  '@KREL@': os.release(),
  '@ARCH@': ({ x64: 'x86-64', arm64: 'arm64', ia32: 'x86', arm: 'arm', ppc64: 'ppc64-le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch,
  '@OSID@': release['ID'] ?? '',
  '@VERID@': release['VERSION_ID'] ?? '',
  '@VARIANT@': release['VARIANT_ID'] ?? '',
  '@BUILDID@': release['BUILD_ID'] ?? '',
};
const subst = (s: string) => s.replace(/@[A-Z]+@/g, (k) => SUBST[k] ?? k);

import { cases, type Case } from './tmpfiles-cases.js';

for (const c of cases) {
  if (c.remove && !HAS_REMOVE) c.todo ??= 'enospc clean has no --remove yet';
  if (c.boot && !HAS_BOOT) c.todo ??= 'enospc clean has no --boot yet';
}

// ---- trees ----

type Kind = 'file' | 'dir' | 'symlink' | 'fifo' | 'chr' | 'sock' | 'deadsock' | 'mount';
type When = 'old' | 'new' | 'newA' | 'newM' | 'newC' | 'born' | 'bornOld';
interface Entry { rel: string; kind: Kind; when: When; past?: number; target?: string; mode?: number; nobody: boolean; open: boolean; lock: boolean; implicit: boolean }

function parseEntry(spec: string): Entry {
  let rest = spec;
  let name: string;
  if (rest.startsWith('"')) {
    const end = rest.indexOf('"', 1);
    name = rest.slice(1, end);
    rest = rest.slice(end + 1);
  } else {
    const m = /^(\S+)(.*)$/.exec(rest)!;
    name = m[1]!;
    rest = m[2]!;
  }
  name = subst(name);
  const e: Entry = { rel: name.replace(/\/$/, ''), kind: name.endsWith('/') ? 'dir' : 'file', when: 'old', nobody: false, open: false, lock: false, implicit: false };
  const words = rest.trim() ? rest.trim().split(/\s+/) : [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '->') {
      e.kind = 'symlink';
      e.target = words[++i]!;
    } else if (['new', 'newA', 'newM', 'newC', 'born', 'bornOld'].includes(w)) e.when = w as When;
    else if (w.startsWith('past=')) e.past = Number(w.slice(5));
    else if (w.startsWith('mode=')) e.mode = parseInt(w.slice(5), 8);
    else if (w === 'nobody') e.nobody = true;
    else if (w === 'open') e.open = true;
    else if (w === 'lock') e.lock = true;
    else if (['fifo', 'chr', 'sock', 'deadsock', 'mount'].includes(w)) e.kind = w as Kind;
    else throw new Error(`tree entry '${spec}': unknown attribute '${w}'`);
  }
  return e;
}

/** The entries with their parents made explicit, parents first. */
function expand(tree: string[]): Entry[] {
  const byRel = new Map<string, Entry>();
  for (const s of tree) {
    const e = parseEntry(s);
    byRel.set(e.rel, e);
  }
  for (const e of [...byRel.values()]) {
    const parts = e.rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!byRel.has(p)) byRel.set(p, { rel: p, kind: 'dir', when: 'old', nobody: false, open: false, lock: false, implicit: true });
    }
  }
  const depth = (e: Entry) => e.rel.split('/').length;
  return [...byRel.values()].map((e, i) => ({ e, i })).sort((a, b) => depth(a.e) - depth(b.e) || a.i - b.i).map((x) => x.e);
}

interface Built { root: string; rules: string; entries: Entry[] }
const specials: Array<{ kind: Kind; path: string }> = [];
const servers: net.Server[] = [];
const liveSockets: string[] = [];

function make(root: string, e: Entry): void {
  const p = path.join(root, e.rel);
  switch (e.kind) {
    case 'dir': fs.mkdirSync(p); break;
    case 'mount': tmpfs('size=4m,nr_inodes=1000', p); break;
    case 'file': fs.writeFileSync(p, 'x'); break;
    case 'symlink': fs.symlinkSync(e.target!, p); break;
    case 'sock': liveSockets.push(p); break;
    default: specials.push({ kind: e.kind, path: p });
  }
  if (e.mode !== undefined) fs.chmodSync(p, e.mode);
}

/** Build a tree (everything but the "born" entries, made before the run). */
function build(root: string, entries: Entry[]): void {
  fs.mkdirSync(root, { recursive: true });
  for (const e of entries) if (e.when !== 'born' && e.when !== 'bornOld') make(root, e);
}

/** After the specials and sockets exist: owners, and times set back. */
function finish(root: string, entries: Entry[]): void {
  for (const e of entries) if (e.nobody && e.when !== 'born' && e.when !== 'bornOld') fs.lchownSync(path.join(root, e.rel), NOBODY, NOBODY);
  const now = Date.now() / 1000;
  for (const e of [...entries].reverse()) if (e.past !== undefined) fs.lutimesSync(path.join(root, e.rel), now - e.past, now - e.past);
}

let builtAt = 0;
/** Just before a case runs: make the born entries, touch the new ones (deepest first). */
function touch(root: string, entries: Entry[]): void {
  for (const e of entries) {
    if (e.when !== 'born' && e.when !== 'bornOld') continue;
    make(root, e);
    if (e.nobody) fs.lchownSync(path.join(root, e.rel), NOBODY, NOBODY);
  }
  const now = Date.now() / 1000;
  const back = builtAt / 1000 - 10;
  for (const e of [...entries].reverse()) {
    const p = path.join(root, e.rel);
    if (e.when === 'old' || e.when === 'born') continue;
    const st = fs.lstatSync(p);
    if (e.when === 'new') fs.lutimesSync(p, now, now);
    else if (e.when === 'newA') fs.lutimesSync(p, now, st.mtimeMs / 1000);
    else if (e.when === 'newM') fs.lutimesSync(p, st.atimeMs / 1000, now);
    else if (e.when === 'newC') fs.lchownSync(p, st.uid, st.gid);
    else if (e.when === 'bornOld') fs.lutimesSync(p, back, back);
  }
}

const TYPE_SUFFIX = (st: fs.BigIntStats) => (st.isDirectory() ? '/' : st.isSymbolicLink() ? '@' : st.isFIFO() ? '|' : st.isSocket() ? '=' : st.isCharacterDevice() || st.isBlockDevice() ? '%' : '');
const MTIME_CHANGED = ' (mtime changed)';

/**
 * The mtime (ns) of every directory of the tree, the root as '.'. By lstat of the known names: reading
 * a directory here would move its atime (relatime), and make it new for the run.
 */
function dirMtimes(root: string, entries: Entry[]): Map<string, bigint> {
  const out = new Map<string, bigint>([['.', fs.lstatSync(root, { bigint: true }).mtimeNs]]);
  for (const e of entries) {
    if (e.kind !== 'dir' && e.kind !== 'mount') continue;
    try {
      out.set(e.rel, fs.lstatSync(path.join(root, e.rel), { bigint: true }).mtimeNs);
    } catch { /* not made */ }
  }
  return out;
}

/**
 * What is left under root, relative, with a type suffix; a directory whose mtime the run changed
 * (systemd puts back the times of a directory it removed files from) is marked, the root as `.`.
 */
function survivors(root: string, before: Map<string, bigint>): string[] {
  if (!fs.existsSync(root)) return ['(the root itself is gone)'];
  const out: string[] = [];
  const changed = (rel: string, st: fs.BigIntStats) => (before.has(rel) && before.get(rel) !== st.mtimeNs ? MTIME_CHANGED : '');
  const rootChange = changed('.', fs.lstatSync(root, { bigint: true }));
  if (rootChange) out.push(`.${rootChange}`);
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(p, { bigint: true });
      out.push(r + TYPE_SUFFIX(st) + (st.isDirectory() ? changed(r, st) : ''));
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(root, '');
  return out.sort();
}

interface Outcome { systemd: string[]; enospc: string[]; systemdStatus: number | null; enospcStatus: number | null; systemdErr: string; enospcErr: string }
const outcomes = new Map<number, Outcome>();
const disagreeing: string[] = [];
const todoDisagreeing: string[] = [];
const mtimeDisagreeing: string[] = [];
const todoMtimes: string[] = [];

/** Hold files open and directories or files flock'ed (by a child process) while a case runs. */
async function holdFor(paths: { open: string[]; lock: string[] }): Promise<() => void> {
  const fds = paths.open.map((p) => fs.openSync(p, 'r'));
  let child: ChildProcess | undefined;
  if (paths.lock.length) {
    child = spawn('python3', ['-c', `
import fcntl, os, sys, time
fds = [os.open(p, os.O_RDONLY) for p in sys.argv[1:]]
for fd in fds: fcntl.flock(fd, fcntl.LOCK_EX)
print('ready', flush=True)
time.sleep(600)`, ...paths.lock], { stdio: ['ignore', 'pipe', 'inherit'] });
    const c = child;
    await new Promise<void>((resolve, reject) => {
      c.stdout!.once('data', () => resolve());
      c.once('exit', (code) => reject(new Error(`the lock helper exited (${code})`)));
    });
  }
  return () => {
    for (const fd of fds) fs.closeSync(fd);
    child?.kill('SIGKILL');
  };
}

/**
 * helpers.enospc(), without blocking: the cases run three at a time (each enospc run is mostly
 * Node starting and reading /proc), which keeps the file near 40 s instead of 100.
 */
function enospcAsync(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The survivors without the mtime marks. */
const entriesOf = (l: string[]) => l.filter((x) => x !== `.${MTIME_CHANGED}`).map((x) => x.replace(MTIME_CHANGED, ''));

/**
 * How enospc's outcome differs from systemd's (or from the documented difference): `entries` when
 * other entries survive, `mtimes` when the same entries survive but other directories had their
 * mtime changed by the run (systemd puts back the times of a directory it removed files from).
 */
function compare(c: Case, o: Outcome): { entries?: string; mtimes?: string } {
  const want = c.differs ? c.differs.enospc : o.systemd;
  if (JSON.stringify(want) === JSON.stringify(o.enospc)) return {};
  const same = JSON.stringify(entriesOf(want)) === JSON.stringify(entriesOf(o.enospc));
  const onlyS = want.filter((x) => !o.enospc.includes(x));
  const onlyE = o.enospc.filter((x) => !want.includes(x));
  const text = [
    `rules:\n    ${c.rules.split('\n').join('\n    ')}`,
    `systemd-tmpfiles --clean${c.remove ? ' --remove' : ''}${c.boot ? ' --boot' : ''} (exit ${o.systemdStatus}) kept: ${o.systemd.join(' ') || '(nothing)'}`,
    ...(c.differs ? [`expected of enospc (${c.differs.why}): ${want.join(' ') || '(nothing)'}`] : []),
    `enospc (exit ${o.enospcStatus}) kept: ${o.enospc.join(' ') || '(nothing)'}`,
    `kept by ${c.differs ? 'the expectation' : 'systemd'} only: ${onlyS.join(' ') || '-'}`,
    `kept by enospc only: ${onlyE.join(' ') || '-'}`,
    ...(o.enospcErr.trim() ? [`enospc stderr: ${o.enospcErr.trim().split('\n').slice(0, 3).join(' | ')}`] : []),
  ].join('\n  ');
  return same ? { mtimes: text } : { entries: text };
}

const selected = cases.map((c, i) => ({ c, i })).filter(({ c }) => !ONLY || ONLY.test(c.name));

describe('enospc clean --rules against systemd-tmpfiles 252', { skip: cannotRun ?? false, concurrency: 3 }, () => {
  const built: Built[] = [];
  let base = '';

  before(async () => {
    base = tmpfs('size=256m,nr_inodes=400000');
    fs.mkdirSync(`${base}/rules`);
    builtAt = Date.now();
    for (const { c, i } of selected) {
      const id = `c${String(i + 1).padStart(3, '0')}`;
      const entries = expand(c.tree);
      for (const side of ['A', 'B']) {
        const root = `${base}/${side}/${id}`;
        build(root, entries);
        const rules = `${base}/rules/${side}-${id}.conf`;
        fs.writeFileSync(rules, c.rules.replaceAll('@ROOT@', root) + '\n');
        built[i * 2 + (side === 'A' ? 0 : 1)] = { root, rules, entries };
      }
    }
    // FIFOs, devices and sockets whose binder has gone, in one go
    const py = spawnSync('python3', ['-c', `
import os, socket, stat, sys
for kind, p in zip(sys.argv[1::2], sys.argv[2::2]):
    if kind == 'fifo': os.mkfifo(p)
    elif kind == 'chr': os.mknod(p, stat.S_IFCHR | 0o644, os.makedev(1, 3))
    elif kind == 'deadsock':
        s = socket.socket(socket.AF_UNIX); s.bind(p); s.close()`, ...specials.flatMap((s) => [s.kind, s.path])], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    for (const p of liveSockets) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(p, () => resolve());
      });
      servers.push(server);
    }
    for (const b of built) if (b) finish(b.root, b.entries);
    const wait = builtAt + SETTLE_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  });

  after(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    unmountAll();
  });

  for (const { c, i } of selected) {
    const label = `${String(i + 1).padStart(3, '0')} ${c.name}`;
    test(label, { ...(c.todo ? { todo: c.todo } : {}) }, async () => {
      const a = built[i * 2]!;
      const b = built[i * 2 + 1]!;
      touch(a.root, a.entries);
      touch(b.root, b.entries);
      const pick = (bb: Built, f: (e: Entry) => boolean) => bb.entries.filter(f).map((e) => path.join(bb.root, e.rel));
      const release = await holdFor({
        open: [...pick(a, (e) => e.open), ...pick(b, (e) => e.open)],
        lock: [...pick(a, (e) => e.lock), ...pick(b, (e) => e.lock)],
      });
      const timesA = dirMtimes(a.root, a.entries);
      const timesB = dirMtimes(b.root, b.entries);
      const flags = [...(c.remove ? ['--remove'] : []), ...(c.boot ? ['--boot'] : [])];
      let s: ReturnType<typeof spawnSync>;
      let e: Run;
      try {
        s = spawnSync(TMPFILES, ['--clean', ...flags, a.rules], { encoding: 'utf8' });
        e = await enospcAsync(['clean', '--rules', b.rules, ...flags, '--apply', '--no-log', '--force-unseen']);
      } finally {
        release();
      }
      const o: Outcome = {
        systemd: survivors(a.root, timesA), enospc: survivors(b.root, timesB),
        systemdStatus: s.status, enospcStatus: e.status, systemdErr: String(s.stderr), enospcErr: e.stderr,
      };
      outcomes.set(i, o);
      if (VERBOSE) {
        console.log(`CASE ${label}\n  rules: ${c.rules.split('\n').join(' ; ')}\n  systemd (exit ${o.systemdStatus}): ${o.systemd.join(' ') || '(nothing)'}` +
          `${o.systemdErr.trim() ? `\n  systemd stderr: ${o.systemdErr.trim().split('\n').join(' | ')}` : ''}\n  enospc (exit ${o.enospcStatus}): ${o.enospc.join(' ') || '(nothing)'}`);
      }
      const diff = compare(c, o);
      if (diff.mtimes) {
        (c.todo ? todoMtimes : mtimeDisagreeing).push(label);
        console.log(`MTIMES ${label}: the same entries survive, other directory mtimes changed\n  ${diff.mtimes.split('\n').join('\n  ')}`);
      }
      if (diff.entries) {
        (c.todo ? todoDisagreeing : disagreeing).push(label);
        console.log(`DISAGREE ${label}\n  ${diff.entries.split('\n').join('\n  ')}`);
        assert.fail(`${label}: survivors differ\n  ${diff.entries}`);
      }
    });
  }
});

test('every case leaves the entries systemd-tmpfiles leaves (or differs only as documented)', { skip: cannotRun ?? false }, () => {
  disagreeing.sort();
  todoDisagreeing.sort();
  if (todoDisagreeing.length) console.log(`todo cases that disagree (${todoDisagreeing.length}):\n  ${todoDisagreeing.join('\n  ')}`);
  assert.equal(outcomes.size, selected.length, 'every case ran');
  assert.deepEqual(disagreeing, [], `${disagreeing.length} of ${selected.length} cases disagree:\n  ${disagreeing.join('\n  ')}`);
});

// systemd-tmpfiles puts back the atime and mtime of a directory it removed files from (not of one
// it only removed subdirectories from), so that cleaning does not make directories look new to
// the next run; the cases where only that differs are listed here, not failed one by one.
test('directories whose entries survive in both keep the mtimes systemd-tmpfiles leaves', { skip: cannotRun ?? false }, () => {
  mtimeDisagreeing.sort();
  assert.deepEqual(mtimeDisagreeing, [], `${mtimeDisagreeing.length} cases leave the same entries but other directory mtimes:\n  ${mtimeDisagreeing.join('\n  ')}`);
});
