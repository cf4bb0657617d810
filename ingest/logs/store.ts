import type SQLite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { templatePath } from '../../http/route-template.ts';
import { scrubAttrs, scrubText } from '../../http/scrub.ts';
import type { WriteWork } from '../../storage/database.ts';
import { type Database, isPostgres } from '../../storage/index.ts';
import type { ServerLogRow } from '../../storage/server-logs.table.ts';
import { latencyBucket } from '../../storage/traffic.table.ts';
import { type LogEntry, type LogLevel, severityOf } from './schemas.ts';

const insertStatements = new WeakMap<SQLite.Database, SQLite.Statement>();

const batchStatements = new WeakMap<SQLite.Database, SQLite.Statement>();

/**
 * The route template of each entry that describes a request (a route and a status), else null: computed once
 * per batch for both the stored per-minute figures and the RED metrics, so they name routes alike.
 */
export function requestTemplates(entries: LogEntry[]): (string | null)[] {
  return entries.map((e) => (e.route === undefined || e.status === undefined ? null : templatePath(e.route)));
}

/**
 * The requests among `entries` per minute, service and route template (`templates`, from `requestTemplates`):
 * count, 5xx and a latency histogram, for the traffic detector.
 */
function routeMinuteRows(entries: LogEntry[], templates: (string | null)[]): unknown[][] {
  const groups = new Map<
    string,
    {
      minute: string;
      service: string;
      route: string;
      count: number;
      errors: number;
      latency: Map<number, number>;
    }
  >();
  for (const [i, e] of entries.entries()) {
    const template = templates[i];
    if (template === null || template === undefined || e.status === undefined) continue;
    const minute = `${e.ts.slice(0, 16)}:00.000Z`;
    const key = `${minute}\n${e.service}\n${template}`;
    let g = groups.get(key);
    if (!g) {
      g = { minute, service: e.service, route: template, count: 0, errors: 0, latency: new Map() };
      groups.set(key, g);
    }
    g.count += 1;
    if (e.status >= 500) g.errors += 1;
    if (e.durationMs !== undefined) {
      const bucket = latencyBucket(e.durationMs);
      g.latency.set(bucket, (g.latency.get(bucket) ?? 0) + 1);
    }
  }
  return [...groups.values()].map((g) => [
    g.minute,
    g.service,
    g.route,
    g.count,
    g.errors,
    JSON.stringify(Object.fromEntries(g.latency)),
  ]);
}

/** The stored rows of log entries, scrubbed, in `LOG_COLUMNS` order. */
function logRows(entries: LogEntry[], secret: Buffer, receivedAt: string): unknown[][] {
  return entries.map((e) => [
    e.ts,
    e.level,
    severityOf(e.level),
    e.service,
    scrubText(secret, e.message),
    e.route === undefined ? null : scrubText(secret, e.route),
    e.method ?? null,
    e.status ?? null,
    e.durationMs ?? null,
    e.traceId?.toLowerCase() ?? null,
    e.attrs === undefined ? null : JSON.stringify(scrubAttrs(secret, e.attrs)),
    receivedAt,
  ]);
}

const LOG_COLUMNS = [
  'ts',
  'level',
  'severity',
  'service',
  'message',
  'route',
  'method',
  'status',
  'duration_ms',
  'trace_id',
  'attrs',
  'received_at',
] as const;
const MINUTE_COLUMNS = ['minute', 'service', 'route', 'count', 'errors', 'latency'] as const;

/**
 * Inserts scrubbed log entries, and their requests' per-minute figures for the traffic detector, in one
 * transaction; FTS5 is kept in step by the table's triggers.
 */
export function insertLogs(
  entries: LogEntry[],
  secret: Buffer,
  receivedAt: string,
  templates: (string | null)[] = requestTemplates(entries),
): WriteWork<number> {
  const rows = logRows(entries, secret, receivedAt);
  const minutes = routeMinuteRows(entries, templates);
  return (sqlite) => {
    let insert = insertStatements.get(sqlite);
    if (!insert) {
      insert = sqlite.prepare(
        `insert into server_logs (${LOG_COLUMNS.join(', ')}) values (${LOG_COLUMNS.map(() => '?').join(', ')})`,
      );
      insertStatements.set(sqlite, insert);
    }
    for (const row of rows) insert.run(row);
    let batch = batchStatements.get(sqlite);
    if (!batch) {
      batch = sqlite.prepare(
        `insert into route_minute_batches (${MINUTE_COLUMNS.join(', ')}) values (?, ?, ?, ?, ?, ?)`,
      );
      batchStatements.set(sqlite, batch);
    }
    for (const row of minutes) batch.run(row);
    return rows.length;
  };
}

/** Rows per statement on PostgreSQL, which binds at most 65,535 parameters. */
const LOG_ROWS_PER_STATEMENT = 2000;

/** A row in column order as an object; typed loosely (`never`) for Kysely, as the row was built to its table. */
const asObject = <K extends string>(columns: readonly K[], row: unknown[]) =>
  Object.fromEntries(columns.map((c, i) => [c, row[i]])) as Record<K, never>;

/**
 * `insertLogs` for PostgreSQL, where several replicas write: the same rows in one transaction through Kysely
 * (the message's tsvector is a generated column there).
 */
export async function insertLogsPostgres(
  db: Kysely<Database>,
  entries: LogEntry[],
  secret: Buffer,
  receivedAt: string,
  templates: (string | null)[] = requestTemplates(entries),
): Promise<number> {
  const rows = logRows(entries, secret, receivedAt).map((row) => asObject(LOG_COLUMNS, row));
  const minutes = routeMinuteRows(entries, templates).map((row) => asObject(MINUTE_COLUMNS, row));
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += LOG_ROWS_PER_STATEMENT)
      await trx
        .insertInto('server_logs')
        .values(rows.slice(i, i + LOG_ROWS_PER_STATEMENT))
        .execute();
    for (let i = 0; i < minutes.length; i += LOG_ROWS_PER_STATEMENT)
      await trx
        .insertInto('route_minute_batches')
        .values(minutes.slice(i, i + LOG_ROWS_PER_STATEMENT))
        .execute();
  });
  return rows.length;
}

/** A search of the stored logs; results are newest first, `before` pages backwards by id. */
export interface LogQuery {
  service?: string;
  minLevel?: LogLevel;
  text?: string;
  since?: string;
  until?: string;
  before?: number;
  limit: number;
}

/** Most words a full-text search takes: each is one more index lookup the query must intersect. */
export const MAX_QUERY_TERMS = 16;

/** The words of a free-text search: split on whitespace, each with a letter or digit, control characters as spaces. */
export function queryTerms(text: string): string[] {
  return text
    .replace(/\p{Cc}/gu, ' ')
    .split(/\s+/)
    .filter((t) => /[\p{L}\p{N}]/u.test(t));
}

/**
 * Turns free text into an FTS5 query that can only mean "all these words": each term is quoted (inner quotes
 * doubled), so FTS5 operators and syntax in the input are searched for as words, never interpreted. Control
 * characters become spaces: FTS5 reads the query as a C string, and a NUL would end it inside a quoted term.
 * No words → undefined; more than `MAX_QUERY_TERMS` is refused (a RangeError) rather than searched in part —
 * the route's query schema answers that with a 422 first.
 */
function ftsQuery(text: string): string | undefined {
  const terms = queryTerms(text);
  if (terms.length === 0) return undefined;
  if (terms.length > MAX_QUERY_TERMS) {
    throw new RangeError(`a search takes at most ${MAX_QUERY_TERMS} words, got ${terms.length}`);
  }
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' ');
}

export async function searchLogs(db: Kysely<Database>, query: LogQuery): Promise<ServerLogRow[]> {
  let q = db
    .selectFrom('server_logs')
    .select(['id', ...LOG_COLUMNS])
    .orderBy('id', 'desc')
    .limit(query.limit);
  if (query.service !== undefined) q = q.where('service', '=', query.service);
  if (query.minLevel !== undefined) q = q.where('severity', '>=', severityOf(query.minLevel));
  if (query.since !== undefined) q = q.where('ts', '>=', query.since);
  if (query.until !== undefined) q = q.where('ts', '<', query.until);
  if (query.before !== undefined) q = q.where('id', '<', query.before);
  const match = query.text === undefined ? undefined : ftsQuery(query.text);
  if (match !== undefined) {
    q = isPostgres(db)
      ? // Every word, as PostgreSQL's parser splits them: the same parser made the message's tsvector.
        q.where(
          sql<boolean>`message_tsv @@ plainto_tsquery('simple', ${queryTerms(query.text ?? '').join(' ')})`,
        )
      : q.where(sql<boolean>`id in (select rowid from server_logs_fts where server_logs_fts match ${match})`);
  }
  return q.execute();
}
