// Contract tests of shipping stored logs to OpenSearch, against the stand-in of test/opensearch-contract-server.ts:
// logs posted through the API reach OpenSearch once each, also when the search server stops in the middle of the
// stream and comes back, or refuses bulk calls for a while; the backlog says how many wait.
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
  ctx = await createTestContext();
  prefix += 1;
  const sink = createSearchSink({
    node: server.url,
    prefix: `ship${prefix}`,
    retentionDays: { logs: 30, telemetry: 30 },
    timeoutMs: 2000,
  });
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

/** Logs posted through the API, in batches of at most 1,000 (the batch limit). */
async function sendLogs(from: number, count: number) {
  if (count > 1000) {
    await sendLogs(from, 1000);
    return sendLogs(from + 1000, count - 1000);
  }
  const entries = Array.from({ length: count }, (_, i) => ({
    ts: new Date(Date.parse('2026-12-07T10:00:00Z') + (from + i) * 1000).toISOString(),
    level: 'info',
    service: 'checkout',
    message: `order ${from + i} placed`,
  }));
  const res = await ctx.app.request('/v1/logs', {
    method: 'POST',
    headers: jsonHeaders(ctx, 'ingest'),
    body: JSON.stringify(entries),
  });
  expect(res.status).toBe(202);
}

const shippedMessages = () =>
  server
    .documents(`ship${prefix}-logs-*`)
    .map((d) => String(d.source.message))
    .sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1]));

const metric = async (name: string) => {
  const text = await ctx.registry.metrics();
  return Object.fromEntries(
    [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))].map((m) => [m[1], Number(m[2])]),
  );
};

describe('shipping logs to OpenSearch', () => {
  it('contract: writes each stored log once, in order, and says the backlog is empty after', async () => {
    await sendLogs(0, 1200);
    expect((await metric('vigil_search_backlog_rows'))['kind="logs"']).toBe(1200);
    await shipper.shipAll();
    const messages = shippedMessages();
    expect(messages).toHaveLength(1200);
    expect(messages[0]).toBe('order 0 placed');
    expect(messages.at(-1)).toBe('order 1199 placed');
    expect((await metric('vigil_search_backlog_rows'))['kind="logs"']).toBe(0);
    expect((await metric('vigil_search_shipped_total'))['kind="logs",outcome="written"']).toBe(1200);
    // Shipping again sends nothing: the mark is past every row.
    const bulkCalls = server.calls.bulk;
    await shipper.shipAll();
    expect(server.calls.bulk).toBe(bulkCalls);
  });

  it('contract: loses nothing and writes nothing twice when the search server stops mid-stream and comes back', async () => {
    await sendLogs(0, 600);
    await shipper.shipAll();
    await server.stop();
    await sendLogs(600, 700);
    await expect(shipper.shipAll()).rejects.toThrow(/did not answer/);
    expect((await metric('vigil_search_backlog_rows'))['kind="logs"']).toBe(700);
    expect((await metric('vigil_search_ship_errors_total'))['kind="logs"']).toBeGreaterThan(0);
    await server.start();
    await shipper.shipAll();
    const messages = shippedMessages();
    expect(messages).toHaveLength(1300);
    expect(new Set(messages).size).toBe(1300);
    expect((await metric('vigil_search_backlog_rows'))['kind="logs"']).toBe(0);
  });

  it('contract: keeps the rows OpenSearch asks to retry, and writes them on a later call', async () => {
    await sendLogs(0, 300);
    server.failNextBulk(1, 429, 'items');
    await expect(shipper.shipAll()).rejects.toThrow(/sent again later/);
    expect(shippedMessages()).toHaveLength(0);
    await shipper.shipAll();
    expect(shippedMessages()).toHaveLength(300);
  });

  it('contract: runs on its own and catches up after an outage', async () => {
    await server.stop();
    shipper.start();
    await sendLogs(0, 50);
    await new Promise((r) => setTimeout(r, 300));
    await server.start();
    const deadline = Date.now() + 10_000;
    while (shippedMessages().length < 50 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(shippedMessages()).toHaveLength(50);
  });
});
