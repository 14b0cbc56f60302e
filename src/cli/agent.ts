// enospc agent: the long-running sampler, history, forecasts and exporter (src/agent).
import { parseSpan } from '../clean/rules.js';
import { Agent } from '../agent/agent.js';
import { HistoryOpenError } from '../agent/history.js';
import { displayText } from '../shared/text.js';
import { say } from './output.js';
import { fail } from './fail.js';

export interface AgentFlags {
  listen: string; db: string; interval: string; censusInterval: string; watch?: string[]; textfile?: string; once?: boolean;
}

/** ADDR:PORT (`127.0.0.1:9942`, `[::1]:9942`, `:9942` for every address). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) fail(`--listen takes ADDRESS:PORT (127.0.0.1:9942, [::1]:9942, :9942), not '${displayText(text)}'`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function seconds(name: string, text: string): number {
  const ms = parseSpan(text);
  if (ms === null || !(ms >= 100) || ms === Infinity) fail(`${name} takes a duration of at least 100ms (15s, 5m, 1h), not '${displayText(text)}'`);
  return ms / 1000;
}

export async function runAgent(flags: AgentFlags, version: string): Promise<number> {
  const intervalS = seconds('--interval', flags.interval);
  const censusIntervalS = seconds('--census-interval', flags.censusInterval);
  const parsed = parseListen(flags.listen);
  const listen = flags.once ? null : parsed;
  let agent: Agent;
  try {
    agent = Agent.open({
      listen, db: flags.db, intervalS, censusIntervalS, watch: flags.watch ?? [], textfile: flags.textfile ?? null,
      once: flags.once === true, version, say: (line) => say(line + '\n'),
    });
  } catch (e) {
    if (e instanceof HistoryOpenError) fail(e.message);
    throw e;
  }
  try {
    return await agent.run();
  } catch (e) {
    // the server says why it cannot bind (in use, no permission, no such address) in one line
    if (e instanceof Error && e.message.startsWith('cannot listen on ')) fail(e.message);
    throw e;
  }
}
