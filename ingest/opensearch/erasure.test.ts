// Contract test of erasure in OpenSearch, against the stand-in of test/opensearch-contract-server.ts: a subject's
// logs, shipped before the request, are deleted there by the keyed hashes of its e-mail and IP address, and the
// request's steps say how many went from each index pattern.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { processErasureQueue } from '../../retention/privacy-requests.ts';
import { createTestContext, jsonHeaders } from '../../test/harness.ts';
import { type OpenSearchContractServer, startContractServer } from '../../test/opensearch-contract-server.ts';
import { createSearchSink } from './client.ts';
import { searchErasure } from './erasure.ts';
import { createSearchShipper } from './shipper.ts';

let server: OpenSearchContractServer;
beforeAll(async () => {
  server = await startContractServer();
});
afterAll(() => server.close());

it('contract: erases a subject’s shipped logs by its e-mail and IP address, and reports it per index pattern', async () => {
  const ctx = await createTestContext();
  try {
    const sink = createSearchSink({
      node: server.url,
      prefix: 'erase',
      retentionDays: { logs: 30, telemetry: 30 },
    });
    const shipper = createSearchShipper({
      db: ctx.storage.db,
      sink,
      registry: ctx.registry,
      logger: ctx.deps.logger,
      clock: () => new Date(),
    });
    const logs = [
      'payment failed for ann@example.org',
      'login from 198.51.100.23 refused',
      'order placed for bob@example.org',
    ].map((message, i) => ({
      ts: new Date(Date.parse('2026-12-07T10:00:00Z') + i * 1000).toISOString(),
      level: 'warn',
      service: 'checkout',
      message,
    }));
    const sent = await ctx.app.request('/v1/logs', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'ingest'),
      body: JSON.stringify(logs),
    });
    expect(sent.status).toBe(202);
    await shipper.shipAll();
    expect(server.documents('erase-logs-*')).toHaveLength(3);

    const filed = await ctx.app.request('/v1/privacy-requests', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'dpo'),
      body: JSON.stringify({
        type: 'erasure',
        subjectId: 'subj-ann',
        identifiers: { email: 'Ann@Example.org', ip: '198.51.100.23' },
      }),
    });
    expect(filed.status, await filed.clone().text()).toBe(201);
    const { id } = (await filed.json()) as { id: string };
    const approved = await ctx.app.request(`/v1/privacy-requests/${id}/approve`, {
      method: 'POST',
      headers: jsonHeaders(ctx, 'dpo'),
      body: '{}',
    });
    expect(approved.status).toBe(200);
    const summary = await processErasureQueue({
      storage: ctx.storage,
      secret: ctx.deps.secret,
      logger: ctx.deps.logger,
      forgetSubject: () => {},
      journal: ctx.deps.writer,
      now: () => new Date(),
      externalStores: [searchErasure(sink, ctx.storage.db, 'erase')],
    });
    expect(summary).toMatchObject({ completed: 1, failed: 0 });
    expect(server.documents('erase-logs-*').map((d) => d.source.message)).toEqual([
      expect.stringContaining('order placed for'),
    ]);
    const steps = await ctx.storage.db
      .selectFrom('privacy_request_steps')
      .select(['store', 'rows'])
      .where('request_id', '=', id)
      .where('store', 'like', 'opensearch:%')
      .execute();
    expect(steps).toEqual([
      { store: 'opensearch:erase-logs-*', rows: 2 },
      { store: 'opensearch:erase-telemetry-*', rows: 0 },
    ]);
  } finally {
    await ctx.close();
  }
});
