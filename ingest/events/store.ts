import type SQLite from 'better-sqlite3';
import { ProblemError } from '../../api/problem.ts';
import type { AffiliateEventsTable } from '../../storage/affiliate-events.table.ts';
import { eventKeyOf } from '../../storage/event-key.ts';
import type { PayoutRow } from '../../storage/payouts.table.ts';
import type { WriteWork } from '../batch-writer.ts';
import { hashIdentifier, truncateIp } from '../identifiers.ts';
import type { Affiliate, AffiliateEvent, PayoutRequest } from './schemas.ts';

export type EventRow = AffiliateEventsTable;
type EventType = EventRow['type'];

type LandingFields = Pick<
  EventRow,
  'landing_path' | 'utm_source' | 'utm_medium' | 'utm_campaign' | 'utm_term' | 'utm_content'
>;

const NO_LANDING: LandingFields = {
  landing_path: null,
  utm_source: null,
  utm_medium: null,
  utm_campaign: null,
  utm_term: null,
  utm_content: null,
};

const UTM_KEYS = new Set(['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content']);

/** A query-string component decoded as a form value (`+` is a space); malformed escapes stay as sent. */
function decodeComponent(raw: string): string {
  const text = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Landing URL → its path and UTM parameters (each capped); the rest of the query is not kept. The URL was
 * validated as absolute (`scheme://authority…`), so the parts are found by their delimiters — on the hottest
 * path a WHATWG URL parse would cost more than the row's insert. The first value of a repeated key wins.
 */
export function landing(url: string | undefined): LandingFields {
  if (url === undefined) return NO_LANDING;
  const authority = url.indexOf('//');
  if (authority < 0) return NO_LANDING;
  const hash = url.indexOf('#', authority + 2);
  const end = hash < 0 ? url.length : hash;
  let query = url.indexOf('?', authority + 2);
  if (query > end) query = -1;
  const pathEnd = query < 0 ? end : query;
  let pathStart = url.indexOf('/', authority + 2);
  if (pathStart < 0 || pathStart > pathEnd) pathStart = pathEnd;
  const fields: LandingFields = {
    ...NO_LANDING,
    landing_path: url.slice(pathStart, pathEnd).slice(0, 1000) || '/',
  };
  if (query < 0) return fields;
  for (const pair of url.slice(query + 1, end).split('&')) {
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    if (!UTM_KEYS.has(key) || fields[key as keyof LandingFields] !== null) continue;
    fields[key as keyof LandingFields] = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1)).slice(0, 200);
  }
  return fields;
}

const URL_HOST = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i;

/** The host of an already validated URL, without parsing the rest of it. */
function host(url: string | undefined): string | null {
  if (url === undefined) return null;
  return URL_HOST.exec(url)?.[1]?.toLowerCase() || null;
}

type Click = Extract<AffiliateEvent, { type: 'click' }>;
type Conversion = Extract<AffiliateEvent, { type: 'conversion' }>;
type Refund = Extract<AffiliateEvent, { type: 'refund' }>;

/** What a row needs besides the event itself, worked out once per event. */
interface Derived {
  receivedAt: string;
  /** Keyed hash of the IP (the raw IP is never stored). */
  ipHash: string | null;
  /** The IP's /24 or /48. */
  ipPrefix: string | null;
  where: LandingFields;
}

type Columns<E> = { readonly [column in keyof EventRow]?: (event: E, derived: Derived) => unknown };

/**
 * The row stored for each type of event, column by column: personal identifiers minimised, URLs reduced. The
 * columns a type does not name stay NULL. Each type's statement binds only its own columns (binding a
 * parameter costs about as much as a B-tree step), and the type itself is a literal. Rows are built straight
 * into the bound values, in this order, with no intermediate row object.
 */
const ROWS: { click: Columns<Click>; conversion: Columns<Conversion>; refund: Columns<Refund> } = {
  click: {
    id: (e) => e.id,
    ts: (e) => e.ts,
    affiliate_id: (e) => e.affiliateId,
    campaign_id: (e) => e.campaignId ?? null,
    click_id: (e) => e.clickId,
    subject_id: (e) => e.subjectId ?? null,
    ip_hash: (_, d) => d.ipHash,
    ip_prefix: (_, d) => d.ipPrefix,
    user_agent: (e) => e.userAgent,
    referrer_host: (e) => host(e.referrer),
    landing_path: (_, d) => d.where.landing_path,
    utm_source: (_, d) => d.where.utm_source,
    utm_medium: (_, d) => d.where.utm_medium,
    utm_campaign: (_, d) => d.where.utm_campaign,
    utm_term: (_, d) => d.where.utm_term,
    utm_content: (_, d) => d.where.utm_content,
    country: (e) => e.country ?? null,
    received_at: (_, d) => d.receivedAt,
  },
  conversion: {
    id: (e) => e.id,
    ts: (e) => e.ts,
    affiliate_id: (e) => e.affiliateId ?? null,
    campaign_id: (e) => e.campaignId ?? null,
    click_id: (e) => e.clickId ?? null,
    order_id: (e) => e.orderId,
    subject_id: (e) => e.subjectId,
    amount: (e) => e.amount,
    currency: (e) => e.currency,
    coupon_code: (e) => e.couponCode?.toUpperCase() ?? null,
    ip_hash: (_, d) => d.ipHash,
    ip_prefix: (_, d) => d.ipPrefix,
    user_agent: (e) => e.userAgent,
    country: (e) => e.country ?? null,
    new_customer: (e) => (e.newCustomer === undefined ? null : Number(e.newCustomer)),
    received_at: (_, d) => d.receivedAt,
  },
  refund: {
    id: (e) => e.id,
    ts: (e) => e.ts,
    order_id: (e) => e.orderId,
    amount: (e) => e.amount,
    currency: (e) => e.currency,
    reason: (e) => e.reason ?? null,
    received_at: (_, d) => d.receivedAt,
  },
};

/** Each type's columns in binding order, and the functions that give their values. */
const TYPE_COLUMNS = {
  click: Object.keys(ROWS.click) as (keyof EventRow)[],
  conversion: Object.keys(ROWS.conversion) as (keyof EventRow)[],
  refund: Object.keys(ROWS.refund) as (keyof EventRow)[],
};
const TYPE_VALUES = {
  click: Object.values(ROWS.click),
  conversion: Object.values(ROWS.conversion),
  refund: Object.values(ROWS.refund),
} as { [T in EventType]: ((event: AffiliateEvent, derived: Derived) => unknown)[] };

/** The values of one event's row, in its type's column order. */
function rowValues(event: AffiliateEvent, secret: Buffer, receivedAt: string): unknown[] {
  const ip = event.type === 'refund' ? undefined : event.ip;
  const derived: Derived = {
    receivedAt,
    ipHash: ip === undefined ? null : hashIdentifier(secret, 'ip', ip),
    ipPrefix: ip === undefined ? null : (truncateIp(ip) ?? null),
    where: event.type === 'click' ? landing(event.landingUrl) : NO_LANDING,
  };
  const values = TYPE_VALUES[event.type];
  const bound = new Array(values.length);
  for (let i = 0; i < values.length; i += 1)
    bound[i] = (values[i] as (typeof values)[number])(event, derived);
  return bound;
}

/** Per event type, how many rows were new and how many repeated an id already stored. */
export type EventCounts = Record<EventType, { accepted: number; duplicates: number }>;

type InsertStatements = Record<EventType, SQLite.Statement> & { stored: SQLite.Statement };

// Statements are prepared once per connection; the group commit runs them synchronously.
const insertStatements = new WeakMap<SQLite.Database, InsertStatements>();

/** The identifier columns indexed by integer key (storage/event-key.ts), and their key columns. */
const KEYED = [
  ['id', 'id_key'],
  ['click_id', 'click_key'],
  ['order_id', 'order_key'],
  ['subject_id', 'subject_key'],
  ['ip_hash', 'ip_key'],
] as const;

/** Per type, where each keyed identifier sits in the row (-1: the type has no such column). */
const KEYED_AT = Object.fromEntries(
  (Object.keys(TYPE_COLUMNS) as EventType[]).map((type) => [
    type,
    KEYED.map(([column]) => TYPE_COLUMNS[type].indexOf(column)),
  ]),
) as Record<EventType, number[]>;

function insertStatementsFor(sqlite: SQLite.Database): InsertStatements {
  let statements = insertStatements.get(sqlite);
  if (!statements) {
    // The row's columns, then its keys.
    const prepare = (type: EventType) => {
      const columns = [...TYPE_COLUMNS[type], ...KEYED.map(([, key]) => key)];
      return sqlite.prepare(
        `insert into affiliate_events (type, ${columns.join(', ')})
         values ('${type}', ${columns.map(() => '?').join(', ')})`,
      );
    };
    statements = {
      click: prepare('click'),
      conversion: prepare('conversion'),
      refund: prepare('refund'),
      stored: sqlite.prepare('select 1 from affiliate_events where id_key = ? and id = ?').pluck(),
    };
    insertStatements.set(sqlite, statements);
  }
  return statements;
}

/**
 * A request's events as rows ready to bind: each row's values in its type's column order. Built where the
 * request is handled (hashing and URL reading run there), so that the write thread, which every request
 * waits on, only binds and inserts; arrays of plain values are also cheaper to pass between threads than
 * the events themselves.
 */
export interface EventRowBatch {
  types: EventType[];
  values: unknown[][];
}

/** The rows of validated events (see `ROWS`), in the form the write thread inserts. */
export function eventRowBatch(events: AffiliateEvent[], secret: Buffer, receivedAt: string): EventRowBatch {
  const types: EventType[] = new Array(events.length);
  const values: unknown[][] = new Array(events.length);
  events.forEach((event, i) => {
    types[i] = event.type;
    values[i] = rowValues(event, secret, receivedAt);
  });
  return { types, values };
}

/** Whether `type` is a type of event with rows (see `ROWS`). */
export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(TYPE_COLUMNS, type);
}

const REQUIRED_COLUMNS = new Set<keyof EventRow>(['id', 'ts', 'received_at']);

/**
 * Throws unless `values` is a whole row of `type` in insertion form with its required columns set: a row
 * that could not be inserted must never reach the event journal, where it would stop the apply thread.
 */
export function checkRow(type: EventType, values: unknown): asserts values is unknown[] {
  const columns = TYPE_COLUMNS[type];
  if (!columns || !Array.isArray(values) || values.length !== columns.length) {
    throw new Error(`not a row of a ${String(type)} event`);
  }
  columns.forEach((column, i) => {
    if (REQUIRED_COLUMNS.has(column) && typeof values[i] !== 'string') {
      throw new Error(`a ${type} event row without ${column}`);
    }
  });
}

/** Inserts the rows, skipping ids already stored (idempotency on event id). Runs on the write thread. */
export function insertEventRows(sqlite: SQLite.Database, batch: EventRowBatch): EventCounts {
  const statements = insertStatementsFor(sqlite);
  const counts: EventCounts = {
    click: { accepted: 0, duplicates: 0 },
    conversion: { accepted: 0, duplicates: 0 },
    refund: { accepted: 0, duplicates: 0 },
  };
  batch.types.forEach((type, i) => {
    const values = batch.values[i] as unknown[];
    const bound = values.slice();
    for (const at of KEYED_AT[type]) bound.push(at < 0 ? null : eventKeyOf(values[at]));
    // The write thread decides duplicates; an id already stored is still never inserted twice. (As one
    // `insert … select … where not exists` on the same table, SQLite first copies the row to a temporary
    // table: 9 µs more per row.)
    if (statements.stored.get(bound[values.length], values[0]) !== undefined) {
      counts[type].duplicates += 1;
      return;
    }
    statements[type].run(bound);
    counts[type].accepted += 1;
  });
  return counts;
}

/**
 * Upserts affiliates and replaces each one's coupon codes. A code held by another affiliate is a 409 for the
 * whole batch (the group commit then retries this submission alone, so nothing of it is stored).
 */
export function upsertAffiliates(affiliates: Affiliate[], secret: Buffer, now: string): WriteWork<number> {
  return (sqlite) => {
    const upsert = sqlite.prepare(
      `insert into affiliates (id, name, subject_id, payout_account_hash, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?)
       on conflict (id) do update set name = excluded.name, subject_id = excluded.subject_id,
         payout_account_hash = excluded.payout_account_hash, updated_at = excluded.updated_at`,
    );
    const owner = sqlite.prepare('select affiliate_id from affiliate_coupons where code = ?').pluck();
    const clearCodes = sqlite.prepare('delete from affiliate_coupons where affiliate_id = ?');
    const addCode = sqlite.prepare('insert into affiliate_coupons (code, affiliate_id) values (?, ?)');
    affiliates.forEach((a, index) => {
      upsert.run(
        a.id,
        a.name,
        a.subjectId ?? null,
        a.payoutAccount === undefined ? null : hashIdentifier(secret, 'account', a.payoutAccount),
        now,
        now,
      );
      clearCodes.run(a.id);
      for (const code of new Set(a.couponCodes.map((c) => c.toUpperCase()))) {
        const holder = owner.get(code) as string | undefined;
        if (holder !== undefined && holder !== a.id) {
          throw new ProblemError('conflict', `coupon code ${code} belongs to another affiliate`, {
            errors: [{ path: `/${index}/couponCodes`, message: `${code} belongs to affiliate ${holder}` }],
          });
        }
        addCode.run(code, a.id);
      }
    });
    return affiliates.length;
  };
}

/** What storing a payout request did: created it, or found the identical request already stored. */
export interface PayoutWrite {
  created: boolean;
  payout: PayoutRow;
}

/**
 * Stores a payout request as `pending`. Idempotent on id: the same request again returns the stored one; a
 * different request under a stored id is a 409. An unknown affiliate is a 422.
 */
export function insertPayout(request: PayoutRequest, now: string): WriteWork<PayoutWrite> {
  return (sqlite) => {
    const affiliate = sqlite
      .prepare('select 1 from affiliates where id = ?')
      .pluck()
      .get(request.affiliateId);
    if (affiliate === undefined) {
      throw new ProblemError('validation-failed', 'the payout names an affiliate Vigil does not know', {
        errors: [
          {
            path: '/affiliateId',
            message: `no affiliate ${request.affiliateId}; send it to /v1/affiliates first`,
          },
        ],
      });
    }
    const { changes } = sqlite
      .prepare(
        `insert into payouts (id, affiliate_id, period_start, period_end, amount, currency, status, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, 'pending', ?, ?) on conflict (id) do nothing`,
      )
      .run(
        request.id,
        request.affiliateId,
        request.periodStart,
        request.periodEnd,
        request.amount,
        request.currency,
        now,
        now,
      );
    const payout = sqlite.prepare('select * from payouts where id = ?').get(request.id) as PayoutRow;
    if (changes === 0) {
      const same =
        payout.affiliate_id === request.affiliateId &&
        payout.period_start === request.periodStart &&
        payout.period_end === request.periodEnd &&
        payout.amount === request.amount &&
        payout.currency === request.currency;
      if (!same) throw new ProblemError('conflict', `payout ${request.id} exists with different details`);
    }
    return { created: changes > 0, payout };
  };
}
