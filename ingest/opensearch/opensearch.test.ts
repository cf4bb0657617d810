// Contract tests of the OpenSearch sink, against test/opensearch-contract-server.ts: a stand-in that follows
// OpenSearch's documented REST formats, not OpenSearch (opensearch.cluster.test.ts runs the shared calls on a
// real cluster). Here also what only a stand-in can do on demand: reject bulk calls, go away and come back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scrubPath, scrubText } from '../../http/scrub.ts';
import { InvalidInputError } from '../../storage/errors.ts';
import { hashIdentifier } from '../../storage/identifiers.ts';
import { type OpenSearchContractServer, startContractServer } from '../../test/opensearch-contract-server.ts';
import { createSearchSink, SearchStoreError } from './client.ts';
import { identifierHashes } from './documents.ts';
import { ipHash, sampleLogs, searchSinkSuite } from './search-sink-suite.ts';
import { indexTemplate, retentionPolicy } from './templates.ts';

let server: OpenSearchContractServer;
beforeAll(async () => {
  server = await startContractServer();
});
afterAll(() => server.close());

const RETENTION = { logs: 30, telemetry: 30 };
let sinks = 0;
/** A sink of its own index prefix on the contract server. */
function sink() {
  sinks += 1;
  const prefix = `contract${sinks}`;
  return { prefix, sink: createSearchSink({ node: server.url, prefix, retentionDays: RETENTION }) };
}

searchSinkSuite('contract', { node: () => server.url });

it('contract: the retention policy deletes an index once it is as old as the retention', () => {
  const { policy } = retentionPolicy('vigil', 'logs', 30);
  expect(policy.default_state).toBe('open');
  expect(policy.states).toEqual([
    {
      name: 'open',
      actions: [],
      transitions: [{ state_name: 'delete', conditions: { min_index_age: '30d' } }],
    },
    { name: 'delete', actions: [{ delete: {} }], transitions: [] },
  ]);
  expect(policy.ism_template).toEqual([{ index_patterns: ['vigil-logs-*'], priority: 100 }]);
  expect(retentionPolicy('vigil', 'telemetry', 7).policy.states[0]?.transitions[0]?.conditions).toEqual({
    min_index_age: '7d',
  });
  expect(() => retentionPolicy('vigil', 'logs', 0)).toThrow(RangeError);
  expect(() => createSearchSink({ node: server.url, retentionDays: { logs: 30, telemetry: 1.5 } })).toThrow(
    RangeError,
  );
});

it('contract: setup stores the policies as sent and new daily indices get the strict mappings', async () => {
  const { prefix, sink: s } = sink();
  await s.ensureSetup();
  const stored = await fetch(`${server.url}/_plugins/_ism/policies/${prefix}-telemetry-retention`);
  expect(stored.status).toBe(200);
  const body = (await stored.json()) as { policy: { states: { name: string }[]; ism_template: unknown[] } };
  expect(body.policy.states.map((st) => st.name)).toEqual(['open', 'delete']);

  const [doc] = sampleLogs(1);
  if (!doc) throw new Error('no sample');
  await s.bulkWrite('logs', [doc]);
  const index = s.indexFor('logs', doc.ts);
  expect(index).toBe(`${prefix}-logs-2026.12.06`);
  expect(server.mappings(index)).toEqual(indexTemplate(prefix, 'logs').template.mappings);

  const calls = { ...server.calls };
  await s.ensureSetup();
  // A second setup reads the policies and writes none.
  expect(server.calls.putPolicy - calls.putPolicy).toBe(0);
  expect(server.calls.getPolicy - calls.getPolicy).toBe(2);
});

it('contract: documents are indexed by their UTC day', () => {
  const { prefix, sink: s } = sink();
  expect(s.indexFor('logs', '2026-12-07T23:59:59.999Z')).toBe(`${prefix}-logs-2026.12.07`);
  expect(s.indexFor('telemetry', '2026-12-08T00:30:00+02:00')).toBe(`${prefix}-telemetry-2026.12.07`);
  expect(() => s.indexFor('logs', 'yesterday')).toThrow(RangeError);
  expect(() => createSearchSink({ node: server.url, prefix: 'Vigil*', retentionDays: RETENTION })).toThrow(
    RangeError,
  );
});

it('contract: a bulk call failing with 429 reports the ids to retry, and a later call writes them', async () => {
  const { prefix, sink: s } = sink();
  await s.ensureSetup();
  const docs = sampleLogs(50);
  const ids = docs.map((d) => d.id).sort();
  server.failNextBulk(1, 429);
  const rejected = await s.bulkWrite('logs', docs);
  expect(rejected.retry.sort()).toEqual(ids);
  expect([rejected.written, rejected.existing, rejected.rejected]).toEqual([[], [], []]);
  expect(server.documents(`${prefix}-logs-*`)).toHaveLength(0);

  const retried = await s.bulkWrite(
    'logs',
    docs.filter((d) => rejected.retry.includes(d.id)),
  );
  expect(retried.written.sort()).toEqual(ids);
  expect(server.documents(`${prefix}-logs-*`)).toHaveLength(50);
});

it('contract: items rejected with 429 or 503 inside a 200 answer are retried; 5xx answers too', async () => {
  const { prefix, sink: s } = sink();
  await s.ensureSetup();
  const docs = sampleLogs(20);
  server.failNextBulk(1, 429, 'items');
  expect((await s.bulkWrite('logs', docs)).retry).toHaveLength(20);
  server.failNextBulk(1, 503, 'items');
  expect((await s.bulkWrite('logs', docs)).retry).toHaveLength(20);
  server.failNextBulk(2, 503);
  expect((await s.bulkWrite('logs', docs)).retry).toHaveLength(20);
  expect((await s.bulkWrite('logs', docs)).retry).toHaveLength(20);
  const written = await s.bulkWrite('logs', docs);
  expect(written.written).toHaveLength(20);
  expect(server.documents(`${prefix}-logs-*`).every((d) => d.version === 1)).toBe(true);
});

it('contract: while the server is down bulkWrite throws a retryable error, and nothing is lost once it is back', async () => {
  const { prefix, sink: s } = sink();
  await s.ensureSetup();
  const before = sampleLogs(100);
  const during = sampleLogs(100, 100);
  await s.bulkWrite('logs', before);
  await server.stop();
  try {
    const failure = await s.bulkWrite('logs', during).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SearchStoreError);
    expect(failure).toMatchObject({ retryable: true, status: undefined });
    expect(String((failure as Error).message)).toContain(server.url);
  } finally {
    await server.start();
  }
  // The caller writes the batch again, the one written before with it: each document is stored once.
  const retried = await s.bulkWrite('logs', [...before, ...during]);
  expect(retried.written).toHaveLength(100);
  expect(retried.existing).toHaveLength(100);
  expect(server.documents(`${prefix}-logs-*`)).toHaveLength(200);
  expect((await s.searchLogs({ limit: 1000 })).items).toHaveLength(200);
});

it('contract: a refused request (4xx other than 409) is not retryable', async () => {
  // Under this path no call has a handler: each is answered 400.
  const s = createSearchSink({ node: `${server.url}/not/opensearch`, retentionDays: RETENTION });
  const failure = await s.bulkWrite('logs', sampleLogs(1)).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(SearchStoreError);
  expect(failure).toMatchObject({ retryable: false, status: 400 });
  const search = await s.searchLogs({ limit: 1 }).catch((error: unknown) => error);
  expect(search).toMatchObject({ retryable: false, status: 400 });
});

it('contract: a cursor that no search gave, or a limit out of range, is refused before any request', async () => {
  const { sink: s } = sink();
  const calls = server.calls.total;
  await expect(s.searchLogs({ limit: 10, cursor: 'bm90IGEgY3Vyc29y' })).rejects.toBeInstanceOf(
    InvalidInputError,
  );
  await expect(s.searchLogs({ limit: 10, cursor: '%%%' })).rejects.toBeInstanceOf(InvalidInputError);
  await expect(s.searchLogs({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
  await expect(s.searchLogs({ limit: 1001 })).rejects.toBeInstanceOf(RangeError);
  expect(server.calls.total).toBe(calls);
});

it('contract: credentials in the node URL are sent as Basic auth, never in the URL or a message', async () => {
  const withCredentials = (path: string) => {
    const node = new URL(`${server.url}${path}`);
    node.username = 'vigil';
    node.password = 'p@ss word';
    return createSearchSink({ node: node.toString(), prefix: 'credentials', retentionDays: RETENTION });
  };
  const calls = server.calls.total;
  await withCredentials('').searchLogs({ limit: 1 });
  expect(server.calls.total).toBe(calls + 1);
  expect(server.requests.at(-1)).toEqual({
    method: 'POST',
    url: '/credentials-logs-*/_search',
    authorization: `Basic ${Buffer.from('vigil:p@ss word').toString('base64')}`,
  });
  const failure = await withCredentials('/not/opensearch')
    .searchLogs({ limit: 1 })
    .catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(SearchStoreError);
  expect(String(failure)).not.toMatch(/p%40ss|p@ss|vigil:/);
});

it('contract: documents carry the identifier hashes of the scrubber tokens in their text', () => {
  const secret = Buffer.alloc(32, 7);
  const email = hashIdentifier(secret, 'email', 'Alice@Example.com');
  const text = scrubText(secret, 'alice@example.com from 203.0.113.3 and 2001:db8::1');
  const path = scrubPath(secret, '/users/alice@example.com/from/203.0.113.3');
  expect(identifierHashes(text)).toEqual([email, ipHash(3), hashIdentifier(secret, 'ip', '2001:db8::1')]);
  expect(identifierHashes(path, null)).toEqual([email, ipHash(3)]);
  expect(identifierHashes('order 42 took 3 ms', null)).toEqual([]);
  const [withIp] = sampleLogs(1);
  expect(withIp?.identifier_hashes).toEqual([ipHash(0)]);
});

it('contract: the stand-in lists and deletes indices, and refuses what OpenSearch refuses', async () => {
  const { prefix, sink: s } = sink();
  await s.ensureSetup();
  const docs = sampleLogs(600);
  await s.bulkWrite('logs', docs);
  const [first, second] = [`${prefix}-logs-2026.12.06`, `${prefix}-logs-2026.12.07`];
  const kept = docs.filter((d) => s.indexFor('logs', d.ts) === second);
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  const listed = await call('GET', `/_cat/indices/${prefix}-*?format=json`);
  expect(listed.body).toEqual([
    expect.objectContaining({ index: first, 'docs.count': String(600 - kept.length), status: 'open' }),
    expect.objectContaining({ index: second, 'docs.count': String(kept.length), status: 'open' }),
  ]);
  expect(await call('DELETE', `/${first}`)).toEqual({ status: 200, body: { acknowledged: true } });
  expect(await call('DELETE', `/${first}`)).toMatchObject({
    status: 404,
    body: { error: { type: 'index_not_found_exception' }, status: 404 },
  });
  expect((await s.searchLogs({ limit: 1000 })).items).toHaveLength(kept.length);

  const words = await call('POST', `/${prefix}-logs-*/_search`, {
    query: {
      simple_query_string: { query: '+declined +payment', fields: ['message'], default_operator: 'and' },
    },
    size: 0,
    track_total_hits: true,
  });
  const declined = kept.filter((d) => d.message.startsWith('Payment declined')).length;
  expect(declined).toBeGreaterThan(0);
  expect(words.body).toMatchObject({ hits: { total: { value: declined, relation: 'eq' }, hits: [] } });
  expect(
    await call('POST', `/${prefix}-logs-*/_search`, { query: { fuzzy: { message: 'x' } } }),
  ).toMatchObject({
    status: 400,
    body: { error: { type: 'parsing_exception', reason: 'unknown query [fuzzy]' } },
  });
  expect(await call('POST', `/${prefix}-logs-*/_search`, { sort: [{ message: 'asc' }] })).toMatchObject({
    status: 400,
    body: { error: { type: 'illegal_argument_exception' } },
  });
  expect(await call('POST', `/${prefix}-logs-*/_search`, {}, 'text/plain')).toMatchObject({ status: 406 });
  const again = await fetch(`${server.url}/_plugins/_ism/policies/${prefix}-logs-retention`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(retentionPolicy(prefix, 'logs', 30)),
  });
  // A policy is replaced only with the sequence number of the version it replaces.
  expect(again.status).toBe(409);
});
