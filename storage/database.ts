import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  type QueryResult,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
} from 'kysely';
import { createOwnerOnlyFile, secureDataDir } from './data-dir.ts';
import { registerEventKey } from './event-key.ts';
import type { Database } from './schema.ts';

/** The app's SQLite database handle together with the engine underneath, for the few things Kysely cannot say. */
export interface SqliteStorage {
  kind: 'sqlite';
  db: Kysely<Database>;
  /** The SQLite file in use. */
  file: string;
  /**
   * The better-sqlite3 handle under `db`, for hot write paths that run prepared statements in one synchronous
   * transaction. Use it only inside `db.connection().execute(...)`, which holds Kysely's connection lock, so it
   * never interleaves with a Kysely transaction.
   */
  sqlite: SQLite.Database;
  /**
   * How many of this process's main-thread writers are waiting for the write lock. The event journal's apply
   * thread reads it and ends its transaction early, and starts no new one, while any wait.
   */
  lockWanted: LockWanted;
  /** Closes the pool and the file; safe to call twice. */
  close(): Promise<void>;
}

const STATEMENT_CACHE_SIZE = 512;

/** A counter shared between threads (one Int32 in a SharedArrayBuffer). */
export type LockWanted = Int32Array;

export function createLockWanted(): LockWanted {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Every connection's busy timeout (`openSqliteConnection`). */
const BUSY_TIMEOUT_MS = 5000;

/** How long a main-thread writer waits for the write lock before it fails with SQLITE_BUSY: as long as SQLite would. */
export const LOCK_WAIT_MS = BUSY_TIMEOUT_MS;

function isBusy(error: unknown): boolean {
  return error instanceof SQLite.SqliteError && error.code.startsWith('SQLITE_BUSY');
}

/** Prepared once per connection: `sqlite.pragma()` compiles its statement on every call. */
const busyTimeoutStatements = new WeakMap<SQLite.Database, { off: SQLite.Statement; on: SQLite.Statement }>();

/**
 * Runs `work` with the connection's busy timeout at 0: where it would wait for a lock, SQLite answers
 * SQLITE_BUSY (or, for a checkpoint, its busy flag) at once. The usual timeout is restored before returning.
 */
export function withoutBusyWait<T>(sqlite: SQLite.Database, work: () => T): T {
  let statements = busyTimeoutStatements.get(sqlite);
  if (!statements) {
    statements = {
      off: sqlite.prepare('pragma busy_timeout = 0'),
      on: sqlite.prepare(`pragma busy_timeout = ${BUSY_TIMEOUT_MS}`),
    };
    busyTimeoutStatements.set(sqlite, statements);
  }
  statements.off.get();
  try {
    return work();
  } finally {
    statements.on.get();
  }
}

/**
 * BEGIN IMMEDIATE without blocking the event loop. A plain BEGIN IMMEDIATE waits for the write lock inside
 * SQLite's busy handler, which on the main thread stalls every request for as long as another thread holds
 * the lock (the event journal's apply thread holds it for a transaction of up to a second). Here each attempt
 * does not wait (busy timeout 0 for that statement alone); between attempts the event loop runs, and
 * `wanted` tells the apply thread to yield. Fails with the SQLITE_BUSY error after `LOCK_WAIT_MS`.
 */
export async function beginImmediate(sqlite: SQLite.Database, wanted: LockWanted): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let waiting = false;
  try {
    for (let pause = 1; ; pause = Math.min(pause * 2, 8)) {
      try {
        withoutBusyWait(sqlite, () => sqlite.exec('begin immediate'));
        return;
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) throw error;
      }
      if (!waiting) {
        waiting = true;
        Atomics.add(wanted, 0, 1);
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  } finally {
    if (waiting) Atomics.sub(wanted, 0, 1);
  }
}

/** Synchronous work on the raw connection, run inside a write transaction (the ingest group commit). */
export type WriteWork<T> = (sqlite: SQLite.Database) => T;

/**
 * One write as each engine runs it: SQLite's synchronous statements, joined to a group transaction, and
 * PostgreSQL's transaction of its own.
 */
export interface EngineWork<T> {
  sqlite: WriteWork<T>;
  postgres: (db: Kysely<Database>) => Promise<T>;
}

/**
 * Runs `work` in a write transaction on the main connection, taking the lock with `beginImmediate`:
 * committed when it returns (or resolves), rolled back when it throws (or rejects).
 */
export async function writeTransaction<T>(
  sqlite: SQLite.Database,
  wanted: LockWanted,
  work: () => T | Promise<T>,
): Promise<T> {
  await beginImmediate(sqlite, wanted);
  try {
    const result = await work();
    sqlite.exec('commit');
    return result;
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('rollback');
    throw error;
  }
}

/**
 * Hands Kysely prepared statements from a bounded LRU cache keyed by SQL text: Kysely prepares every query
 * afresh, and preparing costs as much as running a small query. A statement still iterating (a stream) is not
 * shared; SQLite re-prepares cached statements itself after a schema change.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sqlText) {
      const cached = cache.get(sqlText);
      if (cached && !cached.busy) {
        cache.delete(sqlText); // re-insert: most recently used last
        cache.set(sqlText, cached);
        return cached;
      }
      const statement = sqlite.prepare(sqlText);
      if (!cached) {
        cache.set(sqlText, statement);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      return statement;
    },
  };
}

/**
 * Starts every transaction with BEGIN IMMEDIATE: it takes the write lock up front (waiting for it without
 * blocking the event loop, see `beginImmediate`), so a transaction that reads and then writes — the audit chain reads its last hash — cannot be
 * overtaken by another process (the CLI, a second replica) between its read and its write.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  constructor(
    database: SqliteDatabase,
    private readonly sqlite: SQLite.Database,
    private readonly wanted: LockWanted,
  ) {
    super({ database });
  }
  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    return {
      executeQuery: (query) => this.#execute(connection, query),
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
  }
  override async beginTransaction(_connection: DatabaseConnection): Promise<void> {
    // The driver's connection lock is held: nothing else of Kysely's runs on the connection meanwhile.
    await beginImmediate(this.sqlite, this.wanted);
  }

  /** A write outside a transaction runs in one of its own, so that it too waits for the lock asynchronously. */
  async #execute<R>(connection: DatabaseConnection, query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.sqlite.inTransaction || !isWrite(query)) return connection.executeQuery<R>(query);
    return writeTransaction(this.sqlite, this.wanted, () => connection.executeQuery<R>(query));
  }
}

const WRITE_KINDS = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);
const WRITE_SQL = /^\s*(?:insert|update|delete|replace)\b/i;

function isWrite(query: CompiledQuery): boolean {
  return WRITE_KINDS.has(query.query.kind) || (query.query.kind === 'RawNode' && WRITE_SQL.test(query.sql));
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly database: SqliteDatabase,
    private readonly sqlite: SQLite.Database,
    private readonly wanted: LockWanted,
  ) {
    super({ database });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.database, this.sqlite, this.wanted);
  }
}

/** Page cache of a connection unless it asks for another (SQLite's own default is 2 MiB). */
export const DEFAULT_CACHE_MIB = 64;

/**
 * Opens one connection to a SQLite file with Vigil's settings. WAL lets readers run beside the writer; FULL
 * makes every acknowledged commit survive a crash; secure_delete overwrites freed pages so erased data does not
 * linger in the file; the busy timeout makes a second writer (the CLI, the write thread) wait, not fail. The
 * page cache is an upper bound, filled only as pages are read: SQLite's 2 MiB default is smaller than one
 * large transaction's dirty index pages, which it would then write out and read back before the commit.
 */
export function openSqliteConnection(file: string, options: { cacheMiB?: number } = {}): SQLite.Database {
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? DEFAULT_CACHE_MIB)}`);
  registerEventKey(sqlite);
  return sqlite;
}

/** Another process holds the data directory (see `claimDataDir`). */
export class DataDirInUseError extends Error {}

/**
 * Claims the data directory of a database file for this process until the returned function is called: an
 * exclusive lock on `vigil.lock` beside it (a SQLite file held in an open EXCLUSIVE transaction, never
 * committed), which the OS drops when the process ends however it ends. Throws DataDirInUseError when another
 * process (or another claim in this one) holds it: the event journal has one writer and one applier per
 * data directory, and a second pair would wait on entries the first applies.
 */
export function claimDataDir(databaseFile: string): () => void {
  const file = path.join(path.dirname(databaseFile), 'vigil.lock');
  createOwnerOnlyFile(file);
  const lock = new SQLite(file);
  try {
    lock.pragma('busy_timeout = 0');
    lock.exec('begin exclusive');
  } catch (error) {
    lock.close();
    if (!isBusy(error)) throw error;
    throw new DataDirInUseError(
      `another Vigil process is using the data directory ${path.dirname(databaseFile)}; run one per directory`,
    );
  }
  return () => {
    if (!lock.open) return;
    lock.exec('rollback');
    lock.close();
  };
}

/** The SQLite file Vigil keeps in a data directory. */
export function sqliteFile(dataDir: string, fileName = 'vigil.sqlite'): string {
  return path.join(dataDir, fileName);
}

/** Opens (creating when missing) the SQLite database in `dataDir`. */
export function openSqlite(dataDir: string, fileName = 'vigil.sqlite'): SqliteStorage {
  secureDataDir(dataDir);
  const file = sqliteFile(dataDir, fileName);
  createOwnerOnlyFile(file);
  const sqlite = openSqliteConnection(file);
  // This connection serves requests on the main thread, and a checkpoint runs in the connection whose commit
  // set it off: copying the WAL (mostly the apply thread's large transactions) into the database there would
  // stall every request meanwhile. The apply thread checkpoints instead (ingest/write-path/apply-thread-worker.ts);
  // closing the last connection to the file checkpoints what is left.
  sqlite.pragma('wal_autocheckpoint = 0');
  const lockWanted = createLockWanted();
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect(withStatementCache(sqlite), sqlite, lockWanted),
  });
  let closed = false;
  return {
    kind: 'sqlite',
    db,
    file,
    sqlite,
    lockWanted,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
