import { Counter, Gauge, type Registry } from 'prom-client';
import { OverloadedError } from '../../storage/index.ts';

/** The bounds ingestion is admitted under. */
export interface AdmissionLimits {
  /** Rows that may wait for a commit; past this, submissions are refused with 503. */
  maxQueuedRows: number;
  /**
   * Events acknowledged but not yet applied from the event journal; past this, event submissions are refused
   * with 503 until the apply thread catches up.
   */
  maxBacklogEvents: number;
  /**
   * Ingest requests (of keys of role `ingest`) being handled at once, from before their body is read until
   * they are answered; past this, new ones are refused with 503 before their body is read (`enterRequest`).
   */
  maxInFlightRequests: number;
  /** What a refused submission's `Retry-After` says. */
  retryAfterSeconds: number;
}

/** The longest `Retry-After` a full backlog answers. */
const MAX_BACKLOG_RETRY_AFTER_SECONDS = 30;

/**
 * The `Retry-After` (seconds) of a request refused because the event backlog is at its bound: room comes when
 * the apply thread's next transaction commits, so about as long as its last one took (never less than
 * `floor`, at most 30 s; a transaction stops taking entries after 1 s, but a slow disk stretches its commit),
 * spread by ±25% (`random` in [0, 1)) so that the clients refused together do not all come back together.
 */
export function backlogRetryAfterSeconds(lastApplySeconds: number, floor: number, random: number): number {
  const spread = lastApplySeconds * (0.75 + random / 2);
  return Math.min(MAX_BACKLOG_RETRY_AFTER_SECONDS, Math.max(floor, Math.ceil(spread)));
}

/**
 * Admission control of the write path: the bound on ingest requests in flight, on rows queued for a group
 * commit and on events acknowledged but not yet applied. Each refusal is an `OverloadedError` (503 with
 * `Retry-After`) raised before anything is queued, and is counted by reason.
 */
/**
 * The window of the queue's peak gauge: the queue drains at every group commit, so a scrape's instant rarely
 * sees it full; its peak over the last minute does, whatever the scrape interval (up to a minute).
 */
const PEAK_WINDOW_SECONDS = 60;

export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #backlogEvents: () => number;
  readonly #refused: Counter<'reason'>;
  readonly #depth: Gauge;
  #inFlight = 0;
  #queuedRows = 0;
  /** Per second of the last PEAK_WINDOW_SECONDS (by second modulo the window): the most rows queued at once. */
  readonly #peaks = new Float64Array(PEAK_WINDOW_SECONDS);
  readonly #peakSeconds = new Float64Array(PEAK_WINDOW_SECONDS).fill(-1);
  #closed = false;
  /** How long the apply thread's last transaction took (0 before the first): the backlog's Retry-After. */
  #lastApplySeconds = 0;

  /** `backlogEvents` reads the events acknowledged and not yet applied, as the write thread last reported. */
  constructor(limits: AdmissionLimits, registry: Registry, backlogEvents: () => number) {
    this.#limits = limits;
    this.#backlogEvents = backlogEvents;
    this.#refused = new Counter({
      name: 'vigil_ingest_refused_total',
      help: 'Submissions refused by the write path, by reason (queue_full, backlog, closing, overloaded).',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    for (const reason of ['overloaded', 'closing', 'queue_full', 'backlog']) this.#refused.inc({ reason }, 0);
    this.#depth = new Gauge({
      name: 'vigil_ingest_queue_rows',
      help: 'Rows waiting in the write queue for their group commit.',
      registers: [registry],
    });
    new Gauge({
      name: 'vigil_ingest_queue_capacity_rows',
      help: 'Rows the write queue holds before submissions are refused with 503 (VIGIL_INGEST_QUEUE_MAX_ROWS).',
      registers: [registry],
    }).set(limits.maxQueuedRows);
    new Gauge({
      name: 'vigil_ingest_backlog_capacity_events',
      help: 'Events acknowledged and not yet applied before /v1/events answers 503 (VIGIL_INGEST_BACKLOG_MAX_EVENTS).',
      registers: [registry],
    }).set(limits.maxBacklogEvents);
    const peak = () => this.#peak();
    new Gauge({
      name: 'vigil_ingest_queue_peak_rows',
      help:
        `The most rows that waited in the write queue at once over the last ${PEAK_WINDOW_SECONDS} s; a submission refused ` +
        'because the queue was full counts as the queue at its bound.',
      registers: [registry],
      collect() {
        this.set(peak());
      },
    });
    const inFlight = () => this.#inFlight;
    new Gauge({
      name: 'vigil_ingest_requests_in_flight',
      help: 'Ingest requests being handled (read, parsed, waiting for their commit); past the bound new ones get 503.',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    });
  }

  /**
   * Counts an ingest request as in flight until the returned function is called, or throws when
   * `maxInFlightRequests` already are. Called before the body is read, so that the bodies held at once are
   * bounded however many clients send, and a refusal costs next to nothing. A slow body holds its slot for no
   * longer than the body-idle timeout of the body reader (`http/request-body.ts`) and the server's request
   * timeout.
   */
  enterRequest(): () => void {
    if (this.#inFlight >= this.#limits.maxInFlightRequests) {
      this.#refused.inc({ reason: 'overloaded' });
      throw this.#overloaded('Vigil is handling as many ingest requests as it can');
    }
    this.#inFlight += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#inFlight -= 1;
    };
  }

  /** Rows queued and not yet committed. */
  get queuedRows(): number {
    return this.#queuedRows;
  }

  /** Counts `rows` as queued, or throws when the writer is closing or they would overfill the queue. */
  enqueue(rows: number): void {
    if (this.#closed) {
      this.#refused.inc({ reason: 'closing' });
      throw this.#overloaded('Vigil is shutting down');
    }
    if (this.#queuedRows > 0 && this.#queuedRows + rows > this.#limits.maxQueuedRows) {
      this.#refused.inc({ reason: 'queue_full' });
      this.#notePeak(this.#limits.maxQueuedRows);
      throw this.#overloaded('the ingestion queue is full');
    }
    this.#queuedRows += rows;
    this.#depth.set(this.#queuedRows);
    this.#notePeak(this.#queuedRows);
  }

  #notePeak(rows: number): void {
    const second = Math.floor(Date.now() / 1000);
    const slot = second % PEAK_WINDOW_SECONDS;
    if (this.#peakSeconds[slot] !== second) {
      this.#peakSeconds[slot] = second;
      this.#peaks[slot] = 0;
    }
    if (rows > (this.#peaks[slot] ?? 0)) this.#peaks[slot] = rows;
  }

  /** The most rows queued at once over the last PEAK_WINDOW_SECONDS. */
  #peak(): number {
    const since = Math.floor(Date.now() / 1000) - PEAK_WINDOW_SECONDS;
    let peak = this.#queuedRows;
    this.#peaks.forEach((rows, slot) => {
      if ((this.#peakSeconds[slot] ?? -1) > since && rows > peak) peak = rows;
    });
    return peak;
  }

  /** As `enqueue`, for a request's events: also refused when they would carry the backlog past its bound. */
  enqueueEvents(events: number): void {
    if (this.#backlogEvents() + events > this.#limits.maxBacklogEvents) throw this.#backlogFull();
    this.enqueue(events);
  }

  /** `rows` are committed (or failed): they no longer count as queued. */
  dequeue(rows: number): void {
    this.#queuedRows -= rows;
    this.#depth.set(this.#queuedRows);
  }

  /**
   * Throws when the event backlog is already at its bound: called before a request's body is read, so that a
   * surge past the bound is refused without parsing what would be refused anyway (which took the CPU the
   * apply thread needed to make room). `enqueueEvents` checks again with the request's events.
   */
  refuseIfBacklogFull(): void {
    if (this.#backlogEvents() >= this.#limits.maxBacklogEvents) throw this.#backlogFull();
  }

  /** The apply thread's last transaction took this long: what a refused client is told to wait. */
  applied(seconds: number): void {
    this.#lastApplySeconds = seconds;
  }

  /** Refuses everything from now on (the writer is closing). */
  close(): void {
    this.#closed = true;
  }

  #overloaded(detail: string, retryAfterSeconds = this.#limits.retryAfterSeconds): OverloadedError {
    return new OverloadedError(`${detail}; retry later`, retryAfterSeconds);
  }

  #backlogFull(): OverloadedError {
    this.#refused.inc({ reason: 'backlog' });
    return this.#overloaded(
      'events are arriving faster than they are applied',
      backlogRetryAfterSeconds(this.#lastApplySeconds, this.#limits.retryAfterSeconds, Math.random()),
    );
  }
}
