// The agent's dashboard page: reads /api/status, /api/sample, /api/forecasts and /api/series,
// renders them, and reads them again every sample interval (no reload). Nothing here runs
// anything on the host; every text from the host is set as text.
import { chart, chartTable, color, type Line } from './charts.js';
import { el, meter, none, show, table, type Row } from './dom.js';
import { findings, forecastText, soonest, verdict } from './findings.js';
import { bytes, clock, num, pct, span, when } from './format.js';
import type { AgentStatus, Forecast, MountSample, Point, Resource, Sample } from './types.js';

const CHARTED_BY_DEFAULT = 3;
const PATTERN_LINES = 5;

const view = {
  range: 86400,
  /** mounts the user asked to chart (or not); the rest follow urgency */
  chosen: new Map<string, boolean>(),
  lastGood: 0,
  timer: 0,
  /** a newer refresh makes an older one stop rendering */
  generation: 0,
};

/** The width of a chart: the section's, or half of it on a wide screen. */
function chartWidth(id: string, halves: boolean): number {
  const w = document.getElementById(id)!.clientWidth;
  return (halves && w >= 900 ? w / 2 - 12 : w) - 26;
}

async function get<T>(path: string): Promise<T> {
  // a stopped or hung agent: give up after 10 s and say so (a fetch waits for ever otherwise)
  const r = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store', signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/** The points of each series fetched so far, and from when: a refresh asks only for what came since. */
const fetched = new Map<string, { from: number; points: Point[] }>();

async function series(resource: Resource, target: string, since: number): Promise<Point[]> {
  const key = `${resource}\0${target}`;
  const have = fetched.get(key);
  // kept from `since` or earlier: only the points after the last one (a wider range starts over)
  const last = have && have.from <= since ? have.points[have.points.length - 1] : undefined;
  const ask = (from: number) => get<Point[]>(`/api/series?${new URLSearchParams({ resource, target, since: String(Math.floor(from)) })}`);
  const points = last ? [...have!.points, ...(await ask(last.t)).filter((p) => p.t > last.t)] : await ask(since);
  const kept = points.filter((p) => p.t >= since);
  fetched.set(key, { from: since, points: kept });
  return kept;
}

const forecastOf = (fs: Forecast[], resource: Resource, target: string) => fs.find((f) => f.resource === resource && f.target === target);

/** How urgent a mount looks: its findings, then its forecasts, then its use. */
function urgency(m: MountSample, s: Sample, fs: Forecast[]): number {
  const sev = s.findings.filter((f) => f.target === m.mountpoint).reduce((a, f) => Math.max(a, f.severity === 'critical' ? 3 : 2), 0);
  const filling = soonest(fs.filter((f) => f.resource === 'inodes' || f.resource === 'blocks'), m.mountpoint) ? 1 : 0;
  const use = Math.max(m.files && m.filesFree !== null ? 1 - m.filesFree / m.files : 0, m.sizeBytes && m.availBytes !== null ? 1 - m.availBytes / m.sizeBytes : 0);
  return sev * 10 + filling * 5 + use;
}

function charted(mounts: MountSample[], s: Sample, fs: Forecast[]): MountSample[] {
  const ranked = [...mounts].sort((a, b) => urgency(b, s, fs) - urgency(a, s, fs));
  return ranked.filter((m, i) => view.chosen.get(m.mountpoint) ?? i < CHARTED_BY_DEFAULT);
}

function mountsTable(s: Sample, fs: Forecast[], shown: Set<string>): HTMLElement {
  const now = s.t;
  const rows: Row[] = [...s.mounts].sort((a, b) => urgency(b, s, fs) - urgency(a, s, fs)).map((m) => {
    const used = m.files !== null && m.filesFree !== null ? m.files - m.filesFree : null;
    const bUsed = m.sizeBytes !== null && m.availBytes !== null ? m.sizeBytes - m.availBytes : null;
    const button = el('button', { type: 'button', class: 'toggle', 'aria-pressed': String(shown.has(m.mountpoint)) }, shown.has(m.mountpoint) ? 'Hide chart' : 'Chart');
    button.addEventListener('click', () => { view.chosen.set(m.mountpoint, !shown.has(m.mountpoint)); void refresh(); });
    return [
      m.mountpoint,
      m.fstype,
      m.deviceError ? 'statfs failed or timed out' : { node: meter(used, m.files || null, m.files ? `${num(used)} of ${num(m.files)} (${pct(used, m.files)})` : 'no inode limit') },
      m.deviceError ? '' : { node: meter(bUsed, m.sizeBytes, `${bytes(bUsed)} of ${bytes(m.sizeBytes)} (${pct(bUsed, m.sizeBytes)})`) },
      forecastText(forecastOf(fs, 'inodes', m.mountpoint), now),
      forecastText(forecastOf(fs, 'blocks', m.mountpoint), now),
      { node: button },
    ];
  });
  return table(`Every sampled mount, most urgent first (${s.mounts.length})`, ['mount', 'type', 'inodes used', 'space used', 'inode forecast', 'space forecast', ''], rows);
}

async function mountCard(m: MountSample, fs: Forecast[], now: number, from: number): Promise<HTMLElement> {
  const [inodes, blocks] = await Promise.all([series('inodes', m.mountpoint, from), series('blocks', m.mountpoint, from)]);
  const lines: Line[] = [
    { label: 'inodes', points: inodes, forecast: forecastOf(fs, 'inodes', m.mountpoint), color: color(0) },
    { label: 'space', points: blocks, forecast: forecastOf(fs, 'blocks', m.mountpoint), color: color(1) },
  ];
  const box = el('div', { class: 'plot', role: 'img', 'aria-label': `${m.mountpoint}: inode and space use over time, in % of the limits, with the forecast` });
  const card = el('figure', { class: 'card', 'data-mount': m.mountpoint },
    el('figcaption', {}, el('strong', {}, m.mountpoint), ` ${m.fstype}`,
      ...lines.map((l) => el('span', { class: 'state', 'data-resource': l.label === 'inodes' ? 'inodes' : 'blocks', 'data-exhaustion': String(l.forecast?.exhaustionAt ?? '') },
        `${l.label}: ${forecastText(l.forecast, now)}`))),
    box);
  if (!inodes.length && !blocks.length) box.append(none('No history in this range yet.'));
  else chart(box, { lines, asShare: true, from, to: now + (now - from) / 4, width: chartWidth('charts', true) });
  card.append(chartTable(`${m.mountpoint}: the last samples`, lines, true, now));
  return card;
}

async function patternsSection(s: Sample, fs: Forecast[], from: number): Promise<HTMLElement> {
  if (!s.patterns.length) return none('No census of the watched paths yet (the first comes at start, then every census interval).');
  const byMount = new Map<string, Sample['patterns']>();
  for (const p of s.patterns) byMount.set(p.mountpoint, [...(byMount.get(p.mountpoint) ?? []), p]);
  const out = el('div', {});
  for (const [mount, ps] of byMount) {
    const rows: Row[] = ps.map((p) => [
      { text: num(p.files), num: true }, { text: p.orphans === null ? 'unknown' : num(p.orphans), num: true },
      { text: p.pattern }, p.owners.join(', ') || 'unknown', p.producer ?? '',
      forecastText(forecastOf(fs, 'pattern', `${mount}:${p.pattern}`), s.t),
    ]);
    const top = ps.slice(0, PATTERN_LINES);
    const points = await Promise.all(top.map((p) => series('pattern', `${mount}:${p.pattern}`, from)));
    const lines: Line[] = top.map((p, i) => ({ label: p.pattern, points: points[i]!, forecast: forecastOf(fs, 'pattern', `${mount}:${p.pattern}`), color: color(i) }));
    const box = el('div', { class: 'plot', role: 'img', 'aria-label': `${mount}: files of the top patterns over time` });
    const card = el('figure', { class: 'card wide' }, el('figcaption', {}, el('strong', {}, mount), ' top name patterns'), box);
    out.append(card);
    if (points.some((p) => p.length)) chart(box, { lines, asShare: false, from, to: s.t + (s.t - from) / 4, width: chartWidth('patterns', false) });
    else box.append(none('No history in this range yet.'));
    card.append(table(`${mount}: top name patterns at the last census`, ['files', 'orphans', 'pattern', 'owners', 'known producer', 'forecast'], rows, [true, true]));
    card.append(chartTable(`${mount}: the last censuses`, lines, false, s.t));
  }
  return out;
}

function watchesSection(s: Sample): HTMLElement {
  if (!s.users.length) return none('No process holds inotify watches, or they could not be read (the agent is not root?).');
  const { inotifyWatches: wl, inotifyInstances: il } = s.limits;
  const rows: Row[] = s.users.map((u) => [
    u.user || String(u.uid),
    { node: meter(u.inotifyWatches, wl, `${num(u.inotifyWatches)} of ${num(wl)} (${pct(u.inotifyWatches, wl)})`) },
    { node: meter(u.inotifyInstances, il, `${num(u.inotifyInstances)} of ${num(il)} (${pct(u.inotifyInstances, il)})`) },
    { text: num(u.fanotifyMarks), num: true }, { text: num(u.epollWatches), num: true },
    (u.top ?? []).map((p) => `${p.comm} (${p.pid}): ${num(p.watches)}`).join('; ') || 'none',
  ]);
  const at = s.usersAt !== undefined ? el('p', { class: 'note' }, `Read ${span(s.t - s.usersAt)} before the last sample (reading every process's watches is spaced out where it is dear).`) : null;
  return el('div', {}, table('Per user: inotify watches (fs.inotify.max_user_watches) and instances (max_user_instances)', ['user', 'inotify watches', 'inotify instances', 'fanotify marks', 'epoll watches', 'top processes by watches'], rows, [false, false, false, true, true]), at);
}

function tablesSection(s: Sample): HTMLElement {
  if (!s.tables.length) return none('The kernel tables could not be read.');
  return table('SysV IPC, POSIX message queues and ptys against their limits', ['table', 'used'], s.tables.map((t) => {
    // a limit past 2^53 (ipc.shm-pages' default) is no limit in practice, and not exact as a number
    const limit = t.limit !== null && t.limit < 2 ** 53 ? t.limit : null;
    const text = t.used === null ? `unknown${limit !== null ? ` (limit ${num(limit)})` : ''}` : `${num(t.used)} of ${limit === null ? 'no practical limit' : `${num(limit)} (${pct(t.used, limit)})`}`;
    return [t.table, { node: meter(t.used, limit, text) }];
  }));
}

function containersSection(s: Sample): HTMLElement {
  if (!s.idmappedCopies.length) return none('No container store with ID-mapped layer copies was seen (read hourly).');
  return table('Images with ID-mapped copies of their layers', ['copies', 'image', 'store'], s.idmappedCopies.map((c) => [{ text: num(c.copies), num: true }, c.image, c.store]), [true]);
}

function staleness(status: AgentStatus | null, error: string | null): void {
  const box = document.getElementById('stale')!;
  let text = '';
  if (error) text = `The agent does not answer (${error})${view.lastGood ? `; what is shown is from ${when(view.lastGood, Date.now() / 1000)}` : ''}.`;
  else if (status && status.sampleAt === null) text = 'No sample yet: the first comes after the agent\'s first census.';
  else if (status && status.sampleAt !== null && status.now - status.sampleAt > Math.max(3 * status.intervalS, status.intervalS + 30)) {
    text = `The agent's data is stale: its last sample is ${span(status.now - status.sampleAt)} old (it samples every ${span(status.intervalS)}).`;
  }
  box.textContent = text;
  box.hidden = !text;
}

async function refresh(): Promise<void> {
  clearTimeout(view.timer);
  let status: AgentStatus | null = null;
  try {
    status = await get<AgentStatus>('/api/status');
    const [sample, forecasts] = await Promise.all([get<Sample | null>('/api/sample'), get<Forecast[]>('/api/forecasts')]);
    staleness(status, null);
    document.getElementById('host')!.textContent = status.host;
    document.title = `enospc · ${status.host}`;
    document.getElementById('meta')!.textContent = `enospc ${status.version} · samples every ${span(status.intervalS)}, census every ${span(status.censusIntervalS)}` +
      (sample ? ` · last sample ${clock(sample.t)}` : '');
    if (sample) await render(sample, forecasts);
    view.lastGood = Date.now() / 1000;
  } catch (e) {
    staleness(status, e instanceof Error ? e.message : String(e));
  }
  const every = Math.min(60, Math.max(2, status?.intervalS ?? 15));
  view.timer = window.setTimeout(() => void refresh(), every * 1000);
}

async function render(s: Sample, fs: Forecast[]): Promise<void> {
  const v = verdict(s, fs, s.t);
  const line = document.getElementById('verdict')!;
  line.textContent = v.text;
  line.className = `verdict ${v.level}`;
  show('findings', findings(s));
  const from = s.t - view.range;
  const shown = charted(s.mounts, s, fs);
  show('mounts', mountsTable(s, fs, new Set(shown.map((m) => m.mountpoint))));
  const gen = ++view.generation;
  const cards = await Promise.all(shown.map((m) => mountCard(m, fs, s.t, from)));
  const patterns = await patternsSection(s, fs, from);
  if (gen !== view.generation) return;
  show('charts', ...cards);
  show('patterns', patterns);
  show('watches', watchesSection(s));
  show('tables', tablesSection(s));
  show('containers', containersSection(s));
}

document.getElementById('range')!.addEventListener('change', (e) => {
  view.range = Number((e.target as HTMLInputElement).value);
  void refresh();
});
void refresh();
