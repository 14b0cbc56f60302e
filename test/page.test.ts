// The agent's page in a real browser (Debian's Chromium, driven by playwright-core), against a
// real agent sampling a scratch tmpfs that a child fills: the verdict, the mount with a chart
// drawn from data, the forecast state and time matching /api/forecasts, the leaking pattern in
// the pattern table, a finding with its fix and a copy button; no request leaves the agent; no
// console error; usable by keyboard; screenshots at 390 px and 1440 px.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CLI, cannotMount, tmpfs, unmountAll, until } from './helpers.js';
import type { Forecast } from '../src/agent/types.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const LEAK = new URL('../../test/fixtures/leak.py', import.meta.url).pathname;
/** where the screenshots go (docs/page.png is one of them, copied by hand when the page changes) */
export const SHOTS = new URL('../screenshots/', import.meta.url).pathname;
const children: ChildProcess[] = [];
describe('the agent page in Chromium', { skip: cannotMount ?? (CHROMIUM ? false : 'no chromium') }, () => {
  let browser: Browser;
  let url = '';
  let dir = '';
  const outside: string[] = [];
  const errors: string[] = [];

  before(async () => {
    // 32 KiB of size per inode: tmpfs.nr-inodes warns from the first census (a finding with a fix)
    dir = tmpfs('size=64m,nr_inodes=2000');
    const db = tmpfs('size=64m,nr_inodes=1000');
    children.push(spawn('python3', [LEAK, dir, '30'], { stdio: 'ignore' }));
    const agent = spawn(process.execPath, [CLI, 'agent', '--listen', '127.0.0.1:0', '--db', `${db}/history.db`, '--interval', '200ms', '--census-interval', '2s', '--watch', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(agent);
    url = await new Promise<string>((resolve, reject) => {
      let err = '';
      agent.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /serving (http:\/\/\S+)\/metrics/.exec(err);
        if (m) resolve(m[1]!);
      });
      agent.on('exit', (c) => reject(new Error(`agent exited ${c}: ${err}`)));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    for (const c of children) c.kill('SIGKILL');
    unmountAll();
  });

  async function open(width: number): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`${width}px console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`${width}px page error: ${e.message}`));
    await page.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(url + '/')) return route.continue();
      outside.push(u);
      return route.abort();
    });
    await page.goto(url + '/');
    return page;
  }

  test('shows the mount, its chart, forecast, patterns and findings as /api says, at 1440 px', { timeout: 180_000 }, async () => {
    // wait for the agent to judge the leak as filling (its thresholds scale with the 200 ms interval)
    await until('a filling forecast', async () => {
      const fs = (await (await fetch(`${url}/api/forecasts`)).json()) as Forecast[];
      return fs.find((f) => f.resource === 'inodes' && f.target === dir && f.state === 'filling') ? true : undefined;
    }, 150_000);
    const page = await open(1440);
    const card = page.locator(`figure.card[data-mount="${dir}"]`);
    await card.waitFor({ timeout: 20_000 });
    // a chart drawn from data: uPlot's canvas, and the figures table with rows
    await card.locator('canvas').first().waitFor();
    assert.ok(await card.locator('details.data tbody tr').count() > 0, 'the chart has its figures');
    // the forecast as /api/forecasts gives it, read at about the same time
    const state = await card.locator('[data-resource="inodes"]').textContent();
    const f = ((await (await fetch(`${url}/api/forecasts`)).json()) as Forecast[]).find((x) => x.resource === 'inodes' && x.target === dir)!;
    assert.equal(f.state, 'filling');
    assert.match(state!, /^inodes: filling: full in .+ \(\d\d:\d\d\); at the earliest in .+/);
    const shown = await card.locator('[data-resource="inodes"]').getAttribute('data-exhaustion');
    const left = f.exhaustionAt! - Date.now() / 1000;
    assert.ok(Math.abs(Number(shown) - f.exhaustionAt!) <= Math.max(10, 0.25 * left), `page ${shown}, /api ${f.exhaustionAt}`);
    // the mounts table, the pattern table with the leaking pattern, a finding with its fix
    assert.ok(await page.locator('#mounts tbody th', { hasText: dir }).count() === 1);
    const pattern = page.locator('#patterns table:not(.u-legend) tbody tr', { hasText: 'magick-*' });
    await pattern.first().waitFor({ timeout: 20_000 });
    assert.match((await pattern.first().textContent())!, /ImageMagick/i, `the known producer: ${await pattern.first().textContent()}`);
    const finding = page.locator('#findings article', { hasText: dir });
    await finding.first().waitFor({ timeout: 20_000 });
    assert.ok(await finding.first().locator('.fix pre code').count() > 0, 'a finding shows its fix as a command');
    assert.ok(await finding.first().locator('button.copy').count() > 0, 'with a copy button');
    assert.match((await page.locator('#verdict').textContent())!, /^(Critical|Filling|Warning): /);
    assert.equal(await page.locator('#stale').isHidden(), true, 'the data is fresh');
    // it refreshes by itself: the last-sample time moves without a reload
    const meta0 = await page.locator('#meta').textContent();
    await until('a refresh', async () => ((await page.locator('#meta').textContent()) !== meta0 ? true : undefined), 30_000);
    // by keyboard: the range picker takes arrow keys, and the charts follow
    await page.locator('input[name="range"][value="86400"]').focus();
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.locator('input[name="range"][value="3600"]').isChecked(), true);
    await card.locator('canvas').first().waitFor();
    // readable contrast: every piece of text against the background it is drawn on, >= 4.5:1 (WCAG AA)
    const low = await page.evaluate(() => {
      const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
      const lum = (c: number[]) => {
        const [r, g, b] = c.slice(0, 3).map((v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const bg = (e: Element | null): number[] => {
        for (; e; e = e.parentElement) {
          const c = rgb(getComputedStyle(e).backgroundColor);
          if (c.length === 3 || (c.length === 4 && c[3]! > 0.5)) return c;
        }
        return [255, 255, 255];
      };
      const out: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const e = n.parentElement;
        if (!e || !n.textContent?.trim() || e.closest('.u-legend, .skip, [hidden]') || e.offsetParent === null) continue;
        const a = lum(rgb(getComputedStyle(e).color)), b = lum(bg(e));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) out.push(`${n.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)}`);
      }
      return out;
    });
    assert.deepEqual(low, [], 'text below 4.5:1 contrast');
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'page-1440.png'), fullPage: true });
    await page.close();
  });

  test('at 390 px: one column, nothing wider than the screen', { timeout: 60_000 }, async () => {
    const page = await open(390);
    await page.locator('figure.card').first().waitFor({ timeout: 20_000 });
    await page.locator('#patterns table').first().waitFor({ timeout: 20_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    await page.screenshot({ path: path.join(SHOTS, 'page-390.png'), fullPage: true });
    await page.close();
  });

  test('says when the agent stops answering', { timeout: 60_000 }, async () => {
    const page = await open(1024);
    await page.locator('figure.card').first().waitFor({ timeout: 20_000 });
    const agent = children[1]!;
    agent.kill('SIGSTOP');
    try {
      await page.locator('#stale').waitFor({ state: 'visible', timeout: 30_000 });
      assert.match((await page.locator('#stale').textContent())!, /does not answer|stale/);
    } finally {
      agent.kill('SIGCONT');
    }
    await page.close();
  });

  test('no request left the agent, and no console error', () => {
    assert.deepEqual(outside, []);
    assert.deepEqual(errors, []);
  });
});
