import { createMiddleware } from 'hono/factory';
import { Gauge, type Registry } from 'prom-client';
import type { AppEnv } from '../http/context.ts';
import { ProblemError } from '../http/problem.ts';
import type { Admission } from './write-path/admission.ts';

/**
 * Counts the request against the write path's bound on ingest requests in flight (`Admission.enterRequest`)
 * until it is answered; past the bound it is refused with 503 before its body is read. Put after the role
 * check: the pool is the backends', and a request without a key of role `ingest` must not hold a slot of it
 * (the check reads no body, so a refused request holds nothing either).
 */
export function inFlightBound(admission: Admission) {
  return createMiddleware<AppEnv>(async (_c, next) => {
    const leave = admission.enterRequest();
    try {
      await next();
    } finally {
      leave();
    }
  });
}

/**
 * Bounds the Faro requests each app has in flight, apart from the backends' pool: an app key is public (it is
 * in every page of the shop), so whoever holds it may hold as many slots as this, and no more, nor any of the
 * backends'.
 */
export class AppInFlightBound {
  readonly #max: number;
  readonly #counts = new Map<string, number>();
  #total = 0;

  constructor(max: number, registry: Registry) {
    this.#max = max;
    const total = () => this.#total;
    new Gauge({
      name: 'vigil_faro_requests_in_flight',
      help: 'Faro requests being handled, all apps together; past the bound per app new ones of that app get 503.',
      registers: [registry],
      collect() {
        this.set(total());
      },
    });
  }

  /** Counts a request of `appId` until the returned function is called, or throws the 503 at the bound. */
  enter(appId: string): () => void {
    const count = this.#counts.get(appId) ?? 0;
    if (count >= this.#max) {
      throw new ProblemError(
        'unavailable',
        'this app has as many requests in flight as it may; retry later',
        {
          headers: { 'retry-after': '1' },
        },
      );
    }
    this.#counts.set(appId, count + 1);
    this.#total += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#total -= 1;
      const now = (this.#counts.get(appId) ?? 1) - 1;
      if (now === 0) this.#counts.delete(appId);
      else this.#counts.set(appId, now);
    };
  }
}
