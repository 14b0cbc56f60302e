// The verdict line and the findings: doctor's evidence and fixes, commands with a copy button
// (the page never runs anything).
import { el, none } from './dom.js';
import { inTime, span } from './format.js';
import type { Forecast, Sample } from './types.js';

type Finding = Sample['findings'][number];

/** The forecast of a target that runs out first, if any is filling. */
export function soonest(forecasts: Forecast[], target?: string): Forecast | null {
  let best: Forecast | null = null;
  for (const f of forecasts) {
    if (f.state !== 'filling' || f.exhaustionAt === undefined || (target !== undefined && f.target !== target)) continue;
    if (!best || f.exhaustionAt < best.exhaustionAt!) best = f;
  }
  return best;
}

/** What a forecast says, in a few words. */
export function forecastText(f: Forecast | undefined, now: number): string {
  if (!f) return 'no forecast yet';
  if (f.state === 'not_growing') return 'not growing';
  if (f.state === 'insufficient_data') {
    const need = [f.needSamples ? `${f.needSamples} more samples` : '', f.needSeconds ? `${span(f.needSeconds)} more` : ''].filter(Boolean).join(', ');
    return `not enough data${need ? ` (needs ${need})` : ''}`;
  }
  const earliest = f.earliestAt !== undefined ? `; at the earliest ${inTime(f.earliestAt, now)}` : '';
  return `filling: full ${f.exhaustionAt !== undefined ? inTime(f.exhaustionAt, now) : 'at an unknown time'}${earliest}`;
}

const RESOURCE: Record<string, string> = { inodes: 'inodes', blocks: 'space', inotify_watches: 'inotify watches', pattern: 'files of', inode_numbers: 'inode numbers' };
/** What happens at the limit: a resource is full, 32-bit inode numbers wrap. */
const fullWord = (resource: string): string => (resource === 'inode_numbers' ? 'wrap' : 'full');

/** One line for the host: the most urgent finding with its time left, or all clear. */
export function verdict(sample: Sample, forecasts: Forecast[], now: number): { text: string; level: 'ok' | 'warning' | 'critical' } {
  const left = (target: string) => {
    const f = soonest(forecasts, target);
    return f?.exhaustionAt !== undefined ? `; ${RESOURCE[f.resource] ?? f.resource} ${fullWord(f.resource)} ${inTime(f.exhaustionAt, now)}` : '';
  };
  const critical = sample.findings.find((f) => f.severity === 'critical');
  if (critical) return { text: `Critical: ${critical.title}${left(critical.target)}`, level: 'critical' };
  const f = soonest(forecasts);
  if (f?.exhaustionAt !== undefined && f.exhaustionAt - now < 7 * 86400) {
    return { text: `Filling: ${f.target} ${RESOURCE[f.resource] ?? f.resource} ${fullWord(f.resource)} ${inTime(f.exhaustionAt, now)}${f.earliestAt !== undefined ? `, at the earliest ${inTime(f.earliestAt, now)}` : ''}`, level: 'warning' };
  }
  const warning = sample.findings.find((x) => x.severity === 'warning');
  if (warning) return { text: `Warning: ${warning.title}${left(warning.target)}`, level: 'warning' };
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  return { text: `All clear: ${n(sample.mounts.length, 'mount', 'mounts')} and ${n(sample.users.length, "user's", "users'")} watches sampled, nothing filling within 7 days, no finding.`, level: 'ok' };
}

function copyButton(text: string): HTMLElement {
  const b = el('button', { type: 'button', class: 'copy', 'aria-label': 'Copy the command' }, 'Copy');
  b.addEventListener('click', () => {
    const done = (ok: boolean) => {
      b.textContent = ok ? 'Copied' : 'Select and copy';
      setTimeout(() => { b.textContent = 'Copy'; }, 2000);
    };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(() => done(true), () => done(false));
    else done(false);
  });
  return b;
}

/** An evidence value, shortly: numbers and text as they are, the rest as compact JSON. */
function value(v: unknown): string {
  if (v === null) return 'unknown';
  if (typeof v === 'number') return v.toLocaleString('en-US');
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  const s = JSON.stringify(v);
  return s.length > 400 ? `${s.slice(0, 400)}…` : s;
}

function finding(f: Finding): HTMLElement {
  const evidence = Object.entries((f.evidence ?? {}) as Record<string, unknown>);
  return el('article', { class: `finding ${f.severity}` },
    el('h3', {}, el('span', { class: 'sev' }, f.severity), ' ', f.title),
    el('p', { class: 'target' }, `${f.check} · ${f.target}`),
    evidence.length ? el('dl', { class: 'evidence' }, ...evidence.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, value(v))])) : null,
    f.fix?.length ? el('div', { class: 'fix' }, el('h4', {}, 'Fix'), el('ol', {}, ...f.fix.map((x) => el('li', {},
      el('p', {}, x.text),
      x.command ? el('div', { class: 'cmd' }, el('pre', {}, el('code', {}, x.command)), copyButton(x.command)) : null,
      x.content ? el('div', { class: 'cmd' }, el('p', {}, x.file ? `In ${x.file}:` : 'In a file:'), el('pre', {}, el('code', {}, x.content)), copyButton(x.content)) : null,
    )))) : null,
  );
}

export function findings(sample: Sample): HTMLElement {
  if (!sample.findings.length) return none('No finding at warning or worse at the last census.');
  const order = [...sample.findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
  return el('div', { class: 'findings' }, ...order.map(finding));
}
