export type { ApiKeyRow } from './api-keys.table.ts';
export {
  type Actor,
  appendAudit,
  GENESIS_HASH,
  listAudit,
  redactionChecker,
  verifyAuditChain,
} from './audit-trail.ts';

export { DataDirInUseError, openSqlite, type Storage } from './database.ts';
export { isPostgres } from './dialect.ts';
export {
  ConflictError,
  type DomainError,
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
