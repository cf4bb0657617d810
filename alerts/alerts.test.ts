import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { metricNamesIn } from '../dashboards/promql.ts';
import {
  GRAFANA_RULES_FILE,
  grafanaRuleGroups,
  grafanaRulesYaml,
  PROMETHEUS_DATASOURCE_UID,
} from './grafana-rules.ts';
import {
  ALERTS_DIR,
  alertingRules,
  RULES_FILE,
  RUNBOOK_BASE_URL,
  readRuleGroups,
  ruleExpressions,
  ruleMetricNames,
} from './rules.ts';

const ROOT = path.join(ALERTS_DIR, '..');
const TESTS_DIR = path.join(ALERTS_DIR, 'tests');
const RUNBOOKS_DIR = path.join(ALERTS_DIR, 'runbooks');
const PROVISIONING_DIR = path.dirname(GRAFANA_RULES_FILE);
const TEST_FILES = fs
  .readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.test.yml'))
  .sort();
const SEVERITIES = ['page', 'ticket'];

const run = promisify(execFile);

/** Runs promtool from PATH in the repository root: whether it succeeded, and everything it printed. */
async function promtool(...args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` || failed.message };
  }
}

/** A promtool unit-test file, as far as these checks read it. */
interface PromtoolTestFile {
  rule_files: string[];
  evaluation_interval?: string;
  tests: { name?: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] | null }[] }[];
}

function readTestFile(file: string): PromtoolTestFile {
  return parse(fs.readFileSync(path.join(TESTS_DIR, file), 'utf8')) as PromtoolTestFile;
}

const alertNames = [...new Set(alertingRules().map((rule) => rule.alert))];

describe('the Prometheus rules', () => {
  it('pass promtool check rules', async () => {
    const result = await promtool('check', 'rules', path.relative(ROOT, RULES_FILE));
    expect(result.ok, result.output).toBe(true);
  });

  it.concurrent.each(TEST_FILES)(
    'pass the promtool unit tests of tests/%s',
    async (file) => {
      const result = await promtool('test', 'rules', path.relative(ROOT, path.join(TESTS_DIR, file)));
      expect(result.ok, result.output).toBe(true);
    },
    180_000,
  );

  it('give every alert a severity of page or ticket, a summary, a description and its runbook', () => {
    for (const rule of alertingRules()) {
      const where = `${rule.group} / ${rule.alert}`;
      expect(SEVERITIES, `${where}: severity`).toContain(rule.labels.severity);
      expect(rule.annotations.summary?.trim(), `${where}: summary`).toBeTruthy();
      expect(rule.annotations.description?.trim(), `${where}: description`).toBeTruthy();
      expect(rule.annotations.runbook_url, `${where}: runbook_url`).toBe(
        `${RUNBOOK_BASE_URL}${rule.alert}.md`,
      );
      expect(
        fs.existsSync(path.join(RUNBOOKS_DIR, `${rule.alert}.md`)),
        `${where}: runbooks/${rule.alert}.md`,
      ).toBe(true);
    }
  });

  it('have no runbook for an alert that does not exist, and list every alert in alerts/README.md', () => {
    const runbooks = fs.readdirSync(RUNBOOKS_DIR).map((f) => f.replace(/\.md$/, ''));
    expect(runbooks.sort()).toEqual([...alertNames].sort());
    const readme = fs.readFileSync(path.join(ALERTS_DIR, 'README.md'), 'utf8');
    expect(alertNames.filter((name) => !readme.includes(`[${name}](runbooks/${name}.md)`))).toEqual([]);
  });

  it('are tested, each alert in a case where it fires and in one where it must not', () => {
    const firing = new Set<string>();
    const silent = new Set<string>();
    for (const file of TEST_FILES) {
      const doc = readTestFile(file);
      expect(doc.rule_files, file).toEqual(['../vigil.rules.yml']);
      expect(doc.evaluation_interval, file).toBe('1m');
      for (const group of doc.tests)
        for (const test of group.alert_rule_test ?? [])
          (test.exp_alerts?.length ? firing : silent).add(test.alertname);
    }
    expect(
      alertNames.filter((name) => !firing.has(name)),
      'alerts never tested firing',
    ).toEqual([]);
    expect(
      alertNames.filter((name) => !silent.has(name)),
      'alerts never tested silent',
    ).toEqual([]);
  });

  it('select no series by a label named job, except up{job="vigil"}', () => {
    const offenders = ruleExpressions()
      .filter(({ expr }) => /\bjob\b/.test(expr.replaceAll('up{job="vigil"}', '')))
      .map(({ group, name }) => `${group} / ${name}`);
    expect(offenders).toEqual([]);
    const labelled = readRuleGroups().flatMap((g) => g.rules.filter((r) => r.labels && 'job' in r.labels));
    expect(labelled).toEqual([]);
  });

  it('read only metrics Vigil exports, and say which', () => {
    expect(
      metricNamesIn(
        'sum without (instance) (rate(a_total{route=~"x|y",job="z"}[5m] offset 1h)) / on (task) group_left b' +
          ' > 3 * time() or absent(up{job="vigil"}) or avg_over_time(max by (le) (c)[7d:1h]) and 1e3',
      ).sort(),
    ).toEqual(['a_total', 'b', 'c', 'up']);
    const names = ruleMetricNames();
    expect(names).toContain('http_request_duration_seconds_count');
    expect(names).toContain('vigil_job_last_success_timestamp_seconds');
    expect(names).not.toContain('up');
    expect(names.filter((n) => n.includes(':'))).toEqual([]);
    expect(names.filter((n) => !/^(vigil_|http_request_duration_seconds_)/.test(n))).toEqual([]);
  });
});

describe('Grafana alerting provisioning', () => {
  it('holds the rules the generator makes (run `npm run alerts:grafana` after changing the rules)', () => {
    expect(
      fs.readFileSync(GRAFANA_RULES_FILE, 'utf8') === grafanaRulesYaml(),
      'grafana/provisioning/alerting/rules.generated.yaml differs from alerts/vigil.rules.yml: run `npm run alerts:grafana`',
    ).toBe(true);
  });

  it('has one Grafana rule per alerting rule, with a valid uid, its labels and annotations', () => {
    const doc = grafanaRuleGroups(readRuleGroups());
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules).toHaveLength(alertingRules().length);
    expect(new Set(rules.map((r) => r.uid)).size).toBe(rules.length);
    expect(new Set(rules.map((r) => r.title)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(SEVERITIES).toContain(rule.labels.severity);
      expect(rule.annotations.runbook_url).toMatch(/^https:\/\/github\.com\/vigil-dev\/vigil\/.*\.md$/);
      // Grafana's $value is a string of every query's values; the templates must read $values.A.Value.
      expect(Object.values(rule.annotations).join('\n')).not.toMatch(/\$value(?!s)/);
      expect(rule.data[0]?.datasourceUid).toBe(PROMETHEUS_DATASOURCE_UID);
      expect(rule.condition).toBe(rule.data[1]?.refId);
    }
    // Alert rule files interpolate ${VARIABLE} in labels and annotations: none may contain one by accident.
    expect(fs.readFileSync(GRAFANA_RULES_FILE, 'utf8')).not.toContain('${');
  });

  it('queries Prometheus with expressions promtool accepts, every recorded series inlined', async () => {
    const recorded = readRuleGroups().flatMap((g) =>
      g.rules.flatMap((r) => ('record' in r ? [r.record] : [])),
    );
    const queries = grafanaRuleGroups(readRuleGroups()).groups.flatMap((g) =>
      g.rules.map((r) => ({ alert: r.uid, expr: r.data[0]?.model.expr ?? '' })),
    );
    expect(queries.filter((q) => recorded.some((name) => q.expr.includes(name)))).toEqual([]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-grafana-rules-'));
    try {
      const file = path.join(dir, 'grafana-queries.yml');
      fs.writeFileSync(file, stringify({ groups: [{ name: 'grafana-queries', rules: queries }] }));
      const result = await promtool('check', 'rules', file);
      expect(result.ok, result.output).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('routes each severity to a contact point it provisions', () => {
    interface Route {
      receiver?: string;
      object_matchers?: string[][];
      routes?: Route[];
    }
    const read = (file: string) => parse(fs.readFileSync(path.join(PROVISIONING_DIR, file), 'utf8'));
    const contactPoints = (read('contact-points.yaml') as { contactPoints: { name: string }[] })
      .contactPoints;
    const policies = (read('policies.yaml') as { policies: Route[] }).policies;
    const routes = (route: Route): Route[] => [route, ...(route.routes ?? []).flatMap(routes)];
    const all = policies.flatMap(routes);
    const names = new Set(contactPoints.map((c) => c.name));
    expect(all.map((r) => r.receiver).filter((r) => r === undefined || !names.has(r))).toEqual([]);
    for (const severity of SEVERITIES) {
      const route = all.find((r) => r.object_matchers?.some((m) => m.join(' ') === `severity = ${severity}`));
      expect(route?.receiver, `the route of severity=${severity}`).toBe(`vigil-${severity}`);
    }
  });
});
