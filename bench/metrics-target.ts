// The server processes of the metrics benchmark, one per run, each printing one JSON line on stdout when it
// listens on 127.0.0.1:
//   vigil     Vigil as `npm start` runs it (`startServer` with the configuration its environment gives), with an
//             ingest key and a Faro app made for the run: `{"port":…,"ingestKey":…,"appKey":…}`.
//   baseline  what `vigil_service_requests_total` and `vigil_service_request_duration_seconds` were before their
//             series budget: a plain prom-client Registry, unbounded, holding the attack's label combinations
//             (`<share>` of its services), served uncached on `/metrics` beside `/healthz`:
//             `{"port":…,"services":…,"recordMs":…}`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { loadConfig } from '../api/env.ts';
import { startServer } from '../api/server.ts';
import { createApiKey } from '../http/api-keys.ts';
import { createLogger } from '../http/logger.ts';
import { BoundedLabel, templatePath } from '../http/route-template.ts';
import { createFaroApp } from '../ingest/faro/index.ts';
import { attackLogEntries, BENCH_ORIGIN, DURATION_BUCKETS } from './metrics.ts';

async function vigil(): Promise<void> {
  const config = loadConfig();
  const running = await startServer(config, createLogger(config.logLevel));
  const actor = { name: 'bench', role: 'operator' };
  const now = new Date();
  const ingestKey = (
    await createApiKey(running.storage.db, { name: 'bench-ingest', role: 'ingest' }, actor, now)
  ).key;
  const appKey = (
    await createFaroApp(running.storage.db, { name: 'bench-shop', origins: [BENCH_ORIGIN] }, actor, now)
  ).key;
  // Stopped between measurements: it exits at once, whatever connections (slow bodies, keep-alive) are left.
  process.once('SIGTERM', () => process.exit(0));
  process.stdout.write(`${JSON.stringify({ port: running.port, ingestKey, appKey })}\n`);
}

/** As `RedMetrics.observe` recorded them before the budget: services and routes capped, combinations not. */
function baseline(share: number): void {
  const registry = new Registry();
  const requests = new Counter({
    name: 'vigil_service_requests_total',
    help: 'Requests seen in ingested server logs, by service, route template, method and status class.',
    labelNames: ['service', 'route', 'method', 'status_class'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'vigil_service_request_duration_seconds',
    help: 'Request durations seen in ingested server logs, by service and route template.',
    labelNames: ['service', 'route'] as const,
    buckets: [...DURATION_BUCKETS],
    registers: [registry],
  });
  const services = new BoundedLabel(50);
  const routes = new Map<string, BoundedLabel>();
  const started = performance.now();
  const kept = new Set<string>();
  for (const batch of attackLogEntries(share)) {
    for (const e of batch) {
      const service = services.label(e.service);
      kept.add(service);
      let serviceRoutes = routes.get(service);
      if (!serviceRoutes) {
        serviceRoutes = new BoundedLabel(200);
        routes.set(service, serviceRoutes);
      }
      const route = serviceRoutes.label(templatePath(e.route));
      requests.inc({
        service,
        route,
        method: e.method ?? 'OTHER',
        status_class: `${Math.floor(e.status / 100)}xx`,
      });
      duration.observe({ service, route }, e.durationMs / 1000);
    }
  }
  const recordMs = performance.now() - started;
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const renderStarted = performance.now();
    registry.metrics().then(
      (text) => {
        res
          .writeHead(200, {
            'content-type': registry.contentType,
            'x-render-ms': (performance.now() - renderStarted).toFixed(1),
          })
          .end(text);
      },
      () => res.writeHead(500).end(),
    );
  });
  process.once('SIGTERM', () => process.exit(0));
  server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as AddressInfo).port;
    process.stdout.write(
      `${JSON.stringify({ port, services: kept.size, recordMs: Math.round(recordMs) })}\n`,
    );
  });
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'vigil') await vigil();
else if (mode === 'baseline') baseline(Number(arg ?? '1'));
else throw new Error('usage: metrics-target vigil | baseline <share>');
