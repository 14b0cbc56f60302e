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

// ---- cases ----

interface Case {
  name: string;
  rules: string;
  tree: string[];
  /** a documented deliberate difference, and what enospc keeps instead */
  differs?: { why: string; enospc: string[] };
  todo?: string;
  /** --remove as well as --clean (enospc --rules always cleans; --remove adds the removals, as systemd-tmpfiles --clean --remove) */
  remove?: boolean;
  /** with --boot */
  boot?: boolean;
}
const cases: Case[] = [];
const add = (name: string, rules: string, tree: string[], extra: Partial<Case> = {}) => cases.push({ name, rules, tree, ...extra });

// Trees used by many cases.
const BASIC = [
  'f-old', 'f-new new', 'd-old/f', 'd-new/f', 'd-new/ new', 'd-mixed/old', 'd-mixed/new new', '.dot', '.dotdir/f',
  'link -> f-new', 'deep/a/b/c/f', 'empty-old/', 'empty-new/ new',
];
const SMALL = ['f-old', 'f-new new', 'd-old/f', 'd-new/f', 'd-new/ new', 'empty-old/'];
const AGEBY = [
  'o', 'nA newA', 'nM newM', 'nC newC', 'bO bornOld', 'n new',
  'Do/', 'DnA/ newA', 'DnM/ newM', 'DnC/ newC', 'DbO/ bornOld', 'Dn/ new',
];
const PAST = ['p2h past=7200', 'p3d past=259200', 'p40d past=3456000', 'p400d past=34560000', 'o', 'n new'];
const GLOB = ['a1/f', 'a2/f', 'ab/f', 'b1/f', '.a1/f', 'x*y/f', 'x1y/f', ']/f', 'x/f', '{a,b}/f', 'a/f', 'b/f', '[ab]/f', 'A1/f', '1/f'];

// -- every line type that cleans, and the ones that do not under --clean
for (const t of ['e', 'd', 'D', 'v', 'q', 'Q']) add(`type ${t} with an age cleans inside its directory`, `${t} @ROOT@ - - - 5s`, BASIC);
add('type x with an age cleans inside its path (252 cleans x like d)', 'x @ROOT@ - - - 5s', BASIC);
add('type X with an age of its own cleans inside what it matches', 'X @ROOT@ - - - 5s', BASIC);
add('type C with an age and an existing source cleans inside its path', 'C @ROOT@ - - - 5s /etc/hostname', BASIC);
add('type C with an age and no source: the line is skipped', 'C @ROOT@ - - - 5s', BASIC);
add('e without an age cleans nothing', 'e @ROOT@ - - - -', BASIC);
add('d with only a path cleans nothing', 'd @ROOT@', BASIC);
add('age 0 removes even the new entries', 'e @ROOT@ - - - 0', BASIC);
add('r under --clean removes nothing', 'r @ROOT@/f-old\nr @ROOT@/empty-old', BASIC);
add('R under --clean removes nothing', 'R @ROOT@/d-old\nR @ROOT@/deep', BASIC);
add('r and R with an age under --clean remove nothing', 'r @ROOT@/f-* - - - 5s\nR @ROOT@/d-* - - - 5s', BASIC);
add('an r line keeps its path out of an e walk', 'e @ROOT@ - - - 5s\nr @ROOT@/f-old', BASIC);
add('an R glob keeps its matches out of an e walk', 'e @ROOT@ - - - 5s\nR @ROOT@/d-*', BASIC);
add('an f line keeps its path out of an e walk', 'e @ROOT@ - - - 5s\nf @ROOT@/f-old 0644 - - -', BASIC);
add('an F line (deprecated, still known in 252) keeps its path out of an e walk', 'e @ROOT@ - - - 5s\nF @ROOT@/f-old', BASIC);
add('an L line keeps its path out of an e walk', 'e @ROOT@ - - - 5s\nL @ROOT@/link - - - - /nowhere', BASIC);
add('a w line keeps its path out of an e walk', 'e @ROOT@ - - - 5s\nw @ROOT@/f-old - - - - text', BASIC);
add('a z line (a glob type) keeps its path and all below out of an e walk', 'e @ROOT@ - - - 5s\nz @ROOT@/d-old', BASIC);
add('a p line keeps its FIFO out of an e walk', 'e @ROOT@ - - - 5s\np @ROOT@/fifo', ['fifo fifo', 'f-old']);
add('an e glob cleans inside each directory it matches, keeps them and the files it matches', 'e @ROOT@/* - - - 5s', BASIC);
add('a trailing slash is the same path', 'e @ROOT@/d-mixed/ - - - 5s', BASIC);
add('a doubled slash and /./ are the same path', 'e @ROOT@//./d-mixed - - - 5s', BASIC);
add('.. in a path climbs out', 'e @ROOT@/d-old/../d-mixed - - - 5s', BASIC);
add('an e path that does not exist is no error for the rest', 'e @ROOT@/missing - - - 5s\ne @ROOT@/d-mixed - - - 5s', BASIC);
add('an e path that is a file cleans nothing', 'e @ROOT@/f-old - - - 5s', BASIC);

// -- modifiers (252 knows ! + - = ~ ^)
add('! (boot only) without --boot: the line is ignored', 'e! @ROOT@ - - - 5s', SMALL);
add('! with --boot: the line applies', 'e! @ROOT@ - - - 5s', SMALL, { boot: true });
add('- (failure allowed) cleans as e', 'e- @ROOT@ - - - 5s', SMALL);
add('= cleans as e', 'e= @ROOT@ - - - 5s', SMALL);
add('+ cleans as e', 'e+ @ROOT@ - - - 5s', SMALL);
add('~ (base64 argument) cleans as e', 'e~ @ROOT@ - - - 5s', SMALL);
add('-! together: still boot only', 'e-! @ROOT@ - - - 5s', SMALL);
add('a repeated modifier is unknown: that line is skipped, the rest applies', 'e-- @ROOT@ - - - 5s\ne @ROOT@/d-old - - - 5s', SMALL);
add('? (unknown in 252): that line is skipped, the rest applies', 'e? @ROOT@ - - - 5s\ne @ROOT@/d-old - - - 5s', SMALL);
add('$ (unknown in 252): that line is skipped, the rest applies', 'e$ @ROOT@ - - - 5s\ne @ROOT@/d-old - - - 5s', SMALL);
add('^ without a credential name: the whole file is refused, the lines before it too', 'e @ROOT@/d-old - - - 5s\ne^ @ROOT@ - - - 5s', SMALL);
add('^ naming a credential that was not passed: that line is skipped, the rest applies', 'e^ @ROOT@ - - - 5s nosuchcred\ne @ROOT@/d-old - - - 5s', SMALL);
add('x! without --boot does not exclude', 'e @ROOT@ - - - 5s\nx! @ROOT@/d-old', SMALL);
add('R! without --boot does not exclude', 'e @ROOT@ - - - 5s\nR! @ROOT@/d-old', SMALL);
add('R! with --boot under --clean removes nothing, and excludes', 'e @ROOT@ - - - 5s\nR! @ROOT@/d-old', SMALL, { boot: true });

// -- specifiers: `e @ROOT@/NAME-%X` cleans the directory named by the expansion
const spec = (letter: string, dir: string, rulePath = `@ROOT@/${dir.replace(/@[A-Z]+@/g, '')}%${letter}`) =>
  add(`specifier %${letter}`, `e ${rulePath} - - - 5s\ne @ROOT@/other - - - 5s`, [`${dir}/f`, 'other/f', 'untouched/f']);
spec('b', 'b-@BOOT@');
spec('m', 'm-@MID@');
spec('H', 'H-@HOST@');
spec('l', 'l-@SHORTHOST@');
spec('a', 'a-@ARCH@');
spec('o', 'o-@OSID@');
spec('v', 'v-@KREL@');
spec('w', 'w-@VERID@');
spec('W', 'W-@VARIANT@');
spec('B', 'B-@BUILDID@');
spec('u', 'u-root', '@ROOT@/u-%u');
spec('U', 'U-0', '@ROOT@/U-%U');
spec('g', 'g-root', '@ROOT@/g-%g');
spec('G', 'G-0', '@ROOT@/G-%G');
spec('h', 'root', '@ROOT@%h');
spec('t', 'run', '@ROOT@%t');
spec('S', 'var/lib', '@ROOT@%S');
spec('C', 'var/cache', '@ROOT@%C');
spec('L', 'var/log', '@ROOT@%L');
spec('T', 'tmp', '@ROOT@%T');
spec('V', 'var/tmp', '@ROOT@%V');
spec('%', 'pct-%', '@ROOT@/pct-%%');
for (const x of ['z', 'A', 'q', 'M']) {
  add(`unknown specifier %${x}: that line is skipped, the rest applies`, `e @ROOT@/x-%${x} - - - 5s\ne @ROOT@/other - - - 5s`, [`x-%${x}/f`, 'other/f']);
}
add('a lone % at the end stays a %', 'e @ROOT@/end% - - - 5s\ne @ROOT@/other - - - 5s', ['end%/f', 'other/f']);

// -- age-by: which timestamps must all be older
for (const age of ['5s', 'a:5s', 'b:5s', 'c:5s', 'm:5s', 'am:5s', 'abcm:5s', 'A:5s', 'B:5s', 'C:5s', 'M:5s', 'AM:5s', 'aA:5s', 'mM:5s', 'cC:5s', 'abcmABCM:5s', 'mmm:5s']) {
  add(`age-by ${age}`, `e @ROOT@ - - - ${age}`, AGEBY);
}
add('age-by with spaces inside ("a m:5s")', 'e @ROOT@ - - - "a m:5s"', AGEBY);
add('age-by with a space after the colon ("m: 5s")', 'e @ROOT@ - - - "m: 5s"', AGEBY);
add('age-by with an unknown letter (x:5s): that line is skipped', 'e @ROOT@ - - - x:5s\ne @ROOT@/Do - - - 5s', AGEBY);
add('age-by empty (:5s): that line is skipped', 'e @ROOT@ - - - :5s', AGEBY);
add('~ before the age-by (~m:5s) keeps the first level', 'e @ROOT@ - - - ~m:5s', BASIC);
add('~ after the age-by (m:~5s) is a bad age: that line is skipped', 'e @ROOT@ - - - m:~5s\ne @ROOT@/d-old - - - 5s', BASIC);
add('a directory judged by mtime only (M:5s): its new atime does not keep it', 'e @ROOT@ - - - M:5s', ['Da/ newA', 'Da/f', 'Dm/ newM', 'Dm/f']);

// -- units
// `in` by the age tried, `side` by a plain 5s: a bad age skips its line only
const UNITS = ['in/f-old', 'in/f-new new', 'in/d-old/f', 'in/d-new/ new', 'side/f'];
for (const age of ['5', '5sec', '5000ms', '5000msec', '5000000us', '5000000usec', '0.1m', '0.1min', '"2s 3s"', '2s3s', '5S', '-5s', '5s-', '5 s']) {
  add(`age ${age}`, `e @ROOT@/in - - - ${age}\ne @ROOT@/side - - - 5s`, UNITS);
}
add('age "5 s" quoted', 'e @ROOT@/in - - - "5 s"\ne @ROOT@/side - - - 5s', UNITS);
for (const age of ['90min', '100m', '1h', '3h', '1h30m', '2d', '4day', '1w', '5weeks', '1M', '1month', '2M', '100M', '1y', '1year', '2y', '1fortnight']) {
  add(`age m:${age} against mtimes set back (2h, 3d, 40d, 400d)`, `e @ROOT@ - - - m:${age}`, PAST);
}

// -- globs: `e @ROOT@/PATTERN` cleans inside the directories matched (glob(3) with GLOB_BRACE)
for (const pat of ['*', 'a*', '?1', 'a?', '[ab]1', '[!a]1', '[^a]1', 'x\\*y', 'x\\\\*y', '[]x]', '{a,b}', '{a,b}1', '.*', '*1', '[a-b]?', '\\[ab\\]', '[[:alpha:]]1', '[[:upper:]]*']) {
  add(`glob e ${pat}`, `e @ROOT@/${pat} - - - 5s`, GLOB);
}
// exclusions match with fnmatch(FNM_PATHNAME|FNM_PERIOD): no braces, no leading dot for *
for (const pat of ['*', 'a*', '.*', '{a,b}', '[]x]', 'x\\*y', '?1', '[!a]*']) {
  add(`glob x ${pat} excludes from an e walk`, `e @ROOT@ - - - 5s\nx @ROOT@/${pat}`, GLOB);
}
add('glob x */f excludes the files below, not the directories', 'e @ROOT@ - - - 5s\nx @ROOT@/*/f', GLOB);
add('a quoted path with a space', 'e "@ROOT@/with space" - - - 5s', ['"with space/f"', '"with space/g" new', 'other/f']);

// -- duplicate lines for one path
add('duplicate e: the first line wins (1h, then 5s)', 'e @ROOT@ - - - 1h\ne @ROOT@ - - - 5s', SMALL);
add('duplicate e: the first line wins (5s, then 1h)', 'e @ROOT@ - - - 5s\ne @ROOT@ - - - 1h', SMALL);
add('duplicate e: the same line twice', 'e @ROOT@ - - - 5s\ne @ROOT@ - - - 5s', SMALL);
add('duplicate e: a trailing slash is the same path', 'e @ROOT@/ - - - 1h\ne @ROOT@ - - - 5s', SMALL);
add('duplicate e: another age-by is another line (the first wins)', 'e @ROOT@ - - - m:1h\ne @ROOT@ - - - 5s', SMALL);
add('d (1h) and e (5s) on one path both apply (d is a plain item, e a glob item)', 'd @ROOT@ - - - 1h\ne @ROOT@ - - - 5s', SMALL);
add('x then e on one path: e is a duplicate, ignored', 'x @ROOT@\ne @ROOT@ - - - 5s', SMALL);
add('e then x on one path: x is a duplicate, ignored', 'e @ROOT@ - - - 5s\nx @ROOT@', SMALL);
add('d twice with another mode: the first wins', 'd @ROOT@ 0755 - - 5s\nd @ROOT@ 0700 - - 1h', SMALL);
add('d twice with another mode: the first wins (1h first)', 'd @ROOT@ 0700 - - 1h\nd @ROOT@ 0755 - - 5s', SMALL);

// -- paths owned by other lines inside an e directory
const ABRT = ['abrt/old', 'abrt/sub/f', 'other/f', 'f'];
add('man page example 3: d R/abrt without age keeps it and all below from e R', 'e @ROOT@ - - - 5s\nd @ROOT@/abrt 0755 - - -', ABRT);
add('a line for a subdirectory runs first; its directory stays', 'e @ROOT@ - - - 5s\ne @ROOT@/abrt - - - 5s', ABRT);
add('a subdirectory with a longer age of its own is left to it', 'e @ROOT@ - - - 5s\ne @ROOT@/abrt - - - 1h', ABRT);
add('an e glob two levels down keeps its matches out of the walk above', 'e @ROOT@ - - - 5s\ne @ROOT@/*/keep - - - 1h', ['a/keep/f', 'a/f', 'b/keep', 'b/f', 'c/f']);
add('D on a directory, e on a directory two levels below it', 'D @ROOT@/p - - - 5s\ne @ROOT@/p/q/r - - - 5s', ['p/q/r/f', 'p/q/r/g new', 'p/q/f', 'p/f']);
add('a rule below another rule\'s directory keeps that directory from going', 'e @ROOT@/a - - - 5s\ne @ROOT@/a/b/c - - - 1h', ['a/b/c/f', 'a/b/f', 'a/f']);
add('an e glob on the children and an e on the parent', 'e @ROOT@/* - - - 5s\ne @ROOT@ - - - 5s', ['a/f', 'b/f', 'f']);
const PRIV = ['priv-1/f', 'priv-1/tmp/f', 'priv-1/tmp/g new', 'priv-2/', 'f'];
add('X takes the age of the d above it: inside cleaned, the directory kept', 'd @ROOT@ - - - 5s\nX @ROOT@/priv-*', PRIV);
add('x under d: the directory and all below kept', 'd @ROOT@ - - - 5s\nx @ROOT@/priv-*', PRIV);
add('X under e: e gives no age to X, all kept', 'e @ROOT@ - - - 5s\nX @ROOT@/priv-*', PRIV);
add('X under D without age: no age, all kept', 'D @ROOT@ - - -\nX @ROOT@/priv-*', PRIV);
add('X with an age of its own', 'X @ROOT@/priv-* - - - 5s', PRIV);
add('X below two d lines takes the age of the outer one (252 picks it so)', 'd @ROOT@ - - - 5s\nd @ROOT@/priv-1 - - - 1h\nX @ROOT@/priv-1/tmp', PRIV);

// -- what the walk keeps by itself
add('kept by the walk: live socket, device; gone: FIFO, dead socket, old files', 'e @ROOT@ - - - 5s',
  ['sock sock', 'deadsock deadsock', 'chr chr', 'fifo fifo', 'sticky mode=1644', 'stickydir/ mode=1777', 'stickydir/f', 'suid mode=4755', 'theirs nobody', 'plain']);
const MOUNTROOT = ['m/ mount', 'm/lost+found/f', 'm/aquota.user', 'm/aquota.group', 'm/.journal', 'm/other', 'm/sub/lost+found/f', 'm/sub/.journal', 'm/sub/aquota.user'];
add('at a mount root: root\'s lost+found, aquota.user, aquota.group, .journal kept', 'e @ROOT@/m - - - 5s', MOUNTROOT);
add('at a mount root: the same names owned by another user go', 'e @ROOT@/m - - - 5s',
  ['m/ mount', 'm/lost+found/ nobody', 'm/lost+found/f nobody', 'm/aquota.user nobody', 'm/.journal nobody', 'm/other']);
add('at a mount root: a lost+found file and a .journal directory go', 'e @ROOT@/m - - - 5s', ['m/ mount', 'm/lost+found', 'm/.journal/f', 'm/other']);
add('not a mount root: lost+found, aquota.user, .journal go', 'e @ROOT@/m - - - 5s', MOUNTROOT.filter((e) => e !== 'm/ mount'));
add('a mount below the directory is not entered', 'e @ROOT@ - - - 5s', ['m/ mount', 'm/f', 'n/f', 'f']);
add('a locked directory is skipped with all below', 'e @ROOT@ - - - 5s', ['ldir/ lock', 'ldir/f', 'ldir/sub/f', 'plain']);

// -- ~: keep the first level
add('~ keeps the first level, cleans below', 'e @ROOT@ - - - ~5s', BASIC);
add('~ on d', 'd @ROOT@ - - - ~5s', BASIC);
add('~ on an e glob: each match keeps its own first level', 'e @ROOT@/* - - - ~5s', BASIC);

// -- nested directories that become empty, directories newer than their contents
add('nested directories emptied by the walk go, unless new or not empty',
  'e @ROOT@ - - - 5s', ['n1/a/b/c/f', 'n2/a/b/c/f new', 'n3/a/b/ new', 'n3/a/b/c/f', 'n4/a/b/c/', 'n5/a/ newM', 'n5/a/b/f', 'n6/ newA', 'n6/f']);
add('directories by mtime only (M): emptied ones go even when their atime is new', 'e @ROOT@ - - - M:5s',
  ['n3/a/b/ newA', 'n3/a/b/c/f', 'n6/ newA', 'n6/f', 'n7/ newM', 'n7/f']);

// -- bad lines: systemd skips the line with a warning and applies the rest
const badLine = (what: string, line: string) => add(`bad line (${what}): skipped, the rest applies`, `${line}\ne @ROOT@/d-old - - - 5s`, SMALL);
badLine('unknown type k', 'k @ROOT@ - - - 5s');
badLine('two-letter type', 'ee @ROOT@ - - - 5s');
badLine('relative path', 'e tmp - - - 5s');
badLine('no path', 'e');
badLine('bad age', 'e @ROOT@ - - - soon');
badLine('bad mode', 'd @ROOT@ 0999 - - 5s');
badLine('unknown user', 'd @ROOT@ 0755 no-such-user-x - 5s');
badLine('unknown group', 'd @ROOT@ 0755 - no-such-group-x 5s');
badLine('unbalanced quote', 'e "@ROOT@ - - - 5s');
add('an argument on an e line is ignored with a warning', 'e @ROOT@ - - - 5s extra-argument', SMALL);
add('blank lines, comments and leading whitespace', '# comment\n\n   \t e @ROOT@ - - - 5s   \n# e @ROOT@/d-new - - - 0', SMALL);
add('a bad line first, good lines after', 'bogus line here\ne @ROOT@/d-old - - - 5s\ne @ROOT@/empty-old - - - 5s', SMALL);

// -- symlinks
const SYML = ['real/sub/f', 'real/f', 'ln -> real', 'dangling -> nowhere', 'lnfile -> real/f'];
add('symlinks in the directory are entries of their own (removed, not followed)', 'e @ROOT@ - - - 5s', SYML);
add('an e path that is a symlink is not cleaned', 'e @ROOT@/ln - - - 5s', SYML);
add('an e glob through a symlink: the real directory is cleaned once', 'e @ROOT@/*/sub - - - 5s', SYML);
add('an e path through a symlink', 'e @ROOT@/ln/sub - - - 5s', SYML, {
  differs: { why: 'enospc refuses a path with a symlink on the way (systemd follows it)', enospc: ['dangling@', 'ln@', 'lnfile@', 'real/', 'real/f', 'real/sub/', 'real/sub/f'] },
});

// -- files in use
add('an open file', 'e @ROOT@ - - - 5s', ['held open', 'plain'], {
  differs: { why: 'enospc keeps a file a process has open (systemd does not look)', enospc: ['held'] },
});
add('a flock\'ed file', 'e @ROOT@ - - - 5s', ['locked lock', 'plain'], {
  differs: { why: 'enospc keeps a locked (and open) file; systemd 252 does not check file locks', enospc: ['locked'] },
});

// -- --remove (r, R, D act there; 252 ignores ages there)
add('--remove: r removes files and empty directories, not full ones', 'r @ROOT@/f-old\nr @ROOT@/f-new\nr @ROOT@/empty-old\nr @ROOT@/d-old', BASIC, { remove: true });
add('--remove: an r glob (no dot files)', 'r @ROOT@/*', BASIC, { remove: true });
add('--remove: R removes with contents', 'R @ROOT@/d-*', BASIC, { remove: true });
add('--remove: R ignores its age', 'R @ROOT@/d-old - - - 1h', BASIC, { remove: true });
add('--remove: R ignores x', 'x @ROOT@/d-old/f\nR @ROOT@/d-old', BASIC, { remove: true });
add('--remove: R of the root itself', 'R @ROOT@', BASIC, { remove: true });
add('--remove: D empties the directory', 'D @ROOT@', BASIC, { remove: true });
add('with --remove, e still cleans (as --clean --remove)', 'e @ROOT@ - - - 5s', BASIC, { remove: true });
add('--remove: R! without --boot does nothing', 'R! @ROOT@/d-old', BASIC, { remove: true });
add('--remove --boot: R! removes', 'R! @ROOT@/d-old', BASIC, { remove: true, boot: true });

// -- stock Debian rules, paths moved under the root, on a typical /tmp and /var/tmp
const STOCK_TREE = [
  'tmp/ mode=1777',
  'tmp/systemd-private-@BOOT@-nginx.service-AbC123/ mode=700', 'tmp/systemd-private-@BOOT@-nginx.service-AbC123/tmp/ mode=1777',
  'tmp/systemd-private-@BOOT@-nginx.service-AbC123/tmp/old', 'tmp/systemd-private-@BOOT@-nginx.service-AbC123/tmp/new new',
  'tmp/systemd-private-@BOOT@-nginx.service-AbC123/tmp/olddir/f',
  'tmp/systemd-private-@OTHERBOOT@-php-fpm.service-XyZ789/ mode=700', 'tmp/systemd-private-@OTHERBOOT@-php-fpm.service-XyZ789/tmp/ mode=1777',
  'tmp/systemd-private-@OTHERBOOT@-php-fpm.service-XyZ789/tmp/old',
  'tmp/.X11-unix/ mode=1777', 'tmp/.X11-unix/X0 sock', 'tmp/.ICE-unix/ mode=1777', 'tmp/.font-unix/',
  'tmp/magick-AbCdEf', 'tmp/sess_0123abcd', 'tmp/tmp.Xy12/f', 'tmp/download.part new', 'tmp/.hidden', 'tmp/empty/',
  'var/tmp/ mode=1777', 'var/tmp/systemd-private-@BOOT@-cups.service-Q1w2E3/tmp/old', 'var/tmp/systemd-private-@BOOT@-cups.service-Q1w2E3/tmp/new new',
  'var/tmp/old', 'var/tmp/new new', 'var/tmp/cache/f',
  'var/lib/systemd/coredump/.#core.x.@BOOT@.1', 'var/lib/systemd/coredump/.#core.y.@OTHERBOOT@.1', 'var/lib/systemd/coredump/core.z.1',
];
/** /usr/lib/tmpfiles.d/*.conf with every path moved under @ROOT@; with `scaled`, every age 5s (and /tmp given one, as upstream's tmp.conf has). */
function stockRules(scaled: boolean): string {
  const dir = '/usr/lib/tmpfiles.d';
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort();
  } catch { /* none */ }
  const out: string[] = [];
  for (const n of names) {
    out.push(`# ${dir}/${n}`);
    for (const raw of fs.readFileSync(path.join(dir, n), 'utf8').split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const f = line.split(/\s+/);
      if (f[1]?.startsWith('/')) f[1] = `@ROOT@${f[1]}`;
      if (scaled) {
        if (f[5] !== undefined && f[5] !== '-') f[5] = f[5].replace(/^(~?(?:[abcmABCM]+:)?).*$/, (_m, prefix: string) => `${prefix}5s`);
        if (/^[DdqQv]$/.test(f[0]!) && f[1] === '@ROOT@/tmp') f[5] = '5s';
      }
      out.push(f.join(' '));
    }
  }
  return out.join('\n');
}
add('stock Debian rules (/usr/lib/tmpfiles.d), ages as shipped', stockRules(false), STOCK_TREE);
add('stock Debian rules, every age 5s and /tmp given one (as upstream tmp.conf)', stockRules(true), STOCK_TREE);
add('systemd-tmp.conf and tmp.conf lines by hand, /tmp with an age', [
  'q @ROOT@/tmp 1777 root root 5s',
  'x @ROOT@/tmp/systemd-private-%b-*', 'X @ROOT@/tmp/systemd-private-%b-*/tmp',
  'q @ROOT@/var/tmp 1777 root root 5s',
  'x @ROOT@/var/tmp/systemd-private-%b-*', 'X @ROOT@/var/tmp/systemd-private-%b-*/tmp',
  'R! @ROOT@/tmp/systemd-private-*', 'R! @ROOT@/var/tmp/systemd-private-*',
  'd @ROOT@/var/lib/systemd/coredump 0755 root root 5s',
  'x @ROOT@/var/lib/systemd/coredump/.#core*.%b*', 'r! @ROOT@/var/lib/systemd/coredump/.#*',
].join('\n'), STOCK_TREE);

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
