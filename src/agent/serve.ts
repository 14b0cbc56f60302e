// `enospc agent` serving: the loop runs in a worker thread (worker.ts), this thread keeps the
// last state it posted and answers HTTP from it. A sample that reads /proc for half a second,
// a census, or a forecast pass never delays a scrape. SIGTERM and SIGINT stop the loop after
// the write in progress, then the server.
import type http from 'node:http';
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import { RawJson, startServer, type Address } from './server.js';
import type { WebConfig } from './web-config.js';
import type { FromWorker, LoopOptions, ToWorker } from './worker.js';
import type { AgentStatus, Point, Resource } from './types.js';

/** The loop's V8 young generation, MB. */
const YOUNG_MB = 4;

/** Why the agent could not start (a database it cannot use), in one line. */
export class AgentStartError extends Error {
  override readonly name = 'AgentStartError';
}

export async function serveAgent(loop: LoopOptions, listen: Address, say: (line: string) => void, web: WebConfig | null = null): Promise<number> {
  // a young generation of 4 MB (V8's default grows to 32): the census's short-lived garbage is
  // collected sooner, and the agent's RSS stays ~12 MB lower, for little more CPU
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: loop, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
  const send = (m: ToWorker) => worker.postMessage(m);
  let state = { metrics: '', sample: new RawJson('null'), forecasts: new RawJson('[]'), at: null as number | null };
  const startedAt = Date.now() / 1000;
  const host = os.hostname();
  const asked = new Map<number, (points: Point[]) => void>();
  let nextId = 0;
  let ended: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => { ended = resolve; });
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'open-error') reject(new AgentStartError(m.message));
      else if (m.type === 'state') state = { metrics: m.metrics, sample: new RawJson(m.sample), forecasts: new RawJson(m.forecasts), at: m.at };
      else if (m.type === 'say') say(m.line);
      else if (m.type === 'series') {
        asked.get(m.id)?.(m.points);
        asked.delete(m.id);
      } else if (m.type === 'done') ended(m.code);
    });
    worker.on('error', (e) => {
      say(`enospc agent: the sampler failed: ${String(e.message).split('\n')[0]}`);
      reject(e);
      ended(1);
    });
    worker.on('exit', () => {
      reject(new AgentStartError('the sampler ended before it started'));
      ended(1);
    });
  });
  await ready;
  const stop = () => send({ type: 'stop' });
  let server: http.Server;
  try {
    server = await startServer(listen, {
      metrics: () => state.metrics,
      api: (name: string) => {
        const [what, query] = name.split('?', 2);
        if (what === 'sample') return state.sample;
        if (what === 'forecasts') return state.forecasts;
        if (what === 'status') {
          return {
            version: loop.version, host, now: Date.now() / 1000, startedAt, sampleAt: state.at,
            intervalS: loop.intervalS, censusIntervalS: loop.censusIntervalS,
          } satisfies AgentStatus;
        }
        if (what !== 'series') return undefined;
        const q = new URLSearchParams(query ?? '');
        const resource = q.get('resource') as Resource | null;
        const target = q.get('target');
        if (!resource || !target) return undefined;
        const id = nextId++;
        send({ type: 'series', id, resource, target, since: Number(q.get('since') ?? Date.now() / 1000 - 86400) });
        return new Promise<Point[]>((resolve) => asked.set(id, resolve));
      },
    }, web);
  } catch (e) {
    stop();
    await finished;
    throw e;
  }
  const a = server.address();
  if (a && typeof a === 'object') {
    const base = `${web?.tls ? 'https' : 'http'}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    say(`enospc agent: serving ${base}/metrics, the page at ${base}/`);
  }
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    return await finished;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
