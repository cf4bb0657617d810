import { Counter, Histogram, type Registry } from 'prom-client';

/** The label value a free-text label takes in a family's overflow series. */
export const OTHER = 'other';

/**
 * Series budgets of the families whose labels come from ingested input, so that `/metrics` stays below
 * 10,000 lines whatever the input. A counter series is 1 line; a histogram series with B buckets is B + 3
 * lines (the buckets, `+Inf`, `_sum`, `_count`); every family adds 2 (HELP, TYPE).
 *
 *   http_request_duration_seconds           13 buckets → 16 × 160 = 2,560
 *   vigil_service_requests_total            counter    →  1 × 1,500 = 1,500
 *   vigil_service_request_duration_seconds  11 buckets → 14 × 100 = 1,400
 *   vigil_web_vitals_{lcp,fcp,inp,ttfb,cls} one (app, page) budget for the five:
 *                                           (14 + 13 + 13 + 13 + 11) × 40 = 2,560
 *   vigil_browser_exceptions_total          counter    →  1 × 100 =   100
 *   vigil_metric_series_folded_total        one series per family above: 9 (by construction)
 *   HELP and TYPE of those 10 families                                  20
 *                                                              total 8,149
 *
 * That leaves 1,851 lines for every other family, whose labels are closed sets in code, and prom-client's
 * process metrics (about 150 lines; 300 with every GC kind): measured at about 450 lines together
 * (`ingest/metrics-cardinality.test.ts` checks the whole under attack).
 */
export const SERIES_BUDGETS = {
  http: 160,
  serviceRequests: 1500,
  serviceDurations: 100,
  webVitals: 40,
  browserExceptions: 100,
} as const;

/** How long a series may go without an update before it is removed and its slot freed. */
const DEFAULT_IDLE_MS = 60 * 60 * 1000;

const FOLDED_METRIC = 'vigil_metric_series_folded_total';
// Sweeps on update at most this often: each sweep is O(expired + 1), but it need not run per observation.
const SWEEP_EVERY_MS = 1000;

/** A label of a bounded family: free text (`other` in the overflow series) or a closed set of values. */
type LabelKind = 'free' | readonly string[];

type Labels<L extends string> = Record<L, string>;

interface Entry<L extends string> {
  labels: Labels<L>;
  at: number;
  overflow: boolean;
}

/** What `SeriesBudget` is built from. */
export interface SeriesBudgetOptions<L extends string> {
  /** Each label, free or closed; a closed label's value outside its set is recorded as `other`. */
  labels: Record<L, LabelKind>;
  /** The most label combinations the families on this budget may hold, overflow series included. */
  maxSeries: number;
  /** A series not updated for this long is removed (default 1 h). */
  idleMs?: number;
  /** Milliseconds since the epoch; `Date.now` unless a test passes its own. */
  now?: () => number;
}

/** How a budget's series expire; the defaults suit the server (`Date.now`, one hour). */
export type SeriesExpiry = Pick<SeriesBudgetOptions<string>, 'now' | 'idleMs'>;

/**
 * Admits label combinations up to a total bound. Past it, a new combination is folded into an overflow
 * series: every free label becomes `other` and closed labels keep their value, so the overflow series are
 * at most the product of the closed sets (each with `other`); those slots are reserved inside `maxSeries`,
 * which therefore holds whatever the input. Series idle for `idleMs` are removed from every family on the
 * budget, freeing their slots.
 */
export class SeriesBudget<L extends string> {
  readonly labelNames: readonly L[];
  readonly maxSeries: number;
  // Insertion order is update order (an update re-inserts its entry), so the idle ones are at the front.
  readonly #entries = new Map<string, Entry<L>>();
  readonly #free: readonly L[];
  readonly #closed: ReadonlyMap<L, ReadonlySet<string>>;
  readonly #regularMax: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #removers: ((labels: Labels<L>) => void)[] = [];
  #regular = 0;
  #nextSweep = 0;

  constructor(options: SeriesBudgetOptions<L>) {
    const kinds = Object.entries(options.labels) as [L, LabelKind][];
    this.labelNames = kinds.map(([name]) => name);
    this.#free = kinds.filter(([, kind]) => kind === 'free').map(([name]) => name);
    const closed = new Map<L, ReadonlySet<string>>();
    for (const [name, kind] of kinds) if (kind !== 'free') closed.set(name, new Set(kind));
    this.#closed = closed;
    let overflowSeries = 1;
    for (const values of closed.values()) overflowSeries *= values.size + (values.has(OTHER) ? 0 : 1);
    if (options.maxSeries <= overflowSeries) {
      throw new Error(
        `a series budget of ${options.maxSeries} leaves no room past ${overflowSeries} overflow series`,
      );
    }
    this.maxSeries = options.maxSeries;
    this.#regularMax = options.maxSeries - overflowSeries;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Series held now, overflow series included. */
  get size(): number {
    return this.#entries.size;
  }

  /** Calls `remove` with the labels of each series that expires (a family's `metric.remove`). */
  onExpire(remove: (labels: Labels<L>) => void): void {
    this.#removers.push(remove);
  }

  /** The labels to record an update under (the input's, or its overflow series') and whether it was folded. */
  admit(input: Labels<L>): { labels: Labels<L>; folded: boolean } {
    const now = this.#now();
    if (now >= this.#nextSweep) this.sweep(now);
    const labels = this.#normalise(input);
    const key = this.#key(labels);
    const found = this.#entries.get(key);
    if (found) {
      this.#touch(key, found, now);
      return { labels: found.labels, folded: false };
    }
    const overflow = this.#free.every((name) => labels[name] === OTHER);
    if (overflow || this.#regular < this.#regularMax) {
      this.#add(key, labels, now, overflow);
      return { labels, folded: false };
    }
    const folded = { ...labels };
    for (const name of this.#free) folded[name] = OTHER;
    const foldedKey = this.#key(folded);
    const existing = this.#entries.get(foldedKey);
    if (existing) this.#touch(foldedKey, existing, now);
    else this.#add(foldedKey, folded, now, true);
    return { labels: existing?.labels ?? folded, folded: true };
  }

  /** Removes the series idle for `idleMs` or more. Runs on updates (at most once a second) and on collect. */
  sweep(now = this.#now()): void {
    this.#nextSweep = now + SWEEP_EVERY_MS;
    for (const [key, entry] of this.#entries) {
      if (now - entry.at < this.#idleMs) break;
      this.#entries.delete(key);
      if (!entry.overflow) this.#regular -= 1;
      for (const remove of this.#removers) remove(entry.labels);
    }
  }

  #normalise(input: Labels<L>): Labels<L> {
    const labels = {} as Labels<L>;
    for (const name of this.labelNames) {
      const value = input[name];
      const allowed = this.#closed.get(name);
      labels[name] = allowed && !allowed.has(value) ? OTHER : value;
    }
    return labels;
  }

  // Length-prefixed, so that no two combinations share a key whatever their values hold.
  #key(labels: Labels<L>): string {
    let key = '';
    for (const name of this.labelNames) {
      const value = labels[name];
      key += `${value.length}:${value}`;
    }
    return key;
  }

  #add(key: string, labels: Labels<L>, now: number, overflow: boolean): void {
    this.#entries.set(key, { labels, at: now, overflow });
    if (!overflow) this.#regular += 1;
  }

  #touch(key: string, entry: Entry<L>, now: number): void {
    if (entry.at === now) return;
    this.#entries.delete(key);
    entry.at = now;
    this.#entries.set(key, entry);
  }
}

/** `vigil_metric_series_folded_total{metric}`: one per registry; `metric` is the name of one of our families. */
function foldedCounter(registry: Registry): Counter<'metric'> {
  const existing = registry.getSingleMetric(FOLDED_METRIC);
  if (existing) return existing as Counter<'metric'>;
  return new Counter({
    name: FOLDED_METRIC,
    help: 'Updates recorded under a family’s overflow series (free labels `other`) because its series budget was full.',
    labelNames: ['metric'] as const,
    registers: [registry],
  });
}

/** What a bounded family is built from. */
export interface BoundedMetricOptions<L extends string> {
  name: string;
  help: string;
  registry: Registry;
  /** The budget the family's series count against; several families may share one. */
  series: SeriesBudget<L>;
}

/**
 * Binds a family to its budget: its series are removed as they expire, and an update past the budget is
 * counted in `vigil_metric_series_folded_total`. Answers the labels each update is recorded under.
 */
function admission<L extends string>(
  options: BoundedMetricOptions<L>,
  family: { remove(labels: Labels<L>): void },
): (labels: Labels<L>) => Labels<L> {
  const { series } = options;
  series.onExpire((labels) => family.remove(labels));
  const folded = foldedCounter(options.registry);
  return (labels) => {
    const admitted = series.admit(labels);
    if (admitted.folded) folded.inc({ metric: options.name });
    return admitted.labels;
  };
}

/** What prom-client needs of a bounded family: its name, help, labels, registry, and a sweep on collect. */
function familyConfig<L extends string>(options: BoundedMetricOptions<L>) {
  const { series } = options;
  return {
    name: options.name,
    help: options.help,
    labelNames: series.labelNames,
    registers: [options.registry],
    collect: () => series.sweep(),
  };
}

/** A prom-client `Counter` whose label combinations count against a `SeriesBudget`. */
export class BoundedCounter<L extends string> {
  readonly #counter: Counter<L>;
  readonly #admit: (labels: Labels<L>) => Labels<L>;

  constructor(options: BoundedMetricOptions<L>) {
    this.#counter = new Counter(familyConfig(options));
    this.#admit = admission(options, this.#counter);
  }

  inc(labels: Labels<L>, value = 1): void {
    this.#counter.inc(this.#admit(labels), value);
  }
}

/** A prom-client `Histogram` whose label combinations count against a `SeriesBudget`. */
export class BoundedHistogram<L extends string> {
  readonly #histogram: Histogram<L>;
  readonly #admit: (labels: Labels<L>) => Labels<L>;

  constructor(options: BoundedMetricOptions<L> & { buckets: readonly number[] }) {
    this.#histogram = new Histogram({ ...familyConfig(options), buckets: [...options.buckets] });
    this.#admit = admission(options, this.#histogram);
  }

  observe(labels: Labels<L>, value: number): void {
    this.#histogram.observe(this.#admit(labels), value);
  }
}
