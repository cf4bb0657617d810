import type { Migration } from 'kysely';
import * as m20261128apiKeysAndAudit from './2026-11-28-1530-api-keys-and-audit.ts';
import * as m20261128affiliateEvents from './2026-11-28-1600-affiliate-events.ts';
import * as m20261128serverLogs from './2026-11-28-1620-server-logs.ts';
import * as m20261128faroTelemetry from './2026-11-28-1640-faro-telemetry.ts';
import * as m20261128consentLedger from './2026-11-28-1700-consent-ledger.ts';
import * as m20261129privacyAndRetention from './2026-11-29-0900-privacy-and-retention.ts';
import * as m20261129fraudDetection from './2026-11-29-1000-fraud-detection.ts';
import * as m20261129eventJournal from './2026-11-29-1100-event-journal.ts';
import * as m20261129eventKeys from './2026-11-29-1400-event-keys.ts';
import * as m20261204telemetrySessions from './2026-12-04-2300-telemetry-sessions.ts';
import * as m20261207fraudScoreContext from './2026-12-07-0300-fraud-score-context.ts';
import * as m20261207trafficDetector from './2026-12-07-0400-traffic-detector.ts';
import * as m20261207payoutReviews from './2026-12-07-0500-payout-reviews.ts';
import * as m20261207searchShipping from './2026-12-07-0600-search-shipping.ts';
import * as m20261207eventIdsUniqueOnPostgres from './2026-12-07-1200-event-ids-unique-on-postgres.ts';
import * as m20261207instrOnPostgres from './2026-12-07-1300-instr-on-postgres.ts';
import * as m20261207jobLeaseTicks from './2026-12-07-1400-job-lease-ticks.ts';
import * as m20261207jsonbOnPostgres from './2026-12-07-1500-jsonb-on-postgres.ts';
import * as m20261207adClick from './2026-12-07-1600-ad-click.ts';
import * as m20261207searchAdsAllowed from './2026-12-07-2100-search-ads-allowed.ts';
import * as m20261207landingHost from './2026-12-07-2110-landing-host.ts';

/**
 * Every migration, by its file name without extension; Kysely applies them in name order. Listed statically
 * (not read from the folder) so they load the same under tsx, vitest and any bundler; a test checks that every
 * file in this folder is listed here.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '2026-11-28-1530-api-keys-and-audit': m20261128apiKeysAndAudit,
  '2026-11-28-1600-affiliate-events': m20261128affiliateEvents,
  '2026-11-28-1620-server-logs': m20261128serverLogs,
  '2026-11-28-1640-faro-telemetry': m20261128faroTelemetry,
  '2026-11-28-1700-consent-ledger': m20261128consentLedger,
  '2026-11-29-0900-privacy-and-retention': m20261129privacyAndRetention,
  '2026-11-29-1000-fraud-detection': m20261129fraudDetection,
  '2026-11-29-1100-event-journal': m20261129eventJournal,
  '2026-11-29-1400-event-keys': m20261129eventKeys,
  '2026-12-04-2300-telemetry-sessions': m20261204telemetrySessions,
  '2026-12-07-0300-fraud-score-context': m20261207fraudScoreContext,
  '2026-12-07-0400-traffic-detector': m20261207trafficDetector,
  '2026-12-07-0500-payout-reviews': m20261207payoutReviews,
  '2026-12-07-0600-search-shipping': m20261207searchShipping,
  '2026-12-07-1200-event-ids-unique-on-postgres': m20261207eventIdsUniqueOnPostgres,
  '2026-12-07-1300-instr-on-postgres': m20261207instrOnPostgres,
  '2026-12-07-1400-job-lease-ticks': m20261207jobLeaseTicks,
  '2026-12-07-1500-jsonb-on-postgres': m20261207jsonbOnPostgres,
  '2026-12-07-1600-ad-click': m20261207adClick,
  '2026-12-07-2100-search-ads-allowed': m20261207searchAdsAllowed,
  '2026-12-07-2110-landing-host': m20261207landingHost,
};
