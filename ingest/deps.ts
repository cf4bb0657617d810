import type { ConsentGate, Purpose } from '../consent/index.ts';
import type { PayoutScore } from '../detectors/fraud/index.ts';
import type { PayoutRow } from '../storage/payouts.table.ts';
import type { IngestConfig } from './config.ts';
import type { IngestMetrics } from './ingest-metrics.ts';
import type { SearchSink } from './opensearch/client.ts';
import type { Writer } from './write-path/writer.ts';

/** What the ingest routes need from the app; the composition root provides it. */
export interface IngestDeps {
  /** The ingest routes' metrics (and each Faro app's in-flight bound), built once. */
  ingestMetrics: IngestMetrics;
  /** Keys the hashes of personal identifiers (IP, email). */
  secret: Buffer;
  ingest: IngestConfig;
  /** The group-commit writer and event journal every ingest route submits to. */
  writer: Writer;
  /** The consent gate, which decides from memory whether an item about a subject may be kept. */
  consent: { gate: ConsentGate; purposes: Purpose[] };
  /** Scores a payout when it is stored. */
  fraud: { scorePayout(payout: PayoutRow): Promise<PayoutScore> };
  /** The logs shipped to OpenSearch (`OPENSEARCH_URL`): `GET /v1/logs` searches them there when set. */
  logSearch?: Pick<SearchSink, 'searchLogs'>;
}
