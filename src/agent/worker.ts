// The agent's loop in a worker thread (started by serve.ts): everything that takes time (statfs
// through the guard, /proc reads, the census, SQLite, forecasts) happens here, so the main
// thread's HTTP server answers every scrape at once from the last state this posts.
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, type AgentOptions } from './agent.js';
import { HistoryOpenError } from './history.js';
import { setConfig, type Config } from '../shared/config.js';
import type { Point, Resource } from './types.js';

/** The loop's options as they cross to the worker (no functions). */
export type LoopOptions = Omit<AgentOptions, 'say' | 'publish'> & { config?: Config };

export type ToWorker = { type: 'stop' } | { type: 'series'; id: number; resource: Resource; target: string; since: number };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'open-error'; message: string }
  /** the state as the server sends it: the exposition, the sample's and the forecasts' JSON */
  | { type: 'state'; metrics: string; sample: string; forecasts: string; at: number | null }
  | { type: 'say'; line: string }
  | { type: 'series'; id: number; points: Point[] }
  | { type: 'done'; code: number };

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('agent/worker.js runs as a worker thread');
  const post = (m: FromWorker) => port.postMessage(m);
  // the configuration read by the command, again in this thread (module state is per thread)
  const { config, ...loop } = workerData as LoopOptions;
  if (config) setConfig(config);
  let agent: Agent;
  try {
    agent = Agent.open({
      ...loop,
      say: (line) => post({ type: 'say', line }),
      // strings cross to the server's thread: it parses nothing and holds no object graphs
      publish: (state) => post({ type: 'state', metrics: state.metrics, sample: JSON.stringify(state.sample), forecasts: JSON.stringify(state.forecasts), at: state.sample?.t ?? null }),
    });
  } catch (e) {
    if (!(e instanceof HistoryOpenError)) throw e;
    post({ type: 'open-error', message: e.message });
    return;
  }
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') agent.stop();
    else if (m.type === 'series') post({ type: 'series', id: m.id, points: agent.series(m.resource, m.target, m.since) });
  });
  post({ type: 'ready' });
  void agent.run().then((code) => {
    post({ type: 'done', code });
    port.close();
  });
}

main();
