// Nothing crashes on any output or host state: a stdout that cannot be written (a full
// filesystem, /dev/full, a reader gone, not open for writing, closed) and a low fd limit.
// Every run goes through a shell (redirections, `ulimit -n`); stderr is checked for stack
// traces and aborts (koffi's FATAL ERROR) as well as for the exit status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { censusParallel, fdPlan } from '../src/scan/parallel.js';
import { CLI, cannotMount, findCount, tmpfs, touch, unmountAll } from './helpers.js';

after(unmountAll);
const skip = cannotMount ?? false;

interface Run { status: number | null; stdout: string; stderr: string }
const ENV = { ...process.env, NO_COLOR: '1', NODE: process.execPath, CLI };
const ENOSPC = '"$NODE" "$CLI"';

/** Run a bash line (with $NODE and $CLI set). */
function sh(line: string): Run {
  const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 180_000, env: ENV });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking: several at once. */
function shAsync(line: string): Promise<Run> {
  return new Promise((resolve) => {
    const c = spawn('bash', ['-c', line], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    c.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** No stack trace, no abort, no internal error, at most `lines` lines on stderr. */
function quiet(r: Run, what: string, lines = 1): void {
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: a stack trace\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /FATAL|internal error|Node\.js v\d/, `${what}\n${r.stderr}`);
  const n = r.stderr.split('\n').filter(Boolean).length;
  assert.ok(n <= lines, `${what}: ${n} lines on stderr, at most ${lines}\n${r.stderr}`);
}

const TOO_MANY = /^enospc: too many open files: the limit \(ulimit -n\) is \d+, enospc needs about \d+; raise it \(ulimit -n \d+\)\n$/;

let tree: string;
let cleanDir: string;
before(() => {
  if (skip) return;
  const work = tmpfs('size=64m,nr_inodes=200000');
  tree = `${work}/tree`;
  for (let a = 0; a < 30; a++) {
    for (let b = 0; b < 10; b++) {
      for (let c = 0; c < 10; c++) fs.mkdirSync(`${tree}/a${a}/b${b}/c${c}`, { recursive: true });
      touch(`${tree}/a${a}/b${b}/sess_${a}_${b}`);
    }
  }
  cleanDir = `${work}/clean`;
  fs.mkdirSync(cleanDir);
  for (let i = 0; i < 50; i++) { touch(`${cleanDir}/x${i}`); touch(`${cleanDir}/y${i}`); }
});

const commands = (): Array<[string, string]> => [
  ['doctor', 'doctor --budget 2'],
  ['top', `top ${tree}`],
  ['inotify', 'inotify'],
  ['containers', 'containers --budget 2'],
  ['clean', `clean ${cleanDir} --match 'x*'`],
  ['--help', '--help'],
];

describe('stdout that cannot be written', { skip }, () => {
  test('a file on a full filesystem, and /dev/full: exit 1, one line, no stack trace', () => {
    const full = tmpfs('size=64k,nr_inodes=1000');
    sh(`cat /dev/zero > ${full}/fill 2>/dev/null`);
    assert.equal(fs.statfsSync(full).bavail, 0, 'the filesystem is full');
    for (const [name, args] of commands()) {
      for (const target of [`${full}/out.txt`, '/dev/full']) {
        const r = sh(`${ENOSPC} ${args} > ${target}`);
        const what = `${name} > ${target}`;
        quiet(r, what);
        assert.equal(r.status, 1, `${what}: exit ${r.status}\n${r.stderr}`);
        assert.equal(r.stderr, 'enospc: cannot write the output: no space left on device\n', what);
      }
    }
  });

  test('a filesystem with a few blocks left: the output is not cut short silently', () => {
    const almost = tmpfs('size=128k,nr_inodes=1000');
    fs.writeFileSync(`${almost}/fill`, Buffer.alloc(100 * 1024));
    const r = sh(`${ENOSPC} top ${tree} --by dirs -n 5000 > ${almost}/out.txt`);
    quiet(r, 'top > almost full');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no space left on device/);
  });

  test('stdout not open for writing (EBADF), and closed (>&-)', () => {
    const bad = sh(`${ENOSPC} top ${tree} 1</dev/null`);
    quiet(bad, 'top 1</dev/null');
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, 'enospc: cannot write the output: not open for writing\n');
    // Node opens /dev/null on a closed fd 1 before any JavaScript runs: the output is
    // discarded without an error, so the command's own status stands
    for (const args of [`top ${tree}`, '--help', `clean ${cleanDir} --match 'x*'`]) {
      const r = sh(`${ENOSPC} ${args} >&-`);
      quiet(r, `${args} >&-`, 0);
      assert.equal(r.status, 0, `${args} >&-: ${r.stderr}`);
    }
  });

  test('stderr closed or full too: still no stack trace, status 1', () => {
    const r = sh(`${ENOSPC} top ${tree} > /dev/full 2>&-`);
    assert.equal(r.status, 1);
    const s = sh(`${ENOSPC} top ${tree} > /dev/full 2>/dev/full; echo "status $?" >&2`);
    assert.equal(s.stderr, 'status 1\n');
  });
});

describe('census threads and the end of the process', () => {
  // Ended (terminate(), or the process exiting) while inside koffi's load, a worker aborts the
  // whole process: FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw. A census of a
  // tiny tree is done long before its workers have loaded: none may be terminated; each must
  // end by itself (exit code 0), and keep the process alive until then.
  test('workers still loading are never terminated: they end by themselves', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-robust-'));
    fs.mkdirSync(`${root}/a/b`, { recursive: true });
    const terminate = Worker.prototype.terminate;
    const ref = Worker.prototype.ref;
    const terminated: Worker[] = [];
    const waited: Worker[] = [];
    Worker.prototype.terminate = function (this: Worker) { terminated.push(this); return terminate.call(this); };
    Worker.prototype.ref = function (this: Worker) { waited.push(this); ref.call(this); };
    try {
      const r = await censusParallel(root, { threads: 4 });
      assert.equal(r.totals.entries, 3);
    } finally {
      Worker.prototype.terminate = terminate;
      Worker.prototype.ref = ref;
      fs.rmSync(root, { recursive: true });
    }
    assert.equal(terminated.length, 0, 'a worker was terminated while loading');
    assert.equal(waited.length, 3, 'three workers, each kept until it has ended');
    const codes = await Promise.all(waited.map((w) => new Promise<number>((resolve) => w.once('exit', resolve))));
    assert.deepEqual(codes, [0, 0, 0]);
  });
});

describe('a reader that stops early: | head -1', { skip }, () => {
  // Census workers start loading (koffi with them) at once; a run that ends while one is still
  // inside koffi's load used to abort: FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw.
  // When it happens depends on how long the census takes, so trees of three sizes.
  test('exit 1, nothing on stderr, never an abort, run after run', async () => {
    const roots: string[] = [];
    const base = tmpfs('size=64m,nr_inodes=100000');
    for (const per of [10, 20, 40]) {
      const root = `${base}/t${per}`;
      for (let i = 0; i < 100; i++) {
        for (let j = 0; j < per; j++) fs.mkdirSync(`${root}/directory-with-a-long-name-${i}/subdirectory-${j}`, { recursive: true });
      }
      roots.push(root);
    }
    const runs = Number(process.env.ROBUST_RUNS ?? 12);
    const lines: string[] = [];
    for (let i = 0; i < runs; i++) {
      for (const root of roots) lines.push(`${ENOSPC} top ${root} --by dirs -n 5000 --threads 4 | head -1 > /dev/null; exit \${PIPESTATUS[0]}`);
    }
    for (let i = 0; i < lines.length; i += 2) {
      for (const r of await Promise.all(lines.slice(i, i + 2).map(shAsync))) {
        quiet(r, 'top | head -1', 0);
        assert.equal(r.status, 1, r.stderr);
      }
    }
  });

  test('trace --events stops when its reader is gone', () => {
    const dir = tmpfs('size=1m');
    const t0 = performance.now();
    const r = sh(`(for i in $(seq 1 40); do sleep 0.25; touch ${dir}/f$i; done) & ${ENOSPC} trace ${dir} --events --duration 60s | head -1 > /dev/null; s=\${PIPESTATUS[0]}; kill $! 2>/dev/null; wait; exit $s`);
    quiet(r, 'trace --events | head -1'); // the "tracing ..." line
    assert.equal(r.status, 1, r.stderr);
    assert.ok(performance.now() - t0 < 30_000, 'stopped long before --duration');
  });
});

describe('a low fd limit', { skip }, () => {
  test('fdPlan: one thread and a small window when few fds are left', () => {
    assert.deepEqual(fdPlan(4, Infinity), { threads: 4, fdWindow: 256 });
    assert.deepEqual(fdPlan(4, 12), { threads: 1, fdWindow: 4 });
    assert.deepEqual(fdPlan(2, 14, 16), { threads: 1, fdWindow: 16 });
    const mid = fdPlan(4, 250);
    assert.ok(mid.threads >= 2 && mid.threads < 4 && mid.fdWindow >= 32, JSON.stringify(mid));
  });

  test('the walker closes fds of its own and retries on EMFILE: exact counts, nothing unreadable', () => {
    const root = tmpfs('size=16m');
    fs.mkdirSync(`${root}/${'d/'.repeat(200)}`, { recursive: true });
    touch(`${root}/${'d/'.repeat(200)}leaf`);
    const census = new URL('../src/scan/census.js', import.meta.url).href;
    const script = `import { census } from '${census}'; const r = census(process.env.ROOT, { fdWindow: 256 }); console.log(JSON.stringify(r.totals));`;
    const r = sh(`ulimit -n 40; ROOT=${root} exec "$NODE" --input-type=module -e "${script.replaceAll('"', '\\"')}"`);
    assert.equal(r.status, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.dirs, 201);
    assert.equal(t.files, 1);
    assert.equal(t.unreadable, 0);
  });

  test('ulimit -n 32: doctor, top, clean and inotify work', () => {
    const ulimit = (args: string) => sh(`ulimit -n 32; exec ${ENOSPC} ${args}`);
    const doctor = ulimit('doctor --json --budget 2');
    quiet(doctor, 'doctor');
    assert.ok([0, 1, 2, 3].includes(doctor.status!), doctor.stderr);
    assert.equal(JSON.parse(doctor.stdout).exitCode, doctor.status);

    const top = ulimit(`top ${tree} --json`);
    quiet(top, 'top', 0);
    assert.equal(top.status, 0, top.stderr);
    const j = JSON.parse(top.stdout);
    assert.equal(j.totals.entries, findCount(tree));
    assert.equal(j.totals.unreadable, 0);

    const clean = ulimit(`clean ${cleanDir} --match 'x*' --json`);
    quiet(clean, 'clean', 0);
    assert.equal(clean.status, 0, clean.stderr);
    assert.equal(JSON.parse(clean.stdout).removed.files, 50);

    const inotify = ulimit('inotify --json');
    quiet(inotify, 'inotify', 0);
    assert.equal(inotify.status, 0, inotify.stderr);
    assert.ok(JSON.parse(inotify.stdout).users);
  });

  test('ulimit -n 32: clean --apply of a big directory (the second thread is not started)', () => {
    const dir = tmpfs('size=16m');
    for (let i = 0; i < 600; i++) { touch(`${dir}/x${i}`); touch(`${dir}/keep${i}`); }
    const r = sh(`ulimit -n 32; exec ${ENOSPC} clean ${dir} --match 'x*' --apply --no-log --json`);
    quiet(r, 'clean --apply', 0);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).removed.files, 600);
    assert.equal(fs.readdirSync(dir).length, 600);
  });

  test('a soft limit below the hard one is raised (by Node, before enospc runs)', () => {
    const r = sh(`ulimit -Sn 32; exec ${ENOSPC} top ${tree} --json`);
    quiet(r, 'top', 0);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).totals.entries, findCount(tree));
  });

  test('ulimit -n 20 and 24: the right output or one clear line, never a stack trace', () => {
    for (const n of [20, 24]) {
      for (const [name, args, status] of [['doctor', 'doctor --json --budget 2', 3], ['top', `top ${tree} --json`, 1]] as const) {
        const r = sh(`ulimit -n ${n}; exec ${ENOSPC} ${args}`);
        const what = `ulimit -n ${n}: ${name}`;
        quiet(r, what);
        if (r.stderr.includes('too many open files')) {
          assert.match(r.stderr, TOO_MANY, what);
          assert.equal(r.status, status, what);
          continue;
        }
        const j = JSON.parse(r.stdout);
        if (name === 'top') {
          assert.equal(r.status, 0, what);
          assert.equal(j.totals.entries, findCount(tree), what);
          assert.equal(j.totals.unreadable, 0, what);
        }
      }
    }
  });
});
