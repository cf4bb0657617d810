// "Vigil — Vigil itself": the health of the Vigil service — ingest throughput and refusals, the write path
// (queue and backlog against their bounds, commit latency, apply lag and failures), the shipping of logs and
// telemetry to OpenSearch, its HTTP API per route, and the Node.js process (memory, event-loop lag, CPU, scrape
// health).
import { type Dashboard, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  buildDashboard,
  labelVariable,
  promQuery,
  statPanel,
  timeSeriesPanel,
  vigilDashboard,
} from './common.ts';

const HTTP = 'job="vigil", route=~"$route"';
// The routes of the ingest SLO.
const INGEST = 'job="vigil", route=~"/v1/events|/v1/logs|/v1/affiliates|/collect/:appKey"';
const httpQuantile = (q: number) =>
  `histogram_quantile(${q}, sum by (route, le) (rate(http_request_duration_seconds_bucket{${HTTP}}[$__rate_interval])))`;
const http5xxRatio =
  `(sum by (route) (rate(http_request_duration_seconds_count{${HTTP}, status=~"5.."}[$__rate_interval]))` +
  ` or 0 * sum by (route) (rate(http_request_duration_seconds_count{${HTTP}}[$__rate_interval])))` +
  ` / sum by (route) (rate(http_request_duration_seconds_count{${HTTP}}[$__rate_interval]))`;
const commitQuantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le) (rate(vigil_ingest_commit_duration_seconds_bucket[$__rate_interval])))`;

// Dashed red for the bound a gauge is drawn against.
const BOUND_STYLE = [
  { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
  { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
  { id: 'custom.fillOpacity', value: 0 },
];

const FILL_STEPS = [
  ['green', null],
  ['orange', 0.6],
  ['red', 0.8],
] as const;

/** The dashboard of Vigil's own health (uid `vigil-self`). */
export function selfDashboard(): Dashboard {
  const builder = vigilDashboard(
    'vigil-self',
    'Vigil — Vigil itself',
    "Vigil's own health: ingest, write path, search shipping, HTTP API per route, process and scrape.",
  ).withVariable(
    labelVariable(
      'route',
      'Route',
      "Route templates of Vigil's HTTP API",
      'http_request_duration_seconds_count{job="vigil"}',
    ),
  );

  builder
    .withRow(new RowBuilder('Overview'))
    .withPanel(
      statPanel({
        title: 'Instances up',
        description: 'Vigil instances Prometheus scraped successfully on its last scrape.',
        unit: 'short',
        queries: [promQuery('sum(up{job="vigil"})', 'up')],
        width: 4,
        steps: [
          ['red', null],
          ['green', 1],
        ],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Items accepted',
        description: 'Items accepted by ingest per second, all kinds.',
        unit: 'short',
        queries: [
          promQuery(
            'sum(rate(vigil_ingest_items_total{outcome="accepted"}[$__rate_interval]))',
            'accepted/s',
          ),
        ],
        width: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Ingest queue fill',
        description:
          'The most rows that waited for the group commit at once over the last minute, as a share of the queue bound (fullest instance).',
        unit: 'percentunit',
        queries: [promQuery('max(vigil_ingest_queue_peak_rows / vigil_ingest_queue_capacity_rows)', 'queue')],
        width: 4,
        steps: FILL_STEPS,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Apply backlog fill',
        description: 'Affiliate events acknowledged but not yet applied, as a share of the backlog bound.',
        unit: 'percentunit',
        queries: [
          promQuery('max(vigil_ingest_backlog_events / vigil_ingest_backlog_capacity_events)', 'backlog'),
        ],
        width: 4,
        steps: FILL_STEPS,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Ingest 5xx ratio',
        description:
          'Share of requests to the ingest routes answered with a 5xx status (the availability SLO).',
        unit: 'percentunit',
        queries: [
          promQuery(
            `(sum(rate(http_request_duration_seconds_count{${INGEST}, status=~"5.."}[$__rate_interval]))` +
              ` or 0 * sum(rate(http_request_duration_seconds_count{${INGEST}}[$__rate_interval])))` +
              ` / sum(rate(http_request_duration_seconds_count{${INGEST}}[$__rate_interval]))`,
            '5xx',
          ),
        ],
        width: 4,
        steps: [
          ['green', null],
          ['orange', 0.001],
          ['red', 0.01],
        ],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Apply failures',
        description: 'Failures applying acknowledged events over the selected time range.',
        unit: 'short',
        queries: [promQuery('sum(increase(vigil_ingest_apply_failures_total[$__range]))', 'failures')],
        width: 4,
        steps: [
          ['green', null],
          ['red', 1],
        ],
      }),
    );

  builder
    .withRow(new RowBuilder('Ingest'))
    .withPanel(
      timeSeriesPanel({
        title: 'Items by kind and outcome (/s)',
        description:
          'Items received per second, by kind and outcome (accepted, duplicate, rejected, dropped).',
        unit: 'short',
        queries: [
          promQuery(
            'sum by (kind, outcome) (rate(vigil_ingest_items_total[$__rate_interval]))',
            '{{kind}} {{outcome}}',
          ),
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Items not accepted by reason (/s)',
        description: 'Items rejected, dropped or seen as duplicates per second, by outcome and reason code.',
        unit: 'short',
        queries: [
          promQuery(
            'sum by (outcome, reason) (rate(vigil_ingest_items_total{outcome!="accepted"}[$__rate_interval]))',
            '{{outcome}} {{reason}}',
          ),
        ],
        stacked: true,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Requests rejected and refused by reason',
        description:
          'Whole ingest requests rejected (validation, too large…) by route and reason, and requests refused by backpressure (overloaded, closing, queue_full, backlog).',
        unit: 'reqps',
        queries: [
          promQuery(
            'sum by (route, reason) (rate(vigil_ingest_rejected_requests_total[$__rate_interval]))',
            'rejected {{route}} {{reason}}',
          ),
          promQuery(
            'sum by (reason) (rate(vigil_ingest_refused_total[$__rate_interval]))',
            'refused {{reason}}',
          ),
        ],
        stacked: true,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Requests in flight',
        description: 'Ingest requests being handled, and Faro (browser) requests by app.',
        unit: 'short',
        queries: [
          promQuery('sum(vigil_ingest_requests_in_flight)', 'ingest'),
          promQuery('sum by (app) (vigil_faro_requests_in_flight)', 'faro {{app}}'),
        ],
      }),
    );

  builder
    .withRow(new RowBuilder('Write path'))
    .withPanel(
      timeSeriesPanel({
        title: 'Ingest queue depth vs capacity',
        description: 'Rows waiting for the group commit against the queue bound; near full above 80%.',
        unit: 'short',
        queries: [
          promQuery('max by (instance) (vigil_ingest_queue_rows)', '{{instance}} queued'),
          promQuery('max by (instance) (vigil_ingest_queue_peak_rows)', '{{instance}} peak (1m)'),
          promQuery('max by (instance) (vigil_ingest_queue_capacity_rows)', '{{instance}} capacity'),
        ],
        width: 8,
        min: 0,
      }).overrideByRegexp('.* capacity', BOUND_STYLE),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Apply lag: backlog vs capacity',
        description:
          'Affiliate events acknowledged but not yet applied (apply lag, in events) against the backlog bound.',
        unit: 'short',
        queries: [
          promQuery('max by (instance) (vigil_ingest_backlog_events)', '{{instance}} backlog'),
          promQuery('max by (instance) (vigil_ingest_backlog_capacity_events)', '{{instance}} capacity'),
        ],
        width: 8,
        min: 0,
      }).overrideByRegexp('.* capacity', BOUND_STYLE),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Group commit latency',
        description: 'Time to commit one group of queued rows: median and 99th percentile.',
        unit: 's',
        queries: [promQuery(commitQuantile(0.5), 'p50'), promQuery(commitQuantile(0.99), 'p99')],
        width: 8,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Events applied and apply failures (/s)',
        description: 'Acknowledged affiliate events applied per second, and failures applying them.',
        unit: 'short',
        queries: [
          promQuery('sum(rate(vigil_ingest_applied_events_total[$__rate_interval]))', 'applied'),
          promQuery('sum(rate(vigil_ingest_apply_failures_total[$__rate_interval]))', 'failures'),
        ],
        width: 8,
      }).overrideByName('failures', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }]),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Rows per commit',
        description: 'Rows written per group commit: median and 99th percentile.',
        unit: 'short',
        queries: [
          promQuery(
            'histogram_quantile(0.5, sum by (le) (rate(vigil_ingest_batch_rows_bucket[$__rate_interval])))',
            'p50',
          ),
          promQuery(
            'histogram_quantile(0.99, sum by (le) (rate(vigil_ingest_batch_rows_bucket[$__rate_interval])))',
            'p99',
          ),
        ],
        width: 8,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Request thread utilization',
        description: 'Share of time the request thread is busy, by instance.',
        unit: 'percentunit',
        queries: [promQuery('max by (instance) (vigil_ingest_request_thread_utilization)', '{{instance}}')],
        width: 8,
        min: 0,
        max: 1,
        steps: [
          ['green', null],
          ['orange', 0.7],
          ['red', 0.9],
        ],
      }),
    );

  // Exported only when OPENSEARCH_URL is set: without it, the row stays empty.
  builder
    .withRow(new RowBuilder('Search shipping'))
    .withPanel(
      timeSeriesPanel({
        title: 'Search backlog by kind',
        description:
          'Server logs and browser telemetry stored in the database and not yet written to OpenSearch, by kind; they wait there until shipped. VigilSearchBacklogGrowing opens a ticket when a kind is over 1000 rows and growing.',
        unit: 'short',
        queries: [promQuery('max by (kind) (vigil_search_backlog_rows)', '{{kind}}')],
        width: 8,
        min: 0,
        steps: [
          ['green', null],
          ['orange', 1000],
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Documents shipped by kind and outcome (/s)',
        description:
          'Documents handed to OpenSearch per second: written, existing (an earlier try had written it) and rejected (refused for what it is, never retried).',
        unit: 'short',
        queries: [
          promQuery(
            'sum by (kind, outcome) (rate(vigil_search_shipped_total[$__rate_interval]))',
            '{{kind}} {{outcome}}',
          ),
        ],
        width: 8,
      }).overrideByRegexp('.* rejected', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }]),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Failed bulk calls by kind (/s)',
        description:
          'Bulk calls to OpenSearch that failed and will be retried (unreachable, 429 or 5xx), per second, by kind.',
        unit: 'short',
        queries: [
          promQuery('sum by (kind) (rate(vigil_search_ship_errors_total[$__rate_interval]))', '{{kind}}'),
        ],
        width: 8,
        min: 0,
      }),
    );

  builder
    .withRow(new RowBuilder('HTTP API'))
    .withPanel(
      timeSeriesPanel({
        title: 'Request rate by route',
        description: "Requests per second to Vigil's HTTP API, by route template.",
        unit: 'reqps',
        queries: [
          promQuery(
            `sum by (route) (rate(http_request_duration_seconds_count{${HTTP}}[$__rate_interval]))`,
            '{{route}}',
          ),
        ],
        width: 8,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: '5xx ratio by route',
        description: 'Share of requests answered with a 5xx status, by route template.',
        unit: 'percentunit',
        queries: [promQuery(http5xxRatio, '{{route}}')],
        width: 8,
        min: 0,
        steps: [
          ['green', null],
          ['orange', 0.001],
          ['red', 0.01],
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Latency p95 and p99 by route',
        description:
          'Request duration by route template: 95th and 99th percentile. The ingest latency SLO is 0.25 s.',
        unit: 's',
        queries: [
          promQuery(httpQuantile(0.95), '{{route}} p95'),
          promQuery(httpQuantile(0.99), '{{route}} p99'),
        ],
        width: 8,
        steps: [
          ['green', null],
          ['red', 0.25],
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Aborted requests by route (/s)',
        description: 'Clients that went away before the answer, per second, by route template.',
        unit: 'reqps',
        queries: [
          promQuery(
            'sum by (route) (rate(vigil_http_aborted_requests_total{route=~"$route"}[$__rate_interval]))',
            '{{route}}',
          ),
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: '/metrics render time',
        description: 'Time Vigil takes to render /metrics for a scrape: 99th percentile.',
        unit: 's',
        queries: [
          promQuery(
            'histogram_quantile(0.99, sum by (le) (rate(vigil_metrics_render_duration_seconds_bucket[$__rate_interval])))',
            'p99',
          ),
        ],
      }),
    );

  builder
    .withRow(new RowBuilder('Process and scrape'))
    .withPanel(
      timeSeriesPanel({
        title: 'Memory',
        description: 'Resident memory of the process and V8 heap in use, by instance.',
        unit: 'bytes',
        queries: [
          promQuery('process_resident_memory_bytes{job="vigil"}', '{{instance}} resident'),
          promQuery('nodejs_heap_size_used_bytes{job="vigil"}', '{{instance}} heap used'),
        ],
        width: 6,
        min: 0,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Event-loop lag p99',
        description:
          '99th percentile of Node.js event-loop lag, by instance: how late timers and I/O callbacks run.',
        unit: 's',
        queries: [promQuery('nodejs_eventloop_lag_p99_seconds{job="vigil"}', '{{instance}}')],
        width: 6,
        min: 0,
        steps: [
          ['green', null],
          ['orange', 0.05],
          ['red', 0.2],
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'CPU',
        description: 'CPU time used per second by the process (1 = one full core), by instance.',
        unit: 'percentunit',
        queries: [
          promQuery('rate(process_cpu_seconds_total{job="vigil"}[$__rate_interval])', '{{instance}}'),
        ],
        width: 6,
        min: 0,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Scrape health',
        description: 'Whether Prometheus could scrape each Vigil instance (1 up, 0 down).',
        unit: 'short',
        queries: [promQuery('up{job="vigil"}', '{{instance}}')],
        width: 6,
        min: 0,
        max: 1,
        steps: [
          ['red', null],
          ['green', 1],
        ],
      }),
    );

  return buildDashboard(builder);
}
