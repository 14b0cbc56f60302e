// enospc history and enospc forecast: what the agent's database holds, and what it says ahead.
import fs from 'node:fs';
import { parseSpan } from '../clean/rules.js';
import { History, HistoryOpenError } from '../agent/history.js';
import { forecastsOf } from '../agent/read.js';
import { FORECAST_RESOURCES } from '../agent/history-data.js';
import { FORECAST_SCHEMA, HISTORY_SCHEMA, forecastHuman, historyHuman, type ForecastJson, type HistoryJson } from '../report/history.js';
import { wantColor } from '../report/format.js';
import { displayText } from '../shared/text.js';
import { out } from './output.js';
import { fail } from './fail.js';

export interface HistoryFlags { db: string; since: string; json?: boolean }


function openHistory(db: string): History {
  if (!fs.existsSync(db)) fail(`no history at ${displayText(db)} (the agent writes it: enospc agent --db ${displayText(db)})`);
  try {
    return History.open(db, { readOnly: true }); // it only looks: no schema made, no WAL files left
  } catch (e) {
    if (e instanceof HistoryOpenError) fail(e.message);
    throw e;
  }
}

/** `enospc history [TARGET]`: use over time of every series (or those of TARGET: a mount point, a user, a pattern). */
export function runHistory(target: string | undefined, flags: HistoryFlags): number {
  const span = parseSpan(flags.since);
  if (span === null || !(span > 0)) fail(`--since takes a duration (1h, 24h, 7d, 90d), not '${displayText(flags.since)}'`);
  const h = openHistory(flags.db);
  try {
    const since = Date.now() / 1000 - span / 1000;
    const targets = h.targets().filter((t) => FORECAST_RESOURCES.has(t.resource) && (target === undefined || t.target === target || t.target.startsWith(`${target}:`)));
    if (target !== undefined && !targets.length) fail(`no history of '${displayText(target)}' (enospc history lists what there is)`);
    const j: HistoryJson = { schema: HISTORY_SCHEMA, since, series: targets.map((t) => ({ resource: t.resource, target: t.target, points: h.series(t.resource, t.target, since).map((p) => ({ t: p.t, used: p.used, limit: p.limit })) })) };
    out(flags.json ? JSON.stringify(j, null, 2) + '\n' : historyHuman(j, wantColor(process.stdout)));
    return 0;
  } finally {
    h.close();
  }
}

/** `enospc forecast`: every series' forecast, with its state and evidence. */
export function runForecast(flags: { db: string; json?: boolean }): number {
  const h = openHistory(flags.db);
  try {
    const now = Date.now() / 1000;
    const forecasts = forecastsOf(h, now);
    const j: ForecastJson = { schema: FORECAST_SCHEMA, now, forecasts };
    out(flags.json ? JSON.stringify(j, null, 2) + '\n' : forecastHuman(j, wantColor(process.stdout)));
    return forecasts.some((f) => f.state === 'filling') ? 1 : 0;
  } finally {
    h.close();
  }
}
