// The agent's HTTP surface, against a real agent process: read-only (405), security headers, a
// loopback agent refusing other Host names, --web-config in exporter-toolkit's format (basic auth
// with bcrypt, TLS with a certificate openssl makes here), bad web configs, the warning on a
// public address, and 500 connections held open by slow clients while /metrics keeps answering,
// sampling goes on and memory stays bounded.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import bcrypt from 'bcryptjs';
import { CLI, cannotMount, sleep, startAgent as startAgentIn, tmpfs, unmountAll } from './helpers.js';
import type { AgentStatus } from '../src/agent/types.js';

const children: ChildProcess[] = [];
const OPENSSL = spawnSync('openssl', ['version']).status === 0;

/** An agent sampling every 500 ms, its census hourly (these tests are about HTTP). */
const startAgent = (args: string[], listen = '127.0.0.1:0') => startAgentIn(['--interval', '500ms', '--census-interval', '1h', ...args], children, listen);

/** The status of GET path with this Host header, over a raw socket (fetch sets its own Host). */
function statusWithHost(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let got = '';
    s.on('data', (d) => { got += d.toString(); });
    s.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1])));
    s.on('error', reject);
  });
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('the agent over HTTP', { skip: cannotMount ?? false }, () => {
  const dir = cannotMount ? '' : tmpfs('size=16m,nr_inodes=1000');
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    unmountAll();
  });

  test('read-only, with security headers, and a loopback agent answers only loopback names', async () => {
    const a = await startAgent(['--db', `${dir}/plain.db`]);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await fetch(`${a.url}/metrics`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'GET, HEAD');
      await r.text();
    }
    const r = await fetch(`${a.url}/`);
    assert.equal(r.status, 200);
    const csp = r.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    const html = await r.text();
    assert.doesNotMatch(html.replace(/<script type="module" src="[^"]+"><\/script>/g, ''), /<script|\sstyle=|\son[a-z]+=/i, 'no inline script or style in the page');
    // a page elsewhere that rebinds its name to 127.0.0.1 sends its own Host: refused
    const port = Number(new URL(a.url).port);
    assert.equal(await statusWithHost(port, `attacker.example:${port}`, '/api/sample'), 421);
    assert.ok([400, 421].includes(await statusWithHost(port, '', '/api/sample')), 'an empty Host');
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) assert.equal(await statusWithHost(port, host, '/api/status'), 200, host);
    const st = (await (await fetch(`${a.url}/api/status`)).json()) as AgentStatus;
    assert.equal(st.intervalS, 0.5);
    const series = await fetch(`${a.url}/api/series?resource=inodes&target=${encodeURIComponent(dir)}&since=0`);
    assert.equal(series.status, 200);
    assert.ok(Array.isArray(await series.json()), '/api/series takes its query');
  });

  test('basic auth from a web config: none and wrong are 401, right is 200, and the check is remembered', async () => {
    const hash = bcrypt.hashSync('s3cret pass', 10);
    fs.writeFileSync(`${dir}/web.yml`, `basic_auth_users:\n  alice: ${hash}\n`);
    const a = await startAgent(['--db', `${dir}/auth.db`, '--web-config', `${dir}/web.yml`]);
    const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const none = await fetch(`${a.url}/metrics`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate')!, /^Basic realm=/);
    assert.equal((await fetch(`${a.url}/metrics`, { headers: basic('alice', 'wrong') })).status, 401);
    assert.equal((await fetch(`${a.url}/metrics`, { headers: basic('mallory', 's3cret pass') })).status, 401);
    assert.equal((await fetch(`${a.url}/`, { headers: basic('alice', 's3cret pass') })).status, 200);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${a.url}/metrics`, { headers: basic('alice', 's3cret pass') })).status, 200);
    console.log(`5 authenticated scrapes after the first: ${(performance.now() - t0).toFixed(0)} ms in all`);
    assert.equal((await fetch(`${a.url}/metrics`, { method: 'POST', headers: basic('alice', 's3cret pass') })).status, 405);
  });

  test('TLS from a web config, with a certificate made by openssl', { skip: OPENSSL ? false : 'no openssl' }, async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore' });
    // relative to the file, as exporter-toolkit reads them
    fs.writeFileSync(`${dir}/tls.yml`, 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  min_version: TLS12\n');
    const a = await startAgent(['--db', `${dir}/tls.db`, '--web-config', `${dir}/tls.yml`]);
    assert.match(a.url, /^https:/);
    const get = (opts: https.RequestOptions) => new Promise<{ status: number; body: string; protocol: string }>((resolve, reject) => {
      https.get(`${a.url}/metrics`, opts, (res) => {
        let body = '';
        const protocol = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode!, body, protocol }));
      }).on('error', reject);
    });
    const r = await get({ ca: fs.readFileSync(`${dir}/cert.pem`) });
    assert.equal(r.status, 200);
    assert.match(r.body, /^# HELP enospc_/m);
    assert.match(r.protocol, /^TLSv1\.[23]$/);
    await assert.rejects(get({}), /self-signed|self signed/, 'an unknown certificate is refused by a checking client');
    // plain HTTP to the TLS port gets no answer
    await assert.rejects(fetch(a.url.replace('https:', 'http:') + '/metrics'));
  });

  test('a bad web config: one line with the key and why, exit 2', () => {
    const cases: Array<[string, RegExp]> = [
      ['basic_auth_users:\n  alice: plain-text\n', /basic_auth_users\.alice: not a bcrypt hash/],
      ['tls_server_config:\n  cert_file: /nonexistent/cert.pem\n  key_file: /nonexistent/key.pem\n', /tls_server_config\.cert_file: cannot read \/nonexistent\/cert\.pem: ENOENT/],
      ['tls_server_config:\n  key_file: k.pem\n', /key_file without cert_file/],
      ['tls_server_config:\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n', /cipher_suites is not supported by enospc/],
      ['basic_auth: {}\n', /unknown key 'basic_auth'/],
      ['http_server_config:\n  headers:\n    Server: x\n', /'Server' cannot be set/],
      ['basic_auth_users: [\n', /not valid YAML/],
    ];
    for (const [text, re] of cases) {
      fs.writeFileSync(`${dir}/bad.yml`, text);
      const r = spawnSync(process.execPath, [CLI, 'agent', '--listen', '127.0.0.1:0', '--db', `${dir}/bad.db`, '--web-config', `${dir}/bad.yml`], { encoding: 'utf8', timeout: 20_000 });
      if (r.status === null) spawnSync('pkill', ['-f', `${dir}/bad.db`]);
      assert.equal(r.status, 2, text + r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^enospc: --web-config \S+bad\.yml: /);
      assert.match(r.stderr, re);
    }
  });

  test('a public address without a web config is served, with a warning', async () => {
    const a = await startAgent(['--db', `${dir}/public.db`], '0.0.0.0:0');
    assert.match(a.stderr(), /warning: listening on 0\.0\.0\.0 without authentication/);
    const port = new URL(a.url).port;
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/status`)).status, 200);
    a.proc.kill('SIGKILL');
  });

  test('500 connections held open: /metrics answers, sampling goes on, memory stays bounded', { timeout: 120_000 }, async () => {
    const a = await startAgent(['--db', `${dir}/held.db`]);
    const port = Number(new URL(a.url).port);
    const status = async () => (await (await fetch(`${a.url}/api/status`)).json()) as AgentStatus;
    await sleep(1500);
    const before = rssMb(a.proc.pid!);
    const sockets: net.Socket[] = [];
    // slow clients: each sends half a request head, then nothing
    await Promise.all(Array.from({ length: 500 }, () => new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '); resolve(); });
      s.on('error', () => resolve());
      sockets.push(s);
    })));
    const s0 = await status();
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const r = await fetch(`${a.url}/metrics`);
      assert.equal(r.status, 200);
      await r.text();
      times.push(performance.now() - t);
      await sleep(200);
    }
    const s1 = await status();
    assert.ok(s1.sampleAt! > s0.sampleAt!, 'sampling went on');
    const held = rssMb(a.proc.pid!);
    const open = sockets.filter((s) => !s.destroyed).length;
    console.log(`500 slow connections: ${open} still open after 2 s; /metrics max ${Math.max(...times).toFixed(1)} ms; agent RSS ${before.toFixed(1)} MB before, ${held.toFixed(1)} MB with them`);
    assert.ok(open >= 450, `the connections were held (${open})`);
    assert.ok(held - before < 40, `RSS grew by ${(held - before).toFixed(1)} MB`);
    // the head never completes: the server closes them (headers timeout, 10 s, checked every 2 s)
    await sleep(13_000);
    const left = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    console.log(`after 13 s: ${left} of the 500 still open`);
    assert.ok(left < 50, `${left} slow connections still open after the headers timeout`);
    for (const s of sockets) s.destroy();
    assert.equal((await fetch(`${a.url}/metrics`)).status, 200);
  });
});
