// Benchmark: `enospc inotify` with about 500 processes holding 100k inotify watches, against
// the usual shell loop over /proc/*/fdinfo, in the same run. Each holder is a `sleep` that
// inherited its own inotify instance (200 watches on 200 of 10,000 directories, so 10k
// distinct inodes for --paths). max_user_instances is raised for the run and restored.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, spawn } from 'node:child_process';
import { CLI, HOLDERS, median, writeDoc } from './common.js';

const PROCS = 500, PER = 200, DIRS = 10_000, REPS = Number(process.env['BENCH_REPS'] ?? 5);
const INSTANCES = '/proc/sys/fs/inotify/max_user_instances';


function time(cmd: string[]): { wall: number; out: string } {
  const t = performance.now();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
  return { wall: (performance.now() - t) / 1000, out: r.stdout };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/inotify: run as root');
    process.exit(2);
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-bench-inotify-'));
  const saved = fs.readFileSync(INSTANCES, 'utf8').trim();
  let kids: number[] = [];
  try {
    fs.writeFileSync(INSTANCES, String(PROCS + 256));
    for (let i = 0; i < DIRS; i++) fs.mkdirSync(`${base}/${i}`);
    const py = spawn('python3', ['-c', HOLDERS, base, String(PROCS), String(PER), String(DIRS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      py.stdout.once('data', (d: Buffer) => resolve(d.toString()));
      py.once('exit', (c) => reject(new Error(`holders exited ${c}`)));
    });
    kids = line.trim().split(' ').map(Number);
    const loop = ['sh', '-c', `find /proc/*/fd -lname anon_inode:inotify -printf '%hinfo/%f\\n' 2>/dev/null | xargs cat 2>/dev/null | grep -c '^inotify'`];
    const cmds: Array<[string, string[]]> = [
      ['enospc inotify --json', [process.execPath, CLI, 'inotify', '--json']],
      ['enospc inotify --paths --json', [process.execPath, CLI, 'inotify', '--paths', '--json']],
      ['shell loop over /proc/*/fdinfo (count only)', loop],
    ];
    const walls = new Map<string, number[]>(cmds.map(([n]) => [n, []]));
    let check = '';
    for (let rep = 0; rep <= REPS; rep++) {
      for (const [name, cmd] of cmds) {
        const r = time(cmd);
        if (rep > 0) walls.get(name)!.push(r.wall);
        if (rep === 0 && name === 'enospc inotify --json') {
          const j = JSON.parse(r.out) as { users: Array<{ user: string; watches: number; processes: unknown[] }> };
          const root = j.users.find((u) => u.user === 'root')!;
          check += `enospc: root holds ${root.watches} watches in ${root.processes.length} processes; `;
        }
        if (rep === 0 && name.startsWith('shell')) check += `shell loop: ${r.out.trim()} watch lines`;
      }
    }
    const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1]?.trim() ?? 'unknown CPU';
    const rows = cmds.map(([n]) => `| ${n} | ${median(walls.get(n)!).toFixed(2)} | ${Math.min(...walls.get(n)!).toFixed(2)} | ${Math.max(...walls.get(n)!).toFixed(2)} |`);
    const m1 = median(walls.get('enospc inotify --json')!);
    const m2 = median(walls.get('enospc inotify --paths --json')!);
    const section = [
      '## enospc inotify', '',
      `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/inotify.ts\` on ${cpu}, ${os.cpus().length} cores, kernel ${os.release()}, Node ${process.version}.`,
      '',
      `${PROCS} \`sleep\` processes, each holding one inotify instance with ${PER} watches (${PROCS * PER} in all, on ${DIRS} distinct directories of ${os.tmpdir()}); ${REPS} reps after one warm-up, interleaved.`,
      '', '| command | median s | min s | max s |', '|---|--:|--:|--:|', ...rows, '',
      `Sanity: ${check}.`, '',
      `Targets: \`enospc inotify\` <= 1.5 s: ${m1 <= 1.5 ? 'PASS' : 'MISS'} (${m1.toFixed(2)} s). Paths of ${DIRS} distinct watched inodes resolved in the --paths run: ${m2.toFixed(2)} s in all (target for the resolution < 2 s: ${m2 <= 2 ? 'PASS' : 'MISS'}).`,
    ].join('\n');
    writeDoc('inotify', section);
    console.log(section);
  } finally {
    for (const k of kids) try { process.kill(k, 'SIGKILL'); } catch { /* gone */ }
    fs.writeFileSync(INSTANCES, saved);
    fs.rmSync(base, { recursive: true, force: true });
  }
}
await main();
