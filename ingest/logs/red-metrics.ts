import type { Registry } from 'prom-client';
import {
  BoundedCounter,
  BoundedHistogram,
  SERIES_BUDGETS,
  SeriesBudget,
  type SeriesExpiry,
} from '../../http/bounded-metrics.ts';
import { BoundedLabel } from '../../http/route-template.ts';
import type { LogEntry } from './schemas.ts';

const MAX_SERVICES = 50;
// Closed sets: kept as they are in the overflow series, so errors stay visible past the budget.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'OTHER'];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/**
 * RED metrics (rate, errors, duration) per service and route, from the request fields of ingested logs.
 * Services and each service's routes are capped (past the cap they count as `other`), and each family holds
 * at most its budget of series in all (`SERIES_BUDGETS`): past it, service and route are `other`.
 */
export class RedMetrics {
  readonly #requests: BoundedCounter<'service' | 'route' | 'method' | 'status_class'>;
  readonly #duration: BoundedHistogram<'service' | 'route'>;
  readonly #services = new BoundedLabel(MAX_SERVICES);
  readonly #routes = new Map<string, BoundedLabel>();
  readonly #routeCap: number;

  constructor(registry: Registry, routeCap: number, expiry: SeriesExpiry = {}) {
    this.#routeCap = routeCap;
    this.#requests = new BoundedCounter({
      name: 'vigil_service_requests_total',
      help: 'Requests seen in ingested server logs, by service, route template, method and status class.',
      registry,
      series: new SeriesBudget({
        labels: { service: 'free', route: 'free', method: METHODS, status_class: STATUS_CLASSES },
        maxSeries: SERIES_BUDGETS.serviceRequests,
        ...expiry,
      }),
    });
    this.#duration = new BoundedHistogram({
      name: 'vigil_service_request_duration_seconds',
      help: 'Request durations seen in ingested server logs, by service and route template.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registry,
      series: new SeriesBudget({
        labels: { service: 'free', route: 'free' },
        maxSeries: SERIES_BUDGETS.serviceDurations,
        ...expiry,
      }),
    });
  }

  /**
   * Counts the entries that describe a request (those with a route and a status); `templates` are their route
   * templates (`requestTemplates`), null for the rest.
   */
  observe(entries: LogEntry[], templates: (string | null)[]): void {
    for (const [i, e] of entries.entries()) {
      const template = templates[i];
      if (template === null || template === undefined || e.status === undefined) continue;
      const service = this.#services.label(e.service);
      let routes = this.#routes.get(service);
      if (!routes) {
        routes = new BoundedLabel(this.#routeCap);
        this.#routes.set(service, routes);
      }
      // Templates as senders write them (`/orders/:id`, `/orders/{id}`) pass through unchanged; raw paths and
      // any identifier segments left in a template become `:id` (`templatePath`).
      const route = routes.label(template);
      this.#requests.inc({
        service,
        route,
        method: e.method ?? 'OTHER',
        status_class: `${Math.floor(e.status / 100)}xx`,
      });
      if (e.durationMs !== undefined) this.#duration.observe({ service, route }, e.durationMs / 1000);
    }
  }
}
