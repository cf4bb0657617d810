export type { ApiKeyRow } from './api-keys.table.ts';
export {
  type Actor,
  type AuditEntry,
  type AuditInput,
  type AuditQuery,
  appendAudit,
  type ChainVerification,
  GENESIS_HASH,
  listAudit,
  redactionChecker,
  redactionIsRecorded,
  verifyAuditChain,
} from './audit-trail.ts';
export { DataDirUnsafeError } from './data-dir.ts';
export { DataDirInUseError, openSqlite, type Storage } from './database.ts';
export {
  ConflictError,
  type DomainError,
  deserializeDomainError,
  type FieldError,
  InvalidInputError,
  isDomainError,
  NotFoundError,
  OverloadedError,
  type SerializedDomainError,
  serializeDomainError,
} from './errors.ts';
export { type EventJournal, readEvents } from './event-journal.ts';
export { MigrationError, migrateToLatest, pendingMigrations } from './migrate.ts';
export type { Database } from './schema.ts';
