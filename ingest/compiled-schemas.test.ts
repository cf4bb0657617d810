// The ingest routes validate with zod's ahead-of-time compiled schemas. The compiler generates its own code
// for the happy path, so these tests hold it to the interpreted schema it was made from: for valid and
// invalid input alike, both must accept the same bodies with the same output and refuse the rest with the
// same issues.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { CompiledEventBatchSchema, EventBatchSchema } from './events/schemas.ts';
import { CompiledFaroPayloadSchema, FaroPayloadSchema } from './faro/schemas.ts';
import { CompiledLogBatchSchema, LogBatchSchema } from './logs/schemas.ts';

const DATA = path.resolve(import.meta.dirname, '../test/fixtures');

const outcomes = { accepted: 0, refused: 0 };

function agree(compiled: z.ZodType, interpreted: z.ZodType, input: unknown): void {
  const fast = compiled.safeParse(input);
  const slow = interpreted.safeParse(input);
  expect(fast.success).toBe(slow.success);
  if (fast.success && slow.success) expect(fast.data).toEqual(slow.data);
  else expect(fast.error?.issues).toEqual(slow.error?.issues);
  outcomes[fast.success ? 'accepted' : 'refused'] += 1;
}

/** Both kinds of outcome must be well represented, or the comparison proves little. */
function expectBothOutcomes(): void {
  expect(outcomes.accepted).toBeGreaterThan(100);
  expect(outcomes.refused).toBeGreaterThan(100);
}

/** Valid values of a field, mixed with near misses of it. */
const field = <T>(valid: fc.Arbitrary<T>, ...invalid: unknown[]) =>
  fc.oneof({ weight: 9, arbitrary: valid }, fc.constantFrom(...invalid));

const id = field(fc.stringMatching(/^[\x21-\x7e]{1,20}$/), '', 'has space', 'x'.repeat(129), 7, null);
const ts = field(
  fc.constantFrom(
    '2026-11-28T12:00:00Z',
    '2026-11-28T12:00:00.123Z',
    '2026-11-28T12:00:00.1234567Z',
    '2026-11-28T13:00:00+01:00',
    '2024-02-29T00:00:00Z',
    1_764_331_200_000,
  ),
  '2026-13-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2025-02-29T00:00:00Z',
  '2026-11-28T24:00:00Z',
  '2026-11-28T12:00Z',
  '2026-11-28',
  -1,
  1.5,
);
const ip = field(fc.oneof(fc.ipV4(), fc.ipV6()), '256.1.1.1', '01.2.3.4', '1.2.3', '::g', '', 'example.com');
const url = field(
  fc.constantFrom(
    'https://shop.example/p/1?utm_source=ig&x=1',
    'http://a.b',
    'https://[2001:db8::1]:8443/x#y',
  ),
  'shop.example/p/1',
  'https://',
  'https://a b',
  '',
);
const money = field(fc.double({ min: 0, max: 1e12, noNaN: true }), -1, 1e13, '5');
const currency = field(fc.constantFrom('EUR', 'USD'), 'eur', 'EURO', '');
const country = field(fc.constantFrom('DE', 'FR'), 'de', 'DEU');

const click = fc.record(
  {
    id,
    type: fc.constant('click'),
    ts,
    affiliateId: id,
    campaignId: id,
    clickId: id,
    ip,
    userAgent: field(fc.string({ maxLength: 40 }), 'x'.repeat(1025), 3),
    referrer: url,
    landingUrl: url,
    subjectId: id,
    country,
    extra: fc.constant('not in the schema'),
  },
  { requiredKeys: ['id', 'type', 'ts', 'affiliateId', 'clickId', 'ip', 'userAgent'] },
);
const conversion = fc.record(
  {
    id,
    type: fc.constant('conversion'),
    ts,
    affiliateId: id,
    clickId: id,
    orderId: id,
    subjectId: id,
    amount: money,
    currency,
    couponCode: field(fc.string({ minLength: 1, maxLength: 10 }), '', 'x'.repeat(65)),
    ip,
    userAgent: fc.string({ maxLength: 40 }),
    newCustomer: field(fc.boolean(), 'yes', 1),
    country,
  },
  { requiredKeys: ['id', 'type', 'ts', 'orderId', 'subjectId', 'amount', 'currency', 'ip', 'userAgent'] },
);
const refund = fc.record(
  {
    id,
    type: field(fc.constant('refund'), 'chargeback'),
    ts,
    orderId: id,
    amount: money,
    currency,
    reason: field(fc.string({ maxLength: 20 }), 'x'.repeat(501)),
  },
  { requiredKeys: ['id', 'type', 'ts', 'orderId', 'amount', 'currency'] },
);

describe('compiled ingest schemas', () => {
  beforeEach(() => {
    outcomes.accepted = 0;
    outcomes.refused = 0;
  });

  it('events: accept and refuse exactly what the interpreted schema does, with the same output', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(click, conversion, refund), { maxLength: 5 }), (events) => {
        agree(CompiledEventBatchSchema, EventBatchSchema, { events });
      }),
      { numRuns: 2000 },
    );
    expectBothOutcomes();
    fc.assert(fc.property(fc.anything(), (body) => agree(CompiledEventBatchSchema, EventBatchSchema, body)));
  });

  it('Faro: the payloads the SDK sent, each with one part broken, and arbitrary bodies', () => {
    const samples = fs
      .readdirSync(DATA)
      .filter((f) => f.startsWith('faro-payload-sample'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(DATA, f), 'utf8')) as Record<string, unknown>);
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) {
      agree(CompiledFaroPayloadSchema, FaroPayloadSchema, sample);
      for (const key of Object.keys(sample)) {
        for (const broken of [null, 'x', 42, [], [{}]]) {
          agree(CompiledFaroPayloadSchema, FaroPayloadSchema, { ...sample, [key]: broken });
        }
      }
    }
    fc.assert(
      fc.property(fc.anything(), (body) => agree(CompiledFaroPayloadSchema, FaroPayloadSchema, body)),
    );
  });

  it('logs: valid and near-miss entries, and arbitrary bodies', () => {
    const entry = fc.record(
      {
        ts,
        level: field(fc.constantFrom('info', 'warn', 'error'), 'loud', ''),
        service: field(fc.stringMatching(/^[\w.-]{1,20}$/), '', 'a b', 'x'.repeat(65)),
        message: field(fc.string({ maxLength: 30 }), 3),
        route: field(fc.constantFrom('/p/:id', '/'), 5),
        method: field(fc.constantFrom('GET', 'POST'), 'get', 7),
        status: field(fc.integer({ min: 100, max: 599 }), 99, 600, 2.5),
        durationMs: field(fc.double({ min: 0, max: 1e6, noNaN: true }), -1, 86_400_001),
        traceId: field(fc.stringMatching(/^[0-9a-f]{16,32}$/), 'abc', 'z'.repeat(16)),
        attrs: field(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()), 'x', [1]),
      },
      { requiredKeys: ['ts', 'level', 'service', 'message'] },
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }), (entries) =>
        agree(CompiledLogBatchSchema, LogBatchSchema, entries),
      ),
      { numRuns: 1000 },
    );
    expectBothOutcomes();
    fc.assert(fc.property(fc.anything(), (body) => agree(CompiledLogBatchSchema, LogBatchSchema, body)));
  });
});
