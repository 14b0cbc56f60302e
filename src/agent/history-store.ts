// The history's SQLite file: its schema, how it is opened (WAL, no temporary files, a mode of
// its own), and how a failure is told apart: a path that cannot be used, or a filesystem that
// is full (no block, no inode) for now.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'libsql';

export type Db = InstanceType<typeof Database>;
export type Stmt = ReturnType<Db['prepare']>;

export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, resource TEXT NOT NULL, target TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}', seg TEXT, UNIQUE(resource, target));
CREATE TABLE IF NOT EXISTS recent(t INTEGER PRIMARY KEY, points BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(series_id INTEGER NOT NULL, level INTEGER NOT NULL, t0 INTEGER NOT NULL,
  t1 INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(series_id, level, t0)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events(t INTEGER NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS latest(id INTEGER PRIMARY KEY CHECK (id = 1), t INTEGER NOT NULL, sample TEXT NOT NULL);`;

/** The history database cannot be used at this path (the CLI prints the message, exit 2). */
export class HistoryOpenError extends Error {
  override readonly name = 'HistoryOpenError';
  constructor(readonly file: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`cannot open the history database ${file}: ${reason}`, options);
  }
}

export const codeOf = (e: unknown): string => {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : '';
};
export const describe = (e: unknown): string => {
  const code = codeOf(e), msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  const cantOpen = /ConnectionFailed\(.*: (\d+)"?\)/.exec(msg);
  if (cantOpen) return `SQLite cannot open it (code ${cantOpen[1]})`;
  return code.startsWith('SQLITE_') && !msg.startsWith(code) ? `${code}: ${msg}` : msg;
};
/** errors after which the connection is closed and opened again at the next write */
export const BROKEN = /^SQLITE_(IOERR|CANTOPEN|CORRUPT|NOTADB|READONLY)/;

/** A failure for lack of room where the file is: ENOSPC, EDQUOT, SQLITE_FULL, or another error while no inode or block is free. */
export function isFull(e: unknown, dir: string): boolean {
  const code = codeOf(e);
  if (/^(ENOSPC|EDQUOT|SQLITE_FULL)/.test(code)) return true;
  if (/^(EROFS|EACCES|EPERM|ENOTDIR|EISDIR|ENAMETOOLONG|ELOOP|ESCHEMA|SQLITE_(NOTADB|READONLY|CORRUPT))/.test(code)) return false;
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const s = fs.statfsSync(d);
      return s.files > 0 && s.ffree === 0 || s.bavail === 0;
    } catch { if (d === path.dirname(d)) return false; }
  }
}

/** mkdir -p, mode 0750, with the errno of the level that failed (recursive mkdir says ENOENT for EROFS) */
function makeDir(dir: string): void {
  try { fs.mkdirSync(dir, { mode: 0o750 }); } catch (e) {
    if (codeOf(e) === 'EEXIST') return;
    if (codeOf(e) !== 'ENOENT' || dir === path.dirname(dir)) throw e;
    makeDir(path.dirname(dir));
    fs.mkdirSync(dir, { mode: 0o750 });
  }
}

/**
 * Open (creating it, mode 0640, and its directory, 0750) the database at `file` in WAL mode with
 * the schema; `prepare` prepares statements. Throws what failed, as it came.
 */
export function openDatabase(file: string, prepare: (db: Db, sql: string) => Stmt): Db {
  const dir = path.dirname(file);
  makeDir(dir);
  fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  if (fs.existsSync(file)) fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
  else fs.closeSync(fs.openSync(file, 'wx', 0o640)); // -wal and -shm take its mode
  const db = new Database(file);
  try {
    db.exec('PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY; PRAGMA auto_vacuum = INCREMENTAL');
    const mode = (db.pragma('journal_mode = WAL') as Array<{ journal_mode: string }>)[0]?.journal_mode;
    if (mode !== 'wal') throw new Error(`WAL mode refused (journal_mode ${mode})`);
    db.exec('PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 4194304');
    db.exec(`BEGIN IMMEDIATE; ${SCHEMA}`);
    const v = prepare(db, 'SELECT version FROM schema_version').get([]) as [number] | undefined;
    if (!v) prepare(db, 'INSERT INTO schema_version(version) VALUES (?)').run([SCHEMA_VERSION]);
    db.exec('COMMIT');
    if (v && v[0] !== SCHEMA_VERSION) throw Object.assign(new Error(`written by another enospc (schema version ${v[0]}; this one knows ${SCHEMA_VERSION})`), { code: 'ESCHEMA' });
    return db;
  } catch (e) {
    try { db.close(); } catch { /* closing what failed */ }
    throw e;
  }
}

/** A file's path as an SQLite URI (file:...): the characters a URI gives a meaning to are escaped. */
const uriOf = (file: string): string => `file:${file.replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;

/**
 * Open the database at `file` to read it, creating nothing (doctor runs on full filesystems) and
 * never waiting long (busy: `timeoutMs`). A read-only SQLite connection to a WAL database would
 * create the -wal and -shm files when they are not there. So with the agent's -wal (not empty)
 * and -shm there, it is read through them (read-only); else it is opened `immutable`, without
 * locks or WAL: the agent is stopped or its WAL is checkpointed (every 5 minutes), so the main
 * file holds everything, or all but what an agent that died left in a WAL without its -shm.
 * Throws what failed: no such file, not a regular file (a FIFO would block), not SQLite, or
 * another schema.
 */
export function openReadOnly(file: string, timeoutMs = 1000): Db {
  if (!fs.statSync(file).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
  const head = Buffer.alloc(100);
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try { fs.readSync(fd, head, 0, 100, 0); } finally { fs.closeSync(fd); }
  if (!head.subarray(0, 16).equals(Buffer.from('SQLite format 3\0'))) throw Object.assign(new Error('not an SQLite database'), { code: 'SQLITE_NOTADB' });
  const walSize = (() => { try { return fs.statSync(`${file}-wal`).size; } catch { return 0; } })();
  const throughWal = head[18] === 2 && walSize > 0 && fs.existsSync(`${file}-shm`);
  const db = new Database(`${uriOf(file)}?${head[18] === 2 && !throughWal ? 'immutable=1' : 'mode=ro'}`, { timeout: timeoutMs });
  try {
    let v: [number] | undefined;
    try {
      v = db.prepare('SELECT version FROM schema_version').raw().get([]) as [number] | undefined;
    } catch (e) {
      if (/no such table/.test((e as Error).message)) throw Object.assign(new Error('not an enospc history (no schema_version table)'), { code: 'ESCHEMA' });
      throw e;
    }
    if (v?.[0] !== SCHEMA_VERSION) throw Object.assign(new Error(`written by another enospc (schema version ${v?.[0] ?? 'none'}; this one knows ${SCHEMA_VERSION})`), { code: 'ESCHEMA' });
    return db;
  } catch (e) {
    try { db.close(); } catch { /* closing what failed */ }
    throw e;
  }
}
