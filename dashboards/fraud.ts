// "Vigil — Affiliate fraud": how payouts are scored (decisions, reason codes, risk score distribution,
// scoring latency, model age) and whether analysts keep up with the review queue against its SLA.
import * as common from '@grafana/grafana-foundation-sdk/common';
import { type Dashboard, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import {
  barGaugePanel,
  buildDashboard,
  instantQuery,
  labelVariable,
  promQuery,
  statPanel,
  timeSeriesPanel,
  vigilDashboard,
} from './common.ts';

const DECISIONS = 'vigil_fraud_decisions_total{decision=~"$decision"}';
const FLAGS = 'vigil_fraud_flags_total{reason=~"$reason"}';
const scoringQuantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le) (rate(vigil_fraud_scoring_duration_seconds_bucket[$__rate_interval])))`;
const riskQuantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le) (rate(vigil_fraud_risk_score_bucket[$__rate_interval])))`;

/** The affiliate fraud dashboard (uid `vigil-fraud`). */
export function fraudDashboard(): Dashboard {
  const builder = vigilDashboard(
    'vigil-fraud',
    'Vigil — Affiliate fraud',
    'Payout scoring decisions, fraud reason codes, risk scores, the analyst review queue against its SLA, model age and scoring latency.',
  )
    .withVariable(
      labelVariable(
        'decision',
        'Decision',
        'Scoring decision (approved, flagged, held)',
        'vigil_fraud_decisions_total',
      ),
    )
    .withVariable(
      labelVariable('reason', 'Reason code', 'Fraud reason codes given', 'vigil_fraud_flags_total'),
    );

  builder
    .withRow(new RowBuilder('Overview'))
    .withPanel(
      statPanel({
        title: 'Payouts scored',
        description: 'Payouts scored over the selected time range, all decisions.',
        unit: 'short',
        queries: [promQuery('sum(increase(vigil_fraud_decisions_total[$__range]))', 'scored')],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Flagged or held',
        description: 'Share of payouts scored over the time range that were flagged or held for review.',
        unit: 'percentunit',
        queries: [
          promQuery(
            'sum(increase(vigil_fraud_decisions_total{decision=~"flagged|held"}[$__range])) / sum(increase(vigil_fraud_decisions_total[$__range]))',
            'flagged or held',
          ),
        ],
        steps: [
          ['green', null],
          ['orange', 0.05],
          ['red', 0.2],
        ],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Waiting for review',
        description: 'Payouts waiting for an analyst (flagged and held).',
        unit: 'short',
        queries: [promQuery('sum(vigil_fraud_review_payouts)', 'waiting')],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Oldest review vs SLA',
        description:
          'Age of the oldest payout waiting for review as a share of the review SLA: at 100% the SLA is breached.',
        unit: 'percentunit',
        queries: [
          promQuery(
            'max(vigil_fraud_review_oldest_age_seconds) / max(vigil_fraud_review_sla_seconds)',
            'of SLA',
          ),
        ],
        steps: [
          ['green', null],
          ['orange', 0.75],
          ['red', 1],
        ],
      }),
    );

  builder
    .withRow(new RowBuilder('Scoring'))
    .withPanel(
      timeSeriesPanel({
        title: 'Payouts scored by decision (/s)',
        description: 'Payouts scored per second, by decision (approved, flagged, held).',
        unit: 'short',
        queries: [promQuery(`sum by (decision) (rate(${DECISIONS}[$__rate_interval]))`, '{{decision}}')],
        stacked: true,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Flags by reason code (/s)',
        description: 'Fraud reason codes given per second (a payout can get several).',
        unit: 'short',
        queries: [promQuery(`sum by (reason) (rate(${FLAGS}[$__rate_interval]))`, '{{reason}}')],
        stacked: true,
      }),
    )
    .withPanel(
      barGaugePanel({
        title: 'Reason codes over the time range',
        description:
          'How often each reason code was given over the selected time range, most frequent first.',
        unit: 'short',
        queries: [instantQuery(`sort_desc(sum by (reason) (increase(${FLAGS}[$__range])))`, '{{reason}}')],
      }),
    )
    .withPanel(
      barGaugePanel({
        title: 'Risk score distribution',
        description:
          'Payouts scored over the time range per risk score bucket (upper bound of the bucket); higher buckets are riskier.',
        unit: 'short',
        queries: [
          instantQuery('sum by (le) (increase(vigil_fraud_risk_score_bucket[$__range]))', '{{le}}').format(
            prometheus.PromQueryFormat.Heatmap,
          ),
        ],
      }).orientation(common.VizOrientation.Vertical),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Risk score quantiles',
        description: 'Median, 90th and 99th percentile of the risk score given to payouts.',
        unit: 'short',
        queries: [
          promQuery(riskQuantile(0.5), 'p50'),
          promQuery(riskQuantile(0.9), 'p90'),
          promQuery(riskQuantile(0.99), 'p99'),
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Scoring latency',
        description: 'Time to score one payout: median, 95th and 99th percentile.',
        unit: 's',
        queries: [
          promQuery(scoringQuantile(0.5), 'p50'),
          promQuery(scoringQuantile(0.95), 'p95'),
          promQuery(scoringQuantile(0.99), 'p99'),
        ],
      }),
    );

  builder
    .withRow(new RowBuilder('Review queue and model'))
    .withPanel(
      timeSeriesPanel({
        title: 'Review queue by status',
        description:
          'Payouts waiting for an analyst, by status (flagged, held). Every replica reads the same database, hence max.',
        unit: 'short',
        queries: [promQuery('max by (status) (vigil_fraud_review_payouts)', '{{status}}')],
        width: 8,
        stacked: true,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Oldest review age vs SLA',
        description: 'Age of the oldest payout waiting for review (0 when none), against the review SLA.',
        unit: 's',
        queries: [
          promQuery('max(vigil_fraud_review_oldest_age_seconds)', 'oldest waiting'),
          promQuery('max(vigil_fraud_review_sla_seconds)', 'SLA'),
        ],
        width: 8,
        min: 0,
      }).overrideByName('SLA', [
        { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
        { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
        { id: 'custom.fillOpacity', value: 0 },
      ]),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Model age',
        description:
          'Time since the fraud model was last trained (see the fraud.retrain task on the GDPR dashboard).',
        unit: 's',
        queries: [promQuery('max(vigil_fraud_model_age_seconds)', 'model age')],
        width: 8,
        min: 0,
      }),
    );

  builder
    .withRow(new RowBuilder('Decisions and the marketplace'))
    .withPanel(
      timeSeriesPanel({
        title: 'Analyst decisions (per hour)',
        description: 'Decisions made in the review UI or through the API, by decision.',
        unit: 'short',
        queries: [
          promQuery(
            'sum by (decision) (rate(vigil_review_decisions_total[$__rate_interval])) * 3600',
            '{{decision}}',
          ),
        ],
        width: 8,
        stacked: true,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Time to decision',
        description:
          'From the payout request to the decision on it: median and 90th percentile over the last day.',
        unit: 's',
        queries: [
          promQuery(
            'histogram_quantile(0.5, sum by (le) (increase(vigil_review_time_to_decision_seconds_bucket[1d])))',
            'p50',
          ),
          promQuery(
            'histogram_quantile(0.9, sum by (le) (increase(vigil_review_time_to_decision_seconds_bucket[1d])))',
            'p90',
          ),
        ],
        width: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Webhook deliveries',
        description:
          'Decisions posted to the marketplace: deliveries and retries per second, and events waiting or given up in the outbox.',
        unit: 'short',
        queries: [
          promQuery(
            'sum by (outcome) (rate(vigil_webhook_deliveries_total[$__rate_interval]))',
            '{{outcome}}/s',
          ),
          promQuery('max by (status) (vigil_webhook_outbox_events)', 'outbox {{status}}'),
        ],
        width: 8,
        min: 0,
      }),
    );

  return buildDashboard(builder);
}
