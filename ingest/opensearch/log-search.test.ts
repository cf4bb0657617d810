// Contract tests of `GET /v1/logs` answered by OpenSearch (`OPENSEARCH_URL`), against the stand-in of
// test/opensearch-contract-server.ts: logs posted through the API are shipped, then searched there with the same
// filters and pages as in the database; an OpenSearch that does not answer gives 503 with Retry-After.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, jsonHeaders, type TestContext } from '../../test/harness.ts';
import { type OpenSearchContractServer, startContractServer } from '../../test/opensearch-contract-server.ts';
import { createSearchSink } from './client.ts';
import { createSearchShipper, type SearchShipper } from './shipper.ts';

let server: OpenSearchContractServer;
let ctx: TestContext;
let shipper: SearchShipper;
let prefix = 0;

beforeAll(async () => {
  server = await startContractServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  prefix += 1;
  const sink = createSearchSink({
    node: server.url,
    prefix: `logsearch${prefix}`,
    retentionDays: { logs: 30, telemetry: 30 },
    timeoutMs: 2000,
    refresh: 'wait_for',
  });
  ctx = await createTestContext({ logSearch: sink });
  shipper = createSearchShipper({
    db: ctx.storage.db,
    sink,
    registry: ctx.registry,
    logger: ctx.deps.logger,
    clock: () => new Date(),
  });
});
afterEach(async () => {
  await shipper.stop();
  await ctx.close();
});

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

async function sendLogs(count: number) {
  const entries = Array.from({ length: count }, (_, i) => ({
    ts: new Date(Date.parse('2026-12-07T10:00:00Z') + i * 1000).toISOString(),
    level: LEVELS[i % 4],
    service: i % 2 === 0 ? 'checkout' : 'search',
    message: i % 10 === 0 ? `payment declined for order ${i}` : `order ${i} placed`,
    route: '/checkout',
    status: i % 10 === 0 ? 502 : 200,
    attrs: { attempt: i % 3 },
  }));
  const res = await ctx.app.request('/v1/logs', {
    method: 'POST',
    headers: jsonHeaders(ctx, 'ingest'),
    body: JSON.stringify(entries),
  });
  expect(res.status).toBe(202);
}

const search = (query: string, role: 'sre' | 'ingest' = 'sre') =>
  ctx.app.request(`/v1/logs?${query}`, { headers: jsonHeaders(ctx, role) });

interface Page {
  items: { id: number; ts: string; level: string; service: string; message: string; attrs: unknown }[];
  nextCursor: string | null;
  nextBefore: number | null;
  source: string;
}

describe('GET /v1/logs served by OpenSearch', () => {
  it('contract: finds shipped logs with the database answer shape, filters and cursor pages', async () => {
    await sendLogs(200);
    await shipper.shipAll();

    const first = (await (await search('service=checkout&level=warn&limit=20')).json()) as Page;
    expect(first.source).toBe('search');
    expect(first.nextBefore).toBeNull();
    expect(first.items).toHaveLength(20);
    // checkout (even i) and at least warn (i % 4 = 2): i = 2, 6, 10, ... 198, newest first.
    expect(first.items[0]).toMatchObject({ service: 'checkout', level: 'warn', message: 'order 198 placed' });
    expect(first.items[0]?.attrs).toEqual({ attempt: 0 });
    expect(typeof first.items[0]?.id).toBe('number');
    const seen = new Set(first.items.map((i) => i.message));
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const page = (await (
        await search(`service=checkout&level=warn&limit=20&cursor=${encodeURIComponent(cursor)}`)
      ).json()) as Page;
      for (const item of page.items) seen.add(item.message);
      cursor = page.nextCursor;
    }
    expect(seen.size).toBe(50);

    const declined = (await (await search('q=payment%20declined&limit=100')).json()) as Page;
    expect(declined.items.map((i) => i.message)).toHaveLength(20);
    expect(declined.items.every((i) => i.message.startsWith('payment declined'))).toBe(true);

    const window = (await (
      await search('since=2026-12-07T10:01:00Z&until=2026-12-07T10:01:10Z&limit=100')
    ).json()) as Page;
    expect(window.items.map((i) => i.ts)).toHaveLength(10);
  });

  it('contract: answers what was shipped; the database keeps the rest until the shipper catches up', async () => {
    await sendLogs(10);
    const before = (await (await search('limit=100')).json()) as Page;
    expect(before).toMatchObject({ items: [], nextCursor: null, source: 'search' });
    await shipper.shipAll();
    expect(((await (await search('limit=100')).json()) as Page).items).toHaveLength(10);
  });

  it('contract: 503 with Retry-After while OpenSearch does not answer; bad cursors and before are 422', async () => {
    await sendLogs(10);
    await shipper.shipAll();
    await server.stop();
    try {
      const down = await search('limit=10');
      expect(down.status).toBe(503);
      expect(down.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(JSON.stringify(await down.json())).not.toContain(server.url);
    } finally {
      await server.start();
    }
    const badCursor = await search('cursor=not-a-cursor');
    expect(badCursor.status).toBe(422);
    expect(JSON.stringify(await badCursor.json())).toContain('/cursor');
    const before = await search('before=10');
    expect(before.status).toBe(422);
    expect(JSON.stringify(await before.json())).toContain('/before');
    expect((await search('limit=10', 'ingest')).status).toBe(403);
  });
});
