// Affiliate events into PostgreSQL, where several replicas write at once: each batch in one transaction, and the
// database's unique index on the event id (not a lookup before the insert) decides which rows are new, so an
// id sent through two replicas at the same moment is stored once and counted once as accepted.
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/index.ts';
import { type EventCounts, type EventRowBatch, keyedRow } from './store.ts';

/** Rows per statement: PostgreSQL binds at most 65,535 parameters, and a row has about 30 columns. */
const ROWS_PER_STATEMENT = 1000;

/**
 * Inserts the rows, skipping ids already stored or repeated in the batch, in one transaction; answers per type
 * how many were new and how many repeated an id. The rows carry their IP hashes already.
 */
export async function insertEventRowsPostgres(
  db: Kysely<Database>,
  batch: EventRowBatch,
): Promise<EventCounts> {
  const counts: EventCounts = {
    click: { accepted: 0, duplicates: 0 },
    conversion: { accepted: 0, duplicates: 0 },
    refund: { accepted: 0, duplicates: 0 },
  };
  const rows = batch.values.map((values, i) => {
    const type = batch.types[i];
    if (type === undefined) throw new Error('a row without its type');
    return keyedRow(type, values);
  });
  const inserted = new Set<string>();
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const stored = await trx
        .insertInto('affiliate_events')
        .values(rows.slice(i, i + ROWS_PER_STATEMENT))
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returning('id')
        .execute();
      for (const { id } of stored) inserted.add(id);
    }
  });
  rows.forEach((row, i) => {
    const type = batch.types[i] as keyof EventCounts;
    // The first row with an id that went in is the one stored; any other with that id repeated it.
    if (inserted.delete(row.id)) counts[type].accepted += 1;
    else counts[type].duplicates += 1;
  });
  return counts;
}
