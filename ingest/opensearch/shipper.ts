// Ships stored server logs and browser telemetry to OpenSearch. The database is the outbox: rows are read in id
// order from where the last shipment ended (`search_shipping`), written with their id as the document id (a
// retry writes nothing twice), and the mark moves past a row only once OpenSearch has it. While OpenSearch is
// down or refusing, rows wait in the database and the backlog grows; nothing is lost, nothing is sent twice.
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../http/logger.ts';
import type { Database } from '../../storage/index.ts';
import type { SearchSink } from './client.ts';
import { logDocument, telemetryDocument } from './documents.ts';
import type { SearchKind } from './templates.ts';

const KINDS: SearchKind[] = ['logs', 'telemetry'];
const OUTCOMES = ['written', 'existing', 'rejected'] as const;
/** Rows per bulk call. */
const BATCH = 500;
/** After a failed call, the wait doubles from this up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

interface ShipperOptions {
  db: Kysely<Database>;
  sink: SearchSink;
  registry: Registry;
  logger: Logger;
  clock: () => Date;
  /** Between polls when there is nothing to ship. Default 1 s. */
  pollMs?: number;
}

export interface SearchShipper {
  /** Ships what is waiting of each kind, a batch at a time, until nothing is or a call fails (then it throws). */
  shipAll(): Promise<void>;
  start(): void;
  /** Stops polling and waits for the shipment in flight. */
  stop(): Promise<void>;
}

async function shippedUpTo(db: Kysely<Database>, kind: SearchKind): Promise<number> {
  const row = await db
    .selectFrom('search_shipping')
    .select('shipped_id')
    .where('kind', '=', kind)
    .executeTakeFirst();
  return Number(row?.shipped_id ?? 0);
}

async function markShipped(db: Kysely<Database>, kind: SearchKind, id: number, now: Date): Promise<void> {
  await db
    .insertInto('search_shipping')
    .values({ kind, shipped_id: id, updated_at: now.toISOString() })
    .onConflict((oc) => oc.column('kind').doUpdateSet({ shipped_id: id, updated_at: now.toISOString() }))
    .execute();
}

async function rowsAfter(db: Kysely<Database>, kind: SearchKind, after: number) {
  if (kind === 'logs') {
    const rows = await db
      .selectFrom('server_logs')
      .selectAll()
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    return rows.map((r) => ({ id: Number(r.id), doc: logDocument(r) }));
  }
  const rows = await db
    .selectFrom('browser_telemetry')
    .selectAll()
    .where('id', '>', after)
    .orderBy('id')
    .limit(BATCH)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), doc: telemetryDocument(r) }));
}

export function createSearchShipper(options: ShipperOptions): SearchShipper {
  const { db, sink, logger, clock } = options;
  const registers = [options.registry];
  const shipped = new Counter({
    name: 'vigil_search_shipped_total',
    help: 'Documents handed to OpenSearch, by kind and outcome (written; existing: an earlier try wrote it; rejected: refused for what it is, not retried).',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const errors = new Counter({
    name: 'vigil_search_ship_errors_total',
    help: 'Bulk calls to OpenSearch that failed and will be retried (unreachable, 429, 5xx), by kind.',
    labelNames: ['kind'] as const,
    registers,
  });
  const lastShip = new Gauge({
    name: 'vigil_search_last_ship_timestamp_seconds',
    help: 'When a batch of each kind was last written to OpenSearch (Unix time).',
    labelNames: ['kind'] as const,
    registers,
  });
  new Gauge({
    name: 'vigil_search_backlog_rows',
    help: 'Rows stored in the database and not yet written to OpenSearch, by kind (they wait; nothing is lost).',
    labelNames: ['kind'] as const,
    registers,
    async collect() {
      for (const kind of KINDS) {
        const table = kind === 'logs' ? 'server_logs' : 'browser_telemetry';
        const [latest, mark] = await Promise.all([
          db.selectFrom(table).select(db.fn.max('id').as('id')).executeTakeFirst(),
          shippedUpTo(db, kind),
        ]);
        // Ids are counted, not rows: purged rows below the mark no longer matter, and above it ids are dense.
        this.set({ kind }, Math.max(0, Number(latest?.id ?? 0) - mark));
      }
    },
  });
  for (const kind of KINDS) {
    errors.inc({ kind }, 0);
    for (const outcome of OUTCOMES) shipped.inc({ kind, outcome }, 0);
  }

  let setUp = false;
  /** Ships one batch of a kind; answers whether there may be more. */
  async function shipBatch(kind: SearchKind): Promise<boolean> {
    const mark = await shippedUpTo(db, kind);
    const rows = await rowsAfter(db, kind, mark);
    if (rows.length === 0) return false;
    let outcome: Awaited<ReturnType<SearchSink['bulkWrite']>>;
    try {
      // biome-ignore lint/suspicious/noExplicitAny: the documents match the kind by construction
      outcome = await sink.bulkWrite(kind, rows.map((r) => r.doc) as any);
    } catch (error) {
      errors.inc({ kind });
      throw error;
    }
    shipped.inc({ kind, outcome: 'written' }, outcome.written.length);
    shipped.inc({ kind, outcome: 'existing' }, outcome.existing.length);
    shipped.inc({ kind, outcome: 'rejected' }, outcome.rejected.length);
    if (outcome.rejected.length > 0)
      logger.error('search shipping rejected documents', {
        kind,
        count: outcome.rejected.length,
        first: outcome.rejected[0] && { id: outcome.rejected[0].id, type: outcome.rejected[0].type },
      });
    // The mark moves to the last row before the first one to retry: everything up to it is in OpenSearch.
    const retry = new Set(outcome.retry);
    let upTo = mark;
    for (const row of rows) {
      if (retry.has(String(row.id))) break;
      upTo = row.id;
    }
    if (upTo > mark) {
      await markShipped(db, kind, upTo, clock());
      lastShip.set({ kind }, clock().getTime() / 1000);
    }
    if (retry.size > 0) {
      errors.inc({ kind });
      throw new Error(`OpenSearch asked for ${retry.size} ${kind} documents to be sent again later`);
    }
    return rows.length === BATCH;
  }

  async function shipAll(): Promise<void> {
    if (!setUp) {
      await sink.ensureSetup();
      setUp = true;
    }
    for (const kind of KINDS) while (await shipBatch(kind)) {}
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let backoff = 0;
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  const tick = () => {
    running = shipAll().then(
      () => {
        backoff = 0;
        schedule(options.pollMs ?? 1000);
      },
      (error: unknown) => {
        backoff = Math.min(MAX_BACKOFF_MS, backoff === 0 ? FIRST_BACKOFF_MS : backoff * 2);
        logger.warn('search shipping failed; retrying', {
          error: error instanceof Error ? error.message : String(error),
          retryInMs: backoff,
        });
        schedule(backoff);
      },
    );
  };

  return {
    shipAll,
    start() {
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
