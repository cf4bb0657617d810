import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Admission, backlogRetryAfterSeconds } from './admission.ts';

describe('the Retry-After of a full event backlog', () => {
  it('says about as long as the last apply transaction took, spread by a quarter either way', () => {
    expect(backlogRetryAfterSeconds(8, 1, 0)).toBe(6);
    expect(backlogRetryAfterSeconds(8, 1, 0.5)).toBe(8);
    expect(backlogRetryAfterSeconds(8, 1, 0.999)).toBe(10);
  });

  it('never says less than the floor, and never more than 30 s', () => {
    expect(backlogRetryAfterSeconds(0, 1, 0.3)).toBe(1);
    expect(backlogRetryAfterSeconds(0.2, 2, 0.9)).toBe(2);
    expect(backlogRetryAfterSeconds(600, 1, 0)).toBe(30);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (last, floor, random) => {
          const seconds = backlogRetryAfterSeconds(last, floor, random);
          expect(Number.isInteger(seconds)).toBe(true);
          expect(seconds).toBeGreaterThanOrEqual(floor);
          expect(seconds).toBeLessThanOrEqual(30);
          expect(seconds).toBeGreaterThanOrEqual(Math.min(30, Math.ceil(last * 0.75)));
        },
      ),
    );
  });
});

describe('the write queue gauges', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const admission = () => {
    const registry = new Registry();
    const limits = {
      maxQueuedRows: 100,
      maxBacklogEvents: 1000,
      maxInFlightRequests: 10,
      retryAfterSeconds: 1,
    };
    return { registry, queue: new Admission(limits, registry, () => 0) };
  };
  const value = async (registry: Registry, name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values[0]?.value;

  it('keep the peak of the last minute after the queue drained, and count a refusal as full', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-07T10:00:00Z'), toFake: ['Date'] });
    const { registry, queue } = admission();
    expect(await value(registry, 'vigil_ingest_queue_capacity_rows')).toBe(100);
    expect(await value(registry, 'vigil_ingest_backlog_capacity_events')).toBe(1000);
    queue.enqueue(60);
    queue.dequeue(60);
    expect(await value(registry, 'vigil_ingest_queue_rows')).toBe(0);
    expect(await value(registry, 'vigil_ingest_queue_peak_rows')).toBe(60);
    vi.setSystemTime(Date.parse('2026-12-07T10:00:30Z'));
    queue.enqueue(70);
    expect(() => queue.enqueue(40)).toThrow(/queue is full/);
    queue.dequeue(70);
    expect(await value(registry, 'vigil_ingest_queue_peak_rows')).toBe(100);
    // A minute later the peak has passed out of the window.
    vi.setSystemTime(Date.parse('2026-12-07T10:01:31Z'));
    expect(await value(registry, 'vigil_ingest_queue_peak_rows')).toBe(0);
  });
});
