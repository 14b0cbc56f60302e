// enospc clean against a log that fills up and against bad or hostile input: no removal is ever
// missing from the audit log, names are byte-exact, nothing hangs, rules mean what they say.
// Only the command line is used (no imports from src), so the same file runs against any build.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { CLI, cannotMount, tmpfs, unmountAll, type Run } from './helpers.js';
import { checkOutput } from './json-schema.js';

const OLD = (Date.now() - 3 * 3600_000) / 1000;

interface CleanOut {
  removed: { entries: number; files: number; dirs: number };
  skipped: Record<string, number>;
  errors: Array<{ path: string; pathBase64?: string; error: string }>;
  patterns: Array<{ pattern: string; patternBase64?: string; sample: string[]; sampleBase64?: Array<string | null> }>;
  stopped?: { error: string; message: string } | null;
}

/** enospc with a time limit; `killed` when it had to be ended. */
function run(args: string[], timeout = 20_000): Run & { killed: boolean; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  if (r.status !== null) checkOutput(args, r.stdout);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, killed: r.status === null, ms: performance.now() - t0 };
}

/** enospc with arguments given as bytes (printf escapes, `\377`), as a shell would pass them. */
function runBytes(args: string[]): Run {
  const script = `exec "$0" "$1" ${args.map((_, i) => `"$(printf '%b' "$${i + 2}")"`).join(' ')}`;
  const out = spawnSync('/bin/sh', ['-c', script, process.execPath, CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '1' } });
  if (out.status !== null && args.includes('--json')) checkOutput(['clean', '--json'], out.stdout);
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

function make(dir: string, names: Array<string | Buffer>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const n of names) {
    const p = Buffer.concat([Buffer.from(dir + '/'), Buffer.from(n)]);
    fs.writeFileSync(p, 'x');
    fs.utimesSync(p, OLD, OLD);
  }
}

/** Many empty files, quickly. */
function many(dir: string, n: number): void {
  execFileSync('python3', ['-c', `
import os, sys
os.chdir(sys.argv[1])
for i in range(int(sys.argv[2])):
    os.close(os.open('tmp-%07d' % i, os.O_CREAT | os.O_WRONLY, 0o600))`, dir, String(n)]);
}

/** A tmpfs of `size` filled up to `free` bytes left. */
function nearlyFull(size: string, free: number): string {
  const dir = tmpfs(`size=${size},nr_inodes=100`);
  const total = fs.statfsSync(dir).blocks * fs.statfsSync(dir).bsize;
  fs.writeFileSync(`${dir}/fill`, Buffer.alloc(total - free));
  return dir;
}

/** The paths of the log's complete lines (pathBase64 decoded when there). */
function logged(log: string): Set<string> {
  const out = new Set<string>();
  if (!fs.existsSync(log)) return out;
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    let j: { path: string; pathBase64?: string };
    try {
      j = JSON.parse(line) as typeof j;
    } catch {
      continue; // the last line, cut short
    }
    out.add(j.pathBase64 ? Buffer.from(j.pathBase64, 'base64').toString('latin1') : Buffer.from(j.path).toString('latin1'));
  }
  return out;
}

/** Every file gone from `dir` since `before` has a line in the log. */
function assertAllLogged(dir: string, before: string[], log: string): number {
  const left = new Set(fs.readdirSync(dir));
  const lines = logged(log);
  const gone = before.filter((n) => !left.has(n));
  const unlogged = gone.filter((n) => !lines.has(Buffer.from(`${dir}/${n}`).toString('latin1')));
  assert.deepEqual(unlogged.slice(0, 5), [], `${unlogged.length} of ${gone.length} removals have no line in the log`);
  return gone.length;
}

describe('enospc clean: the audit log and its input', { skip: cannotMount ?? false }, () => {
  after(() => unmountAll());

  test('a log on a full filesystem stops the run before any unlogged removal (one thread): exit 1, one line', () => {
    const logDir = nearlyFull('256k', 8 << 10);
    const dir = tmpfs('size=8m,nr_inodes=5000');
    many(dir, 200);
    const before = fs.readdirSync(dir);
    const log = `${logDir}/clean.jsonl`;
    const r = run(['clean', dir, '--match', 'tmp-*', '--apply', '--log', log, '--json']);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${log}.*no space left on device`));
    const j = JSON.parse(r.stdout) as CleanOut;
    assert.equal(j.stopped?.error, 'ENOSPC');
    const gone = assertAllLogged(dir, before, log);
    assert.equal(j.removed.files, gone);
  });

  test('the same with the second thread: thousands of files, the log fills after several batches', { timeout: 120_000 }, () => {
    const logDir = nearlyFull('4m', 2 << 20);
    const dir = tmpfs('size=64m,nr_inodes=100000');
    many(dir, 60_000);
    const before = fs.readdirSync(dir);
    const log = `${logDir}/clean.jsonl`;
    const r = run(['clean', dir, '--match', 'tmp-*', '--apply', '--log', log, '--json'], 60_000);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error|    at /);
    const j = JSON.parse(r.stdout) as CleanOut;
    assert.equal(j.stopped?.error, 'ENOSPC');
    const gone = assertAllLogged(dir, before, log);
    assert.equal(j.removed.files, gone);
    assert.ok(gone > 4 * 1024 && gone < 60_000, `${gone} removed`);
  });

  test('--log /dev/full, a FIFO, a log inside the root through a symlink; --rules FIFO: exit 2 at once, one line, nothing removed', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    make(`${dir}/root`, ['tmp-1']);
    fs.mkdirSync(`${dir}/root/sub`);
    execFileSync('mkfifo', [`${dir}/fifo`]);
    fs.symlinkSync(`${dir}/root/sub`, `${dir}/into`);
    const cases = [
      [['--log', '/dev/full'], /not a regular file \(a character device\)/],
      [['--log', `${dir}/fifo`], /not a regular file \(a FIFO\)/],
      [['--log', `${dir}/into/clean.jsonl`], /must not be inside/],
      [['--log', `${dir}/root/new/clean.jsonl`], /must not be inside/],
    ] as const;
    for (const [args, why] of cases) {
      const r = run(['clean', `${dir}/root`, '--match', 'tmp-*', '--apply', ...args], 10_000);
      assert.ok(!r.killed, `${args.join(' ')}: hung`);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, why);
    }
    const rules = run(['clean', '--rules', `${dir}/fifo`], 10_000);
    assert.ok(!rules.killed, '--rules FIFO: hung');
    assert.equal(rules.status, 2, rules.stderr);
    assert.match(rules.stderr, /not a regular file \(a FIFO\)/);
    assert.deepEqual(fs.readdirSync(`${dir}/root`).sort(), ['sub', 'tmp-1']);
    assert.ok(!fs.existsSync(`${dir}/root/new`));
  });

  test('rules: `e /.` and `e /tmp/..` are refused like `e /`; through `..` and through a symlink the dry run and --apply agree', () => {
    const dir = tmpfs('size=1m,nr_inodes=200');
    for (const line of ['e /. - - - 1d', 'e /tmp/.. - - - 1d', 'e //./ - - - 1d']) {
      fs.writeFileSync(`${dir}.conf`, line + '\n');
      const r = run(['clean', '--rules', `${dir}.conf`], 10_000);
      // the line is skipped with a warning (exit 1); a run of other lines would go on
      assert.equal(r.status, 1, `${line}: ${r.stderr}`);
      assert.match(r.stderr, /refusing to (clean|remove) \/; line skipped$/m, line);
    }
    make(`${dir}/real/cache`, ['a', 'b', 'c']);
    make(`${dir}/real/other`, ['d']);
    fs.symlinkSync(`${dir}/real`, `${dir}/link`);
    // `..` out of a real directory: the rule means real/cache, in the dry run as with --apply
    fs.writeFileSync(`${dir}.conf`, `e ${dir}/real/other/../cache - - - m:1h\n`);
    const dry = run(['clean', '--rules', `${dir}.conf`, '--json']);
    const apply = run(['clean', '--rules', `${dir}.conf`, '--json', '--apply', '--no-log']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(apply.status, 0, apply.stderr);
    assert.equal((JSON.parse(dry.stdout) as CleanOut).removed.files, 3);
    assert.equal((JSON.parse(apply.stdout) as CleanOut).removed.files, 3);
    assert.deepEqual(fs.readdirSync(`${dir}/real/cache`), []);
    // through a symlink: refused in both, with the same counts
    make(`${dir}/real/cache`, ['e', 'f']);
    fs.writeFileSync(`${dir}.conf`, `e ${dir}/link/cache - - - m:1h\nr ${dir}/link/other/d - - - m:1h\n`);
    const dry2 = run(['clean', '--rules', `${dir}.conf`, '--json']);
    const apply2 = run(['clean', '--rules', `${dir}.conf`, '--json', '--apply', '--no-log']);
    const [d2, a2] = [JSON.parse(dry2.stdout) as CleanOut, JSON.parse(apply2.stdout) as CleanOut];
    assert.deepEqual([dry2.status, d2.removed.entries, d2.skipped['error']], [apply2.status, a2.removed.entries, a2.skipped['error']]);
    assert.deepEqual([d2.removed.entries, d2.skipped['error']], [0, 1]); // the r line acts only with --remove
    assert.match(d2.errors[0]!.error, /symbolic link/);
    assert.deepEqual(fs.readdirSync(`${dir}/real/cache`).sort(), ['e', 'f']);
    fs.rmSync(`${dir}.conf`);
  });

  test('--match: an invalid glob is exit 2 naming it; a glob that backtracks in a RegExp is matched at once', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    const r = run(['clean', dir, '--match', '[z-a]']);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /\[z-a\]/);
    make(dir, ['-'.repeat(250), '-'.repeat(249) + 'x', '-'.repeat(200) + '.tm']);
    const slow = run(['clean', dir, '--match', '*-*-*-*-*.tmp', '--json'], 15_000);
    assert.ok(!slow.killed, 'the match did not end in 15 s');
    assert.equal(slow.status, 0, slow.stderr);
    assert.ok((JSON.parse(slow.stdout) as { elapsedMs: number }).elapsedMs < 1000, slow.stdout);
    assert.ok(slow.ms < 5000, `${slow.ms} ms`);
  });

  test('names that are not UTF-8: \\xff, \\xfe and U+FFFD are three paths in the log and in --json; a PATH and a --match given as such bytes work', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    const names = [Buffer.from('tmp-\xff', 'latin1'), Buffer.from('tmp-\xfe', 'latin1'), Buffer.from('tmp-\ufffd')];
    make(dir, names);
    const dry = JSON.parse(run(['clean', dir, '--match', 'tmp-*', '--json']).stdout) as CleanOut;
    const samples = dry.patterns.flatMap((p) => p.sample.map((s, i) => p.sampleBase64?.[i] ?? Buffer.from(s).toString('base64')));
    assert.deepEqual(samples.sort(), names.map((n) => Buffer.concat([Buffer.from(dir + '/'), n]).toString('base64')).sort());
    const log = `${dir}.log`;
    const r = run(['clean', dir, '--match', 'tmp-*', '--apply', '--log', log]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(dir), []);
    const lines = logged(log);
    assert.equal(lines.size, 3);
    for (const n of names) assert.ok(lines.has(Buffer.concat([Buffer.from(dir + '/'), n]).toString('latin1')), n.toString('latin1'));
    fs.rmSync(log);
    // PATH and --match as bytes: only the \xfe file goes
    fs.mkdirSync(Buffer.from(`${dir}/d\xff`, 'latin1'));
    for (const n of names) {
      const p = Buffer.concat([Buffer.from(`${dir}/d`), Buffer.from([0xff]), Buffer.from('/'), n]);
      fs.writeFileSync(p, '');
      fs.utimesSync(p, OLD, OLD);
    }
    const raw = runBytes(['clean', `${dir}/d\\0377`, '--match', 'tmp-\\0376', '--apply', '--no-log', '--json']);
    assert.equal(raw.status, 0, raw.stderr);
    assert.equal((JSON.parse(raw.stdout) as CleanOut).removed.files, 1);
    const left = fs.readdirSync(Buffer.from(`${dir}/d\xff`, 'latin1'), { encoding: 'buffer' }).map((b) => b.toString('latin1')).sort();
    assert.deepEqual(left, [names[0]!.toString('latin1'), names[2]!.toString('latin1')].sort());
  });

  test('rule files: a bad line is named by its number, its text escaped and never echoed whole', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    fs.writeFileSync(`${dir}/esc.conf`, `e /tmp - - - 1d\n\x1b[31mred ${dir}\n`);
    const r = run(['clean', '--rules', `${dir}/esc.conf`]);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(!r.stderr.includes('\x1b'), JSON.stringify(r.stderr));
    assert.match(r.stderr, /esc\.conf:2: unknown type '\\x1b\[31mred'/);
    const secret = 'root:$6$Zq0sEcReT$8vE3gq1fhK8pL0xNw:19000:0:99999:7:::';
    fs.writeFileSync(`${dir}/shadow`, `${secret}\ndaemon:*:19000:0:99999:7:::\n`);
    fs.writeFileSync(`${dir}/spaced`, `${secret} ${secret}\n`);
    for (const f of ['shadow', 'spaced']) {
      const s = run(['clean', '--rules', `${dir}/${f}`, '--strict']);
      assert.equal(s.status, 2, s.stderr);
      assert.equal(s.stderr.trim().split('\n').length, 1, s.stderr);
      assert.match(s.stderr, new RegExp(`${f}:1: `));
      // without --strict: each bad line is a warning of its own, none echoing its text
      const w = run(['clean', '--rules', `${dir}/${f}`]);
      assert.equal(w.status, 1, w.stderr);
      const lines = w.stderr.trim().split('\n');
      // the last line says that nothing is left to clean (every line was skipped)
      assert.match(lines.pop()!, new RegExp(`^enospc: no line of \\S+${f} cleans anything`));
      assert.ok(lines.every((l) => new RegExp(`${f}:\\d+: .*; line skipped$`).test(l)), w.stderr);
      assert.ok(!w.stderr.includes('Zq0sEcReT') && !w.stderr.includes('99999'), w.stderr);
      assert.ok(!s.stderr.includes('Zq0sEcReT') && !s.stderr.includes('99999'), s.stderr);
    }
  });
});
