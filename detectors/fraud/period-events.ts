// Loading what the features of one period need (clicks, conversions, refunds, the affiliates' own IPs and
// earlier clicks), for every affiliate or for one. Two loaders give the same events: one over the SQLite
// connection directly (raw rows in one synchronous pass: the hot path of training and scoring on one machine),
// and one over Kysely in SQL that PostgreSQL runs too (identifiers looked up by their integer keys, computed
// here, as the indexes hold them).
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { eventKey } from '../../storage/event-key.ts';
import type { Database } from '../../storage/index.ts';
import {
  type AffiliateInfo,
  type ClickEvent,
  type ConversionEvent,
  isDisputeReason,
  type PeriodEvents,
  type RefundEvent,
  salesCountriesOf,
} from './features.ts';

const DAY = 86_400_000;
/** How far before a period a conversion's click may lie and still be found. */
const CLICK_LOOKBACK_MS = 30 * DAY;
/** Earlier periods (of the same length) the growth feature compares against. */
const HISTORY_PERIODS = 3;
/** Identifiers per lookup query (each is sent twice: its key and itself). */
const LOOKUP_CHUNK = 5000;

type Row = Record<string, unknown>;

/** The period, and the affiliate when only one is loaded. */
export interface PeriodRange {
  start: Date;
  end: Date;
  affiliateId?: string;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A click from a raw row whose CLICK_COLUMNS start at `at` (raw rows: no object per row from the driver).
 */
const toClick = (r: unknown[], at = 0): ClickEvent => ({
  affiliateId: r[at] as string,
  clickId: r[at + 1] as string | null,
  ts: Date.parse(r[at + 2] as string),
  ipHash: r[at + 3] as string | null,
  ipPrefix: r[at + 4] as string | null,
  userAgent: r[at + 5] as string | null,
  country: r[at + 6] as string | null,
  campaignId: r[at + 7] as string | null,
  referrerHost: r[at + 8] as string | null,
  adClick: r[at + 9] !== null && r[at + 9] !== undefined,
  landingHost: r[at + 10] as string | null,
});

const toConversion = (r: Row): ConversionEvent => ({
  affiliateId: r.affiliate_id as string | null,
  clickId: r.click_id as string | null,
  orderId: r.order_id as string,
  subjectId: r.subject_id as string | null,
  ipHash: r.ip_hash as string | null,
  amount: Number(r.amount),
  couponCode: r.coupon_code as string | null,
  newCustomer: r.new_customer === null ? null : Number(r.new_customer),
  country: r.country as string | null,
  ts: Date.parse(r.ts as string),
});

const CLICK_FIELDS = [
  'affiliate_id',
  'click_id',
  'ts',
  'ip_hash',
  'ip_prefix',
  'user_agent',
  'country',
  'campaign_id',
  'referrer_host',
  'ad_click',
  'landing_host',
] as const;
const CONVERSION_FIELDS = [
  'affiliate_id',
  'click_id',
  'order_id',
  'subject_id',
  'ip_hash',
  'amount',
  'coupon_code',
  'new_customer',
  'country',
  'ts',
] as const;
const CLICK_COLUMNS = CLICK_FIELDS.join(', ');
const AFFILIATE_FIELDS = ['id', 'subject_id', 'search_ads_allowed'] as const;
const AFFILIATE_COLUMNS = AFFILIATE_FIELDS.join(', ');
const CONVERSION_COLUMNS = CONVERSION_FIELDS.join(', ');

/** The affiliates loaded, each with its coupon codes. */
function affiliateMap(affiliateRows: Row[], couponRows: Row[]): Map<string, AffiliateInfo> {
  const affiliates = new Map<string, AffiliateInfo>();
  for (const r of affiliateRows) {
    affiliates.set(r.id as string, {
      id: r.id as string,
      subjectId: r.subject_id as string | null,
      coupons: [],
      searchAdsAllowed: Number(r.search_ads_allowed) === 1,
    });
  }
  for (const r of couponRows) affiliates.get(r.affiliate_id as string)?.coupons.push(r.code as string);
  return affiliates;
}

/** A scan's click row (type first, then the click columns, then the conversion's own) sorted into its part. */
function sortScanned(r: unknown[], start: string, into: ReturnType<typeof emptyScan>): void {
  const ts = r[3] as string;
  if (r[0] === 'click') {
    if (ts >= start) into.clicks.push(toClick(r, 1));
    else into.history.push([r[1] as string, ts]);
  } else if (ts < start) {
    const coupon = r[SCAN_OWN + 3];
    if (coupon !== null && coupon !== undefined) into.couponHistory.push([coupon as string, ts]);
  } else {
    into.conversions.push({
      affiliate_id: r[1],
      click_id: r[2],
      ts,
      ip_hash: r[4],
      country: r[7],
      order_id: r[SCAN_OWN],
      subject_id: r[SCAN_OWN + 1],
      amount: r[SCAN_OWN + 2],
      coupon_code: r[SCAN_OWN + 3],
      new_customer: r[SCAN_OWN + 4],
    });
  }
}

/**
 * Where a scan sorts its rows: the period's clicks and conversions, and the earlier clicks and coupon sales
 * (for growth).
 */
function emptyScan() {
  return {
    clicks: [] as ClickEvent[],
    conversions: [] as Row[],
    history: [] as [string, string][],
    couponHistory: [] as [string, string][],
  };
}

const SCAN_COLUMNS = `type, ${CLICK_COLUMNS}, order_id, subject_id, amount, coupon_code, new_customer`;
/** Where a scanned row's conversion columns start: after its type and the click columns. */
const SCAN_OWN = 1 + CLICK_FIELDS.length;

/** The clicks of the period some conversion points to, and the ids of those still to be looked up. */
function clicksPointedTo(conversions: ConversionEvent[], clicks: ClickEvent[]) {
  // Only the clicks some conversion points to: a map of every click would cost more than the features.
  const wanted = new Set<string>();
  for (const conversion of conversions) if (conversion.clickId) wanted.add(conversion.clickId);
  const clicksById = new Map<string, ClickEvent>();
  for (const click of clicks)
    if (click.clickId && wanted.has(click.clickId)) clicksById.set(click.clickId, click);
  const missing = [
    ...new Set(conversions.map((c) => c.clickId).filter((id): id is string => !!id && !clicksById.has(id))),
  ];
  return { clicksById, missing };
}

/** Credits a conversion without an affiliate to its click's. */
function creditByClick(conversions: ConversionEvent[], clicksById: Map<string, ClickEvent>): void {
  for (const conversion of conversions) {
    if (conversion.affiliateId === null && conversion.clickId) {
      conversion.affiliateId = clicksById.get(conversion.clickId)?.affiliateId ?? null;
    }
  }
}

/** Counts earlier events per key and earlier period; only periods it was already active in count. */
function foldHistory(history: [string, string][], range: PeriodRange): Map<string, number[]> {
  const length = range.end.getTime() - range.start.getTime();
  const previousClicks = new Map<string, number[]>();
  for (const [affiliateId, ts] of history) {
    const back = Math.floor((range.start.getTime() - Date.parse(ts)) / length);
    if (back < 0 || back >= HISTORY_PERIODS) continue;
    let counts = previousClicks.get(affiliateId);
    if (!counts) {
      counts = new Array(HISTORY_PERIODS).fill(0);
      previousClicks.set(affiliateId, counts);
    }
    counts[back] = (counts[back] as number) + 1;
  }
  for (const [id, counts] of previousClicks) {
    const last = counts.findLastIndex((n) => n > 0);
    previousClicks.set(id, counts.slice(0, last + 1));
  }
  return previousClicks;
}

/** What both loaders found, made into the period's events. */
type Loaded = Pick<
  PeriodEvents,
  'clicks' | 'clicksById' | 'conversions' | 'refunds' | 'affiliates' | 'ownIpHashes'
>;

/**
 * The period's events: what was loaded, the period's bounds, each affiliate's clicks in its earlier periods
 * and the sales with its coupon codes in them (`couponHistory` holds each earlier coupon sale's code and
 * time), and, when every affiliate's events were loaded, the countries the programme sells in (one
 * affiliate's sales do not give them).
 */
function periodEventsOf(
  range: PeriodRange,
  loaded: Loaded,
  history: [string, string][],
  couponHistory: [string, string][],
): PeriodEvents {
  const owner = new Map<string, string>();
  for (const a of loaded.affiliates.values())
    for (const code of a.coupons) owner.set(code.toUpperCase(), a.id);
  const owned: [string, string][] = [];
  for (const [code, ts] of couponHistory) {
    const id = owner.get(code.toUpperCase());
    if (id !== undefined) owned.push([id, ts]);
  }
  return {
    ...loaded,
    start: range.start.getTime(),
    end: range.end.getTime(),
    previousClicks: foldHistory(history, range),
    previousCouponSales: foldHistory(owned, range),
    ...(range.affiliateId === undefined ? { salesCountries: salesCountriesOf(loaded.conversions) } : {}),
  };
}

const historyStartOf = (range: PeriodRange) =>
  new Date(range.start.getTime() - HISTORY_PERIODS * (range.end.getTime() - range.start.getTime()));

/**
 * Loads over the SQLite connection: for one affiliate (by index, for scoring a payout in its request) or for
 * every affiliate (one pass over the period and its history: the table has no index on time alone).
 * Synchronous: call it under Kysely's connection lock.
 */
export function loadPeriodEventsSqlite(sqlite: SQLite.Database, range: PeriodRange): PeriodEvents {
  const start = range.start.toISOString();
  const end = range.end.toISOString();
  const one = range.affiliateId;
  const affiliates = affiliateMap(
    (one === undefined
      ? sqlite.prepare(`select ${AFFILIATE_COLUMNS} from affiliates`).all()
      : sqlite.prepare(`select ${AFFILIATE_COLUMNS} from affiliates where id = ?`).all(one)) as Row[],
    (one === undefined
      ? sqlite.prepare('select code, affiliate_id from affiliate_coupons').all()
      : sqlite
          .prepare('select code, affiliate_id from affiliate_coupons where affiliate_id = ?')
          .all(one)) as Row[],
  );
  const historyStart = historyStartOf(range).toISOString();

  let clicks: ClickEvent[];
  let conversionRows: Row[];
  let history: [string, string][];
  let couponHistory: [string, string][];
  if (one === undefined) {
    const scan = emptyScan();
    const rows = sqlite
      .prepare(
        `select ${SCAN_COLUMNS} from affiliate_events
         where ts >= ? and ts < ? and type in ('click', 'conversion')`,
      )
      .raw()
      .iterate(historyStart, end) as IterableIterator<unknown[]>;
    for (const r of rows) sortScanned(r, start, scan);
    ({ clicks, conversions: conversionRows, history, couponHistory } = scan);
  } else {
    clicks = (
      sqlite
        .prepare(
          `select ${CLICK_COLUMNS} from affiliate_events
           where affiliate_id = ? and ts >= ? and ts < ? and type = 'click'`,
        )
        .raw()
        .all(one, start, end) as unknown[][]
    ).map((r) => toClick(r));
    const lookback = new Date(range.start.getTime() - CLICK_LOOKBACK_MS).toISOString();
    const codes = JSON.stringify(affiliates.get(one)?.coupons ?? []);
    // Credited to the affiliate, carrying its coupon, or uncredited but pointing to one of its clicks (the
    // cross join keeps SQLite walking the affiliate's clicks and looking conversions up by click id).
    conversionRows = sqlite
      .prepare(
        `select ${CONVERSION_COLUMNS} from affiliate_events
           where affiliate_id = ? and ts >= ? and ts < ? and type = 'conversion'
         union
         select ${CONVERSION_COLUMNS} from affiliate_events
           where coupon_code in (select value from json_each(?)) and ts >= ? and ts < ? and type = 'conversion'
         union
         select ${CONVERSION_FIELDS.map((c) => `v.${c}`).join(', ')}
           from affiliate_events k cross join affiliate_events v
           where k.affiliate_id = ? and k.ts >= ? and k.ts < ? and k.type = 'click' and k.click_key is not null
             and v.click_key = k.click_key and v.click_id = k.click_id
             and v.type = 'conversion' and +v.affiliate_id is null and +v.ts >= ? and +v.ts < ?`,
      )
      .all(one, start, end, codes, start, end, one, lookback, end, start, end) as Row[];
    history = sqlite
      .prepare(
        `select affiliate_id, ts from affiliate_events
         where affiliate_id = ? and ts >= ? and ts < ? and type = 'click'`,
      )
      .raw()
      .all(one, historyStart, start) as [string, string][];
    couponHistory = sqlite
      .prepare(
        `select coupon_code, ts from affiliate_events
         where coupon_code in (select value from json_each(?)) and ts >= ? and ts < ? and type = 'conversion'`,
      )
      .raw()
      .all(codes, historyStart, start) as [string, string][];
  }
  const conversions = conversionRows.map(toConversion);

  // The clicks conversions point to, found by click id wherever they fell.
  const { clicksById, missing } = clicksPointedTo(conversions, clicks);
  const byClickId = sqlite
    .prepare(
      `select ${CLICK_COLUMNS} from affiliate_events
       where click_key in (select vigil_event_key(value) from json_each(?))
         and click_id in (select value from json_each(?)) and type = 'click'`,
    )
    .raw();
  for (const batch of chunks(missing, LOOKUP_CHUNK)) {
    const ids = JSON.stringify(batch);
    for (const r of byClickId.all(ids, ids) as unknown[][]) {
      const click = toClick(r);
      if (click.clickId) clicksById.set(click.clickId, click);
    }
  }
  creditByClick(conversions, clicksById);

  const refunds: RefundEvent[] = [];
  const refundsOf = sqlite.prepare(
    `select order_id, amount, reason from affiliate_events
     where order_key in (select vigil_event_key(value) from json_each(?))
       and order_id in (select value from json_each(?)) and type = 'refund'`,
  );
  for (const batch of chunks(
    conversions.map((c) => c.orderId),
    LOOKUP_CHUNK,
  )) {
    const orders = JSON.stringify(batch);
    for (const r of refundsOf.all(orders, orders) as Row[]) {
      refunds.push({
        orderId: r.order_id as string,
        amount: r.amount as number,
        disputed: isDisputeReason(r.reason as string | null),
      });
    }
  }

  const ownIpHashes = new Map<string, Set<string>>();
  const ipsOf = sqlite
    .prepare(
      `select distinct ip_hash from affiliate_events
       where subject_key = vigil_event_key(?) and subject_id = ? and ip_hash is not null`,
    )
    .pluck();
  for (const a of affiliates.values()) {
    if (a.subjectId) ownIpHashes.set(a.id, new Set(ipsOf.all(a.subjectId, a.subjectId) as string[]));
  }

  return periodEventsOf(
    range,
    { clicks, clicksById, conversions, refunds, affiliates, ownIpHashes },
    history,
    couponHistory,
  );
}

/**
 * The same events through Kysely, in SQL SQLite and PostgreSQL both run: what the detector loads where the
 * database is not an SQLite file of this process.
 */
export async function loadPeriodEvents(db: Kysely<Database>, range: PeriodRange): Promise<PeriodEvents> {
  const start = range.start.toISOString();
  const end = range.end.toISOString();
  const one = range.affiliateId;
  let affiliateQuery = db.selectFrom('affiliates').select(AFFILIATE_FIELDS);
  let couponQuery = db.selectFrom('affiliate_coupons').select(['code', 'affiliate_id']);
  if (one !== undefined) {
    affiliateQuery = affiliateQuery.where('id', '=', one);
    couponQuery = couponQuery.where('affiliate_id', '=', one);
  }
  const affiliates = affiliateMap(await affiliateQuery.execute(), await couponQuery.execute());
  const historyStart = historyStartOf(range).toISOString();

  let clicks: ClickEvent[];
  let conversionRows: Row[];
  let history: [string, string][];
  let couponHistory: [string, string][] = [];
  if (one === undefined) {
    const scan = emptyScan();
    const rows = db
      .selectFrom('affiliate_events')
      .select(['type', ...CLICK_FIELDS, 'order_id', 'subject_id', 'amount', 'coupon_code', 'new_customer'])
      .where('ts', '>=', historyStart)
      .where('ts', '<', end)
      .where('type', 'in', ['click', 'conversion'])
      .stream(10_000);
    for await (const r of rows) {
      sortScanned(
        [
          r.type,
          ...CLICK_FIELDS.map((f) => r[f]),
          r.order_id,
          r.subject_id,
          r.amount,
          r.coupon_code,
          r.new_customer,
        ],
        start,
        scan,
      );
    }
    ({ clicks, conversions: conversionRows, history, couponHistory } = scan);
  } else {
    const clickRows = await db
      .selectFrom('affiliate_events')
      .select(CLICK_FIELDS)
      .where('affiliate_id', '=', one)
      .where('ts', '>=', start)
      .where('ts', '<', end)
      .where('type', '=', 'click')
      .execute();
    clicks = clickRows.map((r) => toClick(CLICK_FIELDS.map((f) => r[f])));
    const lookback = new Date(range.start.getTime() - CLICK_LOOKBACK_MS).toISOString();
    const codes = affiliates.get(one)?.coupons ?? [];
    // Credited to the affiliate, carrying its coupon, or uncredited but pointing to one of its clicks.
    const credited = db
      .selectFrom('affiliate_events')
      .select(CONVERSION_FIELDS)
      .where('affiliate_id', '=', one)
      .where('ts', '>=', start)
      .where('ts', '<', end)
      .where('type', '=', 'conversion');
    const byClick = db
      .selectFrom('affiliate_events as k')
      .innerJoin('affiliate_events as v', (join) =>
        join.onRef('v.click_key', '=', 'k.click_key').onRef('v.click_id', '=', 'k.click_id'),
      )
      .select(CONVERSION_FIELDS.map((c) => `v.${c}` as const))
      .where('k.affiliate_id', '=', one)
      .where('k.ts', '>=', lookback)
      .where('k.ts', '<', end)
      .where('k.type', '=', 'click')
      .where('k.click_key', 'is not', null)
      .where('v.type', '=', 'conversion')
      .where('v.affiliate_id', 'is', null)
      .where('v.ts', '>=', start)
      .where('v.ts', '<', end);
    const withCoupons =
      codes.length === 0
        ? credited
        : credited.union(
            db
              .selectFrom('affiliate_events')
              .select(CONVERSION_FIELDS)
              .where('coupon_code', 'in', codes)
              .where('ts', '>=', start)
              .where('ts', '<', end)
              .where('type', '=', 'conversion'),
          );
    conversionRows = await withCoupons.union(byClick).execute();
    history = (
      await db
        .selectFrom('affiliate_events')
        .select(['affiliate_id', 'ts'])
        .where('affiliate_id', '=', one)
        .where('ts', '>=', historyStart)
        .where('ts', '<', start)
        .where('type', '=', 'click')
        .execute()
    ).map((r) => [r.affiliate_id as string, r.ts]);
    if (codes.length > 0) {
      couponHistory = (
        await db
          .selectFrom('affiliate_events')
          .select(['coupon_code', 'ts'])
          .where('coupon_code', 'in', codes)
          .where('ts', '>=', historyStart)
          .where('ts', '<', start)
          .where('type', '=', 'conversion')
          .execute()
      ).map((r) => [r.coupon_code as string, r.ts]);
    }
  }
  const conversions = conversionRows.map(toConversion);

  const { clicksById, missing } = clicksPointedTo(conversions, clicks);
  for (const batch of chunks(missing, LOOKUP_CHUNK)) {
    const rows = await db
      .selectFrom('affiliate_events')
      .select(CLICK_FIELDS)
      .where('click_key', 'in', batch.map(eventKey))
      .where('click_id', 'in', batch)
      .where('type', '=', 'click')
      .execute();
    for (const r of rows) {
      const click = toClick(CLICK_FIELDS.map((f) => r[f]));
      if (click.clickId) clicksById.set(click.clickId, click);
    }
  }
  creditByClick(conversions, clicksById);

  const refunds: RefundEvent[] = [];
  for (const batch of chunks(
    conversions.map((c) => c.orderId),
    LOOKUP_CHUNK,
  )) {
    const rows = await db
      .selectFrom('affiliate_events')
      .select(['order_id', 'amount', 'reason'])
      .where('order_key', 'in', batch.map(eventKey))
      .where('order_id', 'in', batch)
      .where('type', '=', 'refund')
      .execute();
    for (const r of rows)
      refunds.push({
        orderId: r.order_id as string,
        amount: Number(r.amount),
        disputed: isDisputeReason(r.reason),
      });
  }

  // Each affiliate's own subject's IPs, for all affiliates at once.
  const ownIpHashes = new Map<string, Set<string>>();
  const bySubject = new Map<string, string[]>();
  for (const a of affiliates.values()) {
    if (!a.subjectId) continue;
    ownIpHashes.set(a.id, new Set());
    bySubject.set(a.subjectId, [...(bySubject.get(a.subjectId) ?? []), a.id]);
  }
  for (const batch of chunks([...bySubject.keys()], LOOKUP_CHUNK)) {
    const rows = await db
      .selectFrom('affiliate_events')
      .select(['subject_id', 'ip_hash'])
      .distinct()
      .where('subject_key', 'in', batch.map(eventKey))
      .where('subject_id', 'in', batch)
      .where('ip_hash', 'is not', null)
      .execute();
    for (const r of rows) {
      for (const id of bySubject.get(r.subject_id as string) ?? [])
        ownIpHashes.get(id)?.add(r.ip_hash as string);
    }
  }

  return periodEventsOf(
    range,
    { clicks, clicksById, conversions, refunds, affiliates, ownIpHashes },
    history,
    couponHistory,
  );
}
