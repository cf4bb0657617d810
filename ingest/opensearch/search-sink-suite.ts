// The calls Vigil makes to OpenSearch as one suite, run against the contract server (`opensearch.test.ts`) and
// against a real cluster (`opensearch.cluster.test.ts`), with the sample documents both use: the same
// expectations passing on both is what makes the contract server worth trusting. Each test writes under an
// index prefix of its own, so tests never see each other's documents.
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { scrubAttrs, scrubText } from '../../http/scrub.ts';
import { hashIdentifier } from '../../storage/identifiers.ts';
import { LOG_LEVELS, type LogLevel, severityOf } from '../logs/schemas.ts';
import { createSearchSink } from './client.ts';
import { logDocument, telemetryDocument } from './documents.ts';
import type { LogDocument, TelemetryDocument } from './templates.ts';

const SECRET = Buffer.alloc(32, 7);
const BASE_TS = Date.UTC(2026, 11, 6);
const SERVICES = ['checkout', 'search', 'payments'] as const;
const TELEMETRY_KINDS = ['log', 'exception', 'measurement', 'event', 'span'] as const;

/** The keyed hash the scrubber puts in place of `203.0.113.<host>`. */
export function ipHash(host: number): string {
  return hashIdentifier(SECRET, 'ip', `203.0.113.${host}`);
}

/**
 * `count` server log documents (ids `from` … `from + count - 1`) over about three days from 2026-12-06, three
 * at each time; one in five names an IP address (in its message and attributes), one in five an e-mail address.
 */
export function sampleLogs(count: number, from = 0): LogDocument[] {
  return Array.from({ length: count }, (_, n) => {
    const i = from + n;
    const level = LOG_LEVELS[i % LOG_LEVELS.length] as LogLevel;
    const ip = `203.0.113.${i % 7}`;
    const message =
      i % 5 === 0
        ? `login from ${ip} for order ${i}`
        : i % 5 === 1
          ? `Payment declined for alice${i % 4}@example.com, order ${i}`
          : `handled order ${i} in ${i % 97} ms`;
    return logDocument({
      id: i,
      ts: new Date(BASE_TS + Math.floor(i / 3) * 777_000).toISOString(),
      level,
      severity: severityOf(level),
      service: SERVICES[i % SERVICES.length] as string,
      message: scrubText(SECRET, message),
      route: '/orders/:id',
      method: 'POST',
      status: i % 11 === 0 ? 502 : 200,
      duration_ms: (i % 97) + 0.5,
      trace_id: i.toString(16).padStart(32, '0'),
      attrs: i % 5 === 0 ? JSON.stringify(scrubAttrs(SECRET, { client_ip: ip, order: i })) : null,
      received_at: new Date(BASE_TS + 3 * 86_400_000).toISOString(),
    });
  });
}

/** `count` browser telemetry documents; most have a subject (`u-0` … `u-4`), some name an IP address. */
function sampleTelemetry(count: number): TelemetryDocument[] {
  return Array.from({ length: count }, (_, i) =>
    telemetryDocument({
      id: i,
      app_id: 'storefront',
      kind: TELEMETRY_KINDS[i % TELEMETRY_KINDS.length] ?? 'log',
      ts: new Date(BASE_TS + i * 1_300_000).toISOString(),
      session_id: `s-${i % 8}`,
      user_id: i % 4 === 3 ? null : `u-${i % 5}`,
      page_url: `https://shop.example/orders/${i}`,
      page_route: '/orders/:id',
      name: null,
      level: 'info',
      message: scrubText(SECRET, i % 3 === 0 ? `retry from 203.0.113.${i % 7}` : 'page shown'),
      trace_id: null,
      span_id: null,
      detail: JSON.stringify({ context: { step: i } }),
      meta: JSON.stringify({ app: { name: 'storefront' } }),
      received_at: new Date(BASE_TS + 3 * 86_400_000).toISOString(),
    }),
  );
}

/** Newest first, ties by id descending as the `id` keyword sorts: the order `searchLogs` answers in. */
function newestFirst(docs: LogDocument[]): string[] {
  return [...docs]
    .sort((a, b) => (a.ts === b.ts ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.ts < b.ts ? 1 : -1))
    .map((d) => d.id);
}

/** How the suite reaches its cluster, and how it leaves it. */
interface SuiteTarget {
  /** The cluster's URL, read when a test runs. */
  node: () => string;
  /** `wait_for` where writes are not searchable at once (a real cluster). */
  refresh?: 'wait_for';
  /** Removes what a prefix left (indices, templates, policies), after the suite. */
  cleanup?: (prefix: string) => Promise<void>;
}

/** Registers the shared tests, each named `<label>: …`. */
export function searchSinkSuite(label: string, target: SuiteTarget) {
  const prefixes: string[] = [];
  const sink = (prefix?: string, retentionDays = { logs: 30, telemetry: 30 }) => {
    const name = prefix ?? `vigil-t${randomBytes(5).toString('hex')}`;
    if (!prefixes.includes(name)) prefixes.push(name);
    return createSearchSink({ node: target.node(), prefix: name, retentionDays, refresh: target.refresh });
  };

  afterAll(async () => {
    for (const prefix of prefixes) await target.cleanup?.(prefix);
  });

  // One data set for the searches, written once by the first search test that needs it.
  const LOGS = sampleLogs(600);
  let searchable: Promise<ReturnType<typeof sink>> | undefined;
  const searchSink = () => {
    searchable ??= (async () => {
      const s = sink();
      await s.ensureSetup();
      const outcome = await s.bulkWrite('logs', LOGS);
      expect(outcome.written).toHaveLength(LOGS.length);
      return s;
    })();
    return searchable;
  };

  it(`${label}: setup is idempotent, and a changed retention updates only its policy`, async () => {
    const s = sink();
    expect(await s.ensureSetup()).toEqual({ policies: { logs: 'created', telemetry: 'created' } });
    expect(await s.ensureSetup()).toEqual({ policies: { logs: 'unchanged', telemetry: 'unchanged' } });
    const prefix = prefixes.at(-1);
    const shorter = sink(prefix, { logs: 7, telemetry: 30 });
    expect(await shorter.ensureSetup()).toEqual({ policies: { logs: 'updated', telemetry: 'unchanged' } });
    expect(await shorter.ensureSetup()).toEqual({ policies: { logs: 'unchanged', telemetry: 'unchanged' } });
  });

  it(`${label}: a bulk write of 1,000 log documents, written again, stores each once`, async () => {
    const s = sink();
    await s.ensureSetup();
    const docs = sampleLogs(1000);
    const ids = docs.map((d) => d.id).sort();
    const first = await s.bulkWrite('logs', docs);
    expect(first.written.sort()).toEqual(ids);
    expect([first.existing, first.retry, first.rejected]).toEqual([[], [], []]);
    const again = await s.bulkWrite('logs', docs);
    expect(again.written).toEqual([]);
    expect(again.existing.sort()).toEqual(ids);
    const all = await s.searchLogs({ limit: 1000 });
    expect(all.items).toHaveLength(1000);
    expect(all.nextCursor).toBeUndefined();
  });

  it(`${label}: the mappings refuse a field they do not have and a value of the wrong type`, async () => {
    const s = sink();
    await s.ensureSetup();
    const [a, b] = sampleLogs(2);
    const unknownField = { ...a, id: 'unknown-field', shoe_size: 44 } as LogDocument;
    const wrongType = { ...b, id: 'wrong-type', status: 'teapot' } as unknown as LogDocument;
    const outcome = await s.bulkWrite('logs', [a, b, unknownField, wrongType] as LogDocument[]);
    expect(outcome.written.sort()).toEqual(['0', '1']);
    expect(outcome.rejected.map(({ id, status, type }) => ({ id, status, type }))).toEqual([
      { id: 'unknown-field', status: 400, type: 'strict_dynamic_mapping_exception' },
      { id: 'wrong-type', status: 400, type: 'mapper_parsing_exception' },
    ]);
    expect(outcome.retry).toEqual([]);
  });

  it(`${label}: logs are found by service, least level, words and time range, newest first`, async () => {
    const s = await searchSink();
    const search = async (query: Parameters<typeof s.searchLogs>[0]) =>
      (await s.searchLogs(query)).items.map((d) => d.id);
    const from = new Date(BASE_TS + 86_400_000).toISOString();
    const to = new Date(BASE_TS + 2 * 86_400_000).toISOString();
    const declined = (d: LogDocument) => d.message.startsWith('Payment declined');
    expect(await search({ service: 'checkout', limit: 1000 })).toEqual(
      newestFirst(LOGS.filter((d) => d.service === 'checkout')),
    );
    expect(await search({ level: 'error', limit: 1000 })).toEqual(
      newestFirst(LOGS.filter((d) => d.severity >= 5)),
    );
    expect(await search({ q: 'payment DECLINED', limit: 1000 })).toEqual(newestFirst(LOGS.filter(declined)));
    expect(await search({ q: 'declined login', limit: 1000 })).toEqual([]);
    expect(await search({ from, to, limit: 1000 })).toEqual(
      newestFirst(LOGS.filter((d) => d.ts >= from && d.ts < to)),
    );
    expect(await search({ service: 'search', level: 'debug', q: 'declined', from, limit: 1000 })).toEqual(
      newestFirst(
        LOGS.filter((d) => d.service === 'search' && d.severity >= 2 && declined(d) && d.ts >= from),
      ),
    );
    expect(await search({ service: 'nobody', limit: 10 })).toEqual([]);
  });

  it(`${label}: pages follow one another newest first, with no duplicates and no gaps`, async () => {
    const s = await searchSink();
    const expected = newestFirst(LOGS.filter((d) => d.service === 'search'));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await s.searchLogs({ service: 'search', limit: 37, cursor });
      expect(page.items.length).toBeLessThanOrEqual(37);
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined && pages < 100);
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 37));
  });

  it(`${label}: erasure by an IP hash or a subject removes exactly their documents and counts them`, async () => {
    const s = sink();
    await s.ensureSetup();
    const logs = sampleLogs(300);
    const telemetry = sampleTelemetry(200);
    await s.bulkWrite('logs', logs);
    await s.bulkWrite('telemetry', telemetry);
    const hash = ipHash(3);
    const logsWithIp = logs.filter((d) => d.identifier_hashes.includes(hash));
    const telemetryWithIp = telemetry.filter((d) => d.identifier_hashes.includes(hash));
    expect(logsWithIp.length).toBeGreaterThan(0);
    expect(telemetryWithIp.length).toBeGreaterThan(0);

    expect(await s.eraseBy('identifier_hashes', [hash])).toEqual({
      logs: logsWithIp.length,
      telemetry: telemetryWithIp.length,
    });
    const left = await s.searchLogs({ limit: 1000 });
    expect(left.items.map((d) => d.id).sort()).toEqual(
      logs
        .filter((d) => !logsWithIp.includes(d))
        .map((d) => d.id)
        .sort(),
    );

    const subjectRows = telemetry.filter((d) => d.user_id === 'u-2' && !telemetryWithIp.includes(d));
    expect(await s.eraseBy('user_id', ['u-2'])).toEqual({ logs: 0, telemetry: subjectRows.length });
    // Nothing of either is left to erase.
    expect(await s.eraseBy('user_id', ['u-2'])).toEqual({ logs: 0, telemetry: 0 });
    expect(await s.eraseBy('identifier_hashes', [hash])).toEqual({ logs: 0, telemetry: 0 });
    expect(await s.eraseBy('identifier_hashes', [])).toEqual({ logs: 0, telemetry: 0 });
  });
}
