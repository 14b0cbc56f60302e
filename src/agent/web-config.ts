// `--web-config FILE`: the web configuration file of Prometheus' exporter-toolkit (the one
// node_exporter takes as --web.config.file), so one file serves both: tls_server_config (a
// certificate and key, a client CA), http_server_config (extra headers) and basic_auth_users
// (bcrypt hashes). Keys are checked as strictly as exporter-toolkit does (an unknown key is an
// error); what enospc does not support is refused by name rather than ignored. Differences from
// exporter-toolkit, in docs/agent.md: the file is read once at start (not on each connection),
// and HTTP/2 is not served (http2: true is accepted, HTTP/1.1 answers).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';

export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
}

export interface WebConfig {
  /** the options of https.createServer, or null for plain HTTP */
  tls: tls.TlsOptions | null;
  /** user: bcrypt hash; empty: no authentication */
  users: Map<string, string>;
  /** extra response headers (http_server_config.headers) */
  headers: Record<string, string>;
}

const TLS_KEYS = new Set(['cert', 'key', 'cert_file', 'key_file', 'client_ca', 'client_ca_file', 'client_auth_type', 'min_version', 'max_version',
  'cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites', 'client_allowed_sans']);
const UNSUPPORTED_TLS = new Set(['cipher_suites', 'curve_preferences', 'client_allowed_sans']);
const VERSIONS: Record<string, tls.SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
/** the headers exporter-toolkit lets a file set */
const HEADERS = new Set(['Strict-Transport-Security', 'X-Content-Type-Options', 'X-Frame-Options', 'X-XSS-Protection', 'Content-Security-Policy']);

function record(v: unknown, where: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new WebConfigError(`${where} must be a mapping`);
  return v as Record<string, unknown>;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new WebConfigError(`${where} must be a string`);
  return v;
}

function tlsOptions(raw: Record<string, unknown>, dir: string): tls.TlsOptions | null {
  for (const k of Object.keys(raw)) {
    if (!TLS_KEYS.has(k)) throw new WebConfigError(`tls_server_config: unknown key '${k}'`);
    if (UNSUPPORTED_TLS.has(k)) throw new WebConfigError(`tls_server_config.${k} is not supported by enospc (Node's TLS defaults apply)`);
  }
  const read = (key: string) => {
    const file = path.resolve(dir, text(raw[key], `tls_server_config.${key}`));
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new WebConfigError(`tls_server_config.${key}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  };
  const has = (k: string) => raw[k] !== undefined || raw[`${k}_file`] !== undefined;
  if (has('key') && !has('cert')) throw new WebConfigError('tls_server_config: key_file without cert_file');
  if (has('cert') && !has('key')) throw new WebConfigError('tls_server_config: cert_file without key_file');
  const cert = raw['cert'] !== undefined ? Buffer.from(text(raw['cert'], 'tls_server_config.cert')) : raw['cert_file'] !== undefined ? read('cert_file') : null;
  const key = raw['key'] !== undefined ? Buffer.from(text(raw['key'], 'tls_server_config.key')) : raw['key_file'] !== undefined ? read('key_file') : null;
  if (!cert && !key) {
    if (Object.keys(raw).length) throw new WebConfigError('tls_server_config needs cert_file and key_file');
    return null;
  }
  const opts: tls.TlsOptions = { cert: cert!, key: key!, minVersion: 'TLSv1.2' };
  for (const [k, field] of [['min_version', 'minVersion'], ['max_version', 'maxVersion']] as const) {
    if (raw[k] === undefined) continue;
    const v = VERSIONS[text(raw[k], `tls_server_config.${k}`)];
    if (!v) throw new WebConfigError(`tls_server_config.${k} must be one of ${Object.keys(VERSIONS).join(', ')}`);
    opts[field] = v;
  }
  const auth = raw['client_auth_type'] === undefined ? 'NoClientCert' : text(raw['client_auth_type'], 'tls_server_config.client_auth_type');
  const ca = raw['client_ca'] !== undefined ? Buffer.from(text(raw['client_ca'], 'tls_server_config.client_ca')) : raw['client_ca_file'] !== undefined ? read('client_ca_file') : null;
  if (auth === 'RequireAndVerifyClientCert') {
    if (!ca) throw new WebConfigError('tls_server_config: RequireAndVerifyClientCert needs client_ca_file');
    Object.assign(opts, { ca, requestCert: true, rejectUnauthorized: true });
  } else if (auth !== 'NoClientCert') {
    throw new WebConfigError(`tls_server_config.client_auth_type ${auth} is not supported by enospc (NoClientCert or RequireAndVerifyClientCert)`);
  } else if (ca) {
    throw new WebConfigError('tls_server_config: a client CA needs client_auth_type: RequireAndVerifyClientCert');
  }
  return opts;
}

/** Read and check a web configuration file; throws WebConfigError with one line on anything wrong. */
export function loadWebConfig(file: string): WebConfig {
  let raw: unknown;
  try {
    raw = parse(fs.readFileSync(file, 'utf8'), { strict: true, uniqueKeys: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new WebConfigError(err.code && err.syscall ? `cannot read it: ${err.code}` : `not valid YAML: ${String(err.message).split('\n')[0]}`);
  }
  const top = record(raw, 'the file');
  for (const k of Object.keys(top)) if (!['tls_server_config', 'http_server_config', 'basic_auth_users'].includes(k)) throw new WebConfigError(`unknown key '${k}'`);
  const tlsOpts = tlsOptions(record(top['tls_server_config'], 'tls_server_config'), path.dirname(path.resolve(file)));
  const http = record(top['http_server_config'], 'http_server_config');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(http)) {
    if (k === 'http2') continue;
    if (k !== 'headers') throw new WebConfigError(`http_server_config: unknown key '${k}'`);
    for (const [name, value] of Object.entries(record(v, 'http_server_config.headers'))) {
      if (!HEADERS.has(name)) throw new WebConfigError(`http_server_config.headers: '${name}' cannot be set (${[...HEADERS].join(', ')})`);
      headers[name] = text(value, `http_server_config.headers.${name}`);
    }
  }
  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(record(top['basic_auth_users'], 'basic_auth_users'))) {
    const h = text(hash, `basic_auth_users.${user}`);
    if (!/^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(h)) throw new WebConfigError(`basic_auth_users.${user}: not a bcrypt hash (make one with: htpasswd -nBC 10 "" | tr -d ':\\n')`);
    if (user.includes(':')) throw new WebConfigError(`basic_auth_users: a user name cannot hold ':' (${user})`);
    users.set(user, h);
  }
  return { tls: tlsOpts, users, headers };
}

/** A bcrypt hash no password matches, compared against for unknown users (so a wrong user takes as long as a wrong password). */
const DUMMY = '$2b$10$M/i/7p6MjEDS6JPlVUgSH.LSisIdpGXxZeMkn2KxGB7WbmK/l2bxK';
/** successful checks remembered (bcrypt costs ~50-100 ms; a scrape every 15 s should not pay it each time) */
const REMEMBERED = 64;

/** The basic-auth gate: null when no users are configured. */
export class BasicAuth {
  private readonly ok = new Map<string, true>();

  constructor(private readonly users: Map<string, string>) {}

  /** Is this Authorization header one of the users with the right password? */
  async allows(header: string | undefined): Promise<boolean> {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header?.trim() ?? '');
    if (!m) return false;
    const pair = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    if (colon < 0) return false;
    const user = pair.slice(0, colon), password = pair.slice(colon + 1);
    const hash = this.users.get(user);
    const key = crypto.createHash('sha256').update(`${user}\0${password}\0${hash ?? ''}`).digest('base64');
    if (hash && this.ok.has(key)) return true;
    const good = await bcrypt.compare(password, hash ?? DUMMY);
    if (!good || !hash) return false;
    if (this.ok.size >= REMEMBERED) this.ok.delete(this.ok.keys().next().value!);
    this.ok.set(key, true);
    return true;
  }
}
