// A statfs that does not answer (a hung NFS server) must not hang doctor: it comes back as
// "timeout". Simulated for real: with one libuv thread, an open() of a FIFO without a writer
// blocks that thread, and the statfs queued behind it cannot answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATFS = new URL('../src/probe/statfs.js', import.meta.url).href;

test('a statfs that does not answer in time is reported as a timeout', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-fifo-'));
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  try {
    const script = `
      import fs from 'node:fs';
      const { statfsWithin } = await import(${JSON.stringify(STATFS)});
      fs.promises.open(${JSON.stringify(fifo)}, 'r').catch(() => {});
      const t = performance.now();
      const r = await statfsWithin('/', 300);
      console.log(JSON.stringify({ ...r, ms: performance.now() - t }));
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' }, encoding: 'utf8', timeout: 10_000,
    });
    const out = JSON.parse(r.stdout) as { usage: unknown; error?: string; ms: number };
    assert.equal(out.error, 'timeout');
    assert.equal(out.usage, null);
    assert.ok(out.ms >= 290 && out.ms < 2000, `took ${out.ms} ms`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a statfs that answers gives the figures', async () => {
  const { statfsWithin } = await import('../src/probe/statfs.js');
  const r = await statfsWithin('/', 5000);
  assert.equal(r.error, undefined);
  assert.ok(r.usage!.blocks.total > 0);
});
