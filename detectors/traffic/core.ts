// The traffic-bottleneck detector's core: per-minute series in, anomalies out, no I/O and no clock. Each series
// (a route's p95 latency, error ratio and requests; a page's p75 web vitals) is compared with a robust band of
// its own recent past — the median and the median absolute deviation of the trailing hour, joined by the same
// minutes a day and a week earlier once that much history exists — so one slow request, a diurnal curve or a
// surge that is served fine moves nothing. Only degradations count: latency or errors above the band, web
// vitals worse than theirs, a route's requests dropping to almost none while its service is still busy. A
// degradation opens an anomaly on its third minute (two noisy minutes are not a bottleneck) and closes after
// five healthy ones (a flapping one stays one anomaly).

import { binomialTail, robust } from '../stats/index.ts';

export const SIGNALS = ['latency_p95', 'error_ratio', 'throughput', 'lcp_p75', 'inp_p75', 'cls_p75'] as const;
export type Signal = (typeof SIGNALS)[number];

export type Target = { service: string; route: string } | { app: string; page: string };

/** One route's requests in one minute, from server logs. */
export interface RouteMinute {
  service: string;
  route: string;
  /** Epoch minute (ms / 60,000). */
  minute: number;
  requests: number;
  /** Responses with a 5xx status. */
  errors: number;
  p95: number;
}

/** One page's web vitals in a trailing window ending at one minute, from browser telemetry. */
export interface PageMinute {
  app: string;
  page: string;
  minute: number;
  /** p75 of each vital, or null with fewer samples than MIN_VITALS. */
  lcp: number | null;
  inp: number | null;
  cls: number | null;
}

/** One campaign's clicks in one minute. */
export interface CampaignMinute {
  campaign: string;
  minute: number;
  clicks: number;
}

export interface TrafficSeries {
  routes: RouteMinute[];
  pages: PageMinute[];
  campaigns: CampaignMinute[];
}

export interface Anomaly {
  target: Target;
  signal: Signal;
  /** Epoch minutes: the first degraded minute, and the first healthy one after (null while open). */
  start: number;
  end: number | null;
  /** The worst value seen, and the band at the start. */
  observed: number;
  expected: number;
  lower: number;
  upper: number;
  severity: 'warning' | 'critical';
  campaign: string | null;
}

/** An anomaly still open when a run starts, with the minutes it has been healthy since its last bad one. */
export interface OpenAnomaly extends Anomaly {
  healthy: number;
}

const TRAILING_MINUTES = 60;
/** Seasonal neighbours: the same minutes a day and a week earlier, ± this many minutes. */
const SEASONAL_SPAN = 10;
const DAY_MINUTES = 1440;
const WEEK_MINUTES = 7 * DAY_MINUTES;
/** A route speaks on latency and errors only with this many requests in the minute. */
const MIN_REQUESTS = 20;
/** A band needs this many usable minutes behind it. */
const MIN_BASELINE_MINUTES = 20;
/** A route can go dark only if it usually gets this many requests a minute. */
const MIN_THROUGHPUT = 30;
/** Robust deviations above the median where the band ends. */
const BAND_DEVIATIONS = 4;
const OPEN_AFTER = 3;
/** Within this factor of its median (and the band's lower half), a series has recovered. */
const RECOVERED_FACTOR = 1.2;
const CLOSE_AFTER = 5;

interface SignalRule {
  /** The band's spread is at least this share of the median, and at least `floor`. */
  relative: number;
  floor: number;
  /** A degradation also exceeds the median by this factor: practical as well as unusual. */
  factor: number;
  /** From this factor over the median, it is critical. */
  critical: number;
}

const RULES: Record<Exclude<Signal, 'error_ratio' | 'throughput'>, SignalRule> = {
  latency_p95: { relative: 0.15, floor: 5, factor: 1.5, critical: 3 },
  lcp_p75: { relative: 0.1, floor: 50, factor: 1.3, critical: 2 },
  inp_p75: { relative: 0.1, floor: 10, factor: 1.3, critical: 2 },
  cls_p75: { relative: 0.1, floor: 0.02, factor: 1.5, critical: 3 },
};

/** The error-ratio test: at least this ratio, this many times the usual one, and unlikely by chance. */
const ERROR_RATIO = { minimum: 0.02, factor: 3, baseline: 0.001, alpha: 1e-4, critical: 0.2 };

const keyOf = (target: Target, signal: Signal) =>
  'service' in target
    ? `route ${target.service} ${target.route} ${signal}`
    : `page ${target.app} ${target.page} ${signal}`;

/** A minute's verdict on one series: degraded, healthy, or silent (too little traffic to say). */
type Verdict =
  | { state: 'silent' }
  | { state: 'healthy' }
  /** Inside the band but well above the median: keeps an open anomaly open, opens none. */
  | { state: 'elevated' }
  | {
      state: 'degraded';
      observed: number;
      expected: number;
      lower: number;
      upper: number;
      critical: boolean;
    };

/** The minutes of a series' baseline: the trailing hour and the seasonal neighbours, without the given ones. */
function baselineMinutes(minute: number): number[] {
  const minutes: number[] = [];
  for (let m = minute - TRAILING_MINUTES; m < minute; m += 1) minutes.push(m);
  for (const back of [DAY_MINUTES, WEEK_MINUTES]) {
    for (let m = minute - back - SEASONAL_SPAN; m <= minute - back + SEASONAL_SPAN; m += 1) minutes.push(m);
  }
  return minutes;
}

/** Degraded when above a robust band, by a practical factor too. */
function aboveBand(value: number, history: number[], rule: SignalRule): Verdict {
  if (history.length < MIN_BASELINE_MINUTES) return { state: 'silent' };
  const { median: m, scale } = robust(history);
  const spread = Math.max(scale, rule.relative * m, rule.floor);
  const upper = m + BAND_DEVIATIONS * spread;
  const lower = Math.max(0, m - BAND_DEVIATIONS * spread);
  if (value > upper && value >= rule.factor * m) {
    return {
      state: 'degraded',
      observed: value,
      expected: m,
      lower,
      upper,
      critical: value >= rule.critical * m,
    };
  }
  // Hysteresis: recovering means coming back to the band's lower half, not just under its edge.
  if (value > m + (BAND_DEVIATIONS / 2) * spread && value >= RECOVERED_FACTOR * m)
    return { state: 'elevated' };
  return { state: 'healthy' };
}

interface Indexed {
  routes: Map<string, Map<number, RouteMinute>>;
  routeTargets: Map<string, { service: string; route: string }>;
  /** The first minute each route appears in. */
  firstMinute: Map<string, number>;
  services: Map<string, Set<string>>;
  pages: Map<string, Map<number, PageMinute>>;
  pageTargets: Map<string, { app: string; page: string }>;
  campaigns: Map<string, Map<number, number>>;
}

function index(series: TrafficSeries): Indexed {
  const result: Indexed = {
    routes: new Map(),
    routeTargets: new Map(),
    firstMinute: new Map(),
    services: new Map(),
    pages: new Map(),
    pageTargets: new Map(),
    campaigns: new Map(),
  };
  for (const r of series.routes) {
    const key = `${r.service} ${r.route}`;
    let byMinute = result.routes.get(key);
    if (!byMinute) {
      byMinute = new Map();
      result.routes.set(key, byMinute);
      result.routeTargets.set(key, { service: r.service, route: r.route });
      const routes = result.services.get(r.service) ?? new Set();
      routes.add(key);
      result.services.set(r.service, routes);
    }
    byMinute.set(r.minute, r);
    result.firstMinute.set(key, Math.min(result.firstMinute.get(key) ?? r.minute, r.minute));
  }
  for (const p of series.pages) {
    const key = `${p.app} ${p.page}`;
    let byMinute = result.pages.get(key);
    if (!byMinute) {
      byMinute = new Map();
      result.pages.set(key, byMinute);
      result.pageTargets.set(key, { app: p.app, page: p.page });
    }
    byMinute.set(p.minute, p);
  }
  for (const c of series.campaigns) {
    let byMinute = result.campaigns.get(c.campaign);
    if (!byMinute) {
      byMinute = new Map();
      result.campaigns.set(c.campaign, byMinute);
    }
    byMinute.set(c.minute, (byMinute.get(c.minute) ?? 0) + c.clicks);
  }
  return result;
}

/** The campaign whose clicks rose most in the minutes before `minute`, if any rose markedly. */
function surgingCampaign(data: Indexed, minute: number): string | null {
  let best: { campaign: string; rise: number } | undefined;
  for (const [campaign, byMinute] of data.campaigns) {
    let recent = 0;
    for (let m = minute - 10; m <= minute; m += 1) recent = Math.max(recent, byMinute.get(m) ?? 0);
    const before: number[] = [];
    for (let m = minute - 10 - TRAILING_MINUTES; m < minute - 10; m += 1) before.push(byMinute.get(m) ?? 0);
    const usual = robust(before).median;
    const rise = recent / Math.max(1, usual);
    if (recent >= 20 && rise >= 3 && (!best || rise > best.rise)) best = { campaign, rise };
  }
  return best?.campaign ?? null;
}

/**
 * Runs the detector over the minutes [from, to], each judged only on data up to that minute, starting from the
 * anomalies open before `from` (those that started before it and had not ended by it; one judged closed inside
 * the window is reopened and judged again, so a window re-judged gives what it gave, as long as it reaches back
 * more minutes than an anomaly takes to close). Returns every anomaly that was open or opened in the run, with its state at
 * `to` (an end once it recovered). Deterministic: the same series and open anomalies give the same anomalies.
 */
export function detect(
  series: TrafficSeries,
  from: number,
  to: number,
  open: OpenAnomaly[] = [],
): OpenAnomaly[] {
  const data = index(series);
  const active = new Map<string, OpenAnomaly>();
  const result: OpenAnomaly[] = [];
  // An anomaly that ended inside the window is judged again from its start's side: reopened, healthy count 0.
  for (const a of open) {
    const copy = { ...a, end: null, healthy: 0 };
    active.set(keyOf(a.target, a.signal), copy);
    result.push(copy);
  }
  /** Consecutive degraded minutes of series not (yet) open, with their first verdict. */
  const pending = new Map<string, { count: number; start: number; first: Verdict & { state: 'degraded' } }>();
  /** Minutes each series was degraded in: kept out of its own baseline. */
  const degradedMinutes = new Map<string, Set<number>>();
  for (const a of open) {
    const minutes = new Set<number>();
    for (let m = a.start; m < from; m += 1) minutes.add(m);
    degradedMinutes.set(keyOf(a.target, a.signal), minutes);
  }

  const judge = (key: string, target: Target, signal: Signal, minute: number, verdict: Verdict) => {
    const current = active.get(key);
    if (verdict.state === 'degraded') {
      let minutes = degradedMinutes.get(key);
      if (!minutes) {
        minutes = new Set();
        degradedMinutes.set(key, minutes);
      }
      minutes.add(minute);
      if (current) {
        current.healthy = 0;
        current.observed = worse(signal, current.observed, verdict.observed);
        if (verdict.critical) current.severity = 'critical';
        return;
      }
      const run = pending.get(key);
      const next = run
        ? { ...run, count: run.count + 1 }
        : { count: 1, start: minute, first: verdict as Verdict & { state: 'degraded' } };
      pending.set(key, next);
      if (next.count >= OPEN_AFTER) {
        pending.delete(key);
        const anomaly: OpenAnomaly = {
          target,
          signal,
          start: next.start,
          end: null,
          observed: worse(signal, next.first.observed, verdict.observed),
          expected: next.first.expected,
          lower: next.first.lower,
          upper: next.first.upper,
          severity: next.first.critical || verdict.critical ? 'critical' : 'warning',
          campaign: surgingCampaign(data, next.start),
          healthy: 0,
        };
        active.set(key, anomaly);
        result.push(anomaly);
      }
      return;
    }
    if (verdict.state === 'elevated') {
      pending.delete(key);
      if (current) {
        current.healthy = 0;
        degradedMinutes.get(key)?.add(minute);
      }
      return;
    }
    if (verdict.state === 'healthy') {
      pending.delete(key);
      if (current) {
        current.healthy += 1;
        if (current.healthy >= CLOSE_AFTER) {
          current.end = minute - CLOSE_AFTER + 1;
          active.delete(key);
        }
      }
    }
  };

  for (let minute = from; minute <= to; minute += 1) {
    const context = baselineMinutes(minute);
    for (const [key, byMinute] of data.routes) {
      const target = data.routeTargets.get(key) as { service: string; route: string };
      const now = byMinute.get(minute);
      const verdicts: [Signal, Verdict][] = [
        ['latency_p95', latencyVerdict(key, now, byMinute, context)],
        ['error_ratio', errorVerdict(key, now, byMinute, context)],
        ['throughput', throughputVerdict(key, target.service, minute, data, context)],
      ];
      for (const [signal, verdict] of verdicts)
        judge(`route ${key} ${signal}`, target, signal, minute, verdict);
    }
    for (const [key, byMinute] of data.pages) {
      const target = data.pageTargets.get(key) as { app: string; page: string };
      const now = byMinute.get(minute);
      for (const [signal, field] of [
        ['lcp_p75', 'lcp'],
        ['inp_p75', 'inp'],
        ['cls_p75', 'cls'],
      ] as const) {
        const seriesKey = `page ${key} ${signal}`;
        const value = now?.[field];
        const verdict: Verdict =
          value === null || value === undefined
            ? { state: 'silent' }
            : aboveBand(
                value,
                usable(context, seriesKey, (m) => byMinute.get(m)?.[field] ?? undefined),
                RULES[signal],
              );
        judge(seriesKey, target, signal, minute, verdict);
      }
    }
  }
  return result;

  /** The baseline values of a series: its minutes with a value, less those it was degraded in. */
  function usable(minutes: number[], seriesKey: string, value: (m: number) => number | undefined): number[] {
    const skip = degradedMinutes.get(seriesKey);
    const values: number[] = [];
    for (const m of minutes) {
      if (skip?.has(m)) continue;
      const v = value(m);
      if (v !== undefined) values.push(v);
    }
    return values;
  }

  function latencyVerdict(
    key: string,
    now: RouteMinute | undefined,
    byMinute: Map<number, RouteMinute>,
    context: number[],
  ): Verdict {
    if (!now || now.requests < MIN_REQUESTS) return { state: 'silent' };
    const history = usable(context, `route ${key} latency_p95`, (m) => {
      const r = byMinute.get(m);
      return r && r.requests >= MIN_REQUESTS ? r.p95 : undefined;
    });
    return aboveBand(now.p95, history, RULES.latency_p95);
  }

  function errorVerdict(
    key: string,
    now: RouteMinute | undefined,
    byMinute: Map<number, RouteMinute>,
    context: number[],
  ): Verdict {
    if (!now || now.requests < MIN_REQUESTS) return { state: 'silent' };
    const skip = degradedMinutes.get(`route ${key} error_ratio`);
    let requests = 0;
    let errors = 0;
    let minutes = 0;
    for (const m of context) {
      const r = byMinute.get(m);
      if (!r || skip?.has(m)) continue;
      requests += r.requests;
      errors += r.errors;
      minutes += 1;
    }
    if (minutes < MIN_BASELINE_MINUTES) return { state: 'silent' };
    // The usual ratio, pooled over the baseline's requests (a per-minute median of mostly zeros says nothing).
    const usual = Math.max(errors / Math.max(1, requests), ERROR_RATIO.baseline);
    const ratio = now.errors / now.requests;
    const upper = Math.max(ERROR_RATIO.minimum, ERROR_RATIO.factor * usual);
    if (ratio > upper && binomialTail(now.errors, now.requests, usual) < ERROR_RATIO.alpha) {
      return {
        state: 'degraded',
        observed: ratio,
        expected: usual,
        lower: 0,
        upper,
        critical: ratio >= ERROR_RATIO.critical,
      };
    }
    return { state: 'healthy' };
  }

  function throughputVerdict(
    key: string,
    service: string,
    minute: number,
    d: Indexed,
    context: number[],
  ): Verdict {
    const byMinute = d.routes.get(key) as Map<number, RouteMinute>;
    // Only minutes since the route first appeared count, so a new route is not "usually 0".
    const first = d.firstMinute.get(key) as number;
    const since = context.filter((m) => m >= first);
    const history = usable(since, `route ${key} throughput`, (m) => byMinute.get(m)?.requests ?? 0);
    if (history.length < MIN_BASELINE_MINUTES) return { state: 'silent' };
    const expected = robust(history).median;
    if (expected < MIN_THROUGHPUT) return { state: 'silent' };
    const requests = byMinute.get(minute)?.requests ?? 0;
    const upper = Number.POSITIVE_INFINITY;
    const lower = 0.1 * expected;
    if (requests >= lower) return { state: 'healthy' };
    // The service must still be busy elsewhere: otherwise the logs stopped, not the route.
    let others = 0;
    let othersUsual = 0;
    for (const other of d.services.get(service) ?? []) {
      if (other === key) continue;
      const o = d.routes.get(other) as Map<number, RouteMinute>;
      others += o.get(minute)?.requests ?? 0;
      othersUsual += robust(context.map((m) => o.get(m)?.requests ?? 0)).median;
    }
    if (othersUsual < MIN_THROUGHPUT || others < 0.5 * othersUsual) return { state: 'silent' };
    return {
      state: 'degraded',
      observed: requests,
      expected,
      lower,
      upper,
      critical: requests <= 0.02 * expected,
    };
  }
}

/** The worse of two values of a signal: lower for throughput, higher for the rest. */
function worse(signal: Signal, a: number, b: number): number {
  return signal === 'throughput' ? Math.min(a, b) : Math.max(a, b);
}
