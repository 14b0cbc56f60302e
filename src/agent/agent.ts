// enospc agent's loop: samples every interval, runs the census every census interval, keeps the
// history, forecasts every series, writes the metrics for node_exporter's textfile collector,
// and hands the latest of everything to `publish` (serve.ts runs this loop in a worker thread
// and serves what it publishes, so a scrape never waits for a sample). stop() ends it after the
// write in progress.
import { Sampler } from './sampler.js';
import { History } from './history.js';
import { forecast } from './forecast.js';
import { metricsText } from './metrics.js';
import { writeTextfile } from './textfile.js';
import type { Forecast, Point, Resource, Sample } from './types.js';
import { inodeNumbersKept } from './history-data.js';

/** What the loop hands out after every sample. */
export interface AgentState {
  sample: Sample | null;
  forecasts: Forecast[];
  writeErrors: number;
  /** the exposition of all of it (/metrics, the textfile) */
  metrics: string;
}

export interface AgentOptions {
  /** the history database */
  db: string;
  intervalS: number;
  censusIntervalS: number;
  watch: string[];
  /** node_exporter's textfile directory, or null */
  textfile: string | null;
  once: boolean;
  /** also catch the system calls that fail with ENOSPC (a trace instance; root) */
  catch?: boolean;
  version: string;
  /** told what happens (stderr) */
  say: (line: string) => void;
  /** handed the latest state after every sample (and once at the start, from the history) */
  publish?: (state: AgentState) => void;
}

/** How far back a forecast looks (s): long enough for daily cleanup cycles to show. */
const FORECAST_SPAN = 7 * 86400;
/** How often the history is compacted (raw to aggregates), s (bench/history.ts measures it so). */
const COMPACT_EVERY = 300;
/** How often the forecasts are made again, s (at the nominal interval; each reads days of points). */
const FORECAST_EVERY = 300;

/** A not_growing series still this long (s) is not forecast again (the forecaster's recent window). */
const STILL_FOR = 3600;

/** The interval the forecaster's thresholds are made for (s): a shorter one scales them down. */
const NOMINAL_INTERVAL = 15;

/**
 * forecast() with its time thresholds (windows, minimum span) scaled by `scale` (< 1: an agent
 * sampling faster than every 15 s judges on as many samples, over a shorter time), by stretching
 * time around `now` and mapping the answer back.
 */
export function forecastScaled(resource: Resource, target: string, points: Point[], now: number, scale: number): Forecast {
  if (scale >= 1) return forecast(resource, target, points, now);
  const stretch = (t: number) => now + (t - now) / scale;
  const back = (t: number) => now + (t - now) * scale;
  const f = forecast(resource, target, points.map((p) => ({ ...p, t: stretch(p.t) })), now);
  return {
    ...f,
    ...(f.exhaustionAt !== undefined ? { exhaustionAt: back(f.exhaustionAt) } : {}),
    ...(f.earliestAt !== undefined ? { earliestAt: back(f.earliestAt) } : {}),
    ...(f.needSeconds !== undefined ? { needSeconds: f.needSeconds * scale } : {}),
    slopePerSecond: f.slopePerSecond === null ? null : f.slopePerSecond / scale,
    slopeLow: f.slopeLow === null ? null : f.slopeLow / scale,
    slopeHigh: f.slopeHigh === null ? null : f.slopeHigh / scale,
    spanSeconds: f.spanSeconds * scale,
    segmentStart: back(f.segmentStart),
  };
}

/** The series of a sample that are forecast: every mount's inodes and blocks, every user's watches, every pattern, the inode numbers of 32-bit tmpfs. */
function targetsOf(s: Sample): Array<{ resource: Resource; target: string }> {
  const out: Array<{ resource: Resource; target: string }> = [];
  for (const m of s.mounts) {
    if (m.files) out.push({ resource: 'inodes', target: m.mountpoint });
    if (m.sizeBytes) out.push({ resource: 'blocks', target: m.mountpoint });
  }
  for (const u of s.users) out.push({ resource: 'inotify_watches', target: u.user });
  for (const p of s.patterns) out.push({ resource: 'pattern', target: `${p.mountpoint}:${p.pattern}` });
  for (const n of inodeNumbersKept(s)) out.push({ resource: 'inode_numbers', target: n.mountpoint });
  return out;
}

export class Agent {
  private last: Sample | null = null;
  private forecasts: Forecast[] = [];
  private forecastAt = -Infinity;
  /** how the last forecast pass went (it runs every few minutes; shown with every sample) */
  private forecastRun: Sample['collectors'][number] | null = null;
  private writeErrorsBefore = 0;
  private stopping = false;
  private wake: (() => void) | null = null;

  private constructor(private readonly opts: AgentOptions, private readonly history: History, private readonly sampler: Sampler) {}

  /** Open the history (throws a clear error for an unwritable path) and make the agent. */
  static open(opts: AgentOptions): Agent {
    const history = History.open(opts.db);
    const sampler = new Sampler({ watch: opts.watch, intervalS: opts.intervalS, catch: opts.catch === true });
    if (sampler.catchUnavailable) opts.say(`enospc agent: --catch: ${sampler.catchUnavailable}; the agent runs without it`);
    return new Agent(opts, history, sampler);
  }

  /** Run until stopped (or one sample with --once). Resolves with the exit status. */
  async run(): Promise<number> {
    const { opts } = this;
    this.last = this.history.latest();
    this.publish();
    let nextCensus = 0;
    let nextCompact = Date.now() / 1000 + COMPACT_EVERY;
    try {
      while (!this.stopping) {
        const now = Date.now() / 1000;
        if (now >= nextCensus) {
          await this.sampler.runCensus();
          nextCensus = now + opts.censusIntervalS;
        }
        if (this.stopping) break;
        await this.step();
        if (opts.once) break;
        if (now >= nextCompact) {
          this.history.compact(now);
          nextCompact = now + COMPACT_EVERY;
        }
        await this.sleep(opts.intervalS * 1000 - (Date.now() / 1000 - now) * 1000);
      }
    } finally {
      this.sampler.close();
      this.history.close();
    }
    return 0;
  }

  /** End the loop after the sample or write in progress. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** The state now, its exposition rendered, handed to `publish`. */
  private publish(): AgentState {
    const writeErrors = this.history.writeErrors;
    const state = { sample: this.last, forecasts: this.forecasts, writeErrors, metrics: metricsText(this.last, this.forecasts, { writeErrors, version: this.opts.version }) };
    this.opts.publish?.(state);
    return state;
  }

  /** One sample: taken, kept, forecast, written for the textfile collector. */
  async step(): Promise<void> {
    const s = await this.sampler.sample();
    let t0 = performance.now();
    this.history.record(s);
    s.collectors.push({ collector: 'history', seconds: (performance.now() - t0) / 1000, success: this.history.writeErrors === this.writeErrorsBefore });
    this.writeErrorsBefore = this.history.writeErrors;
    this.last = s;
    const scale = Math.min(1, this.opts.intervalS / NOMINAL_INTERVAL);
    if (s.t - this.forecastAt >= FORECAST_EVERY * scale) {
      this.forecastAt = s.t;
      t0 = performance.now();
      // a series judged not_growing whose value has not moved for an hour cannot have turned to
      // filling (that needs the last hour to grow): its forecast stands, and its days of points
      // are not read again (most series of a large host are still)
      const before = new Map(this.forecasts.map((f) => [`${f.resource}\0${f.target}`, f]));
      this.forecasts = targetsOf(s).map(({ resource, target }) => {
        const old = before.get(`${resource}\0${target}`), since = this.history.unchangedSince(resource, target);
        if (old?.state === 'not_growing' && since !== undefined && s.t - since >= STILL_FOR * scale) return old;
        return forecastScaled(resource, target, this.history.series(resource, target, s.t - FORECAST_SPAN * scale), s.t, scale);
      });
      this.forecastRun = { collector: 'forecast', seconds: (performance.now() - t0) / 1000, success: true };
    }
    if (this.forecastRun) s.collectors.push(this.forecastRun);
    const { metrics } = this.publish();
    if (this.opts.textfile) {
      try {
        await writeTextfile(this.opts.textfile, metrics);
      } catch (e) {
        this.opts.say(`enospc agent: ${(e as Error).message}`);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, Math.max(0, ms));
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }

  /** The points of one series since `since` (for /api/series). */
  series(resource: Resource, target: string, since: number): Point[] {
    return this.history.series(resource, target, since);
  }
}
