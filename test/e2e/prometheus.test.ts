// The dashboards and alert rules against a real Prometheus scraping a running Vigil under load: every metric
// they read is exported, every expression evaluates, the core panels have data, and provoked conditions (a
// privacy request past its due date, a write queue held full by a small bound) fire their alerts.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ruleExpressions, ruleMetricNames } from '../../alerts/rules.ts';
import { dashboardExpressions, dashboardMetricNames } from '../../dashboards/index.ts';
import { createApiKey } from '../../http/api-keys.ts';
import { createFaroApp } from '../../ingest/faro/index.ts';
import { migrateToLatest } from '../../storage/index.ts';
import { tempDataDir } from '../harness.ts';
import { type OpenSearchContractServer, startContractServer } from '../opensearch-contract-server.ts';
import { type ServerProcess, startServerProcess, until } from '../processes.ts';
import { type PrometheusServer, startPrometheus } from '../prometheus.ts';
import { databaseEnv, openServerStorage } from '../server-database.ts';
import { type LoadTarget, syntheticLoad } from '../synthetic-load.ts';

const RULES_FILE = new URL('../../alerts/vigil.rules.yml', import.meta.url);
const ORIGIN = 'https://shop.example';
const QUEUE_BOUND = 100;

let dataDir: string;
let vigil: ServerProcess;
let prometheus: PrometheusServer;
let target: LoadTarget;
let search: OpenSearchContractServer;

/**
 * The shipped rules with every `for` at 0 s: the test sees an alert fire without waiting its minutes (the
 * promtool unit tests check the durations themselves).
 */
function rulesWithoutWaiting(): string {
  const doc = parse(fs.readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: { for?: string }[] }[] };
  for (const group of doc.groups) for (const rule of group.rules) if (rule.for !== undefined) rule.for = '0s';
  return stringify(doc);
}

const firing = async (alertname: string) =>
  (await prometheus.alerts()).find((a) => a.labels.alertname === alertname && a.state === 'firing');

beforeAll(async () => {
  dataDir = tempDataDir();
  const storage = await openServerStorage(dataDir);
  await migrateToLatest(storage.db);
  const actor = { name: 'e2e', role: 'operator' } as const;
  const keys = {} as LoadTarget['keys'];
  for (const role of ['ingest', 'dpo', 'admin'] as const)
    keys[role] = (await createApiKey(storage.db, { name: `e2e-${role}`, role }, actor, new Date())).key;
  const { key: appKey } = await createFaroApp(
    storage.db,
    { name: 'storefront', origins: [ORIGIN] },
    actor,
    new Date(),
  );
  await storage.close();
  search = await startContractServer();
  vigil = await startServerProcess({
    VIGIL_DATA_DIR: dataDir,
    ...(await databaseEnv(dataDir)),
    // Logs and telemetry are shipped to a stand-in that follows OpenSearch's documented API.
    OPENSEARCH_URL: search.url,
    VIGIL_FARO_ANONYMOUS_TELEMETRY: 'exempt',
    VIGIL_INGEST_QUEUE_MAX_ROWS: String(QUEUE_BOUND),
  });
  target = { baseUrl: vigil.baseUrl, keys, faro: { appKey, origin: ORIGIN } };
  prometheus = await startPrometheus({
    target: `127.0.0.1:${vigil.port}`,
    rules: { 'vigil.rules.yml': rulesWithoutWaiting() },
  });
  await syntheticLoad(target, 0);
}, 90_000);

afterAll(async () => {
  await prometheus?.stop();
  await search?.close();
  if (vigil && vigil.child.exitCode === null) {
    vigil.child.kill('SIGTERM');
    await vigil.exited;
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Metric names in the exposition text: every declared family, and every sample's name. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const declared = /^# TYPE (\S+) (\w+)/.exec(line);
    if (declared?.[1]) {
      names.add(declared[1]);
      if (declared[2] === 'histogram' || declared[2] === 'summary')
        for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${declared[1]}${suffix}`);
    } else if (line && !line.startsWith('#')) names.add(line.split(/[{ ]/)[0] as string);
  }
  return names;
}

describe('Vigil scraped by a real Prometheus', () => {
  it('exports every metric a dashboard panel or an alert rule reads', async () => {
    const text = await (await fetch(`${vigil.baseUrl}/metrics`)).text();
    const exported = exportedNames(text);
    const used = [...new Set([...dashboardMetricNames(), ...ruleMetricNames()])].filter((n) => n !== 'up');
    expect(used.length).toBeGreaterThan(40);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
    // No series of Vigil's may carry the labels Prometheus sets on a scrape.
    expect(text).not.toMatch(/[{,](job|instance)="/);
    // The load's logs reached the search store.
    await until('the logs in the search store', async () =>
      search.documents('vigil-logs-*').length >= 40 ? true : undefined,
    );
  });

  it('evaluates every dashboard and rule expression without error; the core panels have data', async () => {
    await until('a first scrape', async () =>
      (await prometheus.query('up{job="vigil"} == 1')).length > 0 ? true : undefined,
    );
    // Rates need two scrapes of the load; another round keeps the counters moving.
    await syntheticLoad(target, 1);
    await new Promise((r) => setTimeout(r, 3000));
    const failures: string[] = [];
    const empty: string[] = [];
    for (const { dashboard, panel, expr } of dashboardExpressions()) {
      try {
        if ((await prometheus.query(expr)).length === 0) empty.push(`${dashboard} / ${panel}: ${expr}`);
      } catch (error) {
        failures.push(`${dashboard} / ${panel}: ${(error as Error).message}`);
      }
    }
    for (const { name, expr } of ruleExpressions()) {
      try {
        await prometheus.query(expr);
      } catch (error) {
        failures.push(`rule ${name}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    // The core of each dashboard answers with data after the load.
    const core = [
      /sum by \(route\) \(rate\(http_request_duration_seconds_count/,
      /vigil_ingest_items_total/,
      /vigil_service_requests_total/,
      /vigil_web_vitals_lcp_seconds_bucket/,
      /vigil_fraud_decisions_total/,
      /vigil_consent_records_total/,
      /vigil_job_runs_total/,
      /process_resident_memory_bytes/,
    ];
    const expressions = dashboardExpressions();
    for (const pattern of core) {
      const panels = expressions.filter((e) => pattern.test(e.expr));
      expect(panels.length, `a panel reads ${pattern}`).toBeGreaterThan(0);
      const answered = panels.filter((p) => !empty.includes(`${p.dashboard} / ${p.panel}: ${p.expr}`));
      expect(answered.length, `a panel reading ${pattern} has data`).toBeGreaterThan(0);
    }
  });

  it('fires VigilPrivacyRequestOverdue when a privacy request is past its due date', async () => {
    expect(await firing('VigilPrivacyRequestOverdue')).toBeUndefined();
    const storage = await openServerStorage(dataDir);
    try {
      await storage.db
        .updateTable('privacy_requests')
        .set({ due_at: new Date(Date.now() - 3_600_000).toISOString() })
        .execute();
    } finally {
      await storage.close();
    }
    const alert = await until('the overdue alert', () => firing('VigilPrivacyRequestOverdue'));
    expect(alert.labels.severity).toBe('page');
  });

  it('fires VigilIngestQueueNearFull while the write queue stays near its small bound', async () => {
    expect(await firing('VigilIngestQueueNearFull')).toBeUndefined();
    let stop = false;
    const entries = Array.from({ length: 40 }, (_, i) => ({
      ts: new Date().toISOString(),
      level: 'info',
      service: 'shop',
      message: `GET /api/item/${i}`,
      route: '/api/item/:id',
      method: 'GET',
      status: 200,
      durationMs: 20,
    }));
    const statuses = new Map<number, number>();
    const sender = async () => {
      while (!stop) {
        const res = await fetch(`${vigil.baseUrl}/v1/logs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${target.keys.ingest}`, 'content-type': 'application/json' },
          body: JSON.stringify(entries),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    const senders = Array.from({ length: 24 }, sender);
    try {
      const alert = await until('the queue alert', () => firing('VigilIngestQueueNearFull'), 30_000);
      expect(alert.labels.severity).toBeDefined();
    } finally {
      stop = true;
      await Promise.all(senders);
    }
    // The bound held: what did not fit was refused with 503, never lost as a 5xx of another kind.
    expect([...statuses.keys()].every((s) => s === 202 || s === 503)).toBe(true);
  });
});
