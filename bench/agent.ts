// Benchmark: what `enospc agent` costs at its defaults (sample every 15 s, census every 5 min)
// on a large host: 100 tmpfs mounts with files in them, 500 processes holding 100k inotify
// watches. Measured from outside over BENCH_AGENT_MINUTES (10) after the first sample: CPU of
// the agent and of its children (/proc/PID/stat utime+stime+cutime+cstime), its RSS (polled
// every 2 s, and VmHWM), and the time of a scrape of /metrics every 5 s. node_exporter (Debian's
// prometheus-node-exporter), when installed, runs beside it over the same minutes and is
// scraped as often, for comparison. max_user_instances is raised for the run and restored.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, HOLDERS, benchBase, build, cleanup, has, log, median, mountTmpfs, sh, writeDoc } from './common.js';

const MINUTES = Number(process.env['BENCH_AGENT_MINUTES'] ?? 10);
const MOUNTS = 100, FILES = 200, PROCS = 500, PER = 200, DIRS = 10_000;
const INSTANCES = '/proc/sys/fs/inotify/max_user_instances';
const TICK = Number(sh('getconf CLK_TCK')) || 100;
const NODE_EXPORTER = ['prometheus-node-exporter', 'node_exporter'].find(has);

interface Watched { name: string; pid: number; url: string; cpu0: number; cpu2: number; rss: number[]; kidsRss: number[]; pss: number[]; hwm: number; scrapes: number[]; failed: number }

/** CPU seconds of a process, of its children that ended, and of those still running (the agent's kept guard child). */
function cpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0; // ended meanwhile: counted in its parent's cutime from now on
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let s = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    let kids = '';
    try { kids = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8'); } catch { /* gone */ }
    for (const k of kids.trim().split(' ').filter(Boolean)) s += cpuSeconds(Number(k));
  }
  return s;
}
/** The PIDs of a process's live descendants. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      for (const k of fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(' ').filter(Boolean)) out.push(Number(k), ...descendants(Number(k)));
    }
  } catch { /* gone */ }
  return out;
}
/** Proportional set size (kB): shared pages (Node's binary, shared with the children) counted once in all. */
function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
function statusKb(pid: number, field: string): number {
  let text = '';
  try { text = fs.readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return 0; }
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Start `cmd` and wait for a line of its stderr matching `ready`; its first group is returned. */
function start(cmd: string[], ready: RegExp): Promise<{ child: ChildProcess; match: string }> {
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      err += d;
      const m = ready.exec(err);
      if (m) resolve({ child, match: m[1] ?? '' });
      if (err.length > 1 << 20) err = err.slice(-4096);
    });
    child.once('exit', (c) => reject(new Error(`${cmd[0]} exited ${c}: ${err.slice(-500)}`)));
  });
}

async function scrape(w: Watched): Promise<void> {
  const t = performance.now();
  try {
    const r = await fetch(w.url);
    const body = await r.text();
    if (!r.ok || !body.includes('_')) throw new Error(String(r.status));
    w.scrapes.push(performance.now() - t);
  } catch {
    w.failed++;
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/agent: run as root');
    process.exit(2);
  }
  const { commit } = build();
  let kids: number[] = [];
  const procs: ChildProcess[] = [];
  const saved = fs.readFileSync(INSTANCES, 'utf8').trim();
  const base = benchBase('/var/tmp', 'enospc-bench-agent-', () => {
    for (const p of procs) p.kill('SIGKILL');
    for (const k of kids) try { process.kill(k, 'SIGKILL'); } catch { /* gone */ }
    fs.writeFileSync(INSTANCES, saved);
  });
  try {
    log(`bench/agent: ${MOUNTS} tmpfs mounts, ${PROCS} processes with ${PROCS * PER} watches`);
    const mounts: string[] = [];
    for (let i = 0; i < MOUNTS; i++) {
      const m = mountTmpfs(`m${i}`, `size=16m,nr_inodes=${i === 0 ? 20_000 : 4096}`);
      for (let f = 0; f < FILES; f++) fs.writeFileSync(`${m}/job-${i}-${f}.tmp`, '');
      mounts.push(m);
    }
    for (let i = 0; i < DIRS; i++) fs.mkdirSync(`${mounts[0]}/${i}`);
    fs.writeFileSync(INSTANCES, String(PROCS + 256));
    const py = spawn('python3', ['-c', HOLDERS, mounts[0]!, String(PROCS), String(PER), String(DIRS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      py.stdout.once('data', (d: Buffer) => resolve(d.toString()));
      py.once('exit', (c) => reject(new Error(`holders exited ${c}`)));
    });
    kids = line.trim().split(' ').map(Number);
    fs.mkdirSync(path.join(base, 'db'));

    const watched: Watched[] = [];
    const agent = await start([process.execPath, CLI, 'agent', '--listen', '127.0.0.1:0', '--db', path.join(base, 'db/history.db')],
      /serving (http:\S+?\/metrics)/);
    procs.push(agent.child);
    // the first sample comes after the first census (and the start's loading): measure from then on
    for (let i = 0; i < 600; i++) {
      // (the body ends in a newline: "null\n" before the first sample)
      const r = await fetch(agent.match.replace('/metrics', '/api/sample')).then((x) => x.text()).catch(() => 'null');
      if (r.trim() !== 'null') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    watched.push({ name: 'enospc agent', pid: agent.child.pid!, url: agent.match, cpu0: 0, cpu2: NaN, rss: [], kidsRss: [], pss: [], hwm: 0, scrapes: [], failed: 0 });
    if (NODE_EXPORTER) {
      const ne = await start([NODE_EXPORTER, '--web.listen-address=127.0.0.1:19942'], /(Listening on)/i);
      procs.push(ne.child);
      watched.push({ name: `node_exporter (${sh(`${NODE_EXPORTER} --version 2>&1 | head -1`).replace(/\s*\(.*$/, '')})`, pid: ne.child.pid!, url: 'http://127.0.0.1:19942/metrics', cpu0: 0, cpu2: NaN, rss: [], kidsRss: [], pss: [], hwm: 0, scrapes: [], failed: 0 });
    }
    for (const w of watched) w.cpu0 = cpuSeconds(w.pid);
    const t0 = performance.now();
    const end = t0 + MINUTES * 60_000;
    let nextScrape = t0, nextRss = t0, lastLog = t0;
    while (performance.now() < end) {
      const now = performance.now();
      if (now >= nextRss) {
        for (const w of watched) {
          w.rss.push(statusKb(w.pid, 'VmRSS'));
          const d = descendants(w.pid);
          w.kidsRss.push(d.reduce((a, k) => a + statusKb(k, 'VmRSS'), 0));
          w.pss.push(d.reduce((a, k) => a + pssKb(k), pssKb(w.pid)));
        }
        nextRss += 2000;
      }
      if (now >= nextScrape) {
        for (const w of watched) await scrape(w);
        nextScrape += 5000;
      }
      if (Number.isNaN(watched[0]!.cpu2) && now - t0 >= 120_000) for (const w of watched) w.cpu2 = cpuSeconds(w.pid);
      if (now - lastLog > 60_000) {
        lastLog = now;
        log(`  ${((now - t0) / 60_000).toFixed(0)} min: ${watched.map((w) => `${w.name} ${(100 * (cpuSeconds(w.pid) - w.cpu0) / ((now - t0) / 1000)).toFixed(2)}% CPU`).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const secs = (performance.now() - t0) / 1000;
    const rows = watched.map((w) => {
      const cpuEnd = cpuSeconds(w.pid);
      const cpu = (100 * (cpuEnd - w.cpu0)) / secs;
      // after the first 2 minutes: without the start's compiling of hot code and first writes
      const steady = (100 * (cpuEnd - w.cpu2)) / (secs - 120);
      w.hwm = statusKb(w.pid, 'VmHWM');
      const s = [...w.scrapes].sort((a, b) => a - b);
      const p95 = s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] ?? NaN;
      return { w, cpu, steady, rssMed: median(w.rss) / 1024, anon: statusKb(w.pid, 'RssAnon') / 1024, file: statusKb(w.pid, 'RssFile') / 1024, rssMax: Math.max(...w.rss) / 1024, kids: Math.max(...w.kidsRss) / 1024, pssMed: median(w.pss) / 1024, pssMax: Math.max(...w.pss) / 1024, hwm: w.hwm / 1024, med: median(s), p95, max: s[s.length - 1] ?? NaN };
    });
    const collectors = (await fetch(agent.match).then((r) => r.text()))
      .split('\n').filter((l) => l.startsWith('enospc_collector_duration_seconds{'))
      .map((l) => l.replace(/^enospc_collector_duration_seconds\{collector="([^"]+)"\} (\S+)$/, (_, c: string, v: string) => `${c} ${(Number(v) * 1000).toFixed(0)} ms`));
    const a = rows[0]!;
    const cpuModel = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1]?.trim() ?? 'unknown CPU';
    const section = [
      '## enospc agent: what it costs', '',
      `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/agent.ts\` at ${commit} on ${cpuModel}, ${os.cpus().length} cores, kernel ${os.release()}, Node ${process.version}.`,
      '',
      `The host: ${MOUNTS} tmpfs mounts (${FILES} files each, one with ${DIRS} directories) besides the machine's own, ${PROCS} \`sleep\` processes holding ${PROCS * PER} inotify watches. The agent at its defaults (sample every 15 s, census every 5 min over every tmpfs), its history on ${sh(`stat -f -c %T ${base}`)}; measured over ${MINUTES} min after its first sample, scraped every 5 s${NODE_EXPORTER ? ', with node_exporter (its defaults) running beside it and scraped as often' : ''}. CPU is the process's and its children's (the kept guard child for statfs, and the census's own process every 5 min) over the whole time; RSS is the agent's alone (its children's is given apart); PSS is the process's and its children's together, each shared page (Node's binary, mapped by all of them) counted once.`,
      '', '| exporter | CPU, % of one core | after the first 2 min | RSS median MB | RSS max MB | VmHWM MB | its children, RSS max MB | with children, PSS median MB | PSS max MB | scrape median ms | p95 ms | max ms | failed scrapes |', '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
      ...rows.map((r) => `| ${r.w.name} | ${r.cpu.toFixed(2)} | ${r.steady.toFixed(2)} | ${r.rssMed.toFixed(1)} | ${r.rssMax.toFixed(1)} | ${r.hwm.toFixed(1)} | ${r.kids.toFixed(1)} | ${r.pssMed.toFixed(1)} | ${r.pssMax.toFixed(1)} | ${r.med.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} | ${r.w.failed} |`),
      '',
      `RSS at the end, by kind: ${rows.map((r) => `${r.w.name} ${r.anon.toFixed(1)} MB anonymous (its heaps), ${r.file.toFixed(1)} MB file-backed (${r.w.name.startsWith('enospc') ? "Node's own binary and libraries, shared with every Node process" : 'its binary'})`).join('; ')}.`, '',
      `The agent's collectors at the end (last run of each): ${collectors.join(', ')}.`, '',
      `Targets: CPU <= 1%: ${a.cpu <= 1 ? 'PASS' : 'MISS'} (${a.cpu.toFixed(2)}% over the whole run, ${a.steady.toFixed(2)}% after the first 2 minutes); RSS <= 80 MB: ${a.rssMax <= 80 ? 'PASS' : 'MISS'} (max ${a.rssMax.toFixed(1)} MB, median ${a.rssMed.toFixed(1)} MB; with its children, PSS max ${a.pssMax.toFixed(1)} MB); a scrape <= 50 ms: ${a.max <= 50 ? 'PASS' : `MISS`} (max ${a.max.toFixed(1)} ms, p95 ${a.p95.toFixed(1)} ms).`,
    ].join('\n');
    if (MINUTES >= 10) writeDoc('agent', section);
    console.log(section);
  } finally {
    cleanup();
  }
}
await main();
