// Benchmark: `enospc fleet` and the rules on BENCH_FLEET_HOSTS (1,000) simulated hosts in one
// real Prometheus (Debian's). One HTTP endpoint here serves every host's series, each with its
// own `instance` label (scraped with honor_labels), shaped like a real agent's exposition on an
// ordinary host: 10 mounts (3 of them tmpfs), 3 users, 7 kernel tables, 10 patterns, forecasts
// for all of them, collectors; one host in 50 has /tmp filling. Measured: series per host and in
// all, Prometheus's head series and RSS, each rule group's evaluation time, and the wall time of
// `enospc fleet --json` (median of 5), with the ranking checked. Run as root or not.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { CLI, build, log, median, writeDoc } from './common.js';

const HOSTS = Number(process.env['BENCH_FLEET_HOSTS'] ?? 1000);
const SCRAPE_S = 15;
const RULES = new URL('../../deploy/prometheus/enospc-rules.yml', import.meta.url).pathname;
const MOUNTS: Array<[string, string, string]> = [
  ['/', '/dev/sda1', 'ext4'], ['/boot', '/dev/sda2', 'ext4'], ['/home', '/dev/sda3', 'ext4'], ['/var', '/dev/sda4', 'xfs'], ['/srv', '/dev/sdb1', 'xfs'],
  ['/opt', '/dev/sdb2', 'ext4'], ['/var/lib/docker', '/dev/sdc1', 'xfs'], ['/tmp', 'tmpfs', 'tmpfs'], ['/run', 'tmpfs', 'tmpfs'], ['/dev/shm', 'tmpfs', 'tmpfs'],
];
const USERS = ['root', 'www-data', 'alice'];
const TABLES = ['ipc.sem', 'ipc.sem-total', 'ipc.shm', 'ipc.shm-pages', 'ipc.msg', 'mqueue.queues', 'pty.count'];
const PATTERNS = ['magick-*', 'sess_*', 'php*', 'systemd-private-*', 'tmp*', '*.lock', 'go-build*', 'pip-*', 'npm-*', '.X*-lock'];
const COLLECTORS = ['filesystem', 'inotify', 'kernel_tables', 'census', 'containers', 'history', 'forecast', 'catch'];

/** One host's exposition, as an agent would write it, `now` in Unix seconds. */
function hostText(i: number, now: number): string {
  const inst = `host-${String(i).padStart(4, '0')}:9942`;
  const leaking = i % 50 === 0;
  const out: string[] = [];
  const line = (name: string, labels: Record<string, string>, v: number) =>
    out.push(`${name}{${Object.entries({ instance: inst, ...labels }).map(([k, x]) => `${k}="${x}"`).join(',')}} ${v}`);
  for (const [mp, dev, fs_] of MOUNTS) {
    const l = { device: dev, mountpoint: mp, fstype: fs_ };
    const files = fs_ === 'xfs' ? 0 : 1_000_000;
    const free = leaking && mp === '/tmp' ? 50_000 : 800_000;
    line('enospc_filesystem_files', l, files);
    line('enospc_filesystem_files_free', l, files ? free : 0);
    line('enospc_filesystem_size_bytes', l, 100e9);
    line('enospc_filesystem_avail_bytes', l, 60e9);
    line('enospc_filesystem_device_error', l, 0);
    if (fs_ === 'tmpfs') {
      line('enospc_tmpfs_nr_inodes_per_gib', { mountpoint: mp }, 65536);
      line('enospc_tmpfs_inode64', { mountpoint: mp }, 1);
    }
  }
  PATTERNS.forEach((p, k) => {
    line('enospc_pattern_files', { mountpoint: '/tmp', pattern: p }, leaking && k === 0 ? 950_000 : 100 * (k + 1));
    line('enospc_pattern_orphans', { mountpoint: '/tmp', pattern: p }, leaking && k === 0 ? 900_000 : 0);
  });
  USERS.forEach((u, k) => {
    line('enospc_inotify_watches', { user: u }, 100 * (k + 1));
    line('enospc_inotify_instances', { user: u }, k + 1);
    line('enospc_fanotify_marks', { user: u }, 0);
    line('enospc_epoll_watches', { user: u }, 10 * (k + 1));
  });
  line('enospc_inotify_max_user_watches', {}, 65536);
  line('enospc_inotify_max_user_instances', {}, 128);
  for (const t of TABLES) {
    line('enospc_kernel_table_used', { table: t }, 1);
    line('enospc_kernel_table_limit', { table: t }, 32000);
  }
  const forecast = (resource: string, target: string, filling: boolean, leftS: number) => {
    for (const state of ['insufficient_data', 'not_growing', 'filling']) line('enospc_forecast_state', { resource, target, state }, (state === 'filling') === filling && (filling || state === 'not_growing') ? 1 : 0);
    if (filling) {
      line('enospc_forecast_exhaustion_timestamp_seconds', { resource, target }, Math.round(now + leftS * 1.3));
      line('enospc_forecast_exhaustion_earliest_timestamp_seconds', { resource, target }, Math.round(now + leftS));
    }
  };
  const left = 1800 + i * 60; // host-0000 runs out first
  for (const [mp] of MOUNTS) for (const r of ['inodes', 'blocks']) forecast(r, mp, leaking && mp === '/tmp' && r === 'inodes', left);
  for (const u of USERS) forecast('inotify_watches', u, false, 0);
  PATTERNS.forEach((p, k) => forecast('pattern', `/tmp:${p}`, leaking && k === 0, left + 60));
  if (leaking) line('enospc_finding', { check: 'orphans', severity: 'warning', target: '/tmp' }, 1);
  line('enospc_build_info', { version: '0.1.0' }, 1);
  for (const c of COLLECTORS) {
    line('enospc_collector_duration_seconds', { collector: c }, 0.01);
    line('enospc_collector_success', { collector: c }, 1);
  }
  line('enospc_history_write_errors_total', {}, 0);
  return out.join('\n') + '\n';
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = async (url: string, expr: string) =>
  ((await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result;

async function main(): Promise<void> {
  if (spawnSync('prometheus', ['--version']).status !== 0) {
    console.error('bench/fleet: prometheus is not installed');
    process.exit(2);
  }
  const { commit } = build();
  const base = fs.mkdtempSync(path.join('/var/tmp', 'enospc-bench-fleet-'));
  let prom: ChildProcess | null = null;
  const server = http.createServer((_req, res) => {
    const now = Date.now() / 1000;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    for (let i = 0; i < HOSTS; i++) res.write(hostText(i, now));
    res.end();
  });
  try {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const perHost = hostText(1, 0).trim().split('\n').length;
    const port = await freePort();
    fs.writeFileSync(path.join(base, 'prometheus.yml'), `global:
  scrape_interval: ${SCRAPE_S}s
  evaluation_interval: ${SCRAPE_S}s
rule_files: ['${RULES}']
scrape_configs:
  - job_name: enospc
    honor_labels: true
    scrape_timeout: 10s
    static_configs:
      - targets: ['127.0.0.1:${(server.address() as net.AddressInfo).port}']
`);
    log(`bench/fleet: ${HOSTS} hosts x ${perHost} series in one Prometheus`);
    prom = spawn('prometheus', [`--config.file=${path.join(base, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(base, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}`;
    // four scrapes and rule evaluations
    for (let i = 0; i < 120; i++) {
      await sleep(1000);
      try {
        if (Number((await q(url, 'count(count by (instance) (enospc_build_info))'))[0]?.value[1] ?? 0) === HOSTS) break;
      } catch { /* not up yet */ }
    }
    await sleep(4 * SCRAPE_S * 1000);
    const times: number[] = [];
    let doc: { hosts: Array<{ instance: string; risks: unknown[] }> } = { hosts: [] };
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = spawnSync(process.execPath, [CLI, 'fleet', '--prometheus', url, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
      times.push(performance.now() - t);
      doc = JSON.parse(r.stdout) as typeof doc;
    }
    const ranked = doc.hosts.length === HOSTS && doc.hosts[0]!.instance === 'host-0000:9942' && doc.hosts.filter((h) => h.risks.length).length === Math.ceil(HOSTS / 50);
    const rules = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string; evaluationTime: number; rules: Array<{ health: string }> }> } };
    const groups = rules.data.groups.map((g) => `${g.name} ${(g.evaluationTime * 1000).toFixed(0)} ms`).join(', ');
    const healthy = rules.data.groups.every((g) => g.rules.every((r) => r.health === 'ok'));
    // Prometheus's own figures, from its /metrics (it does not scrape itself here)
    const own = await (await fetch(`${url}/metrics`)).text();
    const head = Number(/^prometheus_tsdb_head_series (\S+)$/m.exec(own)?.[1] ?? NaN);
    const promRss = Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${prom.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    const cpuModel = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1]?.trim() ?? 'unknown CPU';
    const section = [
      '## enospc fleet: 1,000 hosts in one Prometheus', '',
      `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/fleet.ts\` at ${commit} on ${cpuModel}, ${os.cpus().length} cores, kernel ${os.release()}, Node ${process.version}, ${spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}.`, '',
      `${HOSTS} simulated hosts served by one endpoint with an \`instance\` label each (honor_labels), shaped as an agent on an ordinary host: 10 mounts (3 tmpfs), 3 users, 7 kernel tables, 10 patterns, the forecasts of all of them and 8 collectors: ${perHost} series a host. One host in 50 has /tmp filling. Scraped every ${SCRAPE_S} s, the rules of deploy/prometheus evaluated as often; measured after 4 scrapes.`, '',
      '| figure | value |', '|---|--:|',
      `| series a host | ${perHost} |`,
      `| head series in Prometheus | ${head.toLocaleString('en-US')} |`,
      `| Prometheus RSS | ${promRss.toFixed(0)} MB |`,
      `| \`enospc fleet --json\`, median of 5 (wall, CLI start included) | ${median(times).toFixed(0)} ms |`,
      `| its runs | ${times.map((t) => t.toFixed(0)).join(', ')} ms |`, '',
      `Rule groups' last evaluation: ${groups}; every rule healthy: ${healthy ? 'yes' : 'NO'}. Ranking: ${ranked ? `all ${HOSTS} hosts listed, the one running out first (host-0000) first, the ${Math.ceil(HOSTS / 50)} leaking hosts with their risk` : 'WRONG'}.`,
    ].join('\n');
    writeDoc('fleet', section);
    console.log(section);
  } finally {
    prom?.kill('SIGKILL');
    server.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

await main();
