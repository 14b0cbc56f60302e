// The Prometheus HTTP API, as `enospc fleet` asks it: instant queries (GET /api/v1/query),
// each answer a vector of series with labels and a value. A server that cannot be reached, or
// answers with something else than Prometheus's JSON, is a FleetError with one line to say.

export class FleetError extends Error {
  override readonly name = 'FleetError';
  /** 2: the URL given is not one (bad input); 3: Prometheus could not tell (unreachable, not Prometheus, no enospc metrics) */
  constructor(message: string, readonly exitCode: 2 | 3 = 3) {
    super(message);
  }
}

export interface Series { labels: Record<string, string>; value: number }

/** The time limit of one query, ms. */
const TIMEOUT_MS = 10_000;

export class Prometheus {
  readonly base: string;

  constructor(url: string) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new FleetError(`--prometheus takes a URL such as http://prometheus:9090, not '${url}'`, 2);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FleetError(`--prometheus takes an http or https URL, not '${url}'`, 2);
    this.base = u.href.replace(/\/+$/, '');
  }

  /** The instant vector of `expr` now. */
  async query(expr: string): Promise<Series[]> {
    const url = `${this.base}/api/v1/query?query=${encodeURIComponent(expr)}`;
    let r: Response;
    try {
      r = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = (e as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : cause?.code ?? cause?.message ?? (e as Error).message;
      throw new FleetError(`cannot reach Prometheus at ${this.base}: ${why}`);
    }
    let body: { status?: string; error?: string; data?: { resultType?: string; result?: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    try {
      body = await r.json() as typeof body;
    } catch {
      throw new FleetError(`${this.base} is not a Prometheus server (its /api/v1/query answered HTTP ${r.status} without Prometheus's JSON)`);
    }
    if (body.status !== 'success') throw new FleetError(`Prometheus at ${this.base} refused the query: ${body.error ?? `HTTP ${r.status}`}`);
    if (body.data?.resultType !== 'vector') return [];
    return (body.data.result ?? []).map((s) => ({ labels: s.metric, value: Number(s.value[1]) }));
  }
}
