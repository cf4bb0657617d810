// "Vigil — Traffic & bottlenecks": what Vigil observes of the marketplace — RED per service and route from
// ingested server logs, web vitals and browser exceptions per app, affiliate clicks per campaign, and the
// traffic anomalies the detector has open (each start is an annotation).
import { type Dashboard, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  barGaugePanel,
  buildDashboard,
  instantQuery,
  labelVariable,
  promAnnotation,
  promQuery,
  statPanel,
  tablePanel,
  timeSeriesPanel,
  vigilDashboard,
} from './common.ts';

const SERVICE = 'service=~"$service", route=~"$route"';
const WEB = 'app=~"$app", page=~"$page"';

const requests = (extra = '') => `vigil_service_requests_total{${SERVICE}${extra}}[$__rate_interval]`;
const errorRatio = (by: string) =>
  `(sum by (${by}) (rate(${requests(', status_class="5xx"')})) or 0 * sum by (${by}) (rate(${requests()})))` +
  ` / sum by (${by}) (rate(${requests()}))`;
const latencyP95 = (by: string) =>
  `histogram_quantile(0.95, sum by (${by}, le) (rate(vigil_service_request_duration_seconds_bucket{${SERVICE}}[$__rate_interval])))`;

// Thresholds from web.dev: good below the first, poor from the second.
const VITALS = [
  {
    name: 'LCP',
    metric: 'vigil_web_vitals_lcp_seconds',
    unit: 's',
    good: 2.5,
    poor: 4,
    what: 'Largest Contentful Paint',
  },
  {
    name: 'INP',
    metric: 'vigil_web_vitals_inp_seconds',
    unit: 's',
    good: 0.2,
    poor: 0.5,
    what: 'Interaction to Next Paint',
  },
  {
    name: 'CLS',
    metric: 'vigil_web_vitals_cls',
    unit: 'short',
    good: 0.1,
    poor: 0.25,
    what: 'Cumulative Layout Shift (unitless)',
  },
  {
    name: 'TTFB',
    metric: 'vigil_web_vitals_ttfb_seconds',
    unit: 's',
    good: 0.8,
    poor: 1.8,
    what: 'Time to First Byte',
  },
  {
    name: 'FCP',
    metric: 'vigil_web_vitals_fcp_seconds',
    unit: 's',
    good: 1.8,
    poor: 3,
    what: 'First Contentful Paint',
  },
] as const;

/** The traffic and bottlenecks dashboard (uid `vigil-traffic`). */
export function trafficDashboard(): Dashboard {
  const builder = vigilDashboard(
    'vigil-traffic',
    'Vigil — Traffic & bottlenecks',
    'RED per service and route, web vitals, browser exceptions, affiliate clicks and open traffic anomalies.',
  )
    .withVariable(
      labelVariable(
        'service',
        'Service',
        'Services seen in ingested server logs',
        'vigil_service_requests_total',
      ),
    )
    .withVariable(
      labelVariable(
        'route',
        'Route',
        'Route templates of the selected services',
        'vigil_service_requests_total{service=~"$service"}',
      ),
    )
    .withVariable(
      labelVariable(
        'app',
        'App',
        'Front-end apps reporting web vitals',
        'vigil_web_vitals_lcp_seconds_count',
      ),
    )
    .withVariable(
      labelVariable(
        'page',
        'Page',
        'Pages of the selected apps',
        'vigil_web_vitals_lcp_seconds_count{app=~"$app"}',
      ),
    )
    .withVariable(
      labelVariable(
        'campaign',
        'Campaign',
        'Affiliate campaigns with clicks',
        'vigil_campaign_clicks_per_minute',
      ),
    )
    .annotation(
      promAnnotation(
        'Traffic anomaly started',
        'sum by (signal, severity) (increase(vigil_traffic_anomalies_started_total[1m])) > 0',
        {
          color: 'red',
          title: 'Anomaly started: {{signal}}',
          text: 'severity {{severity}}',
          tagKeys: 'signal,severity',
        },
      ),
    );

  builder
    .withRow(new RowBuilder('Services: rate, errors, duration'))
    .withPanel(
      timeSeriesPanel({
        title: 'Request rate by service and route',
        description: 'Requests per second seen in ingested server logs, by service and route template.',
        unit: 'reqps',
        queries: [promQuery(`sum by (service, route) (rate(${requests()}))`, '{{service}} {{route}}')],
        width: 8,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: '5xx error ratio by service and route',
        description: 'Share of requests answered with a 5xx status, by service and route template.',
        unit: 'percentunit',
        queries: [promQuery(errorRatio('service, route'), '{{service}} {{route}}')],
        width: 8,
        min: 0,
        steps: [
          ['green', null],
          ['orange', 0.01],
          ['red', 0.05],
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'p95 duration by service and route',
        description: '95th percentile of request duration from server logs, by service and route template.',
        unit: 's',
        queries: [promQuery(latencyP95('service, route'), '{{service}} {{route}}')],
        width: 8,
      }),
    )
    .withPanel(
      tablePanel({
        title: 'Routes over the time range',
        description:
          'Per service and route over the whole time range: request rate, 5xx ratio and p95 duration. Sort a column to find the bottleneck.',
        unit: 'short',
        queries: [
          instantQuery(
            'sum by (service, route) (rate(vigil_service_requests_total{service=~"$service", route=~"$route"}[$__range]))',
          ),
          instantQuery(
            '(sum by (service, route) (rate(vigil_service_requests_total{service=~"$service", route=~"$route", status_class="5xx"}[$__range]))' +
              ' or 0 * sum by (service, route) (rate(vigil_service_requests_total{service=~"$service", route=~"$route"}[$__range])))' +
              ' / sum by (service, route) (rate(vigil_service_requests_total{service=~"$service", route=~"$route"}[$__range]))',
          ),
          instantQuery(
            'histogram_quantile(0.95, sum by (service, route, le) (rate(vigil_service_request_duration_seconds_bucket{service=~"$service", route=~"$route"}[$__range])))',
          ),
        ],
        columns: [
          { name: 'Requests/s', unit: 'reqps' },
          { name: '5xx ratio', unit: 'percentunit' },
          { name: 'p95 duration', unit: 's' },
        ],
        height: 9,
      }),
    );

  builder.withRow(new RowBuilder('Web vitals (p75) and browser exceptions'));
  for (const vital of VITALS) {
    builder.withPanel(
      timeSeriesPanel({
        title: `${vital.name} p75 by app and page`,
        description: `75th percentile of ${vital.what} reported by real browsers, by app and page. Good below ${vital.good}, poor from ${vital.poor}.`,
        unit: vital.unit,
        queries: [
          promQuery(
            `histogram_quantile(0.75, sum by (app, page, le) (rate(${vital.metric}_bucket{${WEB}}[$__rate_interval])))`,
            '{{app}} {{page}}',
          ),
        ],
        width: 8,
        min: 0,
        steps: [
          ['green', null],
          ['orange', vital.good],
          ['red', vital.poor],
        ],
      }),
    );
  }
  builder.withPanel(
    timeSeriesPanel({
      title: 'Browser exceptions by app (/s)',
      description: 'Exceptions reported by the Faro SDK in browsers, per second, by app.',
      unit: 'short',
      queries: [
        promQuery(
          'sum by (app) (rate(vigil_browser_exceptions_total{app=~"$app"}[$__rate_interval]))',
          '{{app}}',
        ),
      ],
      width: 8,
    }),
  );

  builder
    .withRow(new RowBuilder('Affiliate clicks'))
    .withPanel(
      timeSeriesPanel({
        title: 'Clicks by campaign (per minute)',
        description:
          'Affiliate clicks per minute, by campaign, as the traffic detector aggregates them from stored events ("other": campaigns past the 50 busiest). Every replica reports the same figure, hence max.',
        unit: 'short',
        queries: [
          promQuery(
            'max by (campaign) (vigil_campaign_clicks_per_minute{campaign=~"$campaign"})',
            '{{campaign}}',
          ),
        ],
        width: 16,
        stacked: true,
      }),
    )
    .withPanel(
      barGaugePanel({
        title: 'Busiest campaigns over the time range',
        description: 'The ten campaigns with the highest clicks per minute over the selected time range.',
        unit: 'short',
        queries: [
          instantQuery(
            'topk(10, max by (campaign) (max_over_time(vigil_campaign_clicks_per_minute{campaign=~"$campaign"}[$__range])))',
            '{{campaign}}',
          ),
        ],
        width: 8,
      }),
    );

  builder
    .withRow(new RowBuilder('Traffic anomalies'))
    .withPanel(
      statPanel({
        title: 'Open anomalies',
        description: 'Traffic anomalies the detector currently has open, all signals and severities.',
        unit: 'short',
        queries: [promQuery('sum(vigil_traffic_anomalies_open)', 'open')],
        width: 4,
        height: 8,
        steps: [
          ['green', null],
          ['orange', 1],
        ],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Open critical anomalies',
        description: 'Open traffic anomalies of severity critical.',
        unit: 'short',
        queries: [promQuery('sum(vigil_traffic_anomalies_open{severity="critical"})', 'critical')],
        width: 4,
        height: 8,
        steps: [
          ['green', null],
          ['red', 1],
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Open anomalies by signal and severity',
        description:
          'Open traffic anomalies over time, by signal (latency, errors, requests, lcp…) and severity.',
        unit: 'short',
        queries: [
          promQuery('sum by (signal, severity) (vigil_traffic_anomalies_open)', '{{signal}} ({{severity}})'),
        ],
        width: 8,
        height: 8,
        stacked: true,
      }),
    )
    .withPanel(
      tablePanel({
        title: 'Anomaly scores',
        description: 'Each open anomaly with how far past its band it is (higher is further out).',
        unit: 'short',
        queries: [instantQuery('sort_desc(max by (target, signal) (vigil_traffic_anomaly_score))')],
        columns: [{ name: 'Score', unit: 'short' }],
        width: 8,
        height: 8,
      }),
    );

  return buildDashboard(builder);
}
