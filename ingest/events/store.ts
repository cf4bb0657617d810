import type SQLite from 'better-sqlite3';
import type { Insertable } from 'kysely';
import type { AffiliateEventsTable } from '../../storage/affiliate-events.table.ts';
import type { WriteWork } from '../../storage/database.ts';
import { eventKeyOf } from '../../storage/event-key.ts';
import { hashIdentifier, truncateIp } from '../../storage/identifiers.ts';
import { ConflictError, InvalidInputError } from '../../storage/index.ts';
import type { PayoutRow } from '../../storage/payouts.table.ts';
import type { Affiliate, AffiliateEvent, PayoutRequest } from './schemas.ts';

export type EventRow = AffiliateEventsTable;
type EventType = EventRow['type'];

type LandingFields = Pick<
  EventRow,
  | 'landing_host'
  | 'landing_path'
  | 'utm_source'
  | 'utm_medium'
  | 'utm_campaign'
  | 'utm_term'
  | 'utm_content'
  | 'ad_click'
>;

const NO_LANDING: LandingFields = {
  landing_host: null,
  landing_path: null,
  utm_source: null,
  utm_medium: null,
  utm_campaign: null,
  utm_term: null,
  utm_content: null,
  ad_click: null,
};

/**
 * Click ids that search-ad networks add to the landing URL of a paid click (Google Ads' `gclid` and its iOS
 * forms `gbraid`/`wbraid`, Microsoft Advertising's `msclkid`, Yandex Direct's `yclid`). Only their name is
 * kept: it says the affiliate paid for the click, which programmes restrict (bidding on the shop's brand).
 * Not `fbclid` or the like, which social networks add to every outbound link, paid or not.
 */
const AD_CLICK_KEYS = new Set(['gclid', 'gbraid', 'wbraid', 'msclkid', 'yclid']);
/** First characters of the keys `landing` reads: `u`tm_…, the ad click keys, and an escape. */
const READ_FIRST = new Set([0x75, 0x67, 0x77, 0x6d, 0x79, 0x25]);

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
 * Landing URL → its path and UTM parameters (each capped), and the name of a search-ad click id it carries
 * (`AD_CLICK_KEYS`, without the id); the rest of the query is not kept. The URL was
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
    landing_host: hostOf(url.slice(authority + 2, pathStart)),
    landing_path: url.slice(pathStart, pathEnd).slice(0, 1000) || '/',
    utm_source: null,
    utm_medium: null,
    utm_campaign: null,
    utm_term: null,
    utm_content: null,
    ad_click: null,
  };
  // Pair by pair, without splitting the query: a pair whose key cannot decode to a key read here (it starts
  // with none of their first letters nor an escape) is skipped unread, as most of a link's other parameters are.
  for (let at = query < 0 ? end : query + 1; at < end; ) {
    let next = url.indexOf('&', at);
    if (next < 0 || next > end) next = end;
    const first = url.charCodeAt(at);
    if (READ_FIRST.has(first)) {
      let eq = url.indexOf('=', at);
      if (eq < 0 || eq > next) eq = next;
      const key = decodeComponent(url.slice(at, eq));
      if (AD_CLICK_KEYS.has(key)) fields.ad_click ??= key;
      else if (UTM_KEYS.has(key) && fields[key as keyof LandingFields] === null) {
        fields[key as keyof LandingFields] = decodeComponent(url.slice(Math.min(eq + 1, next), next)).slice(
          0,
          200,
        );
      }
    }
    at = next + 1;
  }
  return fields;
}

/** The host of a URL's authority (`user@host:port`), lower-cased; null when empty. */
function hostOf(authority: string): string | null {
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const end = hostPort.startsWith('[') ? hostPort.indexOf(']') + 1 : hostPort.indexOf(':');
  return (end >= 0 ? hostPort.slice(0, end) : hostPort).toLowerCase() || null;
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

/** What a row stores of an IP: its keyed hash (the raw IP is never stored), or null while that is to come. */
type IpHasher = (ip: string) => string | null;

/** A keyed hash of the IP. */
export const ipHash = (secret: Buffer, ip: string) => hashIdentifier(secret, 'ip', ip);
/** The IP's /24 or /48. */
const ipPrefix = (ip: string) => truncateIp(ip) ?? null;

/**
 * The row stored for each type of event: its columns, in binding order, and its values in that order, with
 * personal identifiers minimised and URLs reduced. The columns a type does not name stay NULL. Each type's
 * statement binds only its own columns (binding a parameter costs about as much as a B-tree step), and the
 * type itself is a literal. A row is one array literal per event: built through a table of a function per
 * column it took 2.95 µs per event against 2.65 (hashing the IP is 1.3 of that), on the thread that answers
 * every request. `rowColumns` (tested) pairs each column with its value.
 */
const ROWS = {
  click: {
    columns: [
      'id',
      'ts',
      'affiliate_id',
      'campaign_id',
      'click_id',
      'subject_id',
      'ip_hash',
      'ip_prefix',
      'user_agent',
      'referrer_host',
      'landing_path',
      'utm_source',
      'utm_medium',
      'utm_campaign',
      'utm_term',
      'utm_content',
      'country',
      'received_at',
      // Appended after the first release: rows journaled before them lack them (`upgradeRow`).
      'ad_click',
      'landing_host',
    ],
    values(e: Click, hashIp: IpHasher, receivedAt: string): unknown[] {
      const where = landing(e.landingUrl);
      return [
        e.id,
        e.ts,
        e.affiliateId,
        e.campaignId ?? null,
        e.clickId,
        e.subjectId ?? null,
        hashIp(e.ip),
        ipPrefix(e.ip),
        e.userAgent,
        host(e.referrer),
        where.landing_path,
        where.utm_source,
        where.utm_medium,
        where.utm_campaign,
        where.utm_term,
        where.utm_content,
        e.country ?? null,
        receivedAt,
        where.ad_click,
        where.landing_host,
      ];
    },
  },
  conversion: {
    columns: [
      'id',
      'ts',
      'affiliate_id',
      'campaign_id',
      'click_id',
      'order_id',
      'subject_id',
      'amount',
      'currency',
      'coupon_code',
      'ip_hash',
      'ip_prefix',
      'user_agent',
      'country',
      'new_customer',
      'received_at',
    ],
    values(e: Conversion, hashIp: IpHasher, receivedAt: string): unknown[] {
      return [
        e.id,
        e.ts,
        e.affiliateId ?? null,
        e.campaignId ?? null,
        e.clickId ?? null,
        e.orderId,
        e.subjectId ?? null,
        e.amount,
        e.currency,
        e.couponCode?.toUpperCase() ?? null,
        hashIp(e.ip),
        ipPrefix(e.ip),
        e.userAgent,
        e.country ?? null,
        e.newCustomer === undefined ? null : Number(e.newCustomer),
        receivedAt,
      ];
    },
  },
  refund: {
    columns: ['id', 'ts', 'order_id', 'amount', 'currency', 'reason', 'received_at'],
    values(e: Refund, _hashIp: IpHasher, receivedAt: string): unknown[] {
      return [e.id, e.ts, e.orderId, e.amount, e.currency, e.reason ?? null, receivedAt];
    },
  },
} satisfies { [T in EventType]: { columns: (keyof EventRow)[]; values(...args: never[]): unknown[] } };

/** Each type's columns in binding order. */
const TYPE_COLUMNS: Record<EventType, readonly (keyof EventRow)[]> = {
  click: ROWS.click.columns,
  conversion: ROWS.conversion.columns,
  refund: ROWS.refund.columns,
};

/** How many columns were appended to each type's row after its first release (rows journaled before lack them). */
const APPENDED_COLUMNS: Record<EventType, number> = { click: 2, conversion: 0, refund: 0 };

/**
 * A row as an older release journaled it, padded with NULL for the columns appended since, so that a journal
 * written before an upgrade still applies after it. Other rows are returned as they are (`checkRow` judges them).
 */
export function upgradeRow(type: EventType, values: unknown[]): unknown[] {
  const columns = TYPE_COLUMNS[type];
  const appended = APPENDED_COLUMNS[type];
  if (!columns || !Array.isArray(values) || appended === 0) return values;
  if (values.length < columns.length - appended || values.length >= columns.length) return values;
  return [...values, ...new Array(columns.length - values.length).fill(null)];
}

/** The values of one event's row, in its type's column order. */
function rowValues(event: AffiliateEvent, hashIp: IpHasher, receivedAt: string): unknown[] {
  switch (event.type) {
    case 'click':
      return ROWS.click.values(event, hashIp, receivedAt);
    case 'conversion':
      return ROWS.conversion.values(event, hashIp, receivedAt);
    case 'refund':
      return ROWS.refund.values(event, hashIp, receivedAt);
  }
}

/** An event's row as column → value: what `affiliate_events` stores for it (ahead of its integer keys). */
export function rowColumns(event: AffiliateEvent, secret: Buffer, receivedAt: string): Partial<EventRow> {
  const values = rowValues(event, (ip) => ipHash(secret, ip), receivedAt);
  return Object.fromEntries(TYPE_COLUMNS[event.type].map((column, i) => [column, values[i]]));
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
      stored: sqlite
        .prepare('select id from affiliate_events where id_key in (select value from json_each(?))')
        .pluck(),
    };
    insertStatements.set(sqlite, statements);
  }
  return statements;
}

/**
 * A row in insertion form as an object of its type's columns and the keys of its identifiers. `values` is a
 * whole row of `type` (see `checkRow`).
 */
export function keyedRow(type: EventType, values: readonly unknown[]): Insertable<EventRow> {
  const row: Record<string, unknown> = { type };
  TYPE_COLUMNS[type].forEach((column, i) => {
    row[column] = values[i];
  });
  for (const [column, key] of KEYED) row[key] = eventKeyOf(row[column]);
  return row as unknown as Insertable<EventRow>;
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
  /**
   * Set while the IP hashes are still to be computed (`unhashedRowBatch`): the raw IP of each row that has
   * an IP column, in row order, whose `ip_hash` is null until `hashRowIps` fills it in. Never journaled.
   */
  ips?: string[];
}

/** The rows of validated events (see `ROWS`), in the form the apply thread inserts. */
export function eventRowBatch(events: AffiliateEvent[], secret: Buffer, receivedAt: string): EventRowBatch {
  const types: EventType[] = new Array(events.length);
  const values: unknown[][] = new Array(events.length);
  const hashIp = (ip: string) => ipHash(secret, ip);
  events.forEach((event, i) => {
    types[i] = event.type;
    values[i] = rowValues(event, hashIp, receivedAt);
  });
  return { types, values };
}

/**
 * The rows of validated events with their IP hashes left to compute, and the raw IPs to hash (`ips`). The
 * thread that answers every request builds the rows; the keyed hash (~1.2 µs per IP, a seventh of that
 * thread's work per event) is computed on the write thread (`hashRowIps`), before anything is journaled.
 */
export function unhashedRowBatch(events: AffiliateEvent[], receivedAt: string): EventRowBatch {
  const types: EventType[] = new Array(events.length);
  const values: unknown[][] = new Array(events.length);
  const ips: string[] = [];
  const later = (ip: string) => {
    ips.push(ip);
    return null;
  };
  events.forEach((event, i) => {
    types[i] = event.type;
    values[i] = rowValues(event, later, receivedAt);
  });
  return { types, values, ips };
}

/** Per type, where the IP hash sits in its row (-1: the type has no IP). */
export const IP_HASH_AT: Record<EventType, number> = {
  click: ROWS.click.columns.indexOf('ip_hash'),
  conversion: ROWS.conversion.columns.indexOf('ip_hash'),
  refund: -1,
};

/**
 * Sets the `ip_hash` of every row that has an IP column, in row order, to `hashes[k]`: the hashes of an
 * `unhashedRowBatch`'s `ips`. Throws unless there is exactly one per such row.
 */
export function fillIpHashes(batch: EventRowBatch, hashes: readonly unknown[]): void {
  let k = 0;
  batch.types.forEach((type, i) => {
    const at = IP_HASH_AT[type];
    if (at < 0) return;
    const hash = hashes[k++];
    if (typeof hash !== 'string') throw new Error('an event row without its IP hash');
    (batch.values[i] as unknown[])[at] = hash;
  });
  if (k !== hashes.length) throw new Error('more IP hashes than event rows with an IP');
}

/** Whether `type` is a type of event with rows (see `ROWS`). */
export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(TYPE_COLUMNS, type);
}

const REQUIRED_COLUMNS: (keyof EventRow)[] = ['id', 'ts', 'received_at'];
/** Per type, where the required columns sit in the row. */
const REQUIRED_AT = Object.fromEntries(
  (Object.keys(TYPE_COLUMNS) as EventType[]).map((type) => [
    type,
    REQUIRED_COLUMNS.map((column) => [column, TYPE_COLUMNS[type].indexOf(column)] as const),
  ]),
) as Record<EventType, (readonly [keyof EventRow, number])[]>;

/**
 * Throws unless `values` is a whole row of `type` in insertion form with its required columns set: a row
 * that could not be inserted must never reach the event journal, where it would stop the apply thread.
 */
export function checkRow(type: EventType, values: unknown): asserts values is unknown[] {
  const columns = TYPE_COLUMNS[type];
  if (!columns || !Array.isArray(values) || values.length !== columns.length) {
    throw new Error(`not a row of a ${String(type)} event`);
  }
  for (const [column, at] of REQUIRED_AT[type]) {
    if (typeof values[at] !== 'string') throw new Error(`a ${type} event row without ${column}`);
  }
}

/**
 * Inserts the rows, skipping ids already stored or repeated in the batch (idempotency on event id). Runs on
 * the apply thread, where the write thread has already refused every duplicate it could see; this check only
 * guarantees that an id is never stored twice whatever reached the journal.
 */
export function insertEventRows(sqlite: SQLite.Database, batch: EventRowBatch): EventCounts {
  const statements = insertStatementsFor(sqlite);
  const counts: EventCounts = {
    click: { accepted: 0, duplicates: 0 },
    conversion: { accepted: 0, duplicates: 0 },
    refund: { accepted: 0, duplicates: 0 },
  };
  const bound = batch.values.map((values, i) => {
    const row = (values as unknown[]).slice();
    for (const at of KEYED_AT[batch.types[i] as EventType]) row.push(at < 0 ? null : eventKeyOf(row[at]));
    return row;
  });
  // The batch's ids looked up in one statement: a lookup per row, each its own call, cost 3.8 µs per event
  // of the apply thread's ~23 at 1,000,000 rows. (As `insert … select … where not exists`, SQLite first
  // copies each row to a temporary table: 9 µs more per row.)
  const keys = bound.map((row, i) => row[(batch.values[i] as unknown[]).length]);
  const seen = new Set(statements.stored.all(JSON.stringify(keys)) as string[]);
  batch.types.forEach((type, i) => {
    const row = bound[i] as unknown[];
    const id = row[0] as string;
    if (seen.has(id)) {
      counts[type].duplicates += 1;
      return;
    }
    seen.add(id);
    statements[type].run(row);
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
      `insert into affiliates (id, name, subject_id, payout_account_hash, search_ads_allowed, created_at,
         updated_at)
       values (?, ?, ?, ?, ?, ?, ?)
       on conflict (id) do update set name = excluded.name, subject_id = excluded.subject_id,
         payout_account_hash = excluded.payout_account_hash, search_ads_allowed = excluded.search_ads_allowed,
         updated_at = excluded.updated_at`,
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
        a.searchAdsAllowed ? 1 : 0,
        now,
        now,
      );
      clearCodes.run(a.id);
      for (const code of new Set(a.couponCodes.map((c) => c.toUpperCase()))) {
        const holder = owner.get(code) as string | undefined;
        if (holder !== undefined && holder !== a.id) {
          throw new ConflictError(`coupon code ${code} belongs to another affiliate`, [
            { path: `/${index}/couponCodes`, message: `${code} belongs to affiliate ${holder}` },
          ]);
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
      throw new InvalidInputError('the payout names an affiliate Vigil does not know', [
        {
          path: '/affiliateId',
          message: `no affiliate ${request.affiliateId}; send it to /v1/affiliates first`,
        },
      ]);
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
    if (changes === 0 && !samePayout(payout, request))
      throw new ConflictError(`payout ${request.id} exists with different details`);
    return { created: changes > 0, payout };
  };
}

/** Whether a stored payout is the request itself (its id sent again), not a different one under its id. */
export function samePayout(payout: PayoutRow, request: PayoutRequest): boolean {
  return (
    payout.affiliate_id === request.affiliateId &&
    payout.period_start === request.periodStart &&
    payout.period_end === request.periodEnd &&
    payout.amount === request.amount &&
    payout.currency === request.currency
  );
}
