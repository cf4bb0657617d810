// "Vigil — GDPR": consent given and withdrawn per purpose and what the consent gate drops, privacy requests
// against their deadlines, retention and erasure purges, and the health of the scheduled tasks doing them.
import { type Dashboard, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  barGaugePanel,
  buildDashboard,
  instantQuery,
  labelVariable,
  promQuery,
  statPanel,
  tablePanel,
  timeSeriesPanel,
  vigilDashboard,
} from './common.ts';

const DAY = 86_400;
// GDPR art. 12(3): answer within one month.
const REQUEST_STEPS = [
  ['green', null],
  ['orange', 21 * DAY],
  ['red', 30 * DAY],
] as const;

const PURPOSE = 'purpose=~"$purpose"';
const TASK = 'task=~"$task"';
const sinceLastSuccess = `time() - max by (task) (vigil_job_last_success_timestamp_seconds{${TASK}} or vigil_job_scheduled_timestamp_seconds{${TASK}})`;
const interval = `max by (task) (vigil_job_interval_seconds{${TASK}})`;
const runsInRange = (outcome: string) =>
  `sum by (task) (increase(vigil_job_runs_total{${TASK}, outcome="${outcome}"}[$__range]))`;

/** The GDPR dashboard (uid `vigil-gdpr`). */
export function gdprDashboard(): Dashboard {
  const builder = vigilDashboard(
    'vigil-gdpr',
    'Vigil — GDPR',
    'Consent per purpose and the consent gate, privacy requests against their deadlines, retention and erasure purges, scheduled task health.',
  )
    .withVariable(
      labelVariable('purpose', 'Purpose', 'Consent purposes recorded', 'vigil_consent_records_total'),
    )
    .withVariable(labelVariable('task', 'Task', 'Scheduled tasks', 'vigil_job_runs_total'));

  builder
    .withRow(new RowBuilder('Consent'))
    .withPanel(
      timeSeriesPanel({
        title: 'Consent grants, denials and withdrawals by purpose (/s)',
        description: 'Consent decisions recorded per second by purpose, and consents withdrawn.',
        unit: 'short',
        queries: [
          promQuery(
            `sum by (purpose) (rate(vigil_consent_records_total{${PURPOSE}, decision="granted"}[$__rate_interval]))`,
            '{{purpose}} granted',
          ),
          promQuery(
            `sum by (purpose) (rate(vigil_consent_records_total{${PURPOSE}, decision="denied"}[$__rate_interval]))`,
            '{{purpose}} denied',
          ),
          promQuery(
            `sum by (purpose) (rate(vigil_consent_withdrawals_total{${PURPOSE}}[$__rate_interval]))`,
            '{{purpose}} withdrawn',
          ),
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Granted share by purpose',
        description: 'Share of people who currently grant consent, by purpose.',
        unit: 'percentunit',
        queries: [promQuery(`max by (purpose) (vigil_consent_granted_share{${PURPOSE}})`, '{{purpose}}')],
        min: 0,
        max: 1,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Consent gate drops by kind and reason (/s)',
        description: 'Items the consent gate dropped per second because consent was refused or missing.',
        unit: 'short',
        queries: [
          promQuery(
            'sum by (kind, reason) (rate(vigil_consent_gate_decisions_total{action="drop"}[$__rate_interval]))',
            '{{kind}} {{reason}}',
          ),
        ],
        width: 16,
        stacked: true,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Dropped by the consent gate',
        description: 'Share of the items the consent gate saw over the time range that it dropped.',
        unit: 'percentunit',
        queries: [
          promQuery(
            'sum(increase(vigil_consent_gate_decisions_total{action="drop"}[$__range])) / sum(increase(vigil_consent_gate_decisions_total[$__range]))',
            'dropped',
          ),
        ],
        width: 8,
        height: 8,
      }),
    );

  builder
    .withRow(new RowBuilder('Privacy requests'))
    .withPanel(
      statPanel({
        title: 'Open requests',
        description: 'Access and erasure requests not yet answered.',
        unit: 'short',
        queries: [promQuery('sum(vigil_privacy_requests_open)', 'open')],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Due within 7 days',
        description: 'Open requests, not overdue, whose deadline is within 7 days.',
        unit: 'short',
        queries: [promQuery('sum(vigil_privacy_requests_due_soon)', 'due soon')],
        steps: [
          ['green', null],
          ['orange', 1],
        ],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Overdue',
        description: 'Open requests past their deadline.',
        unit: 'short',
        queries: [promQuery('sum(vigil_privacy_requests_overdue)', 'overdue')],
        steps: [
          ['green', null],
          ['red', 1],
        ],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Oldest open request',
        description: 'Age of the oldest open privacy request (the legal deadline is one month).',
        unit: 's',
        queries: [promQuery('max(vigil_privacy_request_oldest_open_age_seconds)', 'oldest')],
        steps: REQUEST_STEPS,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Requests by type: open, due soon, overdue',
        description:
          'Open privacy requests by type (access, erasure), those due within 7 days, and those overdue.',
        unit: 'short',
        queries: [
          promQuery('sum by (type) (vigil_privacy_requests_open)', '{{type}} open'),
          promQuery('sum by (type) (vigil_privacy_requests_due_soon)', '{{type}} due soon'),
          promQuery('sum by (type) (vigil_privacy_requests_overdue)', '{{type}} overdue'),
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Oldest open request age',
        description: 'Age of the oldest open privacy request, against the one-month deadline.',
        unit: 's',
        queries: [promQuery('max(vigil_privacy_request_oldest_open_age_seconds)', 'oldest open')],
        min: 0,
        steps: REQUEST_STEPS,
      }),
    );

  builder
    .withRow(new RowBuilder('Retention and erasure'))
    .withPanel(
      timeSeriesPanel({
        title: 'Retention purges by category (rows/s)',
        description:
          'Rows the retention purge removed or anonymised per second, by data category and action.',
        unit: 'short',
        queries: [
          promQuery(
            'sum by (category, action) (rate(vigil_retention_rows_total[$__rate_interval]))',
            '{{category}} {{action}}',
          ),
        ],
        width: 8,
        stacked: true,
      }),
    )
    .withPanel(
      barGaugePanel({
        title: 'Rows purged over the time range',
        description: 'Rows handled by the retention purge over the selected time range, by data category.',
        unit: 'short',
        queries: [
          instantQuery(
            'sort_desc(sum by (category) (increase(vigil_retention_rows_total[$__range])))',
            '{{category}}',
          ),
        ],
        width: 4,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Erasure rows by category (rows/s)',
        description:
          'Rows erased or anonymised per second for erasure requests, by data category and action.',
        unit: 'short',
        queries: [
          promQuery(
            'sum by (category, action) (rate(vigil_erasure_rows_total[$__rate_interval]))',
            '{{category}} {{action}}',
          ),
        ],
        width: 8,
        stacked: true,
      }),
    )
    .withPanel(
      barGaugePanel({
        title: 'Rows erased over the time range',
        description: 'Rows handled for erasure requests over the selected time range, by data category.',
        unit: 'short',
        queries: [
          instantQuery(
            'sort_desc(sum by (category) (increase(vigil_erasure_rows_total[$__range])))',
            '{{category}}',
          ),
        ],
        width: 4,
      }),
    );

  builder
    .withRow(new RowBuilder('Scheduled tasks'))
    .withPanel(
      tablePanel({
        title: 'Task health',
        description:
          'Per task: time since its last success (or since it was scheduled, before a first success), its interval, and runs by outcome over the time range.',
        unit: 'short',
        queries: [
          instantQuery(sinceLastSuccess),
          instantQuery(interval),
          instantQuery(runsInRange('succeeded')),
          instantQuery(runsInRange('failed')),
          instantQuery(runsInRange('skipped')),
        ],
        columns: [
          { name: 'Since last success', unit: 's' },
          { name: 'Interval', unit: 's' },
          { name: 'Succeeded', unit: 'short' },
          { name: 'Failed', unit: 'short' },
          { name: 'Skipped', unit: 'short' },
        ],
        width: 12,
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Time since last success, in intervals',
        description:
          'Time since each task last succeeded divided by its interval. Above 2 the task has not succeeded in twice its interval.',
        unit: 'short',
        queries: [promQuery(`(${sinceLastSuccess}) / ${interval}`, '{{task}}')],
        width: 12,
        min: 0,
        steps: [
          ['green', null],
          ['orange', 1.5],
          ['red', 2],
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Runs by outcome (last hour)',
        description: 'Runs of each task in the preceding hour, by outcome (succeeded, failed, skipped).',
        unit: 'short',
        queries: [
          promQuery(
            `sum by (task, outcome) (increase(vigil_job_runs_total{${TASK}}[1h]))`,
            '{{task}} {{outcome}}',
          ),
        ],
      }),
    )
    .withPanel(
      timeSeriesPanel({
        title: 'Mean run duration (last hour)',
        description: 'Mean duration of the runs of each task in the preceding hour.',
        unit: 's',
        queries: [
          promQuery(
            `sum by (task) (increase(vigil_job_duration_seconds_sum{${TASK}}[1h])) / sum by (task) (increase(vigil_job_duration_seconds_count{${TASK}}[1h]))`,
            '{{task}}',
          ),
        ],
      }),
    );

  return buildDashboard(builder);
}
