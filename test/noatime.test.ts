// The walks leave the atimes of the directories they read as they were (O_NOATIME where the
// kernel allows it: the owner, or root), so that `enospc clean`'s dry run does not make young
// what --apply then keeps, nor `enospc top` what systemd-tmpfiles would have cleaned. On a tmpfs
// mounted strictatime, where every read of a directory updates its atime.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { NOBODY, cannotMount, enospc, tmpfs, unmountAll } from './helpers.js';

const OLD = (Date.now() - 3 * 3600_000) / 1000;
const OTHER = 4321;

interface Tree { dirs: string[]; young: string[] }

/**
 * Directories at several depths, files in them, a matching old directory and file (x-old*) and a
 * matching young one (x-young: its atime is now). Owned by `uid`; `foreign` subtrees (by name)
 * owned by `foreignUid`. Every time but x-young's is set 3 hours back, deepest first.
 */
function makeTree(root: string, uid = 0, foreign: Record<string, number> = {}): Tree {
  const rel = ['keep', 'keep/a', 'keep/a/b', 'keep/a/b/c', 'keep/x-old', 'keep/x-old/in', 'keep/x-young', 'wide'];
  for (let i = 0; i < 70; i++) rel.push(`wide/d${i}`, `wide/d${i}/e`); // wide enough for the parallel walk's units
  for (const r of Object.keys(foreign)) rel.push(r, `${r}/sub`);
  const dirs = [root, ...rel.map((r) => path.join(root, r))];
  for (const d of dirs) {
    const r = path.relative(root, d);
    const owner = Object.entries(foreign).find(([f]) => r === f || r.startsWith(`${f}/`))?.[1];
    const files = owner === undefined ? ['f.dat', 'x-file'] : ['f.dat']; // nothing to remove in another user's
    fs.mkdirSync(d, { recursive: true });
    for (const f of files) fs.writeFileSync(path.join(d, f), 'x');
    for (const p of [d, ...files.map((f) => path.join(d, f))]) fs.chownSync(p, owner ?? uid, owner ?? uid);
  }
  for (const d of [...dirs].reverse()) {
    for (const f of fs.readdirSync(d).filter((n) => n.includes('.') || n === 'x-file')) fs.utimesSync(path.join(d, f), OLD, OLD);
    fs.utimesSync(d, OLD, OLD);
  }
  const young = [path.join(root, 'keep/x-young')];
  for (const y of young) fs.utimesSync(y, Date.now() / 1000, OLD);
  return { dirs, young };
}

/** atime (ns) of each directory: stat reads no directory, so it changes none */
function atimes(dirs: string[]): Map<string, bigint> {
  return new Map(dirs.filter((d) => fs.existsSync(d)).map((d) => [d, fs.statSync(d, { bigint: true }).atimeNs]));
}

function changed(before: Map<string, bigint>, dirs = [...before.keys()]): string[] {
  return dirs.filter((d) => fs.existsSync(d) && fs.statSync(d, { bigint: true }).atimeNs !== before.get(d));
}

interface CleanJson { removed: { entries: number; files: number; dirs: number }; errors: Array<{ path: string; error: string }> }
/** exit status 0, or 1 when `errors` (some directory could not be read) */
function clean(args: string[], uid?: number, errors = false): CleanJson {
  const r = enospc(['clean', ...args, '--json'], uid === undefined ? {} : { uid });
  assert.equal(r.status, errors ? 1 : 0, r.stderr);
  return JSON.parse(r.stdout) as CleanJson;
}

function top(dir: string, extra: string[], uid?: number): { entries: number; unreadable: number; errors: string[] } {
  const r = enospc(['top', dir, '--json', ...extra], uid === undefined ? {} : { uid });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { totals: { entries: number; unreadable: number }; unreadable: Array<{ error: string }> };
  return { entries: j.totals.entries, unreadable: j.totals.unreadable, errors: j.unreadable.map((u) => u.error) };
}

/** Every walk there is, as `uid`: clean's dry runs (all ages, atime alone), top (parallel, one thread, --stat). */
function walkAll(dir: string, uid?: number, errors = false): CleanJson {
  clean([dir, '--match', 'x*', '--older-than', '1h'], uid, errors);
  const dry = clean([dir, '--match', 'x*', '--older-than', 'aA:1h'], uid, errors);
  for (const extra of [[], ['--threads', '1'], ['--stat'], ['--threads', '4']]) top(dir, extra, uid);
  return dry;
}

describe('O_NOATIME: walks leave atimes alone', { skip: cannotMount ?? false }, () => {
  after(() => unmountAll());

  test('the tmpfs updates a directory\'s atime on every read (else these tests prove nothing)', () => {
    const dir = tmpfs('strictatime,size=4m,nr_inodes=2000');
    fs.mkdirSync(`${dir}/d`);
    fs.utimesSync(`${dir}/d`, OLD, OLD);
    const a = atimes([`${dir}/d`]);
    fs.readdirSync(`${dir}/d`);
    assert.deepEqual(changed(a), [`${dir}/d`]);
  });

  test('root: clean (dry run), top: no atime changes; --apply removes what the dry run said and keeps the rest\'s atimes', () => {
    const dir = tmpfs('strictatime,size=16m,nr_inodes=5000');
    const { dirs } = makeTree(dir);
    const before = atimes(dirs);
    const dry = walkAll(dir);
    assert.deepEqual(changed(before), []);
    // x-old and x-old/in (2 dirs), every x-file but x-young's and x-old's own (in x-old: counted with it)
    assert.deepEqual([dry.removed.dirs, dry.errors], [2, []]);
    const again = clean([dir, '--match', 'x*', '--older-than', 'aA:1h']);
    assert.deepEqual(again.removed, dry.removed, 'a second dry run sees the same ages');
    const applied = clean([dir, '--match', 'x*', '--older-than', 'aA:1h', '--apply', '--no-log']);
    assert.deepEqual(applied.removed, dry.removed);
    assert.ok(!fs.existsSync(`${dir}/keep/x-old`) && fs.existsSync(`${dir}/keep/x-young`));
    assert.deepEqual(changed(before), []);
  });

  test('nobody on its own tree: no atime changes, also below a directory of root\'s; --apply keeps the rest\'s atimes', () => {
    const dir = tmpfs('strictatime,size=16m,nr_inodes=5000');
    fs.mkdirSync(`${dir}/mine`);
    // its own tree, with a directory of another user's inside, and one of its own inside that
    const { dirs } = makeTree(`${dir}/mine`, NOBODY, { 'theirs': OTHER });
    fs.mkdirSync(`${dir}/mine/theirs/sub/back`);
    fs.chownSync(`${dir}/mine/theirs/sub/back`, NOBODY, NOBODY);
    fs.utimesSync(`${dir}/mine/theirs/sub/back`, OLD, OLD);
    fs.utimesSync(`${dir}/mine/theirs/sub`, OLD, OLD);
    const own = dirs.filter((d) => !d.includes('/theirs')).concat(`${dir}/mine/theirs/sub/back`);
    const before = atimes(dirs.concat(`${dir}/mine/theirs/sub/back`));
    const dry = walkAll(`${dir}/mine`, NOBODY);
    assert.deepEqual(changed(before, own), []);
    assert.equal(dry.errors.length, 0, JSON.stringify(dry.errors));
    const applied = clean([`${dir}/mine`, '--match', 'x*', '--older-than', 'aA:1h', '--apply', '--no-log'], NOBODY);
    assert.ok(applied.removed.dirs >= 2, JSON.stringify(applied.removed));
    assert.ok(!fs.existsSync(`${dir}/mine/keep/x-old`) && fs.existsSync(`${dir}/mine/keep/x-young`));
    assert.deepEqual(changed(before, own), []);
  });

  test('nobody on another user\'s tree: no O_NOATIME allowed, yet every walk reads all it may (atimes may change)', () => {
    const dir = tmpfs('strictatime,size=16m,nr_inodes=5000');
    fs.mkdirSync(`${dir}/theirs`);
    const { dirs } = makeTree(`${dir}/theirs`, OTHER);
    fs.mkdirSync(`${dir}/theirs/closed`, { mode: 0o700 });
    fs.chownSync(`${dir}/theirs/closed`, OTHER, OTHER);
    const asRoot = top(`${dir}/theirs`, []);
    const dry = walkAll(`${dir}/theirs`, NOBODY, true);
    // the one directory nobody may not read is the only error, and it is EACCES (not EPERM)
    assert.deepEqual(dry.errors.map((e) => e.error), ['EACCES']);
    for (const extra of [[], ['--threads', '1']]) {
      const t = top(`${dir}/theirs`, extra, NOBODY);
      assert.deepEqual([t.entries, t.unreadable, t.errors], [asRoot.entries, 1, ['EACCES']]);
    }
    assert.ok(dirs.every((d) => fs.existsSync(d)));
  });
});
