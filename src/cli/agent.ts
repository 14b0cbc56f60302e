// enospc agent: the long-running sampler, history, forecasts and exporter (src/agent).
import { parseSpan } from '../clean/rules.js';
import { AgentStartError, serveAgent } from '../agent/serve.js';
import { isLoopback } from '../agent/server.js';
import { loadWebConfig, WebConfigError, type WebConfig } from '../agent/web-config.js';
import type { LoopOptions } from '../agent/worker.js';
import type { Agent as AgentType } from '../agent/agent.js';
import { displayText } from '../shared/text.js';
import { say } from './output.js';
import { config } from '../shared/config.js';
import { fail } from './fail.js';

export interface AgentFlags {
  listen: string; webConfig?: string; db: string; interval: string; censusInterval: string; watch?: string[]; textfile?: string; once?: boolean; catch?: boolean;
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
  const listen = parseListen(flags.listen);
  const loop: LoopOptions = {
    config: config(), db: flags.db, intervalS, censusIntervalS, watch: flags.watch ?? [], textfile: flags.textfile ?? null, once: flags.once === true, catch: flags.catch === true && flags.once !== true, version,
  };
  const tell = (line: string) => say(line + '\n');
  if (!flags.once) {
    let web: WebConfig | null = null;
    if (flags.webConfig !== undefined) {
      try {
        web = loadWebConfig(flags.webConfig);
      } catch (e) {
        if (e instanceof WebConfigError) fail(`--web-config ${displayText(flags.webConfig)}: ${e.message}`);
        throw e;
      }
    }
    if (!isLoopback(listen.host) && !web?.users.size) {
      tell(`enospc agent: warning: listening on ${listen.host} without authentication: whoever reaches the port sees process names, users and paths (--web-config with basic_auth_users, docs/agent.md)`);
    }
    // the loop in a worker thread, the server here
    try {
      return await serveAgent(loop, listen, tell, web);
    } catch (e) {
      // a database it cannot use; an address it cannot bind (in use, no permission, no such address)
      if (e instanceof AgentStartError || (e instanceof Error && e.message.startsWith('cannot listen on '))) fail(e.message);
      throw e;
    }
  }
  // --once: the loop here (nothing to serve); its modules are loaded only now, so that the
  // serving thread above holds no more than its server
  const { Agent } = await import('../agent/agent.js') as { Agent: typeof AgentType };
  const { HistoryOpenError } = await import('../agent/history.js');
  let agent: AgentType;
  try {
    agent = Agent.open({ ...loop, say: tell });
  } catch (e) {
    if (e instanceof HistoryOpenError) fail(e.message);
    throw e;
  }
  const stop = () => agent.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    return await agent.run();
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
