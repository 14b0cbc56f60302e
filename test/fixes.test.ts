// No fix can be turned against its user: file names planted to attack the printed commands
// (glob characters, quotes, $(...), backquotes, newlines, a leading dash) are made culprits, and
// every command doctor prints is run with bash on a fresh copy of the tree: only the culprit's
// own files may go, nothing else is removed, nothing is executed.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, NOBODY, cannotMount, enospc, tmpfs, unmountAll } from './helpers.js';

const LOG = '/var/log/enospc/clean.jsonl';
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-fixes-'));
const bin = path.join(scratch, 'bin');
const cwd = path.join(scratch, 'cwd');
fs.mkdirSync(bin);
fs.mkdirSync(cwd);
// The hostile files are another user's: clean keeps those when some process cannot be seen (a
// host whose PID 1 not even root may read, as some sandboxes have); what is tested here is what
// each printed command names, so its clean runs as if every process were seen (--force-unseen).
fs.writeFileSync(path.join(bin, 'enospc'), `#!/bin/sh\nif [ "$1" = clean ]; then set -- "$@" --force-unseen; fi\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
const logBefore = fs.existsSync(LOG) ? fs.readFileSync(LOG) : null;

after(() => {
  unmountAll();
  fs.rmSync(scratch, { recursive: true, force: true });
  // the audit log of the removals the fixes made
  if (logBefore === null) fs.rmSync(LOG, { force: true });
  else fs.writeFileSync(LOG, logBefore);
});

const hex = (i: number, n = 16) => (BigInt(i + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(n, '0').slice(-n);

interface Group { prefix: string; count: number }

/**
 * The hostile groups (owned by an attacker uid) and the victim's files (nobody's): a few real
 * PHP session names, not a culprit of their own, touched again just before each run so that they
 * are not orphans. Doctor runs with --orphan-age 0: everything older than a second is an orphan
 * (by every timestamp, as enospc clean's --older-than judges: no back-dated mtime can fake it).
 */
function plant(dir: string, groups: Group[]): void {
  for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  groups.forEach((g, k) => {
    for (let i = 0; i < g.count; i++) {
      const f = path.join(dir, `${g.prefix}${hex(k * 1000 + i)}`);
      fs.writeFileSync(f, '');
      fs.chownSync(f, 4242, 4242);
    }
  });
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
  for (let i = 0; i < 3; i++) {
    const f = path.join(dir, `sess_${hex(900 + i, 32)}`);
    fs.writeFileSync(f, 'victim');
    fs.chownSync(f, NOBODY, NOBODY);
  }
}

interface Fix { text: string; command?: string }

function fixesOf(dir: string): Array<{ id: string; fix: Fix }> {
  const r = enospc(['doctor', '--json', '--orphan-age', '0', dir]);
  assert.equal(r.stderr, '');
  const j = JSON.parse(r.stdout) as { findings: Array<{ id: string; fix: Fix[] }> };
  return j.findings.flatMap((f) => f.fix.filter((x) => x.command).map((fix) => ({ id: f.id, fix })));
}

function pwned(): string[] {
  return [cwd, scratch, os.tmpdir()].flatMap((d) => fs.readdirSync(d).filter((n) => n.startsWith('PWNED')).map((n) => path.join(d, n)));
}

const rounds: Group[][] = [
  [
    { prefix: '[s]ess_', count: 80 },
    { prefix: '$(touch PWNED1)x-', count: 70 },
    { prefix: '`touch PWNED2`y-', count: 60 },
    { prefix: "a'b\"c;touch PWNED3-", count: 50 },
    { prefix: 'nl\nx-', count: 40 },
  ],
  [
    { prefix: '-rf-', count: 80 },
    { prefix: '--apply-', count: 70 },
    { prefix: '*-', count: 60 },
    { prefix: '?q\\z-', count: 50 },
    { prefix: 'sp ace\tt\x1b[31m-', count: 40 },
  ],
];

describe('every fix doctor prints, run on hostile names', { skip: cannotMount ?? false }, () => {
  rounds.forEach((groups, n) => {
    test(`round ${n + 1}: ${groups.map((g) => JSON.stringify(g.prefix)).join(' ')}`, () => {
      const dir = tmpfs('size=16m,nr_inodes=330');
      fs.chmodSync(dir, 0o1777);
      plant(dir, groups);
      const fixes = fixesOf(dir);
      const commands = [...new Set(fixes.map((f) => f.fix.command!))];
      // each group is named by its own enospc clean line, dry run and removal
      for (const g of groups) {
        assert.ok(commands.some((c) => c.includes('--apply') && c.includes('--match=')), `no removal for ${JSON.stringify(g.prefix)}`);
      }
      // nothing printed carries a raw control character a terminal would act on
      for (const c of commands) assert.doesNotMatch(c, /[\x00-\x1f\x7f]/, c);
      const victims = fs.readdirSync(dir).filter((x) => x.startsWith('sess_')).sort();
      const all = new Set(fs.readdirSync(dir));
      const groupOf = (name: string) => groups.findIndex((g) => name.startsWith(g.prefix));
      let removedSome = 0;
      let dirty = true;
      for (const command of commands) {
        if (dirty) plant(dir, groups);
        const r = spawnSync('bash', ['-c', command], { cwd, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, NO_COLOR: '1' } });
        const left = new Set(fs.readdirSync(dir));
        const gone = [...all].filter((x) => !left.has(x));
        dirty = gone.length > 0 || left.size !== all.size;
        assert.deepEqual(pwned(), [], `ran something: ${command}`);
        assert.deepEqual(fs.readdirSync(dir).filter((x) => x.startsWith('sess_')).sort(), victims, `a victim's file went: ${command}`);
        if (gone.length === 0) continue;
        assert.equal(r.status, 0, `${command}\n${r.stderr}`);
        // what went is exactly one group: the one the command names, all of it
        const hit = new Set(gone.map(groupOf));
        assert.equal(hit.size, 1, `${command} removed files of ${hit.size} groups`);
        const g = groups[[...hit][0]!]!;
        assert.ok(!hit.has(-1), `${command} removed files of no culprit`);
        assert.equal(gone.length, g.count, `${command} removed ${gone.length} of ${g.count}`);
        removedSome++;
      }
      assert.equal(removedSome, groups.length, 'every group had a fix that removed it');
    });
  });

  test('names that are not UTF-8: the commands name their bytes exactly', () => {
    const dir = tmpfs('size=4m,nr_inodes=200');
    for (let i = 0; i < 50; i++) fs.writeFileSync(Buffer.from(`${dir}/caf\xe9-${hex(i)}`, 'latin1'), '');
    // the same names in UTF-8 (café-...): another group, which must stay
    for (let i = 0; i < 3; i++) fs.writeFileSync(`${dir}/caf\u00e9-${hex(i)}`, '');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
    const r = enospc(['doctor', '--json', '--orphan-age', '0', dir]);
    const j = JSON.parse(r.stdout) as { findings: Array<{ id: string; culprits?: Array<{ pattern: string; orphan: { count: number } | null }>; fix: Fix[] }> };
    const f = j.findings.find((x) => x.id === 'orphans')!;
    assert.equal(f.culprits![0]!.pattern, 'caf\\xe9-*');
    assert.equal(f.culprits![0]!.orphan!.count, 50);
    const apply = f.fix.find((x) => x.command?.includes('--apply'))!.command!;
    assert.equal(apply, `enospc clean ${dir} --match=$'caf\\xe9-*' --older-than 1s --apply`);
    assert.ok(!f.fix.some((x) => x.command?.includes('--emit-rule')), 'no tmpfiles.d line can hold such bytes');
    const run = spawnSync('bash', ['-c', apply], { cwd, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` } });
    assert.equal(run.status, 0, run.stderr);
    const left = fs.readdirSync(dir, { encoding: 'buffer' }).map((b) => b.toString('latin1'));
    assert.equal(left.length, 3, left.join(' '));
    assert.ok(left.every((n) => n.startsWith('caf\xc3\xa9-')));
  });
});
