// enospc fleet and the rules end to end: two agents, each in a mount namespace of its own with
// a tmpfs only it sees (two hosts, as Prometheus sees them), one of them with a process leaking
// files into it; a real Prometheus (Debian's) scrapes both every second with the rules loaded.
// `enospc fleet` must rank the leaking host first with the right pattern, every rule must
// evaluate without error, and the filling alert must be on its way for that host alone.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI, cannotMount } from './helpers.js';
import { assertSchema } from './json-schema.js';
import type { FleetJson } from '../src/report/fleet.js';

const RULES = new URL('../../deploy/prometheus/enospc-rules.yml', import.meta.url).pathname;
const DASHBOARD = new URL('../../deploy/grafana/enospc.json', import.meta.url).pathname;
/** Panels that are empty on a healthy test host (nothing hung, no catch, no containers, no findings, no user near a limit). */
const MAY_BE_EMPTY = new Set(['Findings at warning or worse', 'Users near an inotify limit', 'Orphans per pattern', 'Findings', 'ENOSPC caught (agent --catch)', 'Mounts that do not answer', 'ID-mapped layer copies']);
const hasProm = spawnSync('prometheus', ['--version']).status === 0;
const AM = ['prometheus-alertmanager', 'alertmanager'].find((b) => spawnSync(b, ['--version']).status === 0);
const hasUnshare = spawnSync('unshare', ['--mount', 'true']).status === 0;
const skip = cannotMount ?? (!hasProm ? 'prometheus is not installed (.ci/run installs it)' : !AM ? 'alertmanager is not installed (.ci/run installs prometheus-alertmanager)' : !hasUnshare ? 'unshare --mount is not permitted here' : undefined);

const LEAK = new URL('../../test/fixtures/leak.py', import.meta.url).pathname;

const groups: ChildProcess[] = [];
const closers: Array<() => void> = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** An agent in a mount namespace of its own, with a tmpfs at `dir` that only it sees; `leak`: files a second into it. */
async function host(dir: string, db: string, leak: number): Promise<{ url: string; instance: string }> {
  const script = `mount -t tmpfs -o size=16m,nr_inodes=4000 tmpfs "$1" || exit 1
${leak ? `python3 "$5" "$1" ${leak} &` : ''}
exec "$2" "$3" agent --listen 127.0.0.1:0 --db "$4" --interval 200ms --census-interval 2s --watch "$1"`;
  const c = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', dir, process.execPath, CLI, db, LEAK], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  groups.push(c);
  let err = '';
  c.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  for (let i = 0; i < 400 && !/serving http/.test(err); i++) await sleep(50);
  const m = /serving http:\/\/(\S+)\/metrics/.exec(err);
  assert.ok(m, `the agent did not start: ${err}`);
  return { url: `http://${m[1]}`, instance: m[1]! };
}

async function promQuery(base: string, expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = await r.json() as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  return body.data.result;
}

describe('enospc fleet against a real Prometheus', { skip, concurrency: false }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-fleet-'));
  after(() => {
    for (const g of groups) try { process.kill(-g.pid!, 'SIGKILL'); } catch { /* gone */ }
    for (const c of closers) c();
    fs.rmSync(base, { recursive: true, force: true });
  });

  test('two hosts, one leaking: fleet ranks it first with its pattern; every rule evaluates; its alert reaches Alertmanager and a webhook, the other host has none', { timeout: 240_000 }, async () => {
    for (const d of ['a', 'b', 'db', 'prom', 'am']) fs.mkdirSync(path.join(base, d));
    const a = await host(path.join(base, 'a'), path.join(base, 'db', 'a.db'), 40);
    const b = await host(path.join(base, 'b'), path.join(base, 'db', 'b.db'), 0);
    // the webhook receiver: what Alertmanager posts
    const posted: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }> = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        posted.push(...(JSON.parse(body) as { alerts: typeof posted }).alerts);
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    closers.push(() => hook.close());
    const amPort = await freePort();
    fs.writeFileSync(path.join(base, 'alertmanager.yml'), `route:
  receiver: test
  group_by: [alertname, instance, target]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: http://127.0.0.1:${(hook.address() as net.AddressInfo).port}/hook
`);
    const am = spawn(AM!, [`--config.file=${path.join(base, 'alertmanager.yml')}`, `--storage.path=${path.join(base, 'am')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], { stdio: 'ignore', detached: true });
    groups.push(am);
    // the shipped rules with their \`for\` cut to 1 s (what \`for\` does is promtool's unit tests' business)
    fs.writeFileSync(path.join(base, 'rules.yml'), fs.readFileSync(RULES, 'utf8').replace(/^(\s+)for: \d+m$/gm, '$1for: 1s'));
    const port = await freePort();
    fs.writeFileSync(path.join(base, 'prometheus.yml'), `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ['${path.join(base, 'rules.yml')}']
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:${amPort}']
scrape_configs:
  - job_name: enospc
    static_configs:
      - targets: ['${a.instance}', '${b.instance}']
`);
    const prom = spawn('prometheus', [`--config.file=${path.join(base, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(base, 'prom')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore', detached: true });
    groups.push(prom);
    const url = `http://127.0.0.1:${port}`;

    // the leaking host's inodes forecast filling, as Prometheus has scraped it
    const target = path.join(base, 'a');
    let filling = false;
    for (let i = 0; i < 150 && !filling; i++) {
      await sleep(1000);
      try {
        filling = (await promQuery(url, `enospc_forecast_state{resource="inodes",target="${target}",state="filling"} == 1`)).length === 1;
      } catch { /* not up yet */ }
    }
    assert.ok(filling, 'Prometheus never saw the forecast filling');
    await sleep(3000); // a rule evaluation or two after it

    const r = spawnSync(process.execPath, [CLI, 'fleet', '--prometheus', url, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr); // runs out within 4 h at the earliest: critical
    const doc = JSON.parse(r.stdout) as FleetJson;
    assertSchema('fleet', doc);
    assert.deepEqual(doc.hosts.map((h) => h.instance).sort(), [a.instance, b.instance].sort());
    // the agents see the machine's other mounts too (a test elsewhere may be filling one): the
    // ranking is judged on what the two hosts have of their own
    const own = doc.hosts.filter((h) => h.risks.some((x) => x.target.startsWith(base)));
    assert.deepEqual(own.map((h) => h.instance), [a.instance], JSON.stringify(doc.hosts));
    if (!doc.hosts[0]!.risks.some((x) => x.target.startsWith(base))) console.log(`# ranked first: ${JSON.stringify(doc.hosts[0])} (a mount outside the test)`);
    const first = own[0]!;
    const risk = first.risks.find((x) => x.resource === 'inodes' && x.target === target);
    assert.ok(risk, JSON.stringify(first.risks));
    assert.equal(risk.culprit, 'magick-*');
    assert.equal(risk.command, `enospc doctor ${target}`);
    assert.ok(risk.earliestSeconds < 200, `earliest in ${risk.earliestSeconds} s; the tmpfs fills in about 100 s`);
    assert.ok(!doc.hosts[1]!.risks.some((x) => x.target === path.join(base, 'b')));

    const human = spawnSync(process.execPath, [CLI, 'fleet', '--prometheus', url], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    console.log(human.stdout.trimEnd().split('\n').map((l) => `# ${l}`).join('\n'));
    const lines = human.stdout.split('\n');
    assert.match(lines[0]!, /^enospc fleet: 2 hosts with an agent in http:\/\/127\.0\.0\.1:\d+, [12] with something to see$/);
    const row = lines.findIndex((l) => /^HOST +RESOURCE +TARGET +EARLIEST +EXPECTED +CULPRIT +RUN THERE$/.test(l));
    assert.ok(row > 0, human.stdout);
    // the host's soonest risk: its mount's inodes, or the pattern filling them
    const mine = lines.slice(row + 1).find((l) => l.startsWith(`${a.instance} `));
    assert.ok(mine, human.stdout);
    assert.match(mine, new RegExp(`^${a.instance.replace(/\./g, '\\.')} +(inodes +${target} +in \\d+ \\w+(?: \\d+ \\w+)? +in \\d+ \\w+(?: \\d+ \\w+)? +magick-\\* +enospc doctor ${target}|pattern +${target}:magick-\\* +in \\d+ \\w+(?: \\d+ \\w+)? +in \\d+ \\w+(?: \\d+ \\w+)? +magick-\\* +enospc top ${target} --stat)$`));

    // every Grafana panel's query evaluates against this Prometheus, for the leaking host and its mount, with data where there should be
    const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
      templating: { list: Array<{ name: string; definition?: string }> };
    };
    const fill = (e: string) => e.replaceAll('$instance', a.instance).replaceAll('$mountpoint', target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    let queried = 0;
    for (const p of dash.panels) {
      for (const t of p.targets ?? []) {
        const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(fill(t.expr))}`);
        const body = await r.json() as { status: string; error?: string; data?: { result: unknown[] } };
        assert.equal(body.status, 'success', `panel "${p.title}": ${t.expr}: ${body.error}`);
        if (!MAY_BE_EMPTY.has(p.title)) assert.ok(body.data!.result.length > 0, `panel "${p.title}" has no data: ${fill(t.expr)}`);
        queried++;
      }
    }
    assert.ok(queried >= 20, `${queried} queries`);
    // the variables: label_values(SELECTOR, LABEL) lists the label's values of SELECTOR's series
    for (const v of dash.templating.list.filter((x) => x.definition)) {
      const m = /^label_values\((.*), (\w+)\)$/.exec(v.definition!)!;
      const found = (await promQuery(url, fill(m[1]!))).map((x) => x.metric[m[2]!]);
      assert.ok(found.includes(v.name === 'instance' ? a.instance : target), `variable ${v.name}: ${JSON.stringify(found)}`);
    }

    // every rule evaluates without error
    const rules = await (await fetch(`${url}/api/v1/rules`)).json() as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
    const all = rules.data.groups.flatMap((g) => g.rules);
    assert.equal(all.length, 19);
    for (const rule of all) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
    // and the recording rules return data (the inotify ratios only where some user holds watches)
    for (const rule of all.filter((x) => x.name.startsWith('enospc:') && !x.name.startsWith('enospc:inotify_'))) {
      assert.ok((await promQuery(url, rule.name)).length > 0, `${rule.name} has no data`);
    }
    assert.ok((await promQuery(url, `enospc:host_earliest_seconds_left:min{instance="${a.instance}"}`)).length === 1);
    // the filling alert fires for the leaking host, at critical, and for it alone; Alertmanager posts it to the webhook
    const isIt = (x: { labels: Record<string, string> }) => x.labels['alertname'] === 'EnospcFilesystemFillingUp' && x.labels['instance'] === a.instance && x.labels['target'] === target;
    for (let i = 0; i < 60 && !posted.some(isIt); i++) await sleep(500);
    const got = posted.find(isIt);
    assert.ok(got, `the webhook got: ${JSON.stringify(posted.map((x) => x.labels))}`);
    assert.equal(got.status, 'firing');
    assert.deepEqual([got.labels['severity'], got.labels['resource'], got.labels['job']], ['critical', 'inodes', 'enospc']);
    assert.match(got.annotations['summary']!, new RegExp(`^${target} on ${a.instance.replace(/\./g, '\\.')}: inodes may run out in `));
    assert.match(got.annotations['description']!, /Most entries there: magick-\* \([\d.]+k? entries\)\.$/);
    assert.equal(got.annotations['runbook'], `on ${a.instance}: enospc doctor ${target}`);
    const alerts = await (await fetch(`${url}/api/v1/alerts`)).json() as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
    assert.ok(!alerts.data.alerts.some((x) => x.labels['alertname'] === 'EnospcFilesystemFillingUp' && x.labels['instance'] === b.instance && x.labels['target'] === path.join(base, 'b')));
  });

  test('no Prometheus there, a wrong URL, a Prometheus without enospc: one line each, exit 3, 2, 3', { timeout: 60_000 }, async () => {
    const closed = await freePort();
    const none = spawnSync(process.execPath, [CLI, 'fleet', '--prometheus', `http://127.0.0.1:${closed}`], { encoding: 'utf8' });
    assert.equal(none.status, 3);
    assert.match(none.stderr, /^enospc: cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n$/);
    const bad = spawnSync(process.execPath, [CLI, 'fleet', '--prometheus', 'prometheus:9090:x'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.split('\n').length, 2, bad.stderr);
    // a Prometheus that scrapes only itself
    const port = await freePort();
    fs.mkdirSync(path.join(base, 'prom2'));
    fs.writeFileSync(path.join(base, 'p2.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`);
    const prom = spawn('prometheus', [`--config.file=${path.join(base, 'p2.yml')}`, `--storage.tsdb.path=${path.join(base, 'prom2')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore', detached: true });
    groups.push(prom);
    let r = { status: 0 as number | null, stderr: '' };
    for (let i = 0; i < 60; i++) {
      await sleep(500);
      r = spawnSync(process.execPath, [CLI, 'fleet', '--prometheus', `http://127.0.0.1:${port}`], { encoding: 'utf8' });
      if (!/cannot reach/.test(r.stderr)) break;
    }
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /^enospc: Prometheus at http:\/\/127\.0\.0\.1:\d+ has no enospc metrics \(no enospc_build_info\): is an enospc agent scraped\?\n$/);
  });
});
