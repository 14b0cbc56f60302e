// Benchmark: the agent's history (src/agent/history.ts) over 90 days of a large host, without
// waiting 90 days: synthetic samples every 15 s of simulated time for 100 mounts and 500 users
// (and 50 top patterns from a census every 5 minutes), compacted every 5 minutes as the agent
// does. Reports the database size along the way, the time per record() and per compact(), and
// one forecaster pass reading every target. Env: BENCH_HISTORY_DAYS (90), BENCH_DIR (/var/tmp).
// Writes its section of docs/benchmarks.md between the bench:history markers (90 days or more).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { History } from '../src/agent/history.js';
import type { MountSample, Sample, UserWatchSample } from '../src/agent/types.js';
import { build, log, sh, writeDoc } from './common.js';

const DAYS = Number(process.env['BENCH_HISTORY_DAYS'] ?? 90);
const MOUNTS = 100, USERS = 500, INTERVAL = 15, COMPACT_EVERY = 20; // 20 samples: 5 minutes
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
const MILESTONES = [...new Set([1, 2, 7, 30, 60, 90, DAYS])].filter((d) => d <= DAYS);

// deterministic pseudo-random numbers (mulberry32)
let seed = 0x5eed;
const rnd = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
const int = (n: number): number => Math.floor(rnd() * n);

/** The host: 10 busy mounts (every sample changes), 30 that change now and then, 60 that do not; 50 users whose watches move, 450 whose do not. */
const kind = (m: number): 'busy' | 'some' | 'still' => (m < 10 ? 'busy' : m < 40 ? 'some' : 'still');
const mounts: MountSample[] = Array.from({ length: MOUNTS }, (_, m) => ({
  device: `/dev/mapper/vg-lv${m}`, mountpoint: m === 0 ? '/' : `/srv/volume-${m}`, fstype: m % 5 ? 'ext4' : 'tmpfs',
  files: 6_553_600, filesFree: 6_000_000 - int(1_000_000), sizeBytes: 107_374_182_400, availBytes: 50_000_000_000 + int(40_000_000_000),
  deviceError: false, tmpfs: m % 5 ? null : { nrInodesPerGib: 61_035, inode64: true }, mountId: 100 + m,
}));
const users: UserWatchSample[] = Array.from({ length: USERS }, (_, u) => ({
  user: `user${String(u).padStart(3, '0')}`, uid: 1000 + u, inotifyWatches: int(5000), inotifyInstances: 1 + int(20), fanotifyMarks: 0, epollWatches: int(100),
}));
const patterns = Array.from({ length: 50 }, (_, p) => ({
  mountpoint: mounts[p % 10]!.mountpoint, pattern: ['magick-*', 'sess_*', 'php*', 'tmp*.dat', 'opam-*'][Math.floor(p / 10)]!,
  files: int(100_000), orphans: 0, owners: ['www-data'], producer: null as string | null,
}));
const sample: Sample = {
  t: T0, bootId: 'boot-0', mounts, users, limits: { inotifyWatches: 524_288, inotifyInstances: 1024 },
  tables: [{ table: 'ipc.sem', used: 3, limit: 32_000 }], patterns: [], idmappedCopies: [],
  findings: [{ check: 'inodes.high', severity: 'warning', target: '/srv/volume-3', title: 'inodes 91% used' }],
  collectors: [{ collector: 'statfs', seconds: 0.004, success: true }, { collector: 'inotify', seconds: 0.08, success: true }],
};

function step(i: number): void {
  sample.t = T0 + i * INTERVAL;
  if (i % (30 * 5760) === 0 && i) { // a reboot every 30 days: new boot ID, new mount IDs
    sample.bootId = `boot-${i}`;
    for (const m of mounts) m.mountId += 1000;
  }
  if (i % 5760 === 2880) mounts[42]!.mountId += 1; // one mount is remounted every day
  for (let m = 0; m < MOUNTS; m++) {
    const x = mounts[m]!, k = kind(m);
    x.deviceError = m === 99 && i % 5760 < 40; // a flaky network mount: 10 minutes a day without figures
    if (k === 'still' || (k === 'some' && rnd() > 0.1)) continue;
    const drift = k === 'busy' ? 40 : 0, cleanup = rnd() < 0.001; // now and then a cleanup frees much
    x.filesFree = Math.max(0, Math.min(x.files!, x.filesFree! - drift - int(200) + 100 + (cleanup ? 200_000 : 0)));
    x.availBytes = Math.max(0, Math.min(x.sizeBytes!, x.availBytes! - 4096 * (int(2000) - 900) + (cleanup ? 5e9 : 0)));
  }
  for (let u = 0; u < 50; u++) if (rnd() < 0.05) users[u]!.inotifyWatches = Math.max(0, users[u]!.inotifyWatches + int(400) - 200);
  for (let u = 0; u < USERS; u++) if (rnd() < 0.0005) users[u]!.inotifyInstances = 1 + int(20);
  sample.patterns = i % COMPACT_EVERY === 0 ? patterns : [];
  if (i % COMPACT_EVERY === 0) for (const p of patterns) { p.files += int(100); p.orphans = Math.floor(p.files * 0.9); }
}

const bytesOf = (f: string): number => { try { return fs.statSync(f).size; } catch { return 0; } };
const mb = (b: number): string => (b / 1e6).toFixed(1);

function main(): void {
  const built = build();
  const parent = process.env['BENCH_DIR'] ?? '/var/tmp';
  const dir = fs.mkdtempSync(path.join(parent, 'enospc-bench-history-'));
  const file = path.join(dir, 'history.db');
  const fstype = sh(`findmnt -no FSTYPE -T ${dir}`) || sh(`stat -f -c %T ${dir}`);
  try {
    const h = History.open(file);
    const N = DAYS * 5760;
    let recordNs = 0n, compactNs = 0n, compactMax = 0n, compacts = 0, maxRecord = 0n;
    const sizes: Array<[number, number, number]> = [];
    const wall = performance.now();
    for (let i = 0; i < N; i++) {
      step(i);
      const a = process.hrtime.bigint();
      h.record(sample);
      const b = process.hrtime.bigint();
      recordNs += b - a;
      if (b - a > maxRecord) maxRecord = b - a;
      if (i % COMPACT_EVERY === COMPACT_EVERY - 1) {
        h.compact(sample.t + 1);
        const c = process.hrtime.bigint() - b;
        compactNs += c; compacts++;
        if (c > compactMax) compactMax = c;
      }
      const day = (i + 1) / 5760;
      if (MILESTONES.includes(day)) {
        sizes.push([day, bytesOf(file), bytesOf(file + '-wal')]);
        log(`day ${day}: ${mb(bytesOf(file))} MB, ${(Number(recordNs) / 1e3 / (i + 1)).toFixed(0)} µs/record, ${((performance.now() - wall) / 1000).toFixed(0)} s`);
      }
    }
    const targets = h.targets();
    const r0 = performance.now();
    let points = 0;
    for (const t of targets) points += h.series(t.resource, t.target, sample.t - 7 * 86400).length;
    const readMs = performance.now() - r0;
    const a0 = performance.now();
    const all = h.series('inodes', '/', 0);
    const allMs = performance.now() - a0;
    const mem = process.memoryUsage();
    h.close();
    const final = bytesOf(file), wal = bytesOf(file + '-wal'), shm = bytesOf(file + '-shm');
    if (h.writeErrors) throw new Error(`${h.writeErrors} write errors: ${h.lastWriteError}`);
    const perRecord = Number(recordNs) / 1e3 / N, perCompact = Number(compactNs) / 1e6 / compacts;
    const rebuilt = build().distMtime !== built.distMtime ? 'WARNING: dist/ was rebuilt during the run, so the figures may mix two builds' : '';
    const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?';
    const section = [
      '## agent history', '',
      `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/history.ts\` (\`npm run bench:history\`).`, '',
      `- machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, kernel ${os.release()}, Node ${process.version}`,
      `- enospc: commit ${built.commit}${rebuilt ? ` (${rebuilt})` : ''}; libsql ${JSON.parse(fs.readFileSync(new URL('../../node_modules/libsql/package.json', import.meta.url), 'utf8')).version}`,
      `- the database in ${parent} (${fstype}); ${DAYS} days simulated in ${((performance.now() - wall) / 1000).toFixed(0)} s of wall time`,
      '',
      `A host of ${MOUNTS} mounts and ${USERS} users sampled every ${INTERVAL} s (${N.toLocaleString('en')} samples): 10 mounts change at every sample (inodes and space, with a growth trend), 30 in one sample of 10, 60 never; 50 users' inotify watches move in one sample of 20, 450 users' never; 50 top patterns from a census every 5 minutes; one mount remounted daily, a reboot every 30 days, one mount without figures 10 minutes a day. ${targets.length} forecastable series (${USERS * 2 + MOUNTS * 2 + 100} stored). \`compact()\` every 20 samples (5 minutes), as the agent runs it.`,
      '',
      '| after | database MB | WAL MB |', '|--:|--:|--:|',
      ...sizes.map(([d, s, w]) => `| ${d} day${d > 1 ? 's' : ''} | ${mb(s)} | ${mb(w)} |`),
      `| closed | ${mb(final)} | ${mb(wal)} (shm ${(shm / 1024).toFixed(0)} KiB) |`,
      '',
      `- record(): ${perRecord.toFixed(0)} µs mean per sample (max ${(Number(maxRecord) / 1e6).toFixed(1)} ms)`,
      `- compact(): ${perCompact.toFixed(2)} ms mean per call, max ${(Number(compactMax) / 1e6).toFixed(0)} ms (the hourly seal and ageing)`,
      `- forecaster pass: series() of all ${targets.length} targets over the last 7 days, ${points.toLocaleString('en')} points: ${readMs.toFixed(0)} ms; one series over all ${DAYS} days (${all.length.toLocaleString('en')} points): ${allMs.toFixed(1)} ms`,
      `- memory at the end: RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`,
      '',
      `Target: < 100 MB after 90 days: ${DAYS >= 90 ? (final + wal < 100e6 ? 'PASS' : 'MISS') : `not measured (${DAYS} days run)`} (${mb(final + wal)} MB).`,
    ].join('\n');
    console.log(section);
    if (DAYS >= 90) writeDoc('history', section);
    else log(`${DAYS} days only: docs/benchmarks.md left as it was`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
