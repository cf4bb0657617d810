// The Vigil Grafana dashboards: the list of them, and every PromQL expression they run (for tests that check
// the expressions against a real Prometheus and the metric names against what Vigil exports).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { allPanels } from './common.ts';
import { fraudDashboard } from './fraud.ts';
import { gdprDashboard } from './gdpr.ts';
import { metricNamesIn, substituteVariables, variableQueryToPromql } from './promql.ts';
import { selfDashboard } from './self.ts';
import { trafficDashboard } from './traffic.ts';

/** Every Vigil dashboard, built. */
export function vigilDashboards(): Dashboard[] {
  return [trafficDashboard(), fraudDashboard(), gdprDashboard(), selfDashboard()];
}

/** One PromQL expression of a dashboard: from a panel target, a variable or an annotation. */
export interface DashboardExpression {
  dashboard: string;
  panel: string;
  expr: string;
}

/**
 * Every PromQL expression of every panel target, variable query and annotation, ready to run against a
 * plain Prometheus: template variables are replaced by match-all values (`$service` → `.*`,
 * `$__rate_interval` → `1m`, `$__range` → `5m`) and `label_values` by the query it stands for.
 */
export function dashboardExpressions(): DashboardExpression[] {
  const expressions: DashboardExpression[] = [];
  for (const dashboard of vigilDashboards()) {
    const uid = dashboard.uid ?? '';
    const add = (panel: string, expr: string) =>
      expressions.push({ dashboard: uid, panel, expr: substituteVariables(expr) });
    for (const panel of allPanels(dashboard)) {
      if (!('targets' in panel)) continue;
      for (const target of panel.targets ?? []) {
        if ('expr' in target && typeof target.expr === 'string') add(panel.title ?? '', target.expr);
      }
    }
    for (const variable of dashboard.templating.list ?? []) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
      if (variable.type === 'query' && typeof query === 'string') {
        add(`variable ${variable.name}`, variableQueryToPromql(query));
      }
    }
    for (const annotation of dashboard.annotations.list ?? []) {
      const target = annotation.target as { expr?: unknown } | undefined;
      const exprs = new Set([annotation.expr, target?.expr].filter((expr) => typeof expr === 'string'));
      for (const expr of exprs) add(`annotation ${annotation.name}`, expr as string);
    }
  }
  return expressions;
}

/** Every metric name the dashboards' expressions read, as written (`_bucket`, `_count` kept), sorted. */
export function dashboardMetricNames(): string[] {
  const names = new Set(dashboardExpressions().flatMap(({ expr }) => metricNamesIn(expr)));
  return [...names].sort();
}
