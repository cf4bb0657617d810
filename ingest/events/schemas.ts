import { z } from '@hono/zod-openapi';
import * as zod from 'zod';
import { IpAddressSchema } from '../../http/openapi.ts';
import { TIMESTAMP_MESSAGE } from '../timestamps.ts';

const id = (what: string) =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, `expected a ${what} of printable ASCII without spaces`);

const CANONICAL_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z$/;

/**
 * A validated instant as `YYYY-MM-DDTHH:mm:ss.sssZ`. The common UTC forms are already that, or lack only the
 * milliseconds, and are completed as text: a Date round trip per event costs more than the event's insert.
 */
function toIsoUtc(value: string | number): string {
  if (typeof value === 'string' && CANONICAL_UTC.test(value))
    return value.length === 24 ? value : `${value.slice(0, 19)}.000Z`;
  return new Date(value).toISOString();
}

/** An instant as ISO 8601 with an offset, or epoch milliseconds; normalised to ISO UTC. */
const Timestamp = z
  .union(
    [
      z.iso.datetime({ offset: true, message: TIMESTAMP_MESSAGE }),
      // JavaScript's Date range
      z.number().int(TIMESTAMP_MESSAGE).min(0, TIMESTAMP_MESSAGE).max(8_640_000_000_000, TIMESTAMP_MESSAGE),
    ],
    { message: TIMESTAMP_MESSAGE },
  )
  .transform(toIsoUtc)
  .openapi({ description: 'ISO 8601 with offset, or epoch milliseconds', example: '2026-11-28T12:00:00Z' });

const Money = z.number().finite().min(0).max(1e12);
const Currency = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR');
const Country = z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as DE');
const Ip = IpAddressSchema;
// No NUL: no browser sends one, and PostgreSQL cannot store it.
const UserAgent = z
  .string()
  .max(1024)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what the pattern refuses
  .regex(/^[^\u0000]*$/, 'expected a user agent without NUL characters');
// Absolute, with an authority and no whitespace or NUL. Only the referrer's host and the landing path and UTM
// parameters are kept, all found by their delimiters, so a full WHATWG parse (twice per click) buys nothing.
const Url = z
  .string()
  .max(4096)
  .regex(
    // No flags: the pattern is published in the OpenAPI document, where a regex has none.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what the pattern refuses
    /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/?#\u0000]+[^\s\u0000]*$/,
    'expected an absolute URL such as https://shop.example/p/1',
  );

/**
 * An optional field that a client may also send empty: browsers give `document.referrer === ''` for direct
 * traffic, in-app browsers and stripped referrers, and integrations pass that on. Empty is stored as absent.
 */
function optionalOrEmpty<T extends z.ZodType<string>>(schema: T, description: string) {
  return z
    .union([z.literal('').transform(() => undefined), schema])
    .optional()
    .openapi({ description: `${description}; an empty string counts as absent` });
}

const ClickSchema = z
  .strictObject({
    id: id('event id'),
    type: z.literal('click'),
    ts: Timestamp,
    affiliateId: id('affiliate id'),
    campaignId: optionalOrEmpty(id('campaign id'), 'The campaign of the link'),
    clickId: id('click id'),
    ip: Ip,
    userAgent: UserAgent,
    referrer: optionalOrEmpty(Url, 'The page the visitor came from; absent or empty for direct traffic'),
    landingUrl: optionalOrEmpty(
      Url,
      'The page the link led to, with or without a query string; send it whole: its host, path and UTM ' +
        'parameters are kept, and whether it carried a search-ad click id (gclid, msclkid …, never the id ' +
        'itself); the rest is dropped',
    ),
    subjectId: optionalOrEmpty(id('subject id'), 'The visitor, where known'),
    country: optionalOrEmpty(Country, 'Where the click came from'),
  })
  .openapi('Click');

const ConversionSchema = z
  .strictObject({
    id: id('event id'),
    type: z.literal('conversion'),
    ts: Timestamp,
    affiliateId: optionalOrEmpty(
      id('affiliate id'),
      'The affiliate credited; absent for a sale by coupon alone',
    ),
    campaignId: optionalOrEmpty(id('campaign id'), 'The campaign credited'),
    clickId: optionalOrEmpty(id('click id'), 'The click credited; absent for a sale by coupon alone'),
    orderId: id('order id'),
    subjectId: optionalOrEmpty(id('subject id'), 'The customer, where known; absent for a guest checkout'),
    amount: Money,
    currency: Currency,
    couponCode: optionalOrEmpty(z.string().min(1).max(64), 'The coupon code used'),
    ip: Ip,
    userAgent: UserAgent,
    newCustomer: z.boolean().optional(),
    country: optionalOrEmpty(Country, 'Where the order was placed'),
  })
  .openapi('Conversion');

const RefundSchema = z
  .strictObject({
    id: id('event id'),
    type: z.literal('refund'),
    ts: Timestamp,
    orderId: id('order id'),
    amount: Money,
    currency: Currency,
    reason: z
      .string()
      .max(500)
      .optional()
      .openapi({
        description:
          'Free text, scrubbed of personal data at ingest. A reason naming a chargeback, a dispute, fraud, an ' +
          'unauthorised payment or a stolen card marks the sale as disputed for fraud detection.',
        example: 'chargeback',
      }),
  })
  .openapi('Refund');

const AffiliateEventSchema = z.discriminatedUnion('type', [ClickSchema, ConversionSchema, RefundSchema]);
export type AffiliateEvent = z.infer<typeof AffiliateEventSchema>;

/** Hard ceiling of the schema; the configured `maxBatchItems` (413 past it) is usually lower. */
const SCHEMA_MAX_ITEMS = 100_000;

export const EventBatchSchema = z.strictObject({
  events: z.array(AffiliateEventSchema).min(1).max(SCHEMA_MAX_ITEMS),
});

/** The batch as documented: with the configured `maxBatchItems` as its `maxItems`, the limit the route applies. */
export function documentedEventBatch(maxBatchItems: number) {
  return z.strictObject({ events: z.array(AffiliateEventSchema).min(1).max(maxBatchItems) });
}

/**
 * The same schema compiled ahead of time (zod's `compile`): a generated validator for the hottest route, about
 * four times faster than the interpreted parse, which it falls back to for the issues of an invalid batch. It
 * runs only when called synchronously, so the events route calls it itself instead of through the async
 * request validator. `strict` makes a schema change the compiler cannot model fail at load, not silently slow.
 */
export const CompiledEventBatchSchema = zod.compile(EventBatchSchema, { strict: true });

const AffiliateSchema = z
  .strictObject({
    id: id('affiliate id'),
    name: z.string().min(1).max(200),
    couponCodes: z
      .array(
        z
          .string()
          .min(1)
          .max(64)
          .regex(/^[\w-]+$/, 'expected letters, digits, _ or -'),
      )
      .max(100),
    subjectId: id('subject id').optional(),
    payoutAccount: z.string().min(1).max(128).optional(),
    searchAdsAllowed: z
      .boolean()
      .optional()
      .openapi({
        description:
          "Whether the programme allows this affiliate to run search ads (a price comparison site's product ads, " +
          "say). Its clicks through search ads are then not counted as bidding on the shop's brand. Absent: false.",
      }),
  })
  .openapi('Affiliate');
export type Affiliate = z.infer<typeof AffiliateSchema>;

/** One affiliate, or a batch of at most `maxBatchItems` (the route answers 413 past it, before this schema). */
export function affiliateBody(maxBatchItems: number) {
  return z.union([
    AffiliateSchema,
    z.strictObject({ affiliates: z.array(AffiliateSchema).min(1).max(maxBatchItems) }),
  ]);
}

export const PayoutRequestSchema = z
  .strictObject({
    id: id('payout id'),
    affiliateId: id('affiliate id'),
    periodStart: Timestamp,
    periodEnd: Timestamp,
    amount: Money,
    currency: Currency,
  })
  .refine((p) => p.periodStart < p.periodEnd, {
    message: 'periodEnd must be after periodStart',
    path: ['periodEnd'],
  })
  .openapi('PayoutRequest');
export type PayoutRequest = z.infer<typeof PayoutRequestSchema>;
