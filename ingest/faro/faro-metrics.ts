import type { Registry } from 'prom-client';
import {
  BoundedCounter,
  BoundedHistogram,
  SERIES_BUDGETS,
  SeriesBudget,
  type SeriesExpiry,
} from '../../http/bounded-metrics.ts';
import { BoundedLabel } from '../../http/route-template.ts';
import type { FaroPayload } from './schemas.ts';

/**
 * Buckets per web vital, dense around the thresholds of "good" and "poor" (web.dev): LCP 2.5 s / 4 s,
 * FCP 1.8 s / 3 s, INP 200 ms / 500 ms, TTFB 0.8 s / 1.8 s, CLS 0.1 / 0.25.
 */
const VITALS = {
  lcp: { unit: 'seconds', scale: 1 / 1000, buckets: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 20] },
  fcp: { unit: 'seconds', scale: 1 / 1000, buckets: [0.25, 0.5, 1, 1.5, 1.8, 2.5, 3, 4, 6, 10] },
  inp: { unit: 'seconds', scale: 1 / 1000, buckets: [0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5] },
  ttfb: { unit: 'seconds', scale: 1 / 1000, buckets: [0.1, 0.2, 0.4, 0.6, 0.8, 1.2, 1.8, 3, 5, 10] },
  cls: { unit: '', scale: 1, buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1] },
} as const;
type Vital = keyof typeof VITALS;

/**
 * Web-vitals histograms per app and bounded page route, and browser exceptions per app. Pages are capped per
 * app, and the five vitals share one budget of (app, page) pairs in all (`SERIES_BUDGETS`): past it, both
 * labels are `other`.
 */
export class FaroMetrics {
  readonly #vitals: Record<Vital, BoundedHistogram<'app' | 'page'>>;
  readonly #exceptions: BoundedCounter<'app'>;
  readonly #pages = new Map<string, BoundedLabel>();
  readonly #pageCap: number;

  constructor(registry: Registry, pageCap: number, expiry: SeriesExpiry = {}) {
    this.#pageCap = pageCap;
    // One budget for the five: a pair is admitted (or folded) alike in every vital's histogram.
    const pages = new SeriesBudget({
      labels: { app: 'free', page: 'free' },
      maxSeries: SERIES_BUDGETS.webVitals,
      ...expiry,
    });
    const histogram = (vital: Vital) =>
      new BoundedHistogram({
        name: `vigil_web_vitals_${vital}${VITALS[vital].unit ? `_${VITALS[vital].unit}` : ''}`,
        help: `Web vital ${vital.toUpperCase()} reported by browsers, by app and page route.`,
        buckets: VITALS[vital].buckets,
        registry,
        series: pages,
      });
    this.#vitals = {
      lcp: histogram('lcp'),
      fcp: histogram('fcp'),
      inp: histogram('inp'),
      ttfb: histogram('ttfb'),
      cls: histogram('cls'),
    };
    this.#exceptions = new BoundedCounter({
      name: 'vigil_browser_exceptions_total',
      help: 'Exceptions reported by browsers, by app.',
      registry,
      series: new SeriesBudget({
        labels: { app: 'free' },
        maxSeries: SERIES_BUDGETS.browserExceptions,
        ...expiry,
      }),
    });
  }

  /** Records a stored payload: its web vitals under the app and (capped) page route, its exceptions. */
  observe(app: string, pageRoute: string | undefined, payload: FaroPayload): void {
    let pages = this.#pages.get(app);
    if (!pages) {
      pages = new BoundedLabel(this.#pageCap);
      this.#pages.set(app, pages);
    }
    const page = pages.label(pageRoute ?? 'unknown');
    for (const m of payload.measurements ?? []) {
      if (m.type !== 'web-vitals') continue;
      for (const [name, value] of Object.entries(m.values)) {
        if (!(name in VITALS) || !Number.isFinite(value) || value < 0) continue;
        const vital = name as Vital;
        this.#vitals[vital].observe({ app, page }, value * VITALS[vital].scale);
      }
    }
    const exceptions = payload.exceptions?.length ?? 0;
    if (exceptions > 0) this.#exceptions.inc({ app }, exceptions);
  }
}
