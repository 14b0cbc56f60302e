// The exporter: the exposition of a hand-made sample and forecasts (names, labels, types, escaping,
// omissions), linted by the real `promtool check metrics`; the HTTP server on 127.0.0.1:0
// (/metrics, /, /api/..., 404, 405, a bind that fails); the textfile collector's file on a tmpfs.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { metricsText, escapeLabelValue } from '../src/agent/metrics.js';
import { startServer } from '../src/agent/server.js';
import { writeTextfile } from '../src/agent/textfile.js';
import type { Forecast, Sample } from '../src/agent/types.js';
import { cannotMount, tmpfs, unmountAll } from './helpers.js';

after(unmountAll);

const PROMTOOL_MISSING = spawnSync('promtool', ['--version']).error
  ? 'promtool is not installed (apt-get install prometheus; .ci/run installs it): the lint is skipped'
  : undefined;
if (PROMTOOL_MISSING) console.log(`# skipping: ${PROMTOOL_MISSING}`);

/** `promtool check metrics` on text: its exit status and what it said. */
function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

const NASTY = 'php"tmp\\x\nY-*';

function sample(): Sample {
  return {
    t: 1_700_000_000, bootId: 'b0',
    mounts: [
      { device: '/dev/sda1', mountpoint: '/', fstype: 'ext4', files: 6_553_600, filesFree: 6_000_000, sizeBytes: 107_374_182_400, availBytes: 50_000_000_000, deviceError: false, tmpfs: null, mountId: 21 },
      { device: 'tmpfs', mountpoint: '/tmp', fstype: 'tmpfs', files: 262_144, filesFree: 1_000, sizeBytes: 1_073_741_824, availBytes: 1_000_000_000, deviceError: false, tmpfs: { nrInodesPerGib: 262_144, inode64: false }, mountId: 22 },
      { device: 'nas:/export', mountpoint: '/mnt/nas', fstype: 'nfs4', files: null, filesFree: null, sizeBytes: null, availBytes: null, deviceError: true, tmpfs: null, mountId: 23 },
    ],
    users: [
      { user: 'www-data', uid: 33, inotifyWatches: 8000, inotifyInstances: 3, fanotifyMarks: 0, epollWatches: 12 },
      { user: 'root', uid: 0, inotifyWatches: 40, inotifyInstances: 9, fanotifyMarks: 2, epollWatches: 90 },
    ],
    limits: { inotifyWatches: 8192, inotifyInstances: 128 },
    tables: [{ table: 'ipc.sem', used: 3, limit: 32_000 }, { table: 'pty.count', used: null, limit: 4096 }],
    patterns: [
      { mountpoint: '/tmp', pattern: 'magick-*', files: 200_000, orphans: 199_000, owners: ['www-data'], producer: 'imagemagick' },
      { mountpoint: '/tmp', pattern: NASTY, files: 7, orphans: 1, owners: ['root'], producer: null },
    ],
    inodeNumbers: [{ mountpoint: '/tmp', collisions: 2, maxIno: 4_100_000_000, wraps: true }, { mountpoint: '/', collisions: null, maxIno: 5_000_000, wraps: false }],
    idmappedCopies: [{ store: '/var/lib/containers/storage', image: 'docker.io/library/debian:12', copies: 3 }],
    findings: [{ check: 'inodes.full', severity: 'critical', target: '/tmp', title: '/tmp is out of inodes' }],
    collectors: [{ collector: 'statfs', seconds: 0.004, success: true }, { collector: 'census', seconds: 1.5, success: false }],
  };
}

const base = { slopePerSecond: null, slopeLow: null, slopeHigh: null, samples: 3, spanSeconds: 600, segmentStart: 1_699_990_000 };
const forecasts: Forecast[] = [
  { ...base, resource: 'inodes', target: '/tmp', state: 'filling', exhaustionAt: 1_700_086_400, earliestAt: 1_700_040_000, slopePerSecond: 2, slopeLow: 1, slopeHigh: 3 },
  { ...base, resource: 'blocks', target: '/', state: 'not_growing', slopePerSecond: 0, slopeLow: -1, slopeHigh: 1 },
  { ...base, resource: 'inotify_watches', target: 'www-data', state: 'insufficient_data', needSamples: 4 },
  { ...base, resource: 'pattern', target: '/tmp:magick-*', state: 'filling', exhaustionAt: 1_700_100_000, earliestAt: 1_700_050_000 },
];
const extra = { writeErrors: 2, version: '0.1.0' };

interface Family { type: string; help: string; series: Array<{ labels: string; value: string }> }

/** The families of an exposition (a small parser for the line shapes metricsText writes). */
function parse(text: string): Map<string, Family> {
  const fams = new Map<string, Family>();
  const fam = (n: string) => fams.get(n) ?? (fams.set(n, { type: '', help: '', series: [] }), fams.get(n)!);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) { fam(m[2]!)[m[1] === 'HELP' ? 'help' : 'type'] = m[3]!; continue; }
    // name, optional {labels}, exactly one value: no timestamp
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(m, `a line that is neither HELP, TYPE nor name{labels} value: ${JSON.stringify(line)}`);
    assert.ok(fams.has(m[1]!), `${m[1]} comes before its TYPE line`);
    fam(m[1]!).series.push({ labels: m[2] ?? '', value: m[3]! });
  }
  return fams;
}

/** The label names of a series' label text (values may hold escaped quotes and commas). */
const labelNames = (labels: string) => [...labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)].map((m) => m[1]).join(',');

const EXPECTED: Array<[string, string, string]> = [
  ['enospc_filesystem_files', 'gauge', 'device,mountpoint,fstype'],
  ['enospc_filesystem_files_free', 'gauge', 'device,mountpoint,fstype'],
  ['enospc_filesystem_size_bytes', 'gauge', 'device,mountpoint,fstype'],
  ['enospc_filesystem_avail_bytes', 'gauge', 'device,mountpoint,fstype'],
  ['enospc_filesystem_device_error', 'gauge', 'device,mountpoint,fstype'],
  ['enospc_tmpfs_nr_inodes_per_gib', 'gauge', 'mountpoint'],
  ['enospc_tmpfs_inode64', 'gauge', 'mountpoint'],
  ['enospc_pattern_files', 'gauge', 'mountpoint,pattern'],
  ['enospc_pattern_orphans', 'gauge', 'mountpoint,pattern'],
  ['enospc_inotify_watches', 'gauge', 'user'],
  ['enospc_inotify_instances', 'gauge', 'user'],
  ['enospc_inotify_max_user_watches', 'gauge', ''],
  ['enospc_inotify_max_user_instances', 'gauge', ''],
  ['enospc_fanotify_marks', 'gauge', 'user'],
  ['enospc_epoll_watches', 'gauge', 'user'],
  ['enospc_kernel_table_used', 'gauge', 'table'],
  ['enospc_kernel_table_limit', 'gauge', 'table'],
  ['enospc_inode_collisions', 'gauge', 'mountpoint'],
  ['enospc_inode_number_max', 'gauge', 'mountpoint'],
  ['enospc_container_idmapped_copies', 'gauge', 'store,image'],
  ['enospc_forecast_state', 'gauge', 'resource,target,state'],
  ['enospc_forecast_exhaustion_timestamp_seconds', 'gauge', 'resource,target'],
  ['enospc_forecast_exhaustion_earliest_timestamp_seconds', 'gauge', 'resource,target'],
  ['enospc_finding', 'gauge', 'check,severity,target'],
  ['enospc_build_info', 'gauge', 'version'],
  ['enospc_collector_duration_seconds', 'gauge', 'collector'],
  ['enospc_collector_success', 'gauge', 'collector'],
  ['enospc_history_write_errors_total', 'counter', ''],
];

describe('the exposition', () => {
  const text = metricsText(sample(), forecasts, extra);
  const fams = parse(text);
  const series = (name: string) => fams.get(name)?.series ?? [];
  const value = (name: string, labels: string) => series(name).find((s) => s.labels === labels)?.value;

  test('every family is there once, with its type, its help and its labels; nothing else', () => {
    assert.deepEqual([...fams.keys()], EXPECTED.map(([n]) => n));
    for (const [name, type, labels] of EXPECTED) {
      const f = fams.get(name)!;
      assert.equal(f.type, type, name);
      assert.ok(f.help.length > 10, `${name} has a HELP text`);
      assert.ok(f.series.length > 0, name);
      for (const s of f.series) assert.equal(labelNames(s.labels), labels, `${name}${s.labels}`);
    }
    assert.equal(text.match(/^# TYPE /gm)!.length, EXPECTED.length, 'one TYPE line per family');
    assert.ok(text.endsWith('\n'));
  });

  test('the figures, in base units; a mount whose statfs failed has only its device_error', () => {
    const root = '{device="/dev/sda1",mountpoint="/",fstype="ext4"}';
    const nas = '{device="nas:/export",mountpoint="/mnt/nas",fstype="nfs4"}';
    assert.equal(value('enospc_filesystem_files', root), '6553600');
    assert.equal(value('enospc_filesystem_size_bytes', root), '107374182400');
    assert.equal(value('enospc_filesystem_device_error', root), '0');
    assert.equal(value('enospc_filesystem_device_error', nas), '1');
    for (const n of ['files', 'files_free', 'size_bytes', 'avail_bytes']) assert.equal(value(`enospc_filesystem_${n}`, nas), undefined, n);
    assert.deepEqual(series('enospc_tmpfs_inode64'), [{ labels: '{mountpoint="/tmp"}', value: '0' }]);
    // colliding inode numbers where they were compared; the highest number of a 32-bit tmpfs
    assert.deepEqual(series('enospc_inode_collisions'), [{ labels: '{mountpoint="/tmp"}', value: '2' }]);
    assert.deepEqual(series('enospc_inode_number_max'), [{ labels: '{mountpoint="/tmp"}', value: '4100000000' }]);
    assert.equal(value('enospc_tmpfs_nr_inodes_per_gib', '{mountpoint="/tmp"}'), '262144');
    assert.equal(value('enospc_inotify_watches', '{user="www-data"}'), '8000');
    assert.equal(value('enospc_inotify_max_user_watches', ''), '8192');
    assert.equal(value('enospc_kernel_table_used', '{table="pty.count"}'), undefined, 'an unknown figure is left out, not 0');
    assert.equal(value('enospc_kernel_table_limit', '{table="pty.count"}'), '4096');
    assert.equal(value('enospc_collector_duration_seconds', '{collector="statfs"}'), '0.004');
    assert.equal(value('enospc_collector_success', '{collector="census"}'), '0');
    assert.equal(value('enospc_finding', '{check="inodes.full",severity="critical",target="/tmp"}'), '1');
    assert.equal(value('enospc_build_info', '{version="0.1.0"}'), '1');
    assert.equal(value('enospc_history_write_errors_total', ''), '2');
  });

  test('forecasts: one series per state, the current one 1; exhaustion times only while filling', () => {
    for (const f of forecasts) {
      const mine = series('enospc_forecast_state').filter((s) => s.labels.startsWith(`{resource="${f.resource}",target="${escapeLabelValue(f.target)}",`));
      assert.deepEqual(mine.map((s) => s.labels.match(/state="(\w+)"/)![1]), ['insufficient_data', 'not_growing', 'filling']);
      assert.deepEqual(mine.filter((s) => s.value === '1').map((s) => s.labels.match(/state="(\w+)"/)![1]), [f.state]);
    }
    assert.deepEqual(series('enospc_forecast_exhaustion_timestamp_seconds'), [
      { labels: '{resource="inodes",target="/tmp"}', value: '1700086400' },
      { labels: '{resource="pattern",target="/tmp:magick-*"}', value: '1700100000' },
    ]);
    assert.equal(value('enospc_forecast_exhaustion_earliest_timestamp_seconds', '{resource="inodes",target="/tmp"}'), '1700040000');
  });

  test('label values escape backslash, double quote and newline; a lone surrogate becomes U+FFFD', () => {
    assert.ok(text.includes('enospc_pattern_files{mountpoint="/tmp",pattern="php\\"tmp\\\\x\\nY-*"} 7\n'), text);
    assert.equal(escapeLabelValue('a\uD800b'), 'a\uFFFDb');
    assert.equal(escapeLabelValue('é ✓ 😀'), 'é ✓ 😀');
  });

  test('a repeated label set (two mounts stacked at one place) is one series, the last one', () => {
    const s = sample();
    s.mounts.push({ ...s.mounts[1]!, files: 5, mountId: 99 });
    const again = parse(metricsText(s, [], extra));
    const tmp = again.get('enospc_filesystem_files')!.series.filter((x) => x.labels.includes('"/tmp"'));
    assert.deepEqual(tmp.map((x) => x.value), ['5']);
  });

  test('no sample yet: the build info, the counter, and the forecasts', () => {
    assert.deepEqual([...parse(metricsText(null, [], extra)).keys()], ['enospc_build_info', 'enospc_history_write_errors_total']);
    assert.ok(parse(metricsText(null, forecasts, extra)).has('enospc_forecast_state'));
  });

  test('promtool check metrics finds nothing to say', { skip: PROMTOOL_MISSING ?? false }, () => {
    for (const t of [text, metricsText(null, [], extra)]) {
      const r = promtool(t);
      assert.equal(r.status, 0, r.out);
      assert.equal(r.out.trim(), '');
    }
    // and it is a real check: an unescaped quote is refused
    assert.notEqual(promtool('# TYPE x gauge\nx{a="b"c"} 1\n').status, 0);
  });
});

describe('the HTTP server', () => {
  let server: http.Server | undefined;
  let url = '';
  let samples = 0;
  after(() => server?.close());

  const state = {
    metrics: () => { samples++; return metricsText(sample(), forecasts, extra); },
    api: (name: string) => (name === 'x' ? { hello: 'world', n: 1 } : undefined),
  };

  test('listens on 127.0.0.1:0', async () => {
    server = await startServer({ host: '127.0.0.1', port: 0 }, state);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  test('GET /metrics answers the exposition of the cached state, quickly', async () => {
    const times: number[] = [];
    let body = '';
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const r = await fetch(`${url}/metrics`);
      body = await r.text();
      times.push(performance.now() - t);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    }
    assert.equal(body, metricsText(sample(), forecasts, extra));
    assert.equal(samples, 20, 'one look at the state per scrape');
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`scrape of /metrics: first ${times[0]!.toFixed(1)} ms, median ${sorted[10]!.toFixed(1)} ms, max ${sorted[19]!.toFixed(1)} ms (${body.length} bytes)`);
    // loose: a regression that makes a scrape wait for something would show; no tight timing
    assert.ok(sorted[10]! < 500, `median scrape ${sorted[10]} ms`);
  });

  test('GET / is the page, its script and styles under /assets, with ETags', async () => {
    const r = await fetch(`${url}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^text\/html/);
    const body = await r.text();
    assert.match(body, /href="\/metrics"/);
    for (const [asset, type] of [['/assets/web/app.js', /^text\/javascript/], ['/assets/style.css', /^text\/css/], ['/assets/web/vendor/uPlot.esm.js', /^text\/javascript/], ['/assets/shared/units.js', /^text\/javascript/]] as const) {
      assert.ok(body.includes(asset) || asset.includes('vendor') || asset.includes('shared'), asset);
      const a = await fetch(url + asset);
      assert.equal(a.status, 200, asset);
      assert.match(a.headers.get('content-type')!, type);
      const etag = a.headers.get('etag')!;
      await a.arrayBuffer();
      assert.equal((await fetch(url + asset, { headers: { 'If-None-Match': etag } })).status, 304, asset);
    }
  });

  test('GET /api/<name> is JSON, 404 when there is no such name', async () => {
    const r = await fetch(`${url}/api/x`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^application\/json/);
    assert.deepEqual(await r.json(), { hello: 'world', n: 1 });
    const none = await fetch(`${url}/api/nothing`);
    assert.equal(none.status, 404);
    assert.match(((await none.json()) as { error: string }).error, /nothing/);
  });

  test('anything else is 404; other methods 405', async () => {
    for (const p of ['/nope', '/api/', '/metrics/x']) assert.equal((await fetch(url + p)).status, 404, p);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await fetch(`${url}/metrics`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'GET, HEAD');
      await r.text();
    }
    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  test('an address that cannot be bound rejects with one clear line', async () => {
    const port = (server!.address() as AddressInfo).port;
    const cases: Array<[{ host: string; port: number }, RegExp]> = [
      [{ host: '127.0.0.1', port }, new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use$`)],
      [{ host: '127.0.0.1', port: 70_000 }, /^cannot listen on 127\.0\.0\.1:70000: the port must be 0 to 65535$/],
      [{ host: '192.0.2.1', port: 0 }, /^cannot listen on 192\.0\.2\.1:0: no interface has that address$/],
    ];
    for (const [addr, re] of cases) {
      await assert.rejects(startServer(addr, state), (e: Error) => { assert.match(e.message, re); return true; });
    }
    assert.equal((await fetch(`${url}/metrics`)).status, 200, 'the first server still serves');
  });
});

describe('the textfile', { skip: cannotMount ?? false }, () => {
  test('enospc.prom is written in the directory, replaced whole, and passes promtool', async () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    const text = metricsText(sample(), forecasts, extra);
    await writeTextfile(dir, 'old\n');
    await writeTextfile(dir, text);
    assert.deepEqual(fs.readdirSync(dir), ['enospc.prom'], 'no temporary file left');
    assert.equal(fs.readFileSync(`${dir}/enospc.prom`, 'utf8'), text);
    assert.equal(fs.statSync(`${dir}/enospc.prom`).mode & 0o777, 0o644 & ~process.umask());
    if (!PROMTOOL_MISSING) {
      const r = spawnSync('sh', ['-c', 'promtool check metrics < "$1"', 'sh', `${dir}/enospc.prom`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    }
  });

  test('errors are one clear line; a symbolic link at the temporary name is not followed; nothing is left', async () => {
    await assert.rejects(writeTextfile('/no/such/dir', 'x 1\n'), /^Error: cannot write the textfile \/no\/such\/dir\/enospc\.prom: no such directory/);
    const dir = tmpfs('size=1m,nr_inodes=100');
    const victim = `${dir}/victim`;
    fs.writeFileSync(victim, 'keep');
    fs.symlinkSync(victim, `${dir}/enospc.prom.${process.pid}`);
    await assert.rejects(writeTextfile(dir, 'x 1\n'), /symbolic link/);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'keep');
    fs.unlinkSync(`${dir}/enospc.prom.${process.pid}`);
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    await assert.rejects(writeTextfile(dir, 'x 1\n'), /read-only file system/);
    execFileSync('mount', ['-o', 'remount,rw', dir]);
    assert.deepEqual(fs.readdirSync(dir), ['victim']);
  });
});
