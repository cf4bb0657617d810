import type SQLite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { templatePath } from '../../http/route-template.ts';
import { scrubAttrs, scrubPath, scrubText } from '../../http/scrub.ts';
import type { WriteWork } from '../../storage/database.ts';
import type { BrowserTelemetryTable } from '../../storage/faro.table.ts';
import type { Database } from '../../storage/index.ts';
import { sanitisePageUrl } from './page-url.ts';
import type { FaroPayload, OtlpAttribute } from './schemas.ts';
import { type TelemetryVerdict, visitPseudonym } from './telemetry-policy.ts';

type TelemetryRow = Omit<BrowserTelemetryTable, 'id'>;
export type TelemetryKind = TelemetryRow['kind'];

/** Attributes that name a person: dropped from spans (only `user.id`, the subject id, is kept). */
const PERSONAL_ATTRIBUTE = /^(user\.(email|full_?name|name|username|hash|phone)|enduser\.(?!id$).*)$/i;

function isoOr(value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? fallback : date.toISOString();
}

function nanosToIso(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const ms = Number(BigInt(value) / 1_000_000n);
    const date = new Date(ms);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  } catch {
    return undefined;
  }
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) {
    if (PERSONAL_ATTRIBUTE.test(a.key)) continue;
    const v = a.value;
    out[a.key] = v?.stringValue ?? v?.intValue ?? v?.doubleValue ?? v?.boolValue ?? null;
  }
  return out;
}

/** Everything of a payload that is stored, before any row is written. */
export interface TelemetryBatch {
  rows: TelemetryRow[];
  counts: Record<TelemetryKind, number>;
  /** The templated page route, for metric labels. */
  pageRoute: string | undefined;
}

/** How a payload's rows are made: where they come from, and how the telemetry policy said to link them. */
export interface TelemetryRowOptions {
  appId: string;
  keepQueryKey: (key: string) => boolean;
  receivedAt: string;
  /** Keys the tokens that replace e-mail and IP addresses in free text, and visit pseudonyms. */
  secret: Buffer;
  verdict: Pick<TelemetryVerdict, 'subjectId' | 'session'>;
}

/**
 * Turns a validated payload into rows. Every free text a page writes (messages, names, context, attributes,
 * stack frames, page paths and kept query values) is scrubbed: e-mail and IP addresses become keyed-hash
 * tokens, as in server logs. The user's email, name and attributes are never stored; the subject is the one
 * the telemetry policy names, and the session is kept, replaced by a visit pseudonym, or dropped as it says.
 */
export function toTelemetryRows(payload: FaroPayload, options: TelemetryRowOptions): TelemetryBatch {
  const { secret, receivedAt } = options;
  const text = (value: string) => scrubText(secret, value);
  const optionalText = (value: string | undefined) => (value === undefined ? undefined : text(value));
  const data = (value: unknown) => scrubAttrs(secret, value);
  const meta = payload.meta;
  const pageUrl =
    meta?.page?.url === undefined
      ? null
      : (scrubPageUrl(secret, sanitisePageUrl(meta.page.url, options.keepQueryKey)) ?? null);
  const pageRoute = meta?.page?.url === undefined ? undefined : templatePath(meta.page.url);
  const storedMeta = JSON.stringify({
    sdk: meta?.sdk && { name: meta.sdk.name, version: meta.sdk.version },
    app: meta?.app && {
      name: meta.app.name,
      version: meta.app.version,
      environment: meta.app.environment,
      namespace: meta.app.namespace,
    },
    browser: meta?.browser && {
      name: meta.browser.name,
      version: meta.browser.version,
      os: meta.browser.os,
      mobile: meta.browser.mobile,
      language: meta.browser.language,
    },
    view: meta?.view && { name: optionalText(meta.view.name) },
  });
  const sessionId = meta?.session?.id || undefined;
  const base = {
    app_id: options.appId,
    session_id:
      sessionId === undefined || options.verdict.session === 'none'
        ? null
        : options.verdict.session === 'visit'
          ? visitPseudonym(secret, sessionId, receivedAt)
          : sessionId,
    user_id: options.verdict.subjectId,
    page_url: pageUrl,
    page_route: pageRoute ?? null,
    meta: storedMeta,
    received_at: receivedAt,
  };
  const blank = { name: null, level: null, message: null, trace_id: null, span_id: null, detail: null };
  const rows: TelemetryRow[] = [];
  for (const log of payload.logs ?? []) {
    rows.push({
      ...base,
      ...blank,
      kind: 'log',
      ts: isoOr(log.timestamp, receivedAt),
      level: log.level ?? 'info',
      message: text(log.message),
      trace_id: log.trace?.trace_id ?? null,
      span_id: log.trace?.span_id ?? null,
      detail: log.context ? JSON.stringify({ context: data(log.context) }) : null,
    });
  }
  for (const e of payload.exceptions ?? []) {
    rows.push({
      ...base,
      ...blank,
      kind: 'exception',
      ts: isoOr(e.timestamp, receivedAt),
      name: text(e.type),
      message: optionalText(e.value) ?? null,
      trace_id: e.trace?.trace_id ?? null,
      span_id: e.trace?.span_id ?? null,
      detail: JSON.stringify({ frames: data(e.stacktrace?.frames ?? []), context: data(e.context) }),
    });
  }
  for (const m of payload.measurements ?? []) {
    rows.push({
      ...base,
      ...blank,
      kind: 'measurement',
      ts: isoOr(m.timestamp, receivedAt),
      name: text(m.type),
      trace_id: m.trace?.trace_id ?? null,
      span_id: m.trace?.span_id ?? null,
      detail: JSON.stringify({ values: m.values, context: data(m.context) }),
    });
  }
  for (const e of payload.events ?? []) {
    rows.push({
      ...base,
      ...blank,
      kind: 'event',
      ts: isoOr(e.timestamp, receivedAt),
      name: text(e.name),
      trace_id: e.trace?.trace_id ?? null,
      span_id: e.trace?.span_id ?? null,
      detail: JSON.stringify({ domain: optionalText(e.domain), attributes: data(e.attributes) }),
    });
  }
  for (const resource of payload.traces?.resourceSpans ?? []) {
    const resourceAttributes = attributes(resource.resource?.attributes);
    for (const scope of resource.scopeSpans) {
      for (const span of scope.spans) {
        const start = nanosToIso(span.startTimeUnixNano);
        const end = nanosToIso(span.endTimeUnixNano);
        rows.push({
          ...base,
          ...blank,
          kind: 'span',
          ts: start ?? receivedAt,
          name: text(span.name),
          trace_id: span.traceId.toLowerCase(),
          span_id: span.spanId.toLowerCase(),
          detail: JSON.stringify({
            kind: span.kind,
            parentSpanId: span.parentSpanId,
            start,
            end,
            status: data(span.status),
            scope: optionalText(scope.scope?.name),
            attributes: data(attributes(span.attributes)),
            service: data(resourceAttributes['service.name']),
          }),
        });
      }
    }
  }
  const counts: Record<TelemetryKind, number> = { log: 0, exception: 0, measurement: 0, event: 0, span: 0 };
  for (const row of rows) counts[row.kind] += 1;
  return { rows, counts, pageRoute };
}

/** The items of each kind a payload holds (what `toTelemetryRows` would make rows of). */
export function countItems(payload: FaroPayload): Record<TelemetryKind, number> {
  let span = 0;
  for (const resource of payload.traces?.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans) span += scope.spans.length;
  }
  return {
    log: payload.logs?.length ?? 0,
    exception: payload.exceptions?.length ?? 0,
    measurement: payload.measurements?.length ?? 0,
    event: payload.events?.length ?? 0,
    span,
  };
}

/** A sanitised page URL with its path segments and kept query values scrubbed. */
function scrubPageUrl(secret: Buffer, url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const parsed = new URL(url);
  parsed.pathname = scrubPath(secret, parsed.pathname);
  const kept = [...parsed.searchParams];
  parsed.search = '';
  for (const [key, value] of kept) parsed.searchParams.append(key, scrubText(secret, value));
  return parsed.toString();
}

const COLUMNS = [
  'app_id',
  'kind',
  'ts',
  'session_id',
  'user_id',
  'page_url',
  'page_route',
  'name',
  'level',
  'message',
  'trace_id',
  'span_id',
  'detail',
  'meta',
  'received_at',
] as const satisfies readonly (keyof TelemetryRow)[];

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Stores the rows, unless the app already sent this `Idempotency-Key` in the last 24 hours: the key is claimed
 * in the same transaction as the rows, so a retried batch counts once even when the two race. Keys older than
 * the window are pruned as new ones arrive. Answers whether the rows were stored.
 */
export function insertTelemetry(
  rows: TelemetryRow[],
  idempotency: { appId: string; key: string; now: Date } | undefined,
): WriteWork<boolean> {
  return (sqlite: SQLite.Database) => {
    if (idempotency) {
      const cutoff = new Date(idempotency.now.getTime() - IDEMPOTENCY_WINDOW_MS).toISOString();
      const seen = sqlite
        .prepare('select created_at from faro_idempotency where app_id = ? and key = ?')
        .pluck()
        .get(idempotency.appId, idempotency.key) as string | undefined;
      if (seen !== undefined && seen >= cutoff) return false;
      sqlite.prepare('delete from faro_idempotency where created_at < ? limit 1000').run(cutoff);
      sqlite
        .prepare(
          `insert into faro_idempotency (app_id, key, created_at) values (?, ?, ?)
           on conflict (app_id, key) do update set created_at = excluded.created_at`,
        )
        .run(idempotency.appId, idempotency.key, idempotency.now.toISOString());
    }
    const insert = sqlite.prepare(
      `insert into browser_telemetry (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`,
    );
    for (const row of rows) insert.run(COLUMNS.map((c) => row[c]));
    return true;
  };
}

/** Rows per statement on PostgreSQL, which binds at most 65,535 parameters. */
const TELEMETRY_ROWS_PER_STATEMENT = 2000;

/**
 * `insertTelemetry` for PostgreSQL, where replicas take one app's retries at once: the key is claimed in the
 * rows' transaction by an upsert that only takes a key unseen or older than the window, so of two batches
 * racing with one key exactly one is stored. Answers whether the rows were stored.
 */
export async function insertTelemetryPostgres(
  db: Kysely<Database>,
  rows: TelemetryRow[],
  idempotency: { appId: string; key: string; now: Date } | undefined,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (idempotency) {
      const now = idempotency.now.toISOString();
      const cutoff = new Date(idempotency.now.getTime() - IDEMPOTENCY_WINDOW_MS).toISOString();
      const claimed = await trx
        .insertInto('faro_idempotency')
        .values({ app_id: idempotency.appId, key: idempotency.key, created_at: now })
        .onConflict((conflict) =>
          conflict
            .columns(['app_id', 'key'])
            .doUpdateSet({ created_at: now })
            .where('faro_idempotency.created_at', '<', cutoff),
        )
        .returning('key')
        .executeTakeFirst();
      if (claimed === undefined) return false;
      await sql`delete from faro_idempotency where (app_id, key) in (
        select app_id, key from faro_idempotency where created_at < ${cutoff} limit 1000)`.execute(trx);
    }
    const values = rows.map((row) => Object.fromEntries(COLUMNS.map((c) => [c, row[c]])) as TelemetryRow);
    for (let i = 0; i < values.length; i += TELEMETRY_ROWS_PER_STATEMENT)
      await trx
        .insertInto('browser_telemetry')
        .values(values.slice(i, i + TELEMETRY_ROWS_PER_STATEMENT))
        .execute();
    return true;
  });
}
