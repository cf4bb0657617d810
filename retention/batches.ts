import { type Kysely, type RawBuilder, sql } from 'kysely';
import { type Database, isPostgres } from '../storage/index.ts';

/**
 * The column that names a row for a batched change or a paged read: SQLite's rowid, PostgreSQL's `ctid` (its
 * place in the table, stable while the row is not updated — long enough for one batch).
 */
export function rowKey(db: Kysely<Database>): RawBuilder<unknown> {
  return sql.raw(isPostgres(db) ? 'ctid' : 'rowid');
}

/** `column = value, …` for an UPDATE; a RawBuilder value is SQL, anything else a parameter. */
export function setClause(values: Record<string, unknown>): RawBuilder<unknown> {
  return sql.join(Object.entries(values).map(([column, value]) => sql`${sql.ref(column)} = ${value}`));
}

/** How a change runs in batches. */
export interface BatchOptions {
  /** Rows per transaction. */
  batch: number;
  /**
   * Share of the time the change may hold the database (0–1): after a batch that took t, it waits
   * t × (1 − share) / share, so ingestion gets the rest. 1 (the default) never waits.
   */
  dutyCycle?: number;
}

/**
 * Deletes or updates (`delete from t`, `update t set …`) the rows of a table that match `where`, a batch per
 * transaction, until a batch comes up short; returns the rows changed. The change must make a row stop
 * matching (a deleted row, or a pseudonymised one), or it would be found again.
 */
export async function changeInBatches(
  db: Kysely<Database>,
  table: string,
  change: RawBuilder<unknown>,
  where: RawBuilder<boolean>,
  options: BatchOptions,
): Promise<number> {
  const share = Math.min(1, Math.max(0.05, options.dutyCycle ?? 1));
  const from = sql.table(table);
  const key = rowKey(db);
  let rows = 0;
  for (;;) {
    const started = performance.now();
    const result = await db
      .transaction()
      .execute((trx) =>
        sql`${change} where ${key} in (select ${key} from ${from} where ${where} limit ${options.batch})`.execute(
          trx,
        ),
      );
    const n = Number(result.numAffectedRows ?? 0);
    rows += n;
    if (n < options.batch) return rows;
    if (share < 1) {
      // Give the write path (and requests waiting on this event loop) their share before the next batch.
      const pause = ((performance.now() - started) * (1 - share)) / share;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, pause)));
    }
  }
}
