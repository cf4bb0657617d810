// The Vigil dashboards: the committed JSON is what the code generates, every panel queries the provisioned
// Prometheus, the dashboards link to each other, and every metric they read is one Vigil exports.
import { readdirSync, readFileSync } from 'node:fs';
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dataquery as PrometheusQuery } from '@grafana/grafana-foundation-sdk/prometheus';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allPanels, VIGIL_DATASOURCE, VIGIL_TAG } from './common.ts';
import { GENERATED_DIR, generatedDashboardFiles } from './generate.ts';
import { dashboardExpressions, vigilDashboards } from './index.ts';
import { metricNamesIn, substituteVariables, variableQueryToPromql } from './promql.ts';

const UIDS = ['vigil-traffic', 'vigil-fraud', 'vigil-gdpr', 'vigil-self'];

const dashboards = vigilDashboards();

function queryPanels(dashboard: Dashboard): Panel[] {
  return allPanels(dashboard).filter((panel): panel is Panel => panel.type !== 'row');
}

function readYaml(path: string): Record<string, unknown> {
  return parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
}

describe('generated dashboards', () => {
  it('are exactly what the code generates (run `npm run dashboards` after changing dashboards/*.ts)', () => {
    const expected = generatedDashboardFiles();
    const committed = readdirSync(GENERATED_DIR).filter((name) => name.endsWith('.json'));
    expect(
      committed.sort(),
      'dashboards/generated/ has missing or extra files: run `npm run dashboards`',
    ).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) {
      const actual = readFileSync(`${GENERATED_DIR}${name}`, 'utf8');
      expect(
        actual === text,
        `dashboards/generated/${name} differs from the code: run \`npm run dashboards\``,
      ).toBe(true);
    }
  });

  it('are files named after their unique, fixed uids', () => {
    expect(dashboards.map((dashboard) => dashboard.uid)).toEqual(UIDS);
    expect([...generatedDashboardFiles().keys()]).toEqual(UIDS.map((uid) => `${uid}.json`));
  });
});

describe.each(dashboards.map((dashboard) => [dashboard.uid, dashboard] as const))('%s', (_uid, dashboard) => {
  it('is tagged vigil and links to the other Vigil dashboards by tag, keeping time and variables', () => {
    expect(dashboard.tags).toContain(VIGIL_TAG);
    const link = dashboard.links?.find((candidate) => candidate.type === 'dashboards');
    expect(link).toMatchObject({ tags: [VIGIL_TAG], keepTime: true, includeVars: true });
    // The tag link lists every dashboard carrying the tag: each of the others must carry it.
    for (const other of dashboards.filter((candidate) => candidate !== dashboard)) {
      expect(other.tags, `${other.uid} is not reachable from ${dashboard.uid}`).toContain(VIGIL_TAG);
    }
  });

  it('queries the Vigil Prometheus from every panel, with a PromQL expression in every target', () => {
    const panels = queryPanels(dashboard);
    expect(panels.length).toBeGreaterThan(0);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe(VIGIL_DATASOURCE.uid);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const query = target as PrometheusQuery;
        expect(query.datasource?.uid, panel.title).toBe(VIGIL_DATASOURCE.uid);
        expect(typeof query.expr === 'string' && query.expr.trim() !== '', `${panel.title}: empty expr`).toBe(
          true,
        );
      }
      expect(panel.description, panel.title).toBeTruthy();
      expect(panel.fieldConfig?.defaults.unit, panel.title).toBeTruthy();
    }
  });

  it('queries variables and annotations from the Vigil Prometheus; variables are multi-select with All', () => {
    for (const variable of dashboard.templating.list ?? []) {
      expect(variable.datasource?.uid, variable.name).toBe(VIGIL_DATASOURCE.uid);
      expect(variable).toMatchObject({ multi: true, includeAll: true, allValue: '.*' });
    }
    for (const annotation of dashboard.annotations.list ?? []) {
      expect(annotation.datasource?.uid, annotation.name).toBe(VIGIL_DATASOURCE.uid);
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    const panels = allPanels(dashboard) as (Panel | RowPanel)[];
    const boxes = panels.map((panel) => ({
      title: panel.title,
      ...(panel.gridPos ?? { x: 0, y: 0, w: 0, h: 0 }),
    }));
    for (const box of boxes) {
      expect(box.w, box.title).toBeGreaterThan(0);
      expect(box.x + box.w, box.title).toBeLessThanOrEqual(24);
    }
    boxes.forEach((a, i) => {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    });
  });

  it('only uses template variables it defines (or Grafana built-ins)', () => {
    const defined = new Set((dashboard.templating.list ?? []).map((variable) => variable.name));
    const text = JSON.stringify(dashboard);
    for (const [, name] of text.matchAll(/\$\{?(\w+)/g)) {
      if (name === undefined || name.startsWith('__')) continue;
      expect(defined.has(name), `$${name} is not a variable of ${dashboard.uid}`).toBe(true);
    }
  });
});

describe('dashboard expressions', () => {
  const expressions = dashboardExpressions();

  it('cover every panel target, variable and annotation, with no template variable left', () => {
    const expected = dashboards.reduce(
      (count, dashboard) =>
        count +
        queryPanels(dashboard).reduce((n, panel) => n + (panel.targets?.length ?? 0), 0) +
        (dashboard.templating.list?.length ?? 0) +
        (dashboard.annotations.list?.length ?? 0),
      0,
    );
    expect(expressions).toHaveLength(expected);
    for (const { dashboard, panel, expr } of expressions) {
      expect(expr, `${dashboard} / ${panel}`).not.toMatch(/\$|\[\[/);
    }
    expect(expressions.some(({ panel }) => panel.startsWith('variable '))).toBe(true);
    expect(expressions.some(({ panel }) => panel.startsWith('annotation '))).toBe(true);
  });

  it('filter `up` to the vigil job', () => {
    for (const { expr } of expressions) {
      for (const match of expr.matchAll(/\bup\b(\{[^}]*\})?/g))
        expect(match[1], expr).toContain('job="vigil"');
    }
  });
});

describe('promql helpers', () => {
  it('substitute match-all values for variables and fixed windows for built-ins', () => {
    expect(
      substituteVariables(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${var} syntax, not a JS template
        'sum(rate(m{a=~"$a", b=~"${b}", c=~"[[c]]"}[$__rate_interval])) + increase(m[$__range])',
      ),
    ).toBe('sum(rate(m{a=~".*", b=~".*", c=~".*"}[1m])) + increase(m[5m])');
    expect(substituteVariables('rate(m[$__interval])')).toBe('rate(m[1m])');
    expect(() => substituteVariables('m[$__unknown]')).toThrow(/__unknown/);
  });

  it('turn label_values into the query it stands for', () => {
    expect(variableQueryToPromql('label_values(m{a=~"$a"}, route)')).toBe('count by (route) (m{a=~"$a"})');
    expect(() => variableQueryToPromql('label_values(route)')).toThrow();
  });

  it('find metric names, not functions, keywords, labels, strings or durations', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (route, le) (rate(a_bucket{route=~"x|y", le!="Inf"}[5m] offset 1h)))' +
          ' / on (route) group_left (status) max without (instance) (b) > bool 2 * c_total unless d' +
          ' or label_replace(e, "dst", "$1", "src", "(.*)") and time() - f[1h:5m] > 1e3',
      ),
    ).toEqual(['a_bucket', 'b', 'c_total', 'd', 'e', 'f']);
    expect(metricNamesIn('sum(up{job="vigil"}) or vector(0)')).toEqual(['up']);
  });
});

describe('grafana provisioning', () => {
  it('provisions the datasource the dashboards query', () => {
    const file = readYaml('../grafana/provisioning/datasources/vigil.yaml');
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toEqual([
      expect.objectContaining({
        name: 'Prometheus (Vigil)',
        uid: VIGIL_DATASOURCE.uid,
        type: VIGIL_DATASOURCE.type,
        access: 'proxy',
        url: 'http://prometheus:9090',
        isDefault: false,
      }),
    ]);
  });

  it('loads the generated dashboards into the Vigil folder, read-only', () => {
    const file = readYaml('../grafana/provisioning/dashboards/vigil.yaml');
    expect(file.apiVersion).toBe(1);
    expect(file.providers).toEqual([
      expect.objectContaining({
        name: 'vigil',
        folder: 'Vigil',
        type: 'file',
        allowUiUpdates: false,
        options: { path: '/var/lib/grafana/dashboards/vigil', foldersFromFilesStructure: false },
      }),
    ]);
  });
});
