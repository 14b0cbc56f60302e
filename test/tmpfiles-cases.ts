// The cases of the differential test against systemd-tmpfiles 252 (tmpfiles-diff.test.ts): a
// rules text (`@ROOT@` is the case's scratch directory) and a tree (the entry syntax is described
// there). Grouped by what they exercise.
import fs from 'node:fs';
import path from 'node:path';
// ---- cases ----

export interface Case {
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
export const cases: Case[] = [];
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

