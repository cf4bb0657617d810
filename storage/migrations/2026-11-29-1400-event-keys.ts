import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

const COLUMNS = `type, ts, affiliate_id, campaign_id, click_id, order_id, subject_id, amount, currency, coupon_code,
  ip_hash, ip_prefix, user_agent, referrer_host, landing_path, utm_source, utm_medium, utm_campaign, utm_term,
  utm_content, country, new_customer, reason, received_at`;

/** Column definitions of affiliate_events after `id`, as the first migration made them. */
const DEFINITIONS = `type text not null, ts text not null, affiliate_id text, campaign_id text, click_id text,
  order_id text, subject_id text, amount real, currency text, coupon_code text, ip_hash text, ip_prefix text,
  user_agent text, referrer_host text, landing_path text, utm_source text, utm_medium text, utm_campaign text,
  utm_term text, utm_content text, country text, new_customer integer, reason text, received_at text not null`;

/**
 * The table's indexes: by affiliate and time, by coupon, and by each identifier column. Those are partial, as
 * the lookups by click, order and subject only ever want rows that have one; the IP's holds only rows that
 * name no subject (erasure finds a subject's anonymous events by IP).
 */
async function createIndexes(db: AnyDb, identifiers: string[], ip: string): Promise<void> {
  await db.schema
    .createIndex('affiliate_events_affiliate_ts')
    .on('affiliate_events')
    .columns(['affiliate_id', 'ts'])
    .execute();
  await db.schema
    .createIndex('affiliate_events_coupon')
    .on('affiliate_events')
    .columns(['coupon_code', 'ts'])
    .where(sql.ref('coupon_code'), 'is not', null)
    .execute();
  for (const column of identifiers) {
    await db.schema
      .createIndex(`affiliate_events_${column}`)
      .on('affiliate_events')
      .column(column)
      .where(sql.ref(column), 'is not', null)
      .execute();
  }
  await db.schema
    .createIndex(`affiliate_events_${ip}`)
    .on('affiliate_events')
    .column(ip)
    .where(sql.ref('subject_id'), 'is', null)
    .execute();
}

const TEXT_INDEXES = ['affiliate_ts', 'coupon', 'order_id', 'click_id', 'subject_id', 'ip_hash'].map(
  (n) => `affiliate_events_${n}`,
);
const KEY_INDEXES = [
  'affiliate_ts',
  'coupon',
  'id_key',
  'click_key',
  'order_key',
  'subject_key',
  'ip_key',
].map((n) => `affiliate_events_${n}`);

/** Replaces affiliate_events by a table of `definitions` filled, rowids kept, by `select` from the old one. */
async function rebuild(db: AnyDb, definitions: string, columns: string, select: string): Promise<void> {
  await sql.raw(`create table affiliate_events_rebuilt (${definitions})`).execute(db);
  await sql
    .raw(
      `insert into affiliate_events_rebuilt (rowid, ${columns})
       select rowid, ${select} from affiliate_events order by rowid`,
    )
    .execute(db);
  await db.schema.dropTable('affiliate_events').execute();
  await sql`alter table affiliate_events_rebuilt rename to affiliate_events`.execute(db);
}

/**
 * The identifiers of affiliate_events are indexed by integer keys (storage/event-key.ts) instead of their text:
 * event id, click id, order id, subject id and IP hash arrive in random order, and integer indexes are about a
 * third of the size, so applying events costs about half the CPU. The table is rebuilt without its text
 * primary key (a key cannot be dropped in SQLite): idempotency on event id is the write path's, which looks ids
 * up by key and text. Rowids are kept, as retention reads them as arrival order. Keys of existing rows are
 * computed by `vigil_event_key`, which every Vigil connection registers.
 */
export async function up(db: AnyDb): Promise<void> {
  if (isPostgres(db)) {
    // No PostgreSQL installation predates this migration, so the table is empty: it changes in place, and the
    // keys are 64-bit as in SQLite.
    for (const name of TEXT_INDEXES) await db.schema.dropIndex(name).ifExists().execute();
    await sql`alter table affiliate_events drop constraint affiliate_events_pkey`.execute(db);
    await db.schema
      .alterTable('affiliate_events')
      .addColumn('id_key', 'bigint', (c) => c.notNull())
      .addColumn('click_key', 'bigint')
      .addColumn('order_key', 'bigint')
      .addColumn('subject_key', 'bigint')
      .addColumn('ip_key', 'bigint')
      .execute();
    await db.schema.createIndex('affiliate_events_id_key').on('affiliate_events').column('id_key').execute();
    await createIndexes(db, ['click_key', 'order_key', 'subject_key'], 'ip_key');
    return;
  }
  const keys = 'id_key, click_key, order_key, subject_key, ip_key';
  await rebuild(
    db,
    `id text not null, ${DEFINITIONS}, id_key integer not null, click_key integer, order_key integer,
       subject_key integer, ip_key integer`,
    `id, ${COLUMNS}, ${keys}`,
    `id, ${COLUMNS}, vigil_event_key(id), vigil_event_key(click_id), vigil_event_key(order_id),
       vigil_event_key(subject_id), vigil_event_key(ip_hash)`,
  );
  await db.schema.createIndex('affiliate_events_id_key').on('affiliate_events').column('id_key').execute();
  await createIndexes(db, ['click_key', 'order_key', 'subject_key'], 'ip_key');
}

export async function down(db: AnyDb): Promise<void> {
  if (isPostgres(db)) {
    for (const name of KEY_INDEXES) await db.schema.dropIndex(name).ifExists().execute();
    await db.schema
      .alterTable('affiliate_events')
      .dropColumn('id_key')
      .dropColumn('click_key')
      .dropColumn('order_key')
      .dropColumn('subject_key')
      .dropColumn('ip_key')
      .execute();
    await sql`alter table affiliate_events add primary key (id)`.execute(db);
    await createIndexes(db, ['order_id', 'click_id', 'subject_id'], 'ip_hash');
    return;
  }
  await rebuild(db, `id text primary key, ${DEFINITIONS}`, `id, ${COLUMNS}`, `id, ${COLUMNS}`);
  await createIndexes(db, ['order_id', 'click_id', 'subject_id'], 'ip_hash');
}
