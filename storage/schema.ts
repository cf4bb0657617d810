import type { ApiKeysTable } from './api-keys.table.ts';
import type { AuditLogTable } from './audit-log.table.ts';

/** Every table Vigil keeps, by name. */
export interface Database {
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
}
