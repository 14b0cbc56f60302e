// Benchmark: `enospc clean --apply` against `find DIR -name 'magick-*' -delete`, removing
// 1,000,000 empty files from a fresh tmpfs, side by side in one run (env BENCH_REPS, default 3).
// Writes its section of docs/benchmarks.md between the bench:clean markers.
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { CLI, benchBase, build, cleanup, log, median, mountTmpfs, unmount, writeDoc } from './common.js';

const N = Number(process.env['BENCH_CLEAN_N'] ?? 1_000_000);
const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const MAKE = `import os, sys
os.chdir(sys.argv[1])
for i in range(int(sys.argv[2])):
    os.close(os.open('magick-%08x' % (i * 2654435761 % (1 << 32)), os.O_CREAT | os.O_WRONLY, 0o600))`;

interface Cmd { name: string; argv: (dir: string, logFile: string) => string[] }

const cmds: Cmd[] = [
  { name: "find DIR -name 'magick-*' -delete", argv: (d) => ['find', d, '-name', 'magick-*', '-delete'] },
  { name: "enospc clean DIR --match 'magick-*' --apply --no-log", argv: (d) => [process.execPath, CLI, 'clean', d, '--match', 'magick-*', '--apply', '--no-log', '--json'] },
  { name: "enospc clean DIR --match 'magick-*' --apply --log FILE", argv: (d, l) => [process.execPath, CLI, 'clean', d, '--match', 'magick-*', '--apply', '--log', l, '--json'] },
];

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) { console.log('bench/clean: must run as root (it mounts tmpfs)'); process.exit(2); }
  const built = build();
  const base = benchBase('/var/tmp', 'enospc-bench-clean-');
  const walls = new Map<string, number[]>(cmds.map((c) => [c.name, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const c of cmds) {
      const dir = mountTmpfs(`r${rep}-${cmds.indexOf(c)}`, `size=2g,nr_inodes=${N + 10_000}`);
      const mk = spawnSync('python3', ['-c', MAKE, dir, String(N)]);
      if (mk.status !== 0) throw new Error(`making files: ${mk.stderr}`);
      const logFile = `${base}/clean-${rep}.jsonl`;
      const t0 = performance.now();
      const [cmd, ...args] = c.argv(dir, logFile);
      const r = spawnSync(cmd!, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
      const wall = (performance.now() - t0) / 1000;
      if (r.status !== 0) throw new Error(`${c.name}: exit ${r.status}: ${r.stderr}`);
      const left = fs.readdirSync(dir).length;
      if (left !== 0) throw new Error(`${c.name}: ${left} files left`);
      if (c.name.includes('--log')) {
        const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).length;
        if (lines !== N) throw new Error(`audit log has ${lines} lines, not ${N}`);
        fs.rmSync(logFile);
      }
      walls.get(c.name)!.push(wall);
      log(`${c.name}: ${wall.toFixed(2)} s`);
      unmount(dir);
    }
  }
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1]?.trim() ?? 'unknown CPU';
  const find = median(walls.get(cmds[0]!.name)!);
  const rows = cmds.map((c) => {
    const w = walls.get(c.name)!;
    const m = median(w);
    return `| \`${c.name.replaceAll('|', '\\|')}\` | ${m.toFixed(2)} | ${Math.min(...w).toFixed(2)} | ${Math.max(...w).toFixed(2)} | ${Math.round(N / m).toLocaleString('en-US')} | ${(find / m).toFixed(2)}× |`;
  });
  const plain = find / median(walls.get(cmds[1]!.name)!);
  const logged = find / median(walls.get(cmds[2]!.name)!);
  const section = [
    '## enospc clean', '',
    `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/clean.ts\` on ${cpu}, ${os.cpus().length} cores, kernel ${os.release()}, Node ${process.version}; enospc commit ${built.commit}.`, '',
    `Each run: a fresh tmpfs holding ${N.toLocaleString('en-US')} empty \`magick-XXXXXXXX\` files in one directory (made by python, not timed), then the command, timed around the whole process; every file gone checked, and for --log that the log has one line per file. ${REPS} reps, interleaved. The log file is on /var/tmp (disk).`, '',
    '| command | median s | min s | max s | files/s | rate ÷ find |', '|---|--:|--:|--:|--:|--:|', ...rows, '',
    `Target: removal rate >= 0.8× find -delete: ${plain >= 0.8 ? 'PASS' : 'MISS'} (${plain.toFixed(2)}× without a log; ${logged.toFixed(2)}× with the audit log).`, '',
    'Per file enospc makes two system calls where find makes one: statx (the re-check: same inode, not a directory, same mount, old enough) and unlinkat; "in use" and "locked" are hash lookups in a reading of /proc (every process\'s fds, maps, executable and directories) at most 100 ms old, and of /proc/locks (every 2 s). Per batch of up to 1,024 names: the directory\'s place checked through ".." (and the fanotify queue drained); the statx checks split between two threads; with the log, the batch\'s lines written and fdatasync\'d by the main thread, the place checked once more after the sync; then the main thread unlinks them all (unlinks in one directory take its lock in turn).',
  ].join('\n');
  console.log(section);
  writeDoc('clean', section);
}

try {
  await main();
} catch (e) {
  log(`bench/clean: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
