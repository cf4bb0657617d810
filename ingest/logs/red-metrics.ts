import { Counter, Histogram, type Registry } from 'prom-client';
import { BoundedLabel, templatePath } from '../route-template.ts';
import type { LogEntry } from './schemas.ts';

const MAX_SERVICES = 50;

/**
 * RED metrics (rate, errors, duration) per service and route, from the request fields of ingested logs.
 * Services and each service's routes are capped; past the cap they count as `other`.
 */
export class RedMetrics {
  readonly #requests: Counter<'service' | 'route' | 'method' | 'status_class'>;
  readonly #duration: Histogram<'service' | 'route'>;
  readonly #services = new BoundedLabel(MAX_SERVICES);
  readonly #routes = new Map<string, BoundedLabel>();
  readonly #routeCap: number;

  constructor(registry: Registry, routeCap: number) {
    this.#routeCap = routeCap;
    this.#requests = new Counter({
      name: 'vigil_service_requests_total',
      help: 'Requests seen in ingested server logs, by service, route template, method and status class.',
      labelNames: ['service', 'route', 'method', 'status_class'] as const,
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'vigil_service_request_duration_seconds',
      help: 'Request durations seen in ingested server logs, by service and route template.',
      labelNames: ['service', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** Counts the entries that describe a request (those with a route and a status). */
  observe(entries: LogEntry[]): void {
    for (const e of entries) {
      if (e.route === undefined || e.status === undefined) continue;
      const service = this.#services.label(e.service);
      let routes = this.#routes.get(service);
      if (!routes) {
        routes = new BoundedLabel(this.#routeCap);
        this.#routes.set(service, routes);
      }
      // Templates as senders write them (`/orders/:id`, `/orders/{id}`) pass through unchanged; raw paths and
      // any identifier segments left in a template become `:id`.
      const route = routes.label(templatePath(e.route));
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
