import { type Kysely, type RawBuilder, sql } from 'kysely';
import { withoutBusyWait } from '../storage/database.ts';
import { hashIdentifier, subjectPseudonym } from '../storage/identifiers.ts';
import { type Database, type EventJournal, isPostgres, type Storage } from '../storage/index.ts';
import { changeInBatches, rowKey, setClause } from './batches.ts';
import { DATA_MAP, type DataMapEntry, type SubjectKeys } from './data-map.ts';

/** What a DPO gives to find a subject: its id, and optionally an e-mail and IP address it used. */
export interface SubjectIdentifiers {
  subjectId: string;
  email?: string;
  ip?: string;
}

/** The keys the stores are searched by; raw e-mail and IP are hashed here and go no further. */
export function subjectKeys(secret: Buffer, ids: SubjectIdentifiers, requestId?: string): SubjectKeys {
  return {
    requestId,
    subjectId: ids.subjectId,
    subjectPseudonym: subjectPseudonym(secret, ids.subjectId),
    emailHash: ids.email === undefined ? undefined : hashIdentifier(secret, 'email', ids.email),
    ipHash: ids.ip === undefined ? undefined : hashIdentifier(secret, 'ip', ids.ip),
  };
}

const LOGS = 'server_logs';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The ids of server log lines that mention the subject: its id as a whole word, or the keyed-hash token ingest
 * put in place of its e-mail or IP address (in the message or the attributes). The message is searched
 * through the full-text index; attributes, which it does not cover, by a scan.
 */
async function logMentionIds(db: Kysely<Database>, keys: SubjectKeys): Promise<number[]> {
  const ids = new Set<number>();
  const hashes = [keys.emailHash, keys.ipHash].filter((h): h is string => h !== undefined);
  const postgres = isPostgres(db);
  for (const hash of hashes) {
    // PostgreSQL: the tsvector finds the lines (its parser splits a token as it split the text), and the exact
    // text confirms them.
    const inMessage = postgres
      ? sql`select id from server_logs
          where message_tsv @@ phraseto_tsquery('simple', ${hash}) and instr(message, ${hash}) > 0`
      : sql`select rowid as id from server_logs_fts where server_logs_fts match ${`"${hash}"`}`;
    const { rows } = await sql<{ id: number }>`${inMessage}
      union select id from server_logs where attrs is not null and instr(attrs, ${hash}) > 0`.execute(db);
    for (const row of rows) ids.add(row.id);
  }
  // The subject id: full-text phrase candidates, confirmed as a whole word (u-12 must not match u-123).
  const word = new RegExp(`(?<![\\p{L}\\p{N}_-])${escapeRegExp(keys.subjectId)}(?![\\p{L}\\p{N}_-])`, 'u');
  const phrase = /[\p{L}\p{N}]/u.test(keys.subjectId)
    ? `"${keys.subjectId.replaceAll('"', '""')}"`
    : undefined;
  const candidates =
    phrase === undefined
      ? { rows: [] }
      : postgres
        ? await sql<{ id: number; message: string }>`
            select id, message from server_logs
            where message_tsv @@ phraseto_tsquery('simple', ${keys.subjectId})`.execute(db)
        : await sql<{ id: number; message: string }>`
            select l.id, l.message from server_logs_fts f join server_logs l on l.id = f.rowid
            where server_logs_fts match ${phrase}`.execute(db);
  for (const row of candidates.rows) if (word.test(row.message)) ids.add(row.id);
  const inAttrs = await sql<{ id: number }>`
    select id from server_logs where attrs is not null and instr(attrs, ${JSON.stringify(keys.subjectId)}) > 0`.execute(
    db,
  );
  for (const row of inAttrs.rows) ids.add(row.id);
  return [...ids].sort((a, b) => a - b);
}

/** The condition selecting one subject's rows of a table, or undefined when the table holds none. */
async function subjectCondition(
  db: Kysely<Database>,
  entry: DataMapEntry,
  keys: SubjectKeys,
): Promise<RawBuilder<boolean> | undefined> {
  if (entry.table === LOGS) {
    const ids = await logMentionIds(db, keys);
    // One parameter however many lines: SQLite caps the number of parameters a statement takes.
    if (ids.length === 0) return undefined;
    return isPostgres(db)
      ? sql<boolean>`id = any(${ids}::bigint[])`
      : sql<boolean>`id in (select value from json_each(${JSON.stringify(ids)}))`;
  }
  const own = entry.find?.(keys);
  const linked = entry.linked?.(keys);
  return own && linked ? sql<boolean>`(${own} or ${linked})` : (own ?? linked);
}

/** One store's share of an access export or an erasure. */
export interface StoreOutcome {
  store: string;
  category: string;
  action: 'export' | 'delete' | 'pseudonymise';
  rows: number;
}

const EXPORT_PAGE = 500;

/** Columns derived from others, left out of an export: PostgreSQL's tsvector of a log message. */
const DERIVED_COLUMNS = new Set(['message_tsv']);

/** Reads a table's rows about the subject in row order (rowid, or PostgreSQL's ctid), a page at a time. */
async function* subjectRows(
  db: Kysely<Database>,
  table: string,
  condition: RawBuilder<boolean>,
): AsyncGenerator<Record<string, unknown>[]> {
  const postgres = isPostgres(db);
  const key = rowKey(db);
  let after: number | string = postgres ? '(0,0)' : 0;
  for (;;) {
    const { rows } = await sql<Record<string, unknown> & { _row: number | string }>`
      select ${key}${postgres ? sql`::text` : sql``} as _row, * from ${sql.table(table)}
      where ${key} > ${postgres ? sql`${after}::tid` : after} and ${condition}
      order by ${key} limit ${EXPORT_PAGE}`.execute(db);
    if (rows.length === 0) return;
    after = rows.at(-1)?._row ?? after;
    yield rows.map(({ _row, ...row }) =>
      Object.fromEntries(Object.entries(row).filter(([column]) => !DERIVED_COLUMNS.has(column))),
    );
    if (rows.length < EXPORT_PAGE) return;
  }
}

/** The tables an export or erasure visits: those with a way to find a subject's rows. */
function subjectStores(): DataMapEntry[] {
  return DATA_MAP.filter((e) => e.table === LOGS || e.find !== undefined);
}

/**
 * Streams everything held about the subject as the text of one JSON object `{"stores": {table: [rows]}, ...}`,
 * a page of rows at a time; `onStore` hears each store's count for the manifest that the caller appends.
 */
export async function* exportSubjectStores(
  db: Kysely<Database>,
  keys: SubjectKeys,
  onStore: (outcome: StoreOutcome) => void,
): AsyncGenerator<string> {
  let firstStore = true;
  for (const entry of subjectStores()) {
    const condition = await subjectCondition(db, entry, keys);
    yield `${firstStore ? '' : ','}${JSON.stringify(entry.table)}:[`;
    firstStore = false;
    let count = 0;
    if (condition) {
      for await (const page of subjectRows(db, entry.table, condition)) {
        yield `${count === 0 ? '' : ','}${page.map((row) => JSON.stringify(row)).join(',')}`;
        count += page.length;
      }
    }
    yield ']';
    onStore({ store: entry.table, category: entry.category, action: 'export', rows: count });
  }
}

/** How erasure runs: the batch size keeps each write transaction short, so ingestion is not stalled. */
export interface ErasureOptions {
  /** Names the erasure in redacted chain rows: `privacy-request:<id>`. */
  ref: string;
  /** Replaces the subject in pseudonymised rows; fresh per erasure, so it links nothing outside them. */
  pseudonym: string;
  batchSize?: number;
  /** Hears each store as it starts, so a failure can name it. */
  onStart?: (store: string) => void;
  /** Hears each store as it is done, for the request's execution log. */
  onStore?: (outcome: StoreOutcome) => Promise<void> | void;
}

/**
 * Runs every data-map entry for the subject in order: deletes or pseudonymises its rows in batches, each batch
 * its own short transaction. A store whose rows are pseudonymised stops matching the subject, so a rerun after
 * a failure picks up where it stopped.
 */
export async function eraseSubjectStores(
  db: Kysely<Database>,
  keys: SubjectKeys,
  options: ErasureOptions,
): Promise<StoreOutcome[]> {
  const batch = options.batchSize ?? 1000;
  const outcomes: StoreOutcome[] = [];
  for (const entry of subjectStores()) {
    const rule = entry.erasure;
    if (rule.action === 'none') continue;
    options.onStart?.(entry.table);
    const condition = await subjectCondition(db, entry, keys);
    let rows = 0;
    if (condition) {
      const table = sql.table(entry.table);
      if (rule.action === 'delete') {
        // Rows reached through the subject's own rows go first, while those can still be found.
        const linked = entry.linked?.(keys);
        if (linked)
          rows += await changeInBatches(db, entry.table, sql`delete from ${table}`, linked, { batch });
        rows += await changeInBatches(db, entry.table, sql`delete from ${table}`, condition, { batch });
      } else if (rule.set) {
        const values = setClause(rule.set(sql`${options.pseudonym}`, options.ref));
        rows = await changeInBatches(db, entry.table, sql`update ${table} set ${values}`, condition, {
          batch,
        });
      } else {
        // Kept whole: nothing personal is left in it once the rows it points to are pseudonymised.
        const { rows: counted } = await sql<{ n: number }>`
          select count(*) as n from ${table} where ${condition}`.execute(db);
        rows = Number(counted[0]?.n ?? 0);
      }
    }
    const outcome: StoreOutcome = { store: entry.table, category: entry.category, action: rule.action, rows };
    outcomes.push(outcome);
    await options.onStore?.(outcome);
  }
  return outcomes;
}

/** What making the deletion physical did. */
export interface PhysicalErasure {
  /** The full-text index was merged, so no segment keeps a deleted token. */
  fullTextOptimized: boolean;
  /**
   * The WAL was checkpointed into the database file and truncated to zero bytes, and the event journal's
   * segments holding applied entries were deleted.
   */
  walTruncated: boolean;
  /** On PostgreSQL: the tables vacuumed, so that the space of the deleted rows is reused. */
  vacuumed?: string[];
}

/**
 * Makes deleted rows physically gone. `secure_delete` (on for every connection) has already zeroed them in the
 * pages they left; the full-text index merges its segments (its `secure-delete` option removed the tokens
 * from the index itself); finally the WAL, which still holds the pages as they were before, is checkpointed
 * and truncated. A checkpoint that a reader holds back is retried for a while.
 */
export async function makeErasurePhysical(
  storage: Storage,
  options: { logsDeleted: boolean; attempts?: number; journal?: EventJournal },
): Promise<PhysicalErasure> {
  if (storage.kind === 'postgres') return vacuumSubjectStores(storage.db, options.logsDeleted);
  if (options.logsDeleted) {
    await sql`insert into server_logs_fts(server_logs_fts) values ('optimize')`.execute(storage.db);
  }
  let walTruncated = false;
  // Each attempt returns at once when the apply thread (or a reader) is in the way, never waiting on the
  // event loop; meanwhile the apply thread is asked to yield, as for a main-thread write.
  Atomics.add(storage.lockWanted, 0, 1);
  try {
    for (let attempt = 0; attempt < (options.attempts ?? 50) && !walTruncated; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      const result = await storage.db
        .connection()
        .execute(async () =>
          withoutBusyWait(storage.sqlite, () => storage.sqlite.pragma('wal_checkpoint(TRUNCATE)')),
        );
      const [row] = result as { busy: number; log: number; checkpointed: number }[];
      walTruncated = row !== undefined && row.busy === 0;
    }
  } finally {
    Atomics.sub(storage.lockWanted, 0, 1);
  }
  if (options.journal && !(await options.journal.truncate())) walTruncated = false;
  return { fullTextOptimized: options.logsDeleted, walTruncated };
}

/**
 * PostgreSQL: `VACUUM` of the tables an erasure touches, so the deleted rows' space (and their entries in the
 * indexes, the tsvector's GIN index included) is marked free and reused. It does not overwrite the bytes, and
 * the WAL, standbys and backups keep the rows until they are recycled or expire: the operator's part, which
 * the documentation spells out.
 */
async function vacuumSubjectStores(db: Kysely<Database>, logsDeleted: boolean): Promise<PhysicalErasure> {
  const tables = [...new Set(subjectStores().map((entry) => entry.table))];
  // VACUUM runs outside a transaction; Kysely runs a plain query as one statement of its own.
  await sql`vacuum (analyze) ${sql.join(tables.map((t) => sql.table(t)))}`.execute(db);
  return { fullTextOptimized: logsDeleted, walTruncated: false, vacuumed: tables };
}
