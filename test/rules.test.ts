// The Prometheus rules shipped in deploy/prometheus checked by the real promtool: the file
// loads, and each alert fires (or stays quiet) as its unit tests say, at the right severity,
// with the labels and annotations a receiver gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const DIR = new URL('../../deploy/prometheus/', import.meta.url).pathname;
const skip = spawnSync('promtool', ['--version']).status === 0 ? undefined : 'promtool is not installed (.ci/run installs prometheus)';

test('promtool check rules: the rules file loads', { skip }, () => {
  const r = spawnSync('promtool', ['check', 'rules', 'enospc-rules.yml'], { cwd: DIR, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 19 rules found/);
});

test('promtool test rules: each alert on a steady leak, a sawtooth, a reboot reset, full inodes, near-limit watches, leaks, hung mounts, a down agent', { skip }, () => {
  const r = spawnSync('promtool', ['test', 'rules', 'enospc-rules.test.yml'], { cwd: DIR, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});
