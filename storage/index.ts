export type { ApiKeyRow } from './api-keys.table.ts';
export {
  type Actor,
  appendAudit,
  GENESIS_HASH,
  listAudit,
  redactionChecker,
  verifyAuditChain,
} from './audit-trail.ts';

export { DataDirInUseError, type EngineWork, openSqlite, type SqliteStorage } from './database.ts';
export { isPostgres } from './dialect.ts';
export { jsonArrayHasEntry } from './json.ts';
export { openPostgresStorage } from './postgres.ts';

import type { SqliteStorage } from './database.ts';
import type { PostgresStorage } from './postgres.ts';

/** The database Vigil runs on: an SQLite file of this machine, or a PostgreSQL that replicas share. */
export type Storage = SqliteStorage | PostgresStorage;
export {
  ConflictError,
  DATABASE_RETRY_AFTER_SECONDS,
  type DomainError,
  databaseRefusedText,
  databaseUnavailable,
  deserializeDomainError,
  type FieldError,
  InvalidInputError,
  isDomainError,
  NotFoundError,
  OverloadedError,
} from './errors.ts';
export { type EventJournal, readEvents } from './event-journal.ts';
export { migrateToLatest, pendingMigrations } from './migrate.ts';
export type { Database } from './schema.ts';
