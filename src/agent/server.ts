// The agent's HTTP server (node:http, or https with --web-config): GET /metrics (the
// exposition), GET /api/<name> (JSON), GET / and /assets/* (the dashboard page, src/web). Every
// answer is made from the state the agent already holds: a scrape never waits for a scan, so a
// hung mount or a slow census cannot stall Prometheus.
//
// The surface is read-only and bounded: GET and HEAD only (405 else); basic auth and TLS from the
// web config; security headers on every answer (a CSP without inline scripts, no framing, no
// sniffing); when bound to loopback, a Host that is not a loopback name is refused (a web page
// elsewhere cannot reach the agent through DNS rebinding); limits on connections, header size
// and the time a request may take, so slow or many clients cannot grow memory or stall a scrape.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { CONTENT_TYPE } from './metrics.js';
import { pageAssets, type Asset } from './page.js';
import { BasicAuth, type WebConfig } from './web-config.js';

export interface ServerState {
  /** the exposition of the latest state (rendered once per sample, not per scrape) */
  metrics(): string;
  /** the JSON of /api/<name> (or a promise of it), undefined when there is no such name */
  api(name: string): unknown;
}

export interface Address { host: string; port: number }

/** How much the server lets clients hold (docs/agent.md). */
export const LIMITS = {
  connections: 1024,
  headerBytes: 16 * 1024,
  /** the whole request head must arrive within this; the whole request within requestMs */
  headersMs: 10_000,
  requestMs: 20_000,
  /** an idle connection is closed after this */
  idleMs: 30_000,
  keepAliveMs: 5_000,
};

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

/** Is this listen address reachable only from this host? */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

function reason(e: unknown): string {
  const err = (typeof e === 'object' && e !== null ? e : {}) as NodeJS.ErrnoException;
  const known = err.code ? REASONS[err.code] : undefined;
  const why = known ?? (err.code === 'ERR_SOCKET_BAD_PORT' ? 'the port must be 0 to 65535' : String(err.message ?? e));
  return why.split('\n')[0]!;
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** The Host header's name, without the port; null when there is none. */
function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(header.trim());
  return m ? (m[1] ?? m[2]!).toLowerCase() : null;
}

interface Handler {
  state: ServerState;
  headers: Record<string, string>;
  auth: BasicAuth | null;
  loopbackOnly: boolean;
  assets: Map<string, Asset>;
}

function send(h: Handler, res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...h.headers, 'Content-Type': type, 'Content-Length': String(buf.length), 'Cache-Control': 'no-store', ...extra });
  res.end(buf);
}

async function handle(h: Handler, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (h.loopbackOnly) {
    const host = hostName(req.headers.host);
    if (host === null || !isLoopback(host)) {
      send(h, res, 421, TEXT, 'this agent listens on loopback: ask it as localhost, 127.0.0.1 or [::1]\n');
      return;
    }
  }
  if (h.auth && !(await h.auth.allows(req.headers.authorization))) {
    send(h, res, 401, TEXT, 'authentication required\n', { 'WWW-Authenticate': 'Basic realm="enospc agent", charset="UTF-8"' });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(h, res, 405, TEXT, `method ${req.method ?? '?'} not allowed: GET or HEAD\n`, { Allow: 'GET, HEAD' });
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://agent').pathname);
  } catch {
    send(h, res, 400, TEXT, 'bad request path\n');
    return;
  }
  try {
    const asset = h.assets.get(path);
    if (path === '/metrics') {
      send(h, res, 200, CONTENT_TYPE, h.state.metrics());
    } else if (asset) {
      if (req.headers['if-none-match'] === asset.etag) send(h, res, 304, asset.type, '', { ETag: asset.etag, 'Cache-Control': 'no-cache' });
      else send(h, res, 200, asset.type, asset.body, { ETag: asset.etag, 'Cache-Control': 'no-cache' });
    } else if (path.startsWith('/api/') && path.length > 5) {
      const name = path.slice(5) + (req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '');
      const value = await h.state.api(name);
      if (value === undefined) send(h, res, 404, JSON_TYPE, JSON.stringify({ error: `no such API: ${path.slice(5)}` }) + '\n');
      else send(h, res, 200, JSON_TYPE, (value instanceof RawJson ? value.text : JSON.stringify(value)) + '\n');
    } else {
      send(h, res, 404, TEXT, `not found: ${path}\n`);
    }
  } catch (e) {
    // a bug in rendering: say so to the client, keep serving
    if (!res.headersSent) send(h, res, 500, TEXT, `internal error: ${reason(e)}\n`);
    else res.destroy();
  }
}

/** Listen on addr and serve state. Resolves once listening (addr.port 0: see server.address());
 *  rejects with one clear line when the address cannot be bound. */
export function startServer(addr: Address, state: ServerState, web: WebConfig | null = null): Promise<http.Server> {
  const h: Handler = {
    state, headers: { ...SECURITY_HEADERS, ...web?.headers }, auth: web?.users.size ? new BasicAuth(web.users) : null,
    loopbackOnly: isLoopback(addr.host), assets: pageAssets(),
  };
  const options: http.ServerOptions = {
    maxHeaderSize: LIMITS.headerBytes, requestTimeout: LIMITS.requestMs, headersTimeout: LIMITS.headersMs, keepAliveTimeout: LIMITS.keepAliveMs,
    // the request and header timeouts are checked this often (Node's default: every 30 s)
    connectionsCheckingInterval: 2_000,
  };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void handle(h, req, res);
  return new Promise((resolve, reject) => {
    const server = web?.tls ? https.createServer({ ...options, ...web.tls, handshakeTimeout: LIMITS.headersMs }, onRequest) : http.createServer(options, onRequest);
    server.maxConnections = LIMITS.connections;
    server.maxHeadersCount = 100;
    // a connection that sends nothing for this long is closed (no listener: Node destroys it)
    server.setTimeout(LIMITS.idleMs);
    const where = formatAddress(addr);
    const fail = (e: unknown) => {
      server.close();
      reject(new Error(`cannot listen on ${where}: ${reason(e)}`));
    };
    server.once('error', fail);
    // a client that speaks garbage or drops the connection: close its socket, say nothing
    server.on('clientError', (_e, socket) => socket.destroy());
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
