import { type Kysely, sql } from 'kysely';
import { floatType } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/** Per-minute traffic aggregates (requests by route from log ingestion, the rest by the detector) and anomalies. */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('traffic_minutes')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('minute', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('lcp_p75', floatType(db))
    .addColumn('inp_p75', floatType(db))
    .addColumn('cls_p75', floatType(db))
    .addPrimaryKeyConstraint('traffic_minutes_pk', ['minute', 'kind', 'scope', 'name'])
    .execute();
  await db.schema
    .createTable('route_minute_batches')
    .addColumn('minute', 'text', (c) => c.notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('route', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('errors', 'integer', (c) => c.notNull())
    .addColumn('latency', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('route_minute_batches_minute')
    .on('route_minute_batches')
    .column('minute')
    .execute();
  await db.schema
    .createTable('anomalies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('detector', 'text', (c) => c.notNull())
    .addColumn('target_kind', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('signal', 'text', (c) => c.notNull())
    .addColumn('start', 'text', (c) => c.notNull())
    .addColumn('end', 'text')
    .addColumn('observed', floatType(db), (c) => c.notNull())
    .addColumn('expected', floatType(db), (c) => c.notNull())
    .addColumn('lower', floatType(db), (c) => c.notNull())
    .addColumn('upper', floatType(db), (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('campaign', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('anomalies_start').on('anomalies').columns(['start', 'id']).execute();
  await db.schema.createIndex('anomalies_open').on('anomalies').column('end').execute();
  // Clicks per campaign and minute, found without scanning every event: only clicks that name a campaign.
  await db.schema
    .createIndex('affiliate_events_campaign_clicks')
    .on('affiliate_events')
    .column('ts')
    .where(sql.ref('type'), '=', 'click')
    .where(sql.ref('campaign_id'), 'is not', null)
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('affiliate_events_campaign_clicks').execute();
  await db.schema.dropTable('anomalies').execute();
  await db.schema.dropTable('route_minute_batches').execute();
  await db.schema.dropTable('traffic_minutes').execute();
}
