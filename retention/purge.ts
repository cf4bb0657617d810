import { type Kysely, sql } from 'kysely';
import { type Actor, appendAudit, type Database, isPostgres } from '../storage/index.ts';
import { changeInBatches, setClause } from './batches.ts';
import { DATA_MAP } from './data-map.ts';
import { type RetentionPolicy, subtractDuration } from './policies.ts';

/** What retention did (or, in a dry run, would do) to one table. */
export interface PurgeOutcome {
  category: string;
  table: string;
  action: 'delete' | 'pseudonymise';
  /** Rows older than this were due. */
  cutoff: string;
  rows: number;
}

/** How a retention run goes. */
export interface PurgeOptions {
  policies: RetentionPolicy[];
  now: Date;
  /** Count what is due, change nothing. */
  dryRun: boolean;
  /** Who runs it: the scheduler, or the person who asked through the API. */
  actor: Actor;
  /** Rows per transaction: small, so the write path is never held up for long. */
  batchSize?: number;
  /**
   * Share of the time the purge may hold the database (0–1): after a batch that took t, it waits
   * t × (1 − share) / share, so ingestion gets the rest of the time. Default 0.5.
   */
  dutyCycle?: number;
  /** Hears each table's outcome (metrics). */
  onTable?: (outcome: PurgeOutcome) => void;
}

/**
 * For a table whose age column grows with its rowid: a rowid below which every row is older than `cutoff`
 * and at or above which none is.
 */
async function dueBound(
  db: Kysely<Database>,
  table: string,
  column: string,
  cutoff: string,
): Promise<number> {
  const { rows } = await sql<{
    max: number | null;
  }>`select max(rowid) as max from ${sql.table(table)}`.execute(db);
  const max = rows[0]?.max ?? 0;
  let lo = 0;
  let hi = max + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const { rows: at } = await sql<{ id: number; age: string }>`
      select rowid as id, ${sql.ref(column)} as age from ${sql.table(table)}
      where rowid >= ${mid} order by rowid limit 1`.execute(db);
    const row = at[0];
    if (row && row.age < cutoff) lo = row.id + 1;
    else hi = mid;
  }
  return lo;
}

/** 16 random hexadecimal digits, new for each row: the pseudonym a retention run gives. */
function randomToken(db: Kysely<Database>) {
  return isPostgres(db)
    ? sql<string>`substr(md5(gen_random_uuid()::text), 1, 16)`
    : sql<string>`lower(hex(randomblob(8)))`;
}

/**
 * Applies every policy to the tables of its category: rows whose age column is older than the policy's
 * maximum age — and that the map does not keep regardless — are deleted or pseudonymised in small batches,
 * each its own transaction. A dry run counts them instead. Deleted bytes are zeroed by `secure_delete`.
 */
export async function runRetention(db: Kysely<Database>, options: PurgeOptions): Promise<PurgeOutcome[]> {
  const batch = options.batchSize ?? 100;
  const outcomes: PurgeOutcome[] = [];
  const policies = new Map(options.policies.map((p) => [p.category, p]));
  // In the map's order: a store whose rows keep others alive (consent state keeps its records) goes first,
  // so one run settles everything that is due.
  for (const entry of DATA_MAP) {
    const policy = policies.get(entry.category);
    const age = entry.age;
    if (!policy || !age || policy.action === 'keep' || policy.maxAge === null) continue;
    const cutoff = subtractDuration(options.now, policy.maxAge).toISOString();
    {
      const table = sql.table(entry.table);
      let due = sql<boolean>`${sql.ref(age.column)} < ${cutoff}${age.keep ? sql` and not ${age.keep}` : sql``}`;
      if (age.arrivalOrdered && !isPostgres(db)) {
        // Age order is rowid order: every due row lies below the first that is not, found by binary search
        // (a handful of rowid seeks, never a long scan on the event loop). PostgreSQL has no rowid; it finds
        // the due rows by the age column, and a batch's scan stops at its limit.
        const bound = await dueBound(db, entry.table, age.column, cutoff);
        due = sql<boolean>`rowid < ${bound} and ${due}`;
      }
      let rows = 0;
      if (options.dryRun) {
        const { rows: counted } = await sql<{
          n: number;
        }>`select count(*) as n from ${table} where ${due}`.execute(db);
        rows = Number(counted[0]?.n ?? 0);
      } else if (
        (await sql`select 1 as due from ${table} where ${due} limit 1`.execute(db)).rows.length > 0
      ) {
        const rule = entry.erasure;
        const pseudonymise = policy.action === 'pseudonymise' && rule.action === 'pseudonymise' && rule.set;
        // Pseudonymised chain rows point to the audit entry that says why (`audit:<id>`).
        const ref = pseudonymise
          ? `audit:${
              (
                await db.transaction().execute((trx) =>
                  appendAudit(
                    trx,
                    options.actor,
                    {
                      action: 'retention.pseudonymise',
                      target: `table:${entry.table}`,
                      detail: { category: policy.category, cutoff },
                    },
                    options.now,
                  ),
                )
              ).id
            }`
          : '';
        const set = pseudonymise ? rule.set?.(randomToken(db), ref) : undefined;
        const change = set ? sql`update ${table} set ${setClause(set)}` : sql`delete from ${table}`;
        rows = await changeInBatches(db, entry.table, change, due, {
          batch,
          dutyCycle: options.dutyCycle ?? 0.5,
        });
      }
      const outcome: PurgeOutcome = {
        category: policy.category,
        table: entry.table,
        action: policy.action,
        cutoff,
        rows,
      };
      outcomes.push(outcome);
      options.onTable?.(outcome);
    }
  }
  return outcomes;
}
