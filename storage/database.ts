import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
} from 'kysely';
import type { Database } from './schema.ts';

/** The app's database handle together with the engine underneath, for the few things Kysely cannot say. */
export interface Storage {
  db: Kysely<Database>;
  /** The SQLite file in use. */
  file: string;
  /**
   * The better-sqlite3 handle under `db`, for hot write paths that run prepared statements in one synchronous
   * transaction. Use it only inside `db.connection().execute(...)`, which holds Kysely's connection lock, so it
   * never interleaves with a Kysely transaction.
   */
  sqlite: SQLite.Database;
  /** Closes the pool and the file; safe to call twice. */
  close(): Promise<void>;
}

const STATEMENT_CACHE_SIZE = 512;

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
 * Starts every transaction with BEGIN IMMEDIATE: it takes the write lock up front (waiting up to the busy
 * timeout), so a transaction that reads and then writes — the audit chain reads its last hash — cannot be
 * overtaken by another process (the CLI, a second replica) between its read and its write.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqlite: SqliteDatabase) {
    super({ database: sqlite });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.sqlite });
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
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? DEFAULT_CACHE_MIB)}`);
  return sqlite;
}

/** The SQLite file Vigil keeps in a data directory. */
export function sqliteFile(dataDir: string, fileName = 'vigil.sqlite'): string {
  return path.join(dataDir, fileName);
}

/** Opens (creating when missing) the SQLite database in `dataDir`. */
export function openSqlite(dataDir: string, fileName = 'vigil.sqlite'): Storage {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = sqliteFile(dataDir, fileName);
  const sqlite = openSqliteConnection(file);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(withStatementCache(sqlite)) });
  let closed = false;
  return {
    db,
    file,
    sqlite,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
