import type { AffiliateEventsTable, EventJournalAppliedTable } from './affiliate-events.table.ts';
import type { AffiliateCouponsTable, AffiliatesTable } from './affiliates.table.ts';
import type { ApiKeysTable } from './api-keys.table.ts';
import type { AuditLogTable } from './audit-log.table.ts';
import type { ConsentRecordsTable, ConsentStateTable } from './consent.table.ts';
import type { BrowserTelemetryTable, FaroAppsTable, FaroIdempotencyTable } from './faro.table.ts';
import type { FraudModelsTable, FraudScoresTable } from './fraud.table.ts';
import type { PayoutsTable } from './payouts.table.ts';
import type {
  JobLeasesTable,
  JobRunsTable,
  PrivacyRequestStepsTable,
  PrivacyRequestsTable,
} from './privacy.table.ts';
import type {
  PayoutEventsTable,
  PayoutReviewsTable,
  ReviewSessionsTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable,
} from './review.table.ts';
import type { SearchShippingTable, ServerLogsTable } from './server-logs.table.ts';
import type { AnomaliesTable, RouteMinuteBatchesTable, TrafficMinutesTable } from './traffic.table.ts';

/** Every table Vigil keeps, by name. */
export interface Database {
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  affiliates: AffiliatesTable;
  affiliate_coupons: AffiliateCouponsTable;
  affiliate_events: AffiliateEventsTable;
  event_journal_applied: EventJournalAppliedTable;
  payouts: PayoutsTable;
  server_logs: ServerLogsTable;
  faro_apps: FaroAppsTable;
  browser_telemetry: BrowserTelemetryTable;
  faro_idempotency: FaroIdempotencyTable;
  consent_records: ConsentRecordsTable;
  consent_state: ConsentStateTable;
  privacy_requests: PrivacyRequestsTable;
  privacy_request_steps: PrivacyRequestStepsTable;
  job_leases: JobLeasesTable;
  job_runs: JobRunsTable;
  fraud_models: FraudModelsTable;
  fraud_scores: FraudScoresTable;
  traffic_minutes: TrafficMinutesTable;
  route_minute_batches: RouteMinuteBatchesTable;
  anomalies: AnomaliesTable;
  payout_reviews: PayoutReviewsTable;
  payout_events: PayoutEventsTable;
  review_sessions: ReviewSessionsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  search_shipping: SearchShippingTable;
}
