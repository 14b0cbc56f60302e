// A statfs that does not answer (a hung FUSE or NFS server) must not hang enospc: the guard asks
// in a child process, reports "timeout" for what did not answer, kills the child, and leaves
// nothing that keeps the caller's process alive. Tested with a real FUSE mount whose server
// never reads its device, in a separate process that must exit on its own (no process.exit).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cannotHang, hungMount, stopHung } from './helpers.js';

const GUARD = new URL('../src/probe/guard.js', import.meta.url).href;

after(stopHung);

describe('statfs through the guard', () => {
  test('a statfs that does not answer in time is reported as a timeout, and the caller exits by itself', { skip: cannotHang ?? false }, async () => {
    const { dir } = await hungMount('fuse');
    const script = `
      const { guarded } = await import(${JSON.stringify(GUARD)});
      const t = performance.now();
      const r = await guarded({ statfs: [${JSON.stringify(dir)}, '/'], resolve: [${JSON.stringify(dir + '/x')}] }, 1000);
      console.log(JSON.stringify({ ...r, ms: performance.now() - t }));`;
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    const wall = performance.now() - t0;
    assert.equal(r.signal, null, `the process was killed (${r.signal}) after ${wall} ms: it hung`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { statfs: Array<{ usage: { blocks: { total: number } } | null; error?: string }>; resolve: Array<{ real: string | null; error?: string }>; ms: number };
    assert.deepEqual(out.statfs[0], { usage: null, error: 'timeout' });
    assert.ok(out.statfs[1]!.usage!.blocks.total > 0, 'the mount that answers is not held up by the one that does not');
    assert.equal(out.resolve[0]!.real, null);
    assert.equal(out.resolve[0]!.error, 'timeout');
    assert.ok(out.ms >= 990 && out.ms < 3000, `took ${out.ms} ms`);
    assert.ok(wall < 6000, `the process took ${wall} ms to end`);
  });

  test('a statfs that answers gives the figures; paths resolve, relative ones against the current directory', async () => {
    const { guarded } = await import('../src/probe/guard.js');
    const r = await guarded({ statfs: ['/', '/no/such/dir'], resolve: ['/proc/self/..', 'no-such-name-here', '/etc/hostname'] }, 5000);
    assert.equal(r.statfs[0]!.error, undefined);
    assert.ok(r.statfs[0]!.usage!.blocks.total > 0);
    assert.deepEqual(r.statfs[1], { usage: null, error: 'ENOENT' });
    assert.equal(r.resolve[0]!.real, '/proc');
    assert.equal(r.resolve[0]!.dir, true);
    assert.ok(r.resolve[0]!.usage !== null);
    assert.deepEqual(r.resolve[1], { real: null, dir: false, error: 'ENOENT', usage: null });
    assert.equal(r.resolve[2]!.dir, false);
  });

  test('nothing asked, no child', async () => {
    const { guarded } = await import('../src/probe/guard.js');
    const r = await guarded({}, 5000);
    assert.deepEqual([r.statfs, r.resolve], [[], []]);
    assert.ok(r.elapsedMs < 50);
  });
});
