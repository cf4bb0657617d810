/** What a refused timestamp of any ingest route must look like (events, payouts, logs). */
export const TIMESTAMP_MESSAGE =
  'expected an ISO 8601 date-time with an offset, such as 2026-11-28T12:00:00Z, or epoch milliseconds';
