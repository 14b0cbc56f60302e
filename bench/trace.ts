// Benchmark: `enospc trace` against inotifywait and fatrace on the same burst of file churn, in the same run.
// Run as root with `npm run bench:trace` (env BENCH_TRACE_N, default 200,000 files of 3 events each).
// Writes its section of docs/benchmarks.md between the bench:trace markers.
import fs from 'node:fs';
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, DOC, benchBase, build, cleanup, has, log, median, mib, mountTmpfs, sh, unmount, writeDoc } from './common.js';

const N = Number(process.env.BENCH_TRACE_N ?? 200_000);
const EXPECTED = 3 * N; // per file: create, close-write, delete
const REPS = 3;
const IDLE_MS = 1000; // a tool is done when it has printed nothing for this long after the producer exited
const READY_MS = 1000; // enospc and fatrace: time given to start before the producer runs
const CATCH_UP_MS = 120_000; // at most this long after the producer exited, then it is stopped anyway
const STOP_MS = 60_000; // after SIGINT, at most this long for the report and the exit
const TARGET_RATE = 50_000;
const TMPFS_OPTS = 'size=256m';
// the workload: create (open 'w'), close, delete, one file after another, as fast as node can
const PRODUCER = "const fs = require('node:fs'); const dir = process.argv[1], n = Number(process.argv[2]); " +
  "for (let i = 0; i < n; i++) { const f = dir + '/burst-' + i; fs.closeSync(fs.openSync(f, 'w')); fs.unlinkSync(f); }";

/** What a tool printed; how its lines are told apart. */
type Count = 'enospc' | 'report' | 'inotifywait' | 'fatrace';
interface Tool { name: string; line: string; bin: string; argv: (dir: string) => string[]; cwd?: boolean; ready: 'sleep' | 'watches'; count: Count }
interface Report {
  backend: string;
  events: { read: number; applied: number; overflows: number; lost: number | null; lostAtLeast: number; dropped: number };
  complete: boolean;
  totals: { created: number; closed: number; deleted: number };
}
interface Sample {
  /** the events this tool reported (see the notes of the section for each tool) */
  reported: number;
  /** lines in all, and those naming a burst- file */
  lines: number; named: number;
  /** inotifywait: Q_OVERFLOW lines; fatrace: close lines, '(deleted)' lines, directory (+/D) lines */
  overflowLines: number; closeLines: number; deletedLines: number; dirLines: number;
  report: Report | null;
  /** producer start to last event seen; the producer's own run time */
  secs: number; producerSecs: number;
  cpuSecs: number; rssKiB: number;
  /** still printing CATCH_UP_MS after the producer exited */
  timedOut: boolean;
}
interface Row { tool: Tool; samples: Sample[] | null; errors: string[] }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TICK = Number(sh('getconf CLK_TCK')) || 100;

// ---- children: every one started here is killed on exit, error or signal ----
const children = new Set<ChildProcess>();

/** A child tracked for cleanup, with a promise of its end (all output read). */
function start(argv: string[], cwd?: string): { child: ChildProcess; closed: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  children.add(child);
  const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('error', (e) => { children.delete(child); log(`  ${argv[0]}: ${e.message}`); resolve({ code: -1, signal: null }); });
    child.once('close', (code, signal) => { children.delete(child); resolve({ code, signal }); });
  });
  return { child, closed };
}
/** SIGKILL what is left of a child and wait (a little) for it, so that its mount can go. */
async function reap(p: { child: ChildProcess; closed: Promise<unknown> }): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  try { p.child.kill('SIGKILL'); } catch { /* gone */ }
  await Promise.race([p.closed, sleep(5000)]);
}

// ---- /proc readings of the tool, taken before it is stopped ----
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return Number(f[11]) + Number(f[12]); // utime, stime: fields 14 and 15
}
function peakRssKiB(pid: number): number {
  return Number(/VmHWM:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

// ---- what is measured ----
/** The producer alone on a fresh tmpfs: the workload's own rate. */
async function baseline(name: string): Promise<number> {
  const dir = mountTmpfs(name, TMPFS_OPTS);
  try {
    const t0 = performance.now();
    const p = start([process.execPath, '-e', PRODUCER, dir, String(N)]);
    const r = await p.closed;
    if (r.code !== 0) throw new Error(`producer: exit ${r.code ?? r.signal}`);
    return (performance.now() - t0) / 1000;
  } finally {
    unmount(dir);
  }
}

/** One run of one tool on a fresh tmpfs: start it, wait until it is ready, run the producer, count, stop. */
async function runOnce(tool: Tool, name: string): Promise<Sample> {
  const dir = mountTmpfs(name, TMPFS_OPTS);
  const s: Sample = { reported: 0, lines: 0, named: 0, overflowLines: 0, closeLines: 0, deletedLines: 0, dirLines: 0, report: null, secs: NaN, producerSecs: NaN, cpuSecs: NaN, rssKiB: NaN, timedOut: false };
  let producerPid = -1, lastAt = 0, partial = '', whole = '', stderr = '';
  const t = start(tool.argv(dir), tool.cwd ? dir : undefined);
  let producer: ReturnType<typeof start> | null = null;
  const line = (l: string): void => {
    s.lines++;
    if (l.includes('burst-')) s.named++;
    switch (tool.count) {
      case 'enospc':
        if (l.startsWith('{"event":"report"')) { s.report = JSON.parse(l) as Report; return; }
        if (l.includes('burst-')) { s.reported++; lastAt = performance.now(); }
        return;
      case 'inotifywait':
        if (l.includes('Q_OVERFLOW')) s.overflowLines++;
        if (l.includes('burst-')) { s.reported++; lastAt = performance.now(); }
        return;
      case 'fatrace': {
        // "comm(pid): TYPES path": only the producer's lines are the workload's
        const m = /^.*?\((\d+)\): (\S+)\s+(.*)$/.exec(l);
        if (!m || Number(m[1]) !== producerPid) return;
        s.reported++;
        lastAt = performance.now();
        if (m[2]!.includes('C')) s.closeLines++;
        if (/[+D]/.test(m[2]!)) s.dirLines++;
        if (m[3]!.includes('(deleted)')) s.deletedLines++;
        return;
      }
      case 'report': return;
    }
  };
  t.child.stdout!.on('data', (d: Buffer) => {
    if (tool.count === 'report') { whole += d.toString('utf8'); return; }
    const parts = (partial + d.toString('latin1')).split('\n');
    partial = parts.pop()!;
    for (const l of parts) line(l);
  });
  t.child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString('utf8')).slice(-4000); });
  const died = (what: string) => new Error(`${tool.name} exited ${what}: ${stderr.trim().split('\n').slice(-3).join(' / ') || 'no message'}`);
  let ended = false;
  void t.closed.then(() => { ended = true; });
  try {
    // ready
    if (tool.ready === 'watches') {
      const until = performance.now() + 60_000;
      while (!stderr.includes('Watches established.')) {
        if (ended) throw died('before it was ready');
        if (performance.now() > until) throw new Error(`${tool.name}: no 'Watches established.' within 60 s`);
        await sleep(20);
      }
    } else await sleep(READY_MS);
    if (ended) throw died('before it was ready');
    const pid = t.child.pid!;
    const cpu0 = cpuTicks(pid);

    // the workload
    const t0 = performance.now();
    producer = start([process.execPath, '-e', PRODUCER, dir, String(N)]);
    producerPid = producer.child.pid ?? -1;
    const pr = await producer.closed;
    const tp = performance.now();
    if (pr.code !== 0) throw new Error(`producer: exit ${pr.code ?? pr.signal}`);
    s.producerSecs = (tp - t0) / 1000;

    // done: nothing new for IDLE_MS after the producer exited (report only: its CPU time stopped growing)
    let cpu = cpuTicks(pid);
    if (tool.count === 'report') lastAt = tp;
    for (;;) {
      await sleep(50);
      if (ended) throw died('before it was stopped');
      const now = performance.now();
      if (tool.count === 'report') {
        const c = cpuTicks(pid);
        if (c !== cpu) { cpu = c; lastAt = now; }
      }
      if (now - Math.max(lastAt, tp) >= IDLE_MS) break;
      if (now - tp >= CATCH_UP_MS) { s.timedOut = true; break; }
    }
    s.cpuSecs = (cpuTicks(pid) - cpu0) / TICK;
    s.rssKiB = peakRssKiB(pid);

    // stop: enospc prints its report
    t.child.kill('SIGINT');
    const r = await Promise.race([t.closed, sleep(STOP_MS).then(() => null)]);
    if (r === null) throw new Error(`${tool.name}: still running ${STOP_MS / 1000} s after SIGINT`);
    if (partial) line(partial);
    if (tool.count === 'report') {
      if (!whole.trim()) throw died(`${r.code ?? r.signal} without a report`);
      s.report = JSON.parse(whole) as Report;
      s.reported = s.report.events.applied;
    }
    if ((tool.count === 'enospc' || tool.count === 'report') && !s.report) throw died(`${r.code ?? r.signal} without a report`);
    s.secs = (lastAt - t0) / 1000;
    if (/overflow/i.test(stderr)) s.overflowLines += stderr.split('\n').filter((l) => /overflow/i.test(l)).length;
    return s;
  } finally {
    if (producer) await reap(producer);
    await reap(t);
    unmount(dir);
  }
}

/** `rounds` rounds of the baseline and every available tool, round-robin, each on its own fresh tmpfs. */
async function runAll(tools: Tool[], rounds: number): Promise<{ rows: Row[]; base: number[] }> {
  const rows: Row[] = tools.map((tool) => ({ tool, samples: has(tool.bin) ? [] : null, errors: [] }));
  const base: number[] = [];
  let k = 0;
  for (let rep = 1; rep <= rounds; rep++) {
    const b = await baseline(`t${++k}`);
    base.push(b);
    log(`  rep ${rep}  ${'producer alone'.padEnd(40)} ${b.toFixed(2)} s  ${num(EXPECTED / b)} events/s`);
    for (const row of rows) {
      if (!row.samples) continue;
      try {
        const s = await runOnce(row.tool, `t${++k}`);
        row.samples.push(s);
        log(`  rep ${rep}  ${row.tool.name.padEnd(40)} ${s.reported} events, last at ${s.secs.toFixed(2)} s (producer ${s.producerSecs.toFixed(2)} s), ` +
          `${num(s.reported / s.secs)} events/s, CPU ${s.cpuSecs.toFixed(2)} s, ${mib(s.rssKiB)} MiB, ${lossText(row.tool, s)}${s.timedOut ? ', TIMED OUT' : ''}`);
      } catch (e) {
        row.errors.push(`rep ${rep}: ${(e as Error).message}`);
        log(`  rep ${rep}  ${row.tool.name.padEnd(40)} FAILED: ${(e as Error).message}`);
      }
    }
  }
  return { rows, base };
}

// ---- reporting ----
const num = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const rateOf = (s: Sample): number => s.reported / s.secs;
function lossText(tool: Tool, s: Sample): string {
  if (s.report) {
    const e = s.report.events;
    const of = e.overflows ? ` (${num(e.overflows)} overflows)` : '';
    return e.lost === null ? `unknown, ≥ ${num(e.lostAtLeast)}${of}` : `${num(e.lost)}${of}`;
  }
  if (tool.count === 'inotifywait') return `${num(s.overflowLines)} Q_OVERFLOW`;
  return 'not reported';
}
/** The run with the median events/s: its whole row is shown. */
function medianSample(samples: Sample[]): Sample {
  return [...samples].sort((a, b) => rateOf(a) - rateOf(b))[(samples.length - 1) >> 1]!;
}
function table(rows: Row[], base: number[]): string {
  const out = [
    '| command | events expected | events reported | missing | lost / overflow (said by the tool) | s to last event | events/s | events/s, min–max of runs | producer s | tool CPU s | CPU ms / 10k events | peak RSS MiB |',
    '|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  const b = median(base);
  out.push(`| producer alone (no tool) | ${num(EXPECTED)} | – | – | – | ${b.toFixed(2)} | ${num(EXPECTED / b)} | ${num(EXPECTED / Math.max(...base))}–${num(EXPECTED / Math.min(...base))} | ${b.toFixed(2)} | – | – | – |`);
  for (const { tool, samples, errors } of rows) {
    if (!samples) { out.push(`| ${tool.name} | ${num(EXPECTED)} | not available (\`${tool.bin}\` not installed) | | | | | | | | | |`); continue; }
    if (!samples.length) { out.push(`| ${tool.name} | ${num(EXPECTED)} | failed: ${(errors[0] ?? '?').replaceAll('|', '\\|').replace(/\s+/g, ' ')} | | | | | | | | | |`); continue; }
    const s = medianSample(samples), rates = samples.map(rateOf);
    out.push(`| ${tool.name} | ${num(EXPECTED)} | ${num(s.reported)} | ${num(Math.max(0, EXPECTED - s.reported))} | ${lossText(tool, s)} | ${s.secs.toFixed(2)}${s.timedOut ? ' (timed out)' : ''} | ` +
      `${num(rateOf(s))} | ${num(Math.min(...rates))}–${num(Math.max(...rates))} | ${s.producerSecs.toFixed(2)} | ${s.cpuSecs.toFixed(2)} | ${(s.cpuSecs * 1000 / (s.reported / 10_000)).toFixed(1)} | ${mib(s.rssKiB)} |`);
  }
  return out.join('\n');
}


async function main(): Promise<void> {
  if (process.getuid?.() !== 0) { console.log('bench/trace: must run as root (it mounts tmpfs filesystems and uses fanotify)'); process.exit(2); }
  if (!Number.isInteger(N) || N < 1) throw new Error(`BENCH_TRACE_N must be a positive integer, not ${process.env.BENCH_TRACE_N}`);
  const built = build();
  const pkg = (p: string) => sh(`dpkg-query -W -f '\${Version}' ${p} 2>/dev/null`) || '?';
  const ver = { inotifywait: has('inotifywait') ? pkg('inotify-tools') : 'not available', fatrace: has('fatrace') ? pkg('fatrace') : 'not available' };
  const queued = fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8').trim();
  benchBase(os.tmpdir(), 'enospc-bench-trace-', () => { for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ } });
  const node = [process.execPath, CLI, 'trace'];
  const tools: Tool[] = [
    { name: 'enospc trace --events (fanotify)', line: 'node dist/cli/main.js trace DIR --events --backend fanotify', bin: process.execPath, argv: (d) => [...node, d, '--events', '--backend', 'fanotify'], ready: 'sleep', count: 'enospc' },
    { name: 'enospc trace --events --backend inotify', line: 'node dist/cli/main.js trace DIR --events --backend inotify', bin: process.execPath, argv: (d) => [...node, d, '--events', '--backend', 'inotify'], ready: 'sleep', count: 'enospc' },
    { name: 'enospc trace (fanotify, report only)', line: 'node dist/cli/main.js trace DIR --json --backend fanotify', bin: process.execPath, argv: (d) => [...node, d, '--json', '--backend', 'fanotify'], ready: 'sleep', count: 'report' },
    { name: 'inotifywait -m -r', line: 'inotifywait -m -r -e create,close_write,delete,move DIR', bin: 'inotifywait', argv: (d) => ['inotifywait', '-m', '-r', '-e', 'create,close_write,delete,move', d], ready: 'watches', count: 'inotifywait' },
    { name: 'fatrace', line: 'cd DIR && fatrace -c -f C+D', bin: 'fatrace', argv: () => ['fatrace', '-c', '-f', 'C+D'], cwd: true, ready: 'sleep', count: 'fatrace' },
  ];
  log(`${N.toLocaleString('en-US')} files (${EXPECTED.toLocaleString('en-US')} events) per run, ${REPS} rounds`);
  const { rows, base: baseSecs } = await runAll(tools, REPS);

  // ---- target and notes, from the median runs ----
  const pick = (i: number): Sample | null => (rows[i]!.samples?.length ? medianSample(rows[i]!.samples!) : null);
  const fan = pick(0), ino = pick(1), rep = pick(2), fat = pick(4);
  let verdict = 'FAIL (the run failed)', measured = rows[0]!.errors[0] ?? '–';
  if (fan?.report) {
    const e = fan.report.events, r = rateOf(fan);
    const accounted = e.lost !== null && fan.reported + e.lost >= EXPECTED; // lost=0 and all there, or an exact count of the rest
    verdict = r >= TARGET_RATE && accounted ? 'PASS' : 'FAIL';
    measured = `${num(r)} events/s; ${num(fan.reported)} of ${num(EXPECTED)} events printed; lost ${e.lost === null ? `unknown (≥ ${num(e.lostAtLeast)}, ${num(e.overflows)} overflows)` : num(e.lost)}`;
  }
  const totals = (s: Sample | null, name: string) => (s?.report ? `${name}: read ${num(s.report.events.read)} kernel events, applied ${num(s.report.events.applied)}; ` +
    `created ${num(s.report.totals.created)}, closed ${num(s.report.totals.closed)}, deleted ${num(s.report.totals.deleted)}, complete: ${s.report.complete}` : `${name}: no report`);
  const lag = Math.max(0, ...[fan, ino, rep, pick(3), fat].filter((x): x is Sample => x !== null).map((x) => x.secs - x.producerSecs));
  const errors = rows.flatMap((r) => r.errors.map((e) => `- ${r.tool.name}, ${e}`));

  const rebuilt = build().distMtime !== built.distMtime ? 'WARNING: dist/ was rebuilt during the run, so the figures may mix two builds' : '';
  if (rebuilt) log(rebuilt);
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?';
  const section = [
    '## enospc trace', '',
    `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/trace.ts\`.`, '',
    `- machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, kernel ${os.release()}, Node ${process.version}`,
    `- enospc: commit ${built.commit}${rebuilt ? ` (${rebuilt})` : ''}`,
    `- inotify-tools: ${ver.inotifywait}; fatrace: ${ver.fatrace}; fs.inotify.max_queued_events: ${queued}`,
    `- workload: a producer, \`node -e <script> DIR ${N}\`, creates \`DIR/burst-0\` … \`DIR/burst-${N - 1}\` one after another, each opened \`'w'\`, closed and deleted at once: ${num(EXPECTED)} events (create, close-write, delete). DIR is a fresh tmpfs (\`${TMPFS_OPTS}\`) mounted for each run under ${os.tmpdir()}.`,
    `- each run: start the tool on DIR, wait until it is ready (inotifywait: \`Watches established.\`; the others: ${READY_MS / 1000} s), start the producer, count the tool's lines as they arrive; the tool is done when it has printed nothing for ${IDLE_MS / 1000} s after the producer exited; read its CPU time and peak RSS from /proc, then SIGINT it`,
    `- ${REPS} rounds of every command, interleaved round-robin, no warm-up; each row is the run with the median events/s, whole; the min–max column is over the ${REPS} runs`,
    '',
    'Commands:', '',
    `1. producer alone: \`node -e "${PRODUCER}" DIR ${N}\``,
    ...tools.map((t, i) => `${i + 2}. ${t.name}: \`${t.line}\``), '',
    table(rows, baseSecs), '',
    '- events reported: enospc `--events`: JSON event lines naming a burst- file (the report line excluded); report only: `.events.applied` of its final report; inotifywait: lines naming a burst- file; fatrace: lines printed for the producer\'s pid. Missing = expected − reported.',
    '- s to last event: from the producer\'s start to the arrival of the last counted line; for the report-only run, which prints nothing while it traces, to the last 50 ms poll in which its CPU time grew. events/s = events reported ÷ that time. producer s: how long the producer ran next to the tool.',
    `- tool CPU: utime + stime of the tool's process (all its threads) from /proc/PID/stat, from the producer's start until the tool was done (its start-up excluded), ${TICK} ticks/s; CPU ms / 10k events is per event reported; peak RSS: VmHWM from /proc/PID/status before SIGINT.`,
    `- fanotify merges events on the same object while they wait in the queue, so enospc reads fewer kernel events than it applies: ${totals(fan, 'enospc --events (fanotify)')}. ${totals(rep, 'report only')}. ${totals(ino, 'enospc inotify')}.`,
    fat
      ? `- fatrace printed ${num(fat.reported)} lines for the producer (${num(fat.named)} of them name a burst- file): ${num(fat.closeLines)} close lines, ${num(fat.deletedLines)} of them showing \`(deleted)\` instead of a name (the file was unlinked before fatrace resolved its fd), and ${num(fat.dirLines)} directory lines (\`+\`/\`D\`), which fatrace 0.17 prints against the directory without the file's name and which the kernel merges while they queue. fatrace says nothing about lost events, so its line count cannot be compared with ${num(EXPECTED)}: it is recorded, not corrected.`
      : '- fatrace: no run.',
    `- lag: in the median runs the last event arrived at most ${lag.toFixed(2)} s after the producer exited. Near 0 means the tool kept up, so its events/s is the rate of the producer running next to it (slowed by the tool's own CPU use on this machine), not the most the tool could take.`,
    '- this machine has 2 CPUs: the producer, the tool and this bench (which reads and counts every line the tool prints) share them, and other jobs may have run at the same time; the figures are noisy.',
    ...(errors.length ? ['', 'Failed runs:', '', ...errors] : []),
    '', '### Target', '', '| target | measured | result |', '|---|---|---|',
    `| enospc --events fanotify sustained ≥ ${num(TARGET_RATE)} events/s with lost=0 or an explicit count | ${measured} | ${verdict} |`,
  ].join('\n');
  console.log(section);
  writeDoc('trace', section);
  log(`wrote ${DOC}`);
}

try {
  await main();
} catch (e) {
  log(`bench/trace: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
