// The agent's HTTP server (node:http): GET /metrics (the exposition), GET /api/<name> (JSON),
// GET / (a landing page). Every answer is made from the state the agent already holds: a scrape
// never waits for a scan, so a hung mount or a slow census cannot stall Prometheus.
import http from 'node:http';
import { CONTENT_TYPE } from './metrics.js';

export interface ServerState {
  /** the exposition of the latest state (rendered once per sample, not per scrape) */
  metrics(): string;
  /** the JSON of /api/<name> (or a promise of it), undefined when there is no such name */
  api(name: string): unknown;
  /** the API names to link from the landing page (optional) */
  apiNames?(): string[];
}

export interface Address { host: string; port: number }

/** JSON already serialized (what the agent's loop posts), sent as it is. */
export class RawJson {
  constructor(readonly text: string) {}
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'no interface has that address',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved (try again later)',
  EAFNOSUPPORT: 'that address family is not supported here',
};

/** host:port as a user would type it ([::1]:9100 for IPv6). */
export function formatAddress(a: Address): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

function reason(e: unknown): string {
  const err = (typeof e === 'object' && e !== null ? e : {}) as NodeJS.ErrnoException;
  const known = err.code ? REASONS[err.code] : undefined;
  const why = known ?? (err.code === 'ERR_SOCKET_BAD_PORT' ? 'the port must be 0 to 65535' : String(err.message ?? e));
  return why.split('\n')[0]!;
}

const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function landing(names: string[]): string {
  const api = names.map((n) => `<li><a href="/api/${encodeURIComponent(n)}">/api/${html(n)}</a></li>`).join('\n');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>enospc agent</title></head>
<body>
<h1>enospc agent</h1>
<p>Why Linux says "No space left on device": inodes, tmpfs limits, inotify watches, kernel tables, and when they run out.</p>
<ul>
<li><a href="/metrics">/metrics</a> (Prometheus)</li>
${api}
</ul>
</body></html>
`;
}

function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(buf.length), 'Cache-Control': 'no-store', ...headers });
  res.end(buf);
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

async function handle(state: ServerState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, TEXT, `method ${req.method ?? '?'} not allowed: GET or HEAD\n`, { Allow: 'GET, HEAD' });
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://agent').pathname);
  } catch {
    send(res, 400, TEXT, 'bad request path\n');
    return;
  }
  try {
    if (path === '/metrics') {
      send(res, 200, CONTENT_TYPE, state.metrics());
    } else if (path === '/') {
      send(res, 200, 'text/html; charset=utf-8', landing(state.apiNames?.() ?? []));
    } else if (path.startsWith('/api/') && path.length > 5) {
      const name = path.slice(5);
      const value = await state.api(name);
      if (value === undefined) send(res, 404, JSON_TYPE, JSON.stringify({ error: `no such API: ${name}` }) + '\n');
      else send(res, 200, JSON_TYPE, (value instanceof RawJson ? value.text : JSON.stringify(value)) + '\n');
    } else {
      send(res, 404, TEXT, `not found: ${path}\n`);
    }
  } catch (e) {
    // a bug in rendering: say so to the client, keep serving
    if (!res.headersSent) send(res, 500, TEXT, `internal error: ${reason(e)}\n`);
    else res.destroy();
  }
}

/** Listen on addr and serve state. Resolves once listening (addr.port 0: see server.address());
 *  rejects with one clear line when the address cannot be bound. */
export function startServer(addr: Address, state: ServerState): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => void handle(state, req, res));
    const where = formatAddress(addr);
    const fail = (e: unknown) => {
      server.close();
      reject(new Error(`cannot listen on ${where}: ${reason(e)}`));
    };
    server.once('error', fail);
    try {
      server.listen(addr.port, addr.host, () => {
        server.off('error', fail);
        // after the bind, an error on the listening socket is reported, not fatal
        server.on('error', (e) => process.emitWarning(`enospc agent server ${where}: ${reason(e)}`));
        resolve(server);
      });
    } catch (e) {
      fail(e); // a bad port (RangeError) is thrown, not emitted
    }
  });
}
