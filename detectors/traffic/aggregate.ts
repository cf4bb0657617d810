// Per-minute aggregates of stored traffic, for the detector's core: requests, 5xx and p95 latency per service and
// route template (summed from what log ingestion writes per batch), p75 web vitals per app and page route over
// the trailing two minutes (browser telemetry) and clicks per campaign (affiliate events), written to
// `traffic_minutes`. A run reads an hour of baseline as a few thousand rows instead of every request of it.
import { type Kysely, sql } from 'kysely';
import { BoundedLabel } from '../../http/route-template.ts';
import type { Database } from '../../storage/index.ts';
import { bucketQuantile, type TrafficMinutesTable } from '../../storage/traffic.table.ts';
import type { CampaignMinute, PageMinute, RouteMinute, TrafficSeries } from './core.ts';

export const MINUTE = 60_000;
/** Web vitals are judged over the trailing two minutes: a page's views in one minute are too few. */
const VITALS_WINDOW = 2;
/** Fewer samples than this in the window, and a vital says nothing. */
const MIN_VITALS = 10;
/** Routes per service and pages per app kept apart; past it they count as `other`. */
const MAX_NAMES = 200;
/** Services and apps kept apart; past it they count as `other`. */
const MAX_SCOPES = 50;
/** Rows read per query, so memory stays bounded on a long window. */
const PAGE = 20_000;

const iso = (minute: number) => new Date(minute * MINUTE).toISOString();
const minuteOf = (ts: string) => Math.floor(Date.parse(ts) / MINUTE);

/** The value at quantile q of sorted values, by nearest rank (a value some view really had). */
function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Pages through rows ordered by time then id, PAGE at a time, each page starting after the last one read. */
async function* paged<T extends { id: number; ts: string }>(
  query: (after: { ts: string; id: number }) => Promise<T[]>,
  start: string,
): AsyncGenerator<T> {
  let after = { ts: start, id: 0 };
  for (;;) {
    const rows = await query(after);
    yield* rows;
    const last = rows[rows.length - 1];
    if (rows.length < PAGE || !last) return;
    after = { ts: last.ts, id: last.id };
  }
}

/**
 * Requests, errors and p95 per service, route template and minute in [from, to], summed from the per-batch
 * figures log ingestion writes: reading them costs the number of batches, not of requests.
 */
async function routeMinutes(db: Kysely<Database>, from: number, to: number): Promise<RouteMinute[]> {
  const rows = await db
    .selectFrom('route_minute_batches')
    .selectAll()
    .where('minute', '>=', iso(from))
    .where('minute', '<=', iso(to))
    .execute();
  const services = new BoundedLabel(MAX_SCOPES);
  const routes = new Map<string, BoundedLabel>();
  const minutes = new Map<
    string,
    {
      service: string;
      route: string;
      minute: number;
      requests: number;
      errors: number;
      latency: Map<number, number>;
    }
  >();
  for (const r of rows) {
    const service = services.label(r.service);
    let cap = routes.get(service);
    if (!cap) {
      cap = new BoundedLabel(MAX_NAMES);
      routes.set(service, cap);
    }
    const route = cap.label(r.route);
    const minute = minuteOf(r.minute);
    const key = `${minute} ${service} ${route}`;
    let m = minutes.get(key);
    if (!m) {
      m = { service, route, minute, requests: 0, errors: 0, latency: new Map() };
      minutes.set(key, m);
    }
    m.requests += r.count;
    m.errors += r.errors;
    for (const [bucket, n] of Object.entries(JSON.parse(r.latency) as Record<string, number>)) {
      m.latency.set(Number(bucket), (m.latency.get(Number(bucket)) ?? 0) + n);
    }
  }
  return [...minutes.values()].map((m) => ({
    service: m.service,
    route: m.route,
    minute: m.minute,
    requests: m.requests,
    errors: m.errors,
    p95: bucketQuantile(m.latency, 0.95),
  }));
}

/** p75 LCP, INP and CLS per app, page route and minute over the trailing window, from browser telemetry. */
async function pageMinutes(
  db: Kysely<Database>,
  from: number,
  to: number,
): Promise<(PageMinute & { views: number })[]> {
  const apps = new Map(
    (await db.selectFrom('faro_apps').select(['id', 'name']).execute()).map((a) => [a.id, a.name] as const),
  );
  const samples = new Map<
    string,
    { app: string; page: string; byMinute: Map<number, { lcp: number[]; inp: number[]; cls: number[] }> }
  >();
  const pages = new BoundedLabel(MAX_NAMES * MAX_SCOPES);
  // App by app, through the (app, kind, time) index: the every-minute job reads its minutes, not the table.
  async function* rowsOf(appId: string) {
    yield* paged(
      (after) =>
        db
          .selectFrom('browser_telemetry')
          .select(['id', 'ts', 'app_id', 'page_route', 'detail'])
          .where('app_id', '=', appId)
          .where('kind', '=', 'measurement')
          .where('ts', '>=', after.ts)
          .where('ts', '<', iso(to + 1))
          .where((eb) => eb.or([eb('ts', '>', after.ts), eb('id', '>', after.id)]))
          .where('name', '=', 'web-vitals')
          .orderBy('ts')
          .orderBy('id')
          .limit(PAGE)
          .execute(),
      iso(from - VITALS_WINDOW + 1),
    );
  }
  async function* allRows() {
    for (const appId of apps.keys()) yield* rowsOf(appId);
  }
  const rows = allRows();
  for await (const r of rows) {
    let values: Record<string, unknown> | undefined;
    try {
      values = (JSON.parse(r.detail ?? '{}') as { values?: Record<string, unknown> }).values;
    } catch {
      continue;
    }
    if (!values) continue;
    const app = apps.get(r.app_id) ?? r.app_id;
    const page = pages.label(`${app} ${r.page_route ?? '/'}`) === 'other' ? 'other' : (r.page_route ?? '/');
    const key = `${app} ${page}`;
    let s = samples.get(key);
    if (!s) {
      s = { app, page, byMinute: new Map() };
      samples.set(key, s);
    }
    const minute = minuteOf(r.ts);
    let m = s.byMinute.get(minute);
    if (!m) {
      m = { lcp: [], inp: [], cls: [] };
      s.byMinute.set(minute, m);
    }
    for (const field of ['lcp', 'inp', 'cls'] as const) {
      const v = values[field];
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) m[field].push(v);
    }
  }
  const result: (PageMinute & { views: number })[] = [];
  for (const s of samples.values()) {
    for (let minute = from; minute <= to; minute += 1) {
      const window = { lcp: [] as number[], inp: [] as number[], cls: [] as number[] };
      for (let m = minute - VITALS_WINDOW + 1; m <= minute; m += 1) {
        const at = s.byMinute.get(m);
        if (!at) continue;
        window.lcp.push(...at.lcp);
        window.inp.push(...at.inp);
        window.cls.push(...at.cls);
      }
      const p75 = (values: number[]) =>
        values.length >= MIN_VITALS
          ? nearestRank(
              values.sort((x, y) => x - y),
              0.75,
            )
          : null;
      const views = Math.max(window.lcp.length, window.inp.length, window.cls.length);
      if (views === 0) continue;
      result.push({
        app: s.app,
        page: s.page,
        minute,
        views,
        lcp: p75(window.lcp),
        inp: p75(window.inp),
        cls: p75(window.cls),
      });
    }
  }
  return result;
}

/** Clicks per campaign and minute in [from, to], from affiliate events, counted by the database. */
async function campaignMinutes(db: Kysely<Database>, from: number, to: number): Promise<CampaignMinute[]> {
  const minute = sql<string>`substr(ts, 1, 16)`;
  const rows = await db
    .selectFrom('affiliate_events')
    .select([minute.as('minute'), 'campaign_id', db.fn.countAll<number>().as('clicks')])
    .where('type', '=', 'click')
    .where('campaign_id', 'is not', null)
    .where('ts', '>=', iso(from))
    .where('ts', '<', iso(to + 1))
    .groupBy([minute, 'campaign_id'])
    .execute();
  const counts = new Map<string, CampaignMinute>();
  const campaigns = new BoundedLabel(MAX_NAMES);
  for (const r of rows) {
    const campaign = campaigns.label(r.campaign_id as string);
    const at = minuteOf(`${r.minute}:00Z`);
    const key = `${at} ${campaign}`;
    const c = counts.get(key) ?? { campaign, minute: at, clicks: 0 };
    c.clicks += Number(r.clicks);
    counts.set(key, c);
  }
  return [...counts.values()];
}

/**
 * Aggregates the web vitals and campaign clicks of the minutes [from, to] and writes them to `traffic_minutes`,
 * replacing what was there for those minutes (late telemetry counts when a minute is aggregated again). Routes
 * need no such step: log ingestion writes their figures.
 */
export async function aggregateMinutes(db: Kysely<Database>, from: number, to: number): Promise<void> {
  const [pages, campaigns] = await Promise.all([pageMinutes(db, from, to), campaignMinutes(db, from, to)]);
  const rows: TrafficMinutesTable[] = [
    ...pages.map((p) => ({
      kind: 'page' as const,
      scope: p.app,
      name: p.page,
      minute: iso(p.minute),
      count: p.views,
      lcp_p75: p.lcp,
      inp_p75: p.inp,
      cls_p75: p.cls,
    })),
    ...campaigns.map((c) => ({
      kind: 'campaign' as const,
      scope: c.campaign,
      name: '',
      minute: iso(c.minute),
      count: c.clicks,
      lcp_p75: null,
      inp_p75: null,
      cls_p75: null,
    })),
  ];
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('traffic_minutes')
      .where('minute', '>=', iso(from))
      .where('minute', '<=', iso(to))
      .execute();
    // SQLite allows 32,766 bound values per statement: 8 columns a row.
    for (let i = 0; i < rows.length; i += 3000) {
      await trx
        .insertInto('traffic_minutes')
        .values(rows.slice(i, i + 3000))
        .execute();
    }
  });
}

/** The aggregates of the given minute ranges, as the core reads them. */
export async function loadSeries(db: Kysely<Database>, ranges: [number, number][]): Promise<TrafficSeries> {
  const series: TrafficSeries = { routes: [], pages: [], campaigns: [] };
  for (const [from, to] of ranges) {
    series.routes.push(...(await routeMinutes(db, from, to)));
    const rows = await db
      .selectFrom('traffic_minutes')
      .selectAll()
      .where('minute', '>=', iso(from))
      .where('minute', '<=', iso(to))
      .execute();
    for (const r of rows) {
      const minute = minuteOf(r.minute);
      if (r.kind === 'page') {
        series.pages.push({
          app: r.scope,
          page: r.name,
          minute,
          lcp: r.lcp_p75,
          inp: r.inp_p75,
          cls: r.cls_p75,
        });
      } else {
        series.campaigns.push({ campaign: r.scope, minute, clicks: r.count });
      }
    }
  }
  return series;
}

/** Deletes aggregates older than `before` (minutes). */
export async function pruneMinutes(db: Kysely<Database>, before: number): Promise<void> {
  await db.deleteFrom('traffic_minutes').where('minute', '<', iso(before)).execute();
  await db.deleteFrom('route_minute_batches').where('minute', '<', iso(before)).execute();
}
