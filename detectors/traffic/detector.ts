// The I/O around the traffic detector's core: aggregating stored traffic by minute, loading the series a run
// needs, remembering anomalies, and the every-minute job.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Job } from '../../jobs/index.ts';
import { type Database, type EventJournal, readEvents, type Storage } from '../../storage/index.ts';
import type { AnomalyRow } from '../../storage/traffic.table.ts';
import { aggregateMinutes, loadSeries, MINUTE, pruneMinutes } from './aggregate.ts';
import { type Anomaly, detect, type OpenAnomaly, SIGNALS, type Signal, type Target } from './core.ts';

const DAY_MINUTES = 1440;
/** The baseline's reach behind a minute: its trailing hour and a little more. */
const LOOKBACK = 70;
/** Seasonal neighbours a day and a week back, and their span. */
const SEASONS = [DAY_MINUTES, 7 * DAY_MINUTES];
const SEASONAL_SPAN = 10;
/** The live job re-judges the last minutes too: late logs count, and an anomaly's state is rebuilt. */
const LIVE_REACH = 6;
/** Aggregates are kept past the week-ago minutes a baseline looks at; closed anomalies for 90 days. */
const KEEP_MINUTES = 8 * DAY_MINUTES;
const KEEP_ANOMALY_DAYS = 90;
/** Targets with their own score series; the rest share `other`. */
const SCORED_TARGETS = 50;
/** Campaigns with their own series of clicks per minute; the rest add up under "other". */
const CLICK_CAMPAIGNS = 50;
/** The longest window one run may evaluate. */
export const MAX_RUN_MINUTES = 7 * DAY_MINUTES;

/** An anomaly as the API shows it. */
interface AnomalyView {
  id: string;
  detector: 'traffic';
  target: Target;
  signal: Signal;
  start: string;
  end: string | null;
  observed: number;
  expected: number;
  lower: number;
  upper: number;
  severity: 'warning' | 'critical';
  campaign: string | null;
}

interface AnomalyFilter {
  since?: string;
  until?: string;
  severity?: 'warning' | 'critical';
  limit: number;
  /** After this anomaly, in the list's order (newest start first). */
  after?: { start: string; id: string };
}

export interface TrafficDetector {
  /** Evaluates every minute of [from, to] over stored data as if live at that minute. */
  run(from: Date, to: Date): Promise<{ minutes: number; anomalies: number }>;
  /** Evaluates the last complete minute before `now`. */
  runLive(now: Date): Promise<{ minutes: number; anomalies: number }>;
  list(filter: AnomalyFilter): Promise<AnomalyView[]>;
  jobs(schedules: { trafficDetector: string }): Job[];
}

export interface TrafficDetectorOptions {
  storage: Storage;
  registry: Registry;
  clock: () => Date;
  /** The event journal, settled before campaign clicks are read. */
  journal: EventJournal;
}

const iso = (minute: number) => new Date(minute * MINUTE).toISOString();
const minuteOf = (value: string | Date) =>
  Math.floor((typeof value === 'string' ? Date.parse(value) : value.getTime()) / MINUTE);
const round = (x: number) => Number(x.toPrecision(6));

function anomalyId(target: Target, signal: Signal, start: number): string {
  const key =
    'service' in target ? `route\n${target.service}\n${target.route}` : `page\n${target.app}\n${target.page}`;
  return createHash('sha256').update(`traffic\n${key}\n${signal}\n${start}`).digest('hex').slice(0, 24);
}

function toRow(a: Anomaly, now: Date): AnomalyRow {
  const route = 'service' in a.target;
  return {
    id: anomalyId(a.target, a.signal, a.start),
    detector: 'traffic',
    target_kind: route ? 'route' : 'page',
    scope: 'service' in a.target ? a.target.service : a.target.app,
    name: 'service' in a.target ? a.target.route : a.target.page,
    signal: a.signal,
    start: iso(a.start),
    end: a.end === null ? null : iso(a.end),
    observed: round(a.observed),
    expected: round(a.expected),
    lower: round(a.lower),
    upper: round(a.upper),
    severity: a.severity,
    campaign: a.campaign,
    updated_at: now.toISOString(),
  };
}

function targetOf(row: Pick<AnomalyRow, 'target_kind' | 'scope' | 'name'>): Target {
  return row.target_kind === 'route'
    ? { service: row.scope, route: row.name }
    : { app: row.scope, page: row.name };
}

function toView(row: AnomalyRow): AnomalyView {
  return {
    id: row.id,
    detector: 'traffic',
    target: targetOf(row),
    signal: row.signal as Signal,
    start: row.start,
    end: row.end,
    observed: row.observed,
    expected: row.expected,
    lower: row.lower,
    upper: row.upper,
    severity: row.severity,
    campaign: row.campaign,
  };
}

/** Anomalies open just before `from`: the state a run starts from. */
async function openAt(db: Kysely<Database>, from: number): Promise<OpenAnomaly[]> {
  const rows = await db
    .selectFrom('anomalies')
    .selectAll()
    .where('detector', '=', 'traffic')
    .where('start', '<', iso(from))
    .where((eb) => eb.or([eb('end', 'is', null), eb('end', '>', iso(from))]))
    .execute();
  return rows.map((r) => ({
    target: targetOf(r),
    signal: r.signal as Signal,
    start: minuteOf(r.start),
    end: null,
    observed: r.observed,
    expected: r.expected,
    lower: r.lower,
    upper: r.upper,
    severity: r.severity,
    campaign: r.campaign,
    healthy: 0,
  }));
}

export function createTrafficDetector(options: TrafficDetectorOptions): TrafficDetector {
  const { storage, clock } = options;
  const db = storage.db;
  /** Minutes up to which this process has aggregated the trailing baseline of a live run. */
  let liveAggregatedTo: number | undefined;

  const started = new Counter({
    name: 'vigil_traffic_anomalies_started_total',
    help: 'Traffic anomalies opened, by signal and severity (at the severity they opened with).',
    labelNames: ['signal', 'severity'] as const,
    registers: [options.registry],
  });

  for (const signal of SIGNALS)
    for (const severity of ['warning', 'critical'] as const) started.inc({ signal, severity }, 0);

  const evaluate = async (from: number, to: number, aggregateFrom: number) => {
    await readEvents(options.journal, () => aggregateMinutes(db, aggregateFrom, to));
    const ranges: [number, number][] = [[from - LOOKBACK, to]];
    for (const back of SEASONS) ranges.push([from - back - SEASONAL_SPAN, to - back + SEASONAL_SPAN]);
    const series = await loadSeries(db, ranges);
    const open = await openAt(db, from);
    const anomalies = detect(series, from, to, open);
    const now = clock();
    const rows = anomalies.map((a) => toRow(a, now));
    const known = new Set<string>();
    for (let i = 0; i < rows.length; i += 500) {
      const ids = rows.slice(i, i + 500).map((r) => r.id);
      for (const r of await db.selectFrom('anomalies').select('id').where('id', 'in', ids).execute())
        known.add(r.id);
    }
    await db.transaction().execute(async (trx) => {
      for (const row of rows) {
        await trx
          .insertInto('anomalies')
          .values(row)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              end: row.end,
              observed: row.observed,
              severity: row.severity,
              updated_at: row.updated_at,
            }),
          )
          .execute();
      }
    });
    for (const row of rows)
      if (!known.has(row.id)) started.inc({ signal: row.signal, severity: row.severity });
    return { minutes: to - from + 1, anomalies: rows.length };
  };

  const runLive: TrafficDetector['runLive'] = async (now) => {
    const last = minuteOf(now) - 1;
    const from = last - LIVE_REACH;
    // The first live run of a process aggregates the whole baseline; later ones only the minutes they re-judge.
    const aggregateFrom =
      liveAggregatedTo !== undefined && liveAggregatedTo >= from - 1 ? from : from - LOOKBACK;
    const result = await evaluate(from, last, aggregateFrom);
    liveAggregatedTo = last;
    await pruneMinutes(db, last - KEEP_MINUTES);
    await db
      .deleteFrom('anomalies')
      .where('end', '<', new Date(now.getTime() - KEEP_ANOMALY_DAYS * DAY_MINUTES * MINUTE).toISOString())
      .execute();
    return result;
  };

  new Gauge({
    name: 'vigil_traffic_anomalies_open',
    help: 'Traffic anomalies open now, by signal and severity.',
    labelNames: ['signal', 'severity'] as const,
    registers: [options.registry],
    async collect() {
      const rows = await db
        .selectFrom('anomalies')
        .select(['signal', 'severity', db.fn.countAll<number>().as('n')])
        .where('end', 'is', null)
        .groupBy(['signal', 'severity'])
        .execute();
      this.reset();
      for (const r of rows) this.set({ signal: r.signal, severity: r.severity }, Number(r.n));
    },
  });
  new Gauge({
    name: 'vigil_campaign_clicks_per_minute',
    help:
      'Clicks of each campaign in the last minute the traffic detector aggregated (none when that is over 3 ' +
      `minutes old); the ${CLICK_CAMPAIGNS} busiest campaigns have their own series, the rest add up under "other".`,
    labelNames: ['campaign'] as const,
    registers: [options.registry],
    async collect() {
      const now = minuteOf(clock());
      const latest = await db
        .selectFrom('traffic_minutes')
        .select(db.fn.max('minute').as('minute'))
        .where('kind', '=', 'campaign')
        .where('minute', '<', iso(now))
        .where('minute', '>=', iso(now - 3))
        .executeTakeFirst();
      this.reset();
      if (!latest?.minute) return;
      const rows = await db
        .selectFrom('traffic_minutes')
        .select(['scope', 'count'])
        .where('kind', '=', 'campaign')
        .where('minute', '=', latest.minute)
        .orderBy('count', 'desc')
        .execute();
      let other = 0;
      for (const [i, r] of rows.entries()) {
        if (i < CLICK_CAMPAIGNS && r.scope !== 'other') this.set({ campaign: r.scope }, r.count);
        else other += r.count;
      }
      if (other > 0) this.set({ campaign: 'other' }, other);
    },
  });
  new Gauge({
    name: 'vigil_traffic_anomaly_score',
    help:
      'Observed over the band of each open traffic anomaly (how far past it; below 1 for a drop in requests), by ' +
      `target and signal; the ${SCORED_TARGETS} worst targets have their own series, the rest share "other".`,
    labelNames: ['target', 'signal'] as const,
    registers: [options.registry],
    async collect() {
      const rows = await db.selectFrom('anomalies').selectAll().where('end', 'is', null).execute();
      const scored = rows
        .map((r) => ({
          target: `${r.scope} ${r.name}`,
          signal: r.signal,
          score:
            r.signal === 'throughput'
              ? r.observed / Math.max(r.expected, 1)
              : r.observed / Math.max(r.upper, 1e-9),
        }))
        .sort((a, b) => b.score - a.score);
      this.reset();
      for (const [i, s] of scored.entries()) {
        const target = i < SCORED_TARGETS ? s.target : 'other';
        this.set({ target, signal: s.signal }, round(s.score));
      }
    },
  });

  return {
    run: (from, to) => {
      const first = minuteOf(from);
      return evaluate(first, minuteOf(to), first - LOOKBACK);
    },
    runLive,
    async list(filter) {
      let query = db.selectFrom('anomalies').selectAll().where('detector', '=', 'traffic');
      if (filter.since) {
        const since = filter.since;
        query = query.where((eb) => eb.or([eb('end', 'is', null), eb('end', '>', since)]));
      }
      if (filter.until) query = query.where('start', '<', filter.until);
      if (filter.severity) query = query.where('severity', '=', filter.severity);
      if (filter.after) {
        const { start, id } = filter.after;
        query = query.where((eb) =>
          eb.or([eb('start', '<', start), eb.and([eb('start', '=', start), eb('id', '<', id)])]),
        );
      }
      const rows = await query.orderBy('start', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(toView);
    },
    jobs: (schedules) => [
      {
        name: 'traffic.detect',
        schedule: schedules.trafficDetector,
        leaseMs: 5 * 60 * 1000,
        run: async (now) => runLive(now),
      },
    ],
  };
}
