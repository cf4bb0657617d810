import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  SqliteDialect,
  SqliteDriver,
} from 'kysely';
import type { Database } from './schema.ts';

/** The app's database handle together with the engine underneath, for the few things Kysely cannot say. */
export interface Storage {
  db: Kysely<Database>;
  /** The SQLite file in use. */
  file: string;
  /** Closes the pool and the file; safe to call twice. */
  close(): Promise<void>;
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
  constructor(private readonly sqlite: SQLite.Database) {
    super({ database: sqlite });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.sqlite });
  }
}

/** Opens (creating when missing) the SQLite database in `dataDir`. */
export function openSqlite(dataDir: string, fileName = 'vigil.sqlite'): Storage {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, fileName);
  const sqlite = new SQLite(file);
  // WAL lets readers run beside the writer; FULL makes every acknowledged commit survive a crash;
  // secure_delete overwrites freed pages so erased data does not linger in the file.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('secure_delete = ON');
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite) });
  let closed = false;
  return {
    db,
    file,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
