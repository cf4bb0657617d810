// The Prometheus rule file (alerts/vigil.rules.yml) as data: its groups and rules, their PromQL, and the metrics
// that PromQL reads. Tests check the rules against Vigil's /metrics and evaluate them in a real Prometheus.
import path from 'node:path';
import { z } from 'zod';
import { metricNamesIn } from '../dashboards/promql.ts';
import { readConfigFile } from '../http/config-file.ts';

/** The directory of the rule file, its promtool tests (`tests/`) and runbooks (`runbooks/`). */
export const ALERTS_DIR = import.meta.dirname;
/** The rule file Prometheus loads. */
export const RULES_FILE = path.join(ALERTS_DIR, 'vigil.rules.yml');
/** Where each alert's runbook is published; `<AlertName>.md` follows. */
export const RUNBOOK_BASE_URL = 'https://github.com/vigil-dev/vigil/blob/main/alerts/runbooks/';

const stringMap = z.record(z.string(), z.string());

const recordingRuleSchema = z.strictObject({
  record: z.string().min(1),
  expr: z.string().min(1),
  labels: stringMap.optional(),
});

const alertingRuleSchema = z.strictObject({
  alert: z.string().min(1),
  expr: z.string().min(1),
  for: z.string().optional(),
  keep_firing_for: z.string().optional(),
  labels: stringMap.default({}),
  annotations: stringMap.default({}),
});

const ruleFileSchema = z.strictObject({
  groups: z.array(
    z.strictObject({
      name: z.string().min(1),
      interval: z.string().optional(),
      rules: z.array(z.union([recordingRuleSchema, alertingRuleSchema])),
    }),
  ),
});

/** A recording rule: `record` is the name of the series it writes. */
export type RecordingRule = z.infer<typeof recordingRuleSchema>;
/** An alerting rule. */
export type AlertingRule = z.infer<typeof alertingRuleSchema>;
/** A rule group as Prometheus evaluates it: its rules in order, at one interval. */
export type RuleGroup = z.infer<typeof ruleFileSchema>['groups'][number];

/** The rule groups of `file` (by default the rule file), validated. */
export function readRuleGroups(file: string = RULES_FILE): RuleGroup[] {
  return readConfigFile(file, ruleFileSchema).groups;
}

export function isAlertingRule(rule: RecordingRule | AlertingRule): rule is AlertingRule {
  return 'alert' in rule;
}

/** Every alerting rule with the name of its group (a name may repeat, e.g. one rule per severity). */
export function alertingRules(groups: RuleGroup[] = readRuleGroups()): (AlertingRule & { group: string })[] {
  return groups.flatMap((g) => g.rules.filter(isAlertingRule).map((rule) => ({ ...rule, group: g.name })));
}

/** Every recording and alerting rule's expression, with its group and its name (`record` or `alert`). */
export function ruleExpressions(): { group: string; name: string; expr: string }[] {
  return readRuleGroups().flatMap((g) =>
    g.rules.map((rule) => ({
      group: g.name,
      name: isAlertingRule(rule) ? rule.alert : rule.record,
      expr: rule.expr,
    })),
  );
}

/** The metrics Vigil must export for the rules to work: every name the rules read but do not record, but `up`. */
export function ruleMetricNames(): string[] {
  const groups = readRuleGroups();
  const recorded = new Set(groups.flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [r.record] : []))));
  const names = new Set(ruleExpressions().flatMap((r) => metricNamesIn(r.expr).sort()));
  return [...names].filter((name) => !recorded.has(name) && name !== 'up').sort();
}
