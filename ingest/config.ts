/** Limits and policies of ingestion. */
export interface IngestConfig {
  /** Largest body of `/v1/events`, `/v1/logs`, `/v1/affiliates`, `/v1/payouts` (compressed size as sent). */
  maxBodyBytes: number;
  /** Most items in one batch request. */
  maxBatchItems: number;
  /** Rows that may wait for a group commit before ingestion answers 503. */
  queueMaxRows: number;
  /** Events acknowledged but not yet applied from the event journal before `/v1/events` answers 503. */
  backlogMaxEvents: number;
  /**
   * Requests of `ingest` keys handled at once (reading, parsing, waiting for their commit) before new ones get
   * 503; browser telemetry has its own bound, `faroMaxInFlight`.
   */
  maxInFlight: number;
  /** No byte of an ingest body for this long → 408 and the connection closed, freeing its slot at once. */
  bodyIdleTimeoutMs: number;
  /** Largest Faro payload, after decompression too. */
  faroMaxBodyBytes: number;
  /** Faro requests of one app handled at once before new ones get 503: the app key is public. */
  faroMaxInFlight: number;
  /**
   * What happens to browser telemetry that names no user: `consent` keeps it only with a consent reference
   * the gate can verify; `exempt` keeps it scrubbed and unlinked beyond the visit (audience-measurement
   * exemption).
   */
  faroAnonymous: 'consent' | 'exempt';
  /** Token bucket per Faro app: refill per second and capacity. */
  faroRatePerSecond: number;
  faroBurst: number;
  /** Distinct page routes per app in metric labels; the rest count as `other`. */
  pageRouteCap: number;
  /** Query keys kept on stored page URLs (`*` wildcard); every other key is dropped. */
  urlQueryAllowList: string[];
}

export const DEFAULT_INGEST_CONFIG: IngestConfig = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatchItems: 1000,
  queueMaxRows: 100_000,
  backlogMaxEvents: 2_000_000,
  maxInFlight: 512,
  bodyIdleTimeoutMs: 5000,
  faroMaxBodyBytes: 5 * 1024 * 1024,
  faroMaxInFlight: 64,
  faroAnonymous: 'consent',
  faroRatePerSecond: 100,
  faroBurst: 500,
  pageRouteCap: 200,
  urlQueryAllowList: ['utm_*'],
};
