// Grafana-managed alert rules made from the Prometheus rule file, for Grafana's file provisioning
// (grafana/provisioning/alerting/rules.generated.yaml). `npm run alerts:grafana` writes the file;
// alerts/alerts.test.ts fails when it differs from what this produces.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ALERTS_DIR, type AlertingRule, isAlertingRule, type RuleGroup, readRuleGroups } from './rules.ts';

export const GRAFANA_RULES_FILE = path.join(
  ALERTS_DIR,
  '..',
  'grafana',
  'provisioning',
  'alerting',
  'rules.generated.yaml',
);
/** The Prometheus data source the rules query, as provisioned in Grafana. */
export const PROMETHEUS_DATASOURCE_UID = 'vigil-prometheus';
const FOLDER = 'Vigil';
const DEFAULT_INTERVAL = '1m';

/** Grafana rule uids: at most 40 letters, digits, `-` and `_`. */
const UID_PATTERN = /^[a-zA-Z0-9_-]{1,40}$/;

/** `VigilReviewQueueOverSLA` → `vigil-review-queue-over-sla`. */
function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/**
 * The alert's expression with every recorded series it reads replaced by the recording's own expression, so
 * that the Grafana rule needs only the metrics Vigil exports, whether or not Prometheus loads the rule file.
 */
function inlineRecordings(expr: string, recordings: Map<string, string>): string {
  let inlined = expr.trim();
  for (let pass = 0; pass < 10; pass++) {
    let changed = false;
    for (const [name, recorded] of recordings) {
      const pattern = new RegExp(`(?<![\\w:])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w:])`, 'g');
      const next = inlined.replace(pattern, (_match, offset: number, text: string) => {
        // Indented under the line it replaces a name in, so the inlined query still reads as the rule does.
        const indent = /^\s*/.exec(text.slice(text.lastIndexOf('\n', offset) + 1))?.[0] ?? '';
        const lines = recorded.trim().split('\n');
        return `(\n${lines.map((line) => `${indent}  ${line}`).join('\n')}\n${indent})`;
      });
      changed ||= next !== inlined;
      inlined = next;
    }
    if (!changed) return inlined;
  }
  throw new Error(`recording rules nest more than 10 deep in: ${expr}`);
}

/**
 * Prometheus's `$value` is a number; Grafana's is a string listing every query and expression, so the templates
 * read query A's number instead.
 */
function grafanaTemplate(template: string): string {
  return template.replace(/\$value(?![\w])/g, '$values.A.Value');
}

function grafanaRule(rule: AlertingRule, uid: string, title: string, recordings: Map<string, string>) {
  if (!UID_PATTERN.test(uid)) throw new Error(`${rule.alert}: ${uid} is not a valid Grafana rule uid`);
  return {
    uid,
    title,
    condition: 'B',
    data: [
      {
        refId: 'A',
        relativeTimeRange: { from: 600, to: 0 },
        datasourceUid: PROMETHEUS_DATASOURCE_UID,
        model: {
          refId: 'A',
          datasource: { type: 'prometheus', uid: PROMETHEUS_DATASOURCE_UID },
          expr: inlineRecordings(rule.expr, recordings),
          instant: true,
          range: false,
        },
      },
      {
        // As in Prometheus, every series the query returns fires, whatever its value (`up == 0` returns 0).
        refId: 'B',
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: '__expr__',
        model: {
          refId: 'B',
          datasource: { type: '__expr__', uid: '__expr__' },
          type: 'math',
          expression: 'is_number($A) || is_nan($A) || is_inf($A)',
        },
      },
    ],
    noDataState: 'OK',
    execErrState: 'Error',
    for: rule.for ?? '0s',
    annotations: Object.fromEntries(
      Object.entries(rule.annotations).map(([key, value]) => [key, grafanaTemplate(value)]),
    ),
    labels: rule.labels,
    isPaused: false,
  };
}

/** The provisioning document: one Grafana rule group per Prometheus group that has alerting rules. */
export function grafanaRuleGroups(groups: RuleGroup[]) {
  const recordings = new Map(
    groups.flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [[r.record, r.expr]] : []))),
  );
  const alerts = groups.flatMap((g) => g.rules.filter(isAlertingRule));
  const repeated = new Set(alerts.map((a) => a.alert).filter((name, i, all) => all.indexOf(name) !== i));
  const uids = new Set<string>();
  return {
    apiVersion: 1,
    groups: groups
      .filter((g) => g.rules.some(isAlertingRule))
      .map((g) => ({
        orgId: 1,
        name: g.name,
        folder: FOLDER,
        interval: g.interval ?? DEFAULT_INTERVAL,
        rules: g.rules.filter(isAlertingRule).map((rule) => {
          // Grafana before 12 wants titles unique in a folder: a name used by several rules (one per severity)
          // gets the severity after it, in the title and the uid.
          const severity = rule.labels.severity ?? '';
          const suffix = repeated.has(rule.alert) ? severity : '';
          const uid = [kebabCase(rule.alert), suffix].filter(Boolean).join('-');
          if (uids.has(uid)) throw new Error(`two rules named ${rule.alert} share the severity ${severity}`);
          uids.add(uid);
          const title = suffix ? `${rule.alert} (${suffix})` : rule.alert;
          return grafanaRule(rule, uid, title, recordings);
        }),
      })),
  };
}

/** The text of rules.generated.yaml. */
export function grafanaRulesYaml(): string {
  const header = [
    '# Grafana-managed alert rules, generated from alerts/vigil.rules.yml by `npm run alerts:grafana`: edit the',
    '# Prometheus rules, not this file. Recorded series are replaced by their expressions.',
  ].join('\n');
  return `${header}\n${stringify(grafanaRuleGroups(readRuleGroups()), { lineWidth: 0 })}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  fs.writeFileSync(GRAFANA_RULES_FILE, grafanaRulesYaml());
}
