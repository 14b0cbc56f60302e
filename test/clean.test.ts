// enospc clean against real trees, real processes holding files, real mounts, and an attacker.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseAge, parseRules, parseSpan, RuleError } from '../src/clean/rules.js';
import { compileGlob, GlobError } from '../src/clean/glob.js';
import { jobsFromRules } from '../src/clean/plan.js';
import { parseLocks } from '../src/probe/locks.js';
import { NOBODY, cannotMount, enospc, tmpfs, unmountAll } from './helpers.js';

const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;
const children: ChildProcess[] = [];
const OLD = (Date.now() - 3 * 3600_000) / 1000;

function old(file: string): void {
  fs.utimesSync(file, OLD, OLD);
}

function make(dir: string, names: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const n of names) {
    fs.writeFileSync(path.join(dir, n), 'x');
    old(path.join(dir, n));
  }
}

interface CleanJson { removed: { entries: number; files: number; dirs: number }; skipped: Record<string, number>; patterns: Array<{ pattern: string; entries: number }>; apply: boolean }
function clean(args: string[]): { status: number | null; json: CleanJson; stderr: string } {
  const r = enospc(['clean', ...args, '--json']);
  return { status: r.status, json: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

test('tmpfiles.d rules: types, ages, age-by, ~, globs; errors name the file and line', () => {
  assert.equal(parseSpan('2h'), 7_200_000);
  assert.equal(parseSpan('1h30m'), 5_400_000);
  assert.equal(parseSpan('10d'), 864_000_000);
  assert.equal(parseSpan('30min'), 1_800_000);
  assert.equal(parseSpan('90'), 90_000);
  assert.equal(parseSpan('2 fortnights'), null);
  // systemd's parse_sec units (M is a month, m a minute), fractions and spaces
  assert.equal(parseSpan('1M'), 2_629_800_000);
  assert.equal(parseSpan('1 year'), 31_557_600_000);
  assert.equal(parseSpan('1.5h'), 5_400_000);
  assert.equal(parseSpan('2 min 30 s'), 150_000);
  // systemd's order: `~` first, then the age-by; each kind defaults by itself
  const a = parseAge('~cmM:1d');
  assert.ok(typeof a !== 'string');
  assert.deepEqual([a.age, a.ageBy, a.belowFirst], [86_400_000, { file: 'cm', dir: 'm' }, true]);
  assert.deepEqual((parseAge('A:1h') as { ageBy: unknown }).ageBy, { file: 'abcm', dir: 'a' });
  assert.deepEqual((parseAge('m:1h') as { ageBy: unknown }).ageBy, { file: 'm', dir: 'abm' });
  assert.deepEqual((parseAge('C:1h') as { ageBy: unknown }).ageBy, { file: 'abcm', dir: 'c' });
  assert.equal(typeof parseAge('m:~1h'), 'string');
  const { rules } = parseRules([
    '# Type Path Mode User Group Age Argument',
    'd /var/cache/php_tmp 0700 www-data www-data - -',
    'e /var/cache/php_tmp/* - - - 2h -',
    'f /run/x 0644 - - -',
    'x /tmp/keep-*',
    'R "/tmp/with space/*" - - - 1d',
    'x /tmp/systemd-private-%b-*',
  ].join('\n'), 'php.conf');
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
  // every line that parses is kept (a path with a line of its own is left alone by the others)
  assert.deepEqual(rules.map((r) => [r.type, r.path, r.age, r.line]), [
    ['d', '/var/cache/php_tmp', null, 2], ['e', '/var/cache/php_tmp/*', 7_200_000, 3], ['f', '/run/x', null, 4], ['x', '/tmp/keep-*', null, 5],
    ['R', '/tmp/with space/*', 86_400_000, 6], ['x', `/tmp/systemd-private-${boot}-*`, null, 7],
  ]);
  // a bad line is skipped with a warning, as systemd does; --strict refuses the file
  const bad = parseRules('e /tmp - - - 2h\nq! /x\nk /tmp\ne /y - - - soon\ne tmp - - - 1h\nd /%Q\nF /z', 'bad.conf');
  assert.deepEqual(bad.rules.map((r) => [r.type, r.path]), [['e', '/tmp'], ['F', '/z']]);
  assert.deepEqual(bad.warnings, [
    "bad.conf:3: unknown type 'k'; line skipped", "bad.conf:4: bad age 'soon' (like 10d, 2h, 1h30m, ~1d, cm:2h, ~m:1d); line skipped",
    "bad.conf:5: the path 'tmp' is not absolute; line skipped", 'bad.conf:6: unknown specifier %Q; line skipped',
  ]);
  assert.equal(parseRules('q! /x', 'b.conf', { boot: true }).rules.length, 1);
  assert.throws(() => parseRules('e /tmp - - - 2h\nk /tmp', 'bad.conf', { strict: true }), (e: unknown) => e instanceof RuleError && e.message === "bad.conf:2: unknown type 'k'");
  assert.ok(compileGlob('magick-*').test('magick-aB9zY1xW'));
  assert.ok(!compileGlob('magick-*').test('x/magick-a'));
  assert.ok(compileGlob('sess_[0-9a-f]?').test('sess_a1'));
  assert.equal(jobsFromRules(parseRules('e /nonexistent/* - - - 1h', 'x.conf').rules).length, 0);
  // v, q, Q (d for a btrfs subvolume, e.g. Fedora's `q /tmp 1777 root root 10d`) clean by age like d
  const sub = jobsFromRules(parseRules('q /tmp 1777 root root 10d\nv /var/tmp 1777 root root 30d\nQ /tmp - - - -', 'tmp.conf').rules);
  assert.deepEqual(sub.map((j) => [j.root.toString(), j.mode, j.age, j.source]), [['/tmp', 'contents', 864_000_000, 'tmp.conf:1'], ['/var/tmp', 'contents', 2_592_000_000, 'tmp.conf:2']]);
});

test('globs: fnmatch syntax on bytes, `*` and `?` never cross `/`, bad ranges refused, no backtracking blow-up', () => {
  const cases: Array<[string, string | Buffer, boolean]> = [
    ['a*b', 'ab', true], ['a*b', 'axxb', true], ['a*b', 'axxbx', false], ['*.tmp', 'x.tmp', true], ['*x*y*z', 'axbyczz', true],
    ['?', 'é', true], ['??', 'é', false], ['[éa]x', 'éx', true], ['[!a]x', 'bx', true], ['[^a]x', 'ax', false],
    ['\\[s]ess_*', '[s]ess_1', true], ['\\[s]ess_*', 'sess_1', false], ['[s]ess_*', 'sess_1', true], ['a\\*', 'a*', true], ['a\\*', 'ab', false],
    ['[]a]', ']', true], ['[a-c]', 'b', true], ['[[:digit:]]x', '5x', true], ['[z-a', '[z-a', true],
    ['*', 'a/b', false], ['?', '/', false], ['/tmp/*/c', '/tmp/x/c', true], ['/tmp/*/c', '/tmp/x/y/c', false],
    // a byte that is not UTF-8 is a character of its own: only itself matches it
    ['tmp-?', Buffer.from('tmp-\xff', 'latin1'), true], ['tmp-\ufffd', Buffer.from('tmp-\xff', 'latin1'), false], ['tmp-\ufffd', 'tmp-\ufffd', true],
  ];
  for (const [g, name, want] of cases) assert.equal(compileGlob(g).match(Buffer.from(name)), want, `${g} ${name.toString()}`);
  assert.ok(compileGlob(Buffer.from('tmp-\xfe', 'latin1')).match(Buffer.from('tmp-\xfe', 'latin1')));
  assert.ok(!compileGlob(Buffer.from('tmp-\xfe', 'latin1')).match(Buffer.from('tmp-\xff', 'latin1')));
  assert.throws(() => compileGlob('[z-a]'), (e: unknown) => e instanceof GlobError && /z-a is reversed/.test(e.message));
  assert.throws(() => compileGlob('[[:nope:]]'), GlobError);
  assert.equal(compileGlob('magick-*').regExpSource(), '^magick-[^/]*$');
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) assert.ok(!compileGlob('*-*-*-*-*.tmp').test('-'.repeat(250)));
  assert.ok(performance.now() - t0 < 500, `${performance.now() - t0} ms`);
});

test('/proc/locks is parsed into locked inodes per device (waiters left out)', () => {
  const idx = parseLocks('1: FLOCK  ADVISORY  WRITE 4121 00:2d:1234 0 EOF\n1: -> FLOCK  ADVISORY  WRITE 4122 00:2d:999 0 EOF\n2: OFDLCK ADVISORY  READ  -1 fd:01:77 0 EOF\n');
  assert.deepEqual([...idx.entries()].map(([k, v]) => [k, [...v]]), [['0:45', [1234]], ['253:1', [77]]]);
});

describe('enospc clean', { skip: cannotMount ?? false }, () => {
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    unmountAll();
  });

  test('dry run removes nothing; --apply removes the old matches, logs each before it goes, keeps the rest', () => {
    const dir = tmpfs('size=16m,nr_inodes=5000');
    make(dir, ['magick-aaaa1111', 'magick-bbbb2222', 'keep.txt']);
    make(`${dir}/sub`, ['magick-cccc3333']);
    fs.writeFileSync(`${dir}/magick-young000`, '');
    fs.mkdirSync(`${dir}/magick-dir1`);
    make(`${dir}/magick-dir1`, ['inner']);
    old(`${dir}/magick-dir1`);
    const before = fs.readdirSync(dir, { recursive: true }).sort();
    // mM: mtime for files and directories (m alone leaves directories to their default, abm)
    const dry = clean([dir, '--match', 'magick-*', '--older-than', 'mM:2h']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(dry.json.apply, false);
    assert.deepEqual([dry.json.removed.files, dry.json.removed.dirs, dry.json.skipped['young']], [4, 1, 1]);
    assert.deepEqual(fs.readdirSync(dir, { recursive: true }).sort(), before);
    const log = `${dir}.log`;
    const r = clean([dir, '--match', 'magick-*', '--older-than', 'mM:2h', '--apply', '--log', log]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([r.json.removed.files, r.json.removed.dirs], [4, 1]);
    assert.deepEqual(fs.readdirSync(dir, { recursive: true }).sort(), ['keep.txt', 'magick-young000', 'sub']);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; size: number; mtime: string; owner: string });
    assert.deepEqual(lines.map((l) => l.path).sort(), [`${dir}/magick-aaaa1111`, `${dir}/magick-bbbb2222`, `${dir}/magick-dir1`, `${dir}/magick-dir1/inner`, `${dir}/sub/magick-cccc3333`]);
    assert.ok(lines.every((l) => l.owner === 'root' && Date.parse(l.mtime) < Date.now() - 7_000_000));
    fs.rmSync(log);
  });

  test('files open in a process, locked files and a file being modified are kept', async () => {
    const dir = tmpfs('size=16m,nr_inodes=5000');
    make(dir, ['tmp-open', 'tmp-locked', 'tmp-busy', 'tmp-free']);
    const holder = spawn('python3', ['-c', `
import fcntl, os, sys, time
f = open(sys.argv[1]); g = open(sys.argv[2]); fcntl.flock(g, fcntl.LOCK_EX); g.close()
h = os.open(sys.argv[2], os.O_RDONLY); fcntl.flock(h, fcntl.LOCK_SH)
print('ready', flush=True)
while True:
    os.utime(sys.argv[3]); time.sleep(0.001)`, `${dir}/tmp-open`, `${dir}/tmp-locked`, `${dir}/tmp-busy`], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(holder);
    await new Promise<void>((r) => holder.stdout!.once('data', () => r()));
    const r = clean([dir, '--match', 'tmp-*', '--older-than', 'm:1h', '--apply', '--no-log']);
    holder.kill('SIGKILL');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['tmp-busy', 'tmp-locked', 'tmp-open']);
    assert.deepEqual([r.json.skipped['open'], r.json.skipped['locked'], r.json.skipped['young'], r.json.removed.files], [1, 1, 1, 1]);
  });

  test('a mount inside the root, and a bind mount of a directory outside it, are not crossed', () => {
    const dir = tmpfs('size=16m,nr_inodes=5000');
    make(`${dir}/root`, ['a-1']);
    make(`${dir}/outside`, ['a-2']);
    make(`${dir}/root/inner`, ['a-3']);
    tmpfs('size=1m,nr_inodes=100', `${dir}/root/mnt`);
    make(`${dir}/root/mnt`, ['a-4']);
    fs.mkdirSync(`${dir}/root/bind`);
    execFileSync('mount', ['--bind', `${dir}/outside`, `${dir}/root/bind`]);
    try {
      const r = clean([`${dir}/root`, '--match', 'a-*', '--apply', '--no-log']);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual([r.json.removed.files, r.json.skipped['mount']], [2, 2]);
      assert.deepEqual(fs.readdirSync(`${dir}/outside`), ['a-2']);
      assert.deepEqual(fs.readdirSync(`${dir}/root/mnt`), ['a-4']);
    } finally {
      spawnSync('umount', [`${dir}/root/bind`]);
    }
  });

  test('race: a directory swapped for a symlink to the outside and renamed, over and over: nothing outside is touched', async () => {
    const dir = tmpfs('size=64m,nr_inodes=50000');
    const outside = `${dir}/outside`;
    make(outside, Array.from({ length: 50 }, (_, i) => `precious-${i}`));
    make(`${outside}/deep`, ['f0', 'f1']);
    const sum = () => crypto.createHash('sha256').update(execFileSync('sh', ['-c', `cd ${outside} && find . -printf '%p %i %s %T@\\n' | sort`])).digest('hex');
    const before = sum();
    const root = `${dir}/root`;
    fs.mkdirSync(root);
    const attacker = spawn('python3', [`${FIXTURES}/race.py`, root, outside, '8'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(attacker);
    let runs = 0;
    let removed = 0;
    const end = Date.now() + 7000;
    while (Date.now() < end) {
      const r = clean([root, '--match', '*', '--older-than', 'm:1h', '--apply', '--no-log']);
      assert.ok(r.status === 0 || r.status === 1, r.stderr);
      removed += r.json.removed.entries;
      runs++;
      await new Promise((res) => setImmediate(res));
    }
    const rounds = Number(await new Promise<string>((res) => attacker.stdout!.once('data', (d: Buffer) => res(d.toString()))));
    assert.ok(rounds > 50 && runs > 5 && removed > 0, `rounds ${rounds}, runs ${runs}, removed ${removed}`);
    assert.equal(sum(), before);
  });

  test('a 20,000-level deep tree is removed', () => {
    const dir = tmpfs('size=64m,nr_inodes=50000');
    execFileSync('python3', ['-c', `
import os
os.chdir(${JSON.stringify(dir)})
for i in range(20000):
    os.mkdir('d'); os.chdir('d')
open('leaf', 'w').close()`]);
    const r = clean([dir, '--match', '*', '--apply', '--no-log']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([r.json.removed.dirs, r.json.removed.files], [20000, 1]);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('tmpfiles rules: e with ~ and an x exclusion; R only with --remove', () => {
    const dir = tmpfs('size=16m,nr_inodes=5000');
    make(`${dir}/cache/a`, ['old1', 'keep-me']);
    make(`${dir}/cache`, ['top-level']);
    make(`${dir}/spool`, ['job-1']);
    make(`${dir}/spool/job-2`, ['data']);
    old(`${dir}/spool/job-2`);
    fs.writeFileSync(`${dir}/spool/job-3`, '');
    const rules = `${dir}.conf`;
    fs.writeFileSync(rules, `e ${dir}/cache - - - ~m:1h\nx ${dir}/cache/a/keep-*\nR ${dir}/spool/job-* - - - m:1h\nd ${dir}/made - - - -\n`);
    const dry = clean(['--rules', rules]);
    assert.equal(dry.status, 0, dry.stderr);
    const r = clean(['--rules', rules, '--apply', '--no-log']);
    assert.equal(r.status, 0, r.stderr);
    // as systemd-tmpfiles --clean: R lines remove nothing
    assert.deepEqual(fs.readdirSync(dir, { recursive: true }).sort(), ['cache', 'cache/a', 'cache/a/keep-me', 'cache/top-level', 'spool', 'spool/job-1', 'spool/job-2', 'spool/job-2/data', 'spool/job-3']);
    assert.equal(r.json.removed.entries, dry.json.removed.entries);
    // with --remove, as systemd-tmpfiles --remove: every path R names, with its contents, whatever its age
    const rm = clean(['--rules', rules, '--remove', '--apply', '--no-log']);
    assert.equal(rm.status, 0, rm.stderr);
    assert.deepEqual(fs.readdirSync(`${dir}/spool`).sort(), []);
    fs.rmSync(rules);
  });

  test('a rule whose directory an earlier rule removed: said, and the rules after it still run', () => {
    const dir = tmpfs('size=1m,nr_inodes=200');
    make(`${dir}/a/b`, ['f']);
    make(`${dir}/c`, ['g']);
    const rules = `${dir}.conf`;
    fs.writeFileSync(rules, `R ${dir}/a\ne ${dir}/a/b - - - 0\ne ${dir}/c - - - 0\n`);
    const r = enospc(['clean', '--rules', rules, '--remove', '--apply', '--no-log', '--force-unseen']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^enospc: ${rules}:2: ${dir}/a/b is gone \\(removed by an earlier rule\\?\\): nothing to clean there$`, 'm'));
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['c']);
    assert.deepEqual(fs.readdirSync(`${dir}/c`), []);
    fs.rmSync(rules);
  });

  test('1,000,000 files removed, every one in the audit log', { timeout: 600_000 }, () => {
    const dir = tmpfs('size=1g,nr_inodes=1100000');
    execFileSync('python3', ['-c', `
import os, random, string
os.chdir(${JSON.stringify(dir)})
a = string.ascii_letters + string.digits
for i in range(1000000):
    os.close(os.open('magick-%08d' % i, os.O_CREAT | os.O_WRONLY, 0o600))`]);
    const log = `${dir}.log`;
    const r = clean([dir, '--match', 'magick-*', '--apply', '--log', log]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.removed.files, 1_000_000);
    assert.deepEqual(fs.readdirSync(dir), []);
    let n = 0;
    const seen = new Set<string>();
    for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
      if (!line) continue;
      const p = JSON.parse(line).path as string;
      seen.add(p);
      n++;
    }
    assert.equal(n, 1_000_000);
    assert.equal(seen.size, 1_000_000);
    assert.ok(seen.has(`${dir}/magick-00000000`) && seen.has(`${dir}/magick-00999999`));
    fs.rmSync(log);
  });

  test('bad input: one line, exit 2, nothing removed', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    make(dir, ['magick-1']);
    const rules = `${dir}.conf`;
    fs.writeFileSync(rules, `r ${dir}/magick-*\nbogus line here\n`);
    for (const args of [['--rules', rules, '--apply', '--strict'], ['/', '--match', '*'], ['/proc', '--match', '*'], ['/sys', '--older-than', '1d'], ['/dev', '--match', 'x'],
      [dir], [dir, '--older-than', 'soon'], [`${dir}/missing`, '--match', '*'], [dir, '--match', 'a/b'],
      [dir, '--match', ''], [dir, '--match', '['], [dir, '--match', 'x[a-'], [dir, '--match', 'x', '--no-log', '--log', `${dir}.log`]]) {
      const r = enospc(['clean', ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.match(enospc(['clean', '--rules', rules, '--apply']).stderr, new RegExp(`${rules}:2: unknown modifier`));
    assert.deepEqual(fs.readdirSync(dir), ['magick-1']);
    fs.rmSync(rules);
  });

  test('an empty rules file says so, and a literal bracket is matched as \\[', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    fs.writeFileSync(`${dir}/empty.conf`, '# nothing here\n');
    const r = enospc(['clean', '--rules', `${dir}/empty.conf`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^enospc: no line of \S+empty\.conf cleans anything/);
    fs.writeFileSync(`${dir}/[x`, '');
    const b = clean([dir, '--match', '\\[x']);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(b.json.removed.files, 1);
  });

  test('as a normal user in a sticky directory: other users\' files are not "would remove" (the kernel would refuse)', () => {
    const dir = tmpfs('size=4m,nr_inodes=2000');
    fs.chmodSync(dir, 0o777);
    // first a plain directory, then a sticky one: batches past 256 names are checked by two
    // threads, and the second must know that the directory it checks now is sticky
    for (let i = 0; i < 300; i++) { fs.writeFileSync(`${dir}/f-own-${i}`, ''); fs.chownSync(`${dir}/f-own-${i}`, NOBODY, NOBODY); }
    fs.mkdirSync(`${dir}/zz`);
    fs.chmodSync(`${dir}/zz`, 0o1777);
    for (let i = 0; i < 300; i++) {
      fs.writeFileSync(`${dir}/zz/f-root-${i}`, '');
      fs.writeFileSync(`${dir}/zz/f-nobody-${i}`, '');
      fs.chownSync(`${dir}/zz/f-nobody-${i}`, NOBODY, NOBODY);
    }
    // --force-unseen: without it, other users' files are already kept because their processes are unseen
    const dry = enospc(['clean', dir, '--match', 'f-*', '--force-unseen', '--json'], { uid: NOBODY });
    assert.equal(dry.status, 0, dry.stderr);
    const j = JSON.parse(dry.stdout) as CleanJson;
    assert.deepEqual([j.removed.files, j.skipped.denied], [600, 300]);
    const human = enospc(['clean', dir, '--match', 'f-*', '--force-unseen'], { uid: NOBODY });
    assert.match(human.stdout, /300 of other users in a sticky directory \(not permitted\)/);
    const r = enospc(['clean', dir, '--match', 'f-*', '--force-unseen', '--apply', '--no-log'], { uid: NOBODY });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.deepEqual(fs.readdirSync(dir), ['zz']);
    const left = fs.readdirSync(`${dir}/zz`);
    assert.equal(left.length, 300);
    assert.ok(left.every((n) => n.startsWith('f-root-')));
  });

  test('--emit-rule prints the tmpfiles.d line', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    const r = enospc(['clean', dir, '--match', 'magick-*', '--older-than', '2h', '--emit-rule']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^r ${dir}/magick-\\* - - - 2h$`, 'm'));
    assert.match(enospc(['clean', dir, '--older-than', '10d', '--emit-rule']).stdout, new RegExp(`^e ${dir} - - - 10d$`, 'm'));
  });
});
