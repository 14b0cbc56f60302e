// Benchmark: `enospc doctor` on this host as it is (a host with no troubled mount is the case
// the target speaks of: <= 1 s). Writes its section of docs/benchmarks.md.
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { CLI, median, writeDoc } from './common.js';

const REPS = Number(process.env['BENCH_REPS'] ?? 7);

interface Run { wall: number; exit: number; findings: Array<{ id: string; severity: string; target: string }>; mounts: number }

function once(): Run {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'doctor', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - t) / 1000;
  if (r.status === null || r.status > 3) throw new Error(`enospc doctor failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { findings: Run['findings']; mounts: unknown[] };
  return { wall, exit: r.status, findings: j.findings, mounts: j.mounts.length };
}

once(); // warm-up
const runs = Array.from({ length: REPS }, once);
const walls = runs.map((r) => r.wall).sort((a, b) => a - b);
const mid = median(walls);
const last = runs[runs.length - 1]!;
const troubled = last.findings.filter((f) => f.severity !== 'info');
const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
const section = [
  '## enospc doctor',
  '',
  `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/doctor.ts\` on ${cpu.trim()}, ${os.cpus().length} cores, kernel ${os.release()}, Node ${process.version}.`,
  '',
  `\`enospc doctor --json\` on this host as it was: ${last.mounts} real mounts, ${REPS} runs after one warm-up.`,
  '',
  '| median s | min s | max s | exit | findings above info |',
  '|--:|--:|--:|--:|---|',
  `| ${mid.toFixed(2)} | ${walls[0]!.toFixed(2)} | ${walls[walls.length - 1]!.toFixed(2)} | ${last.exit} | ${troubled.length ? troubled.map((f) => `${f.id} ${f.target}`).join(', ') : 'none'} |`,
  '',
  `Target: <= 1 s on a host with no troubled mount: ${troubled.length ? 'not applicable (a mount is troubled, so a census ran)' : mid <= 1 ? 'PASS' : 'MISS'}.`,
].join('\n');
writeDoc('doctor', section);
console.log(section);
