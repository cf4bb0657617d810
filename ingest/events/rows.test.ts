import { describe, expect, it } from 'vitest';
import { hashIdentifier } from '../../storage/identifiers.ts';
import { decodeBatch } from '../write-path/journal.ts';
import { type AffiliateEvent, EventBatchSchema } from './schemas.ts';
import { checkRow, eventRowBatch, rowColumns } from './store.ts';

const secret = Buffer.from('s'.repeat(32));
const receivedAt = '2026-11-29T15:00:00.000Z';

/** Events of every type with every field set, each to a value of its own. */
const events = EventBatchSchema.parse({
  events: [
    {
      id: 'e-click',
      type: 'click',
      ts: '2026-11-29T10:00:00Z',
      affiliateId: 'aff-1',
      campaignId: 'camp-1',
      clickId: 'c-1',
      ip: '203.0.113.77',
      userAgent: 'UA/1',
      referrer: 'https://WWW.Instagram.com/p/x?igshid=secret',
      landingUrl:
        'https://shop.example/p/42?utm_source=ig&utm_medium=story&utm_campaign=bf&utm_term=t&utm_content=c',
      subjectId: 'subject-1',
      country: 'DE',
    },
    {
      id: 'e-conversion',
      type: 'conversion',
      ts: '2026-11-29T11:00:00Z',
      affiliateId: 'aff-2',
      campaignId: 'camp-2',
      clickId: 'c-2',
      orderId: 'o-2',
      subjectId: 'subject-2',
      amount: 49.99,
      currency: 'EUR',
      couponCode: 'anna10',
      ip: '2001:db8:1234:5678::9',
      userAgent: 'UA/2',
      newCustomer: false,
      country: 'FR',
    },
    {
      id: 'e-refund',
      type: 'refund',
      ts: '2026-11-29T12:00:00Z',
      orderId: 'o-2',
      amount: 10,
      currency: 'EUR',
      reason: 'damaged',
    },
  ],
}).events as AffiliateEvent[];

describe('event rows', () => {
  it('puts every field of each type in its own column, identifiers minimised', () => {
    const [click, conversion, refund] = events.map((e) => rowColumns(e, secret, receivedAt));
    expect(click).toEqual({
      id: 'e-click',
      ts: '2026-11-29T10:00:00.000Z',
      affiliate_id: 'aff-1',
      campaign_id: 'camp-1',
      click_id: 'c-1',
      subject_id: 'subject-1',
      ip_hash: hashIdentifier(secret, 'ip', '203.0.113.77'),
      ip_prefix: '203.0.113.0/24',
      user_agent: 'UA/1',
      referrer_host: 'www.instagram.com',
      landing_path: '/p/42',
      utm_source: 'ig',
      utm_medium: 'story',
      utm_campaign: 'bf',
      utm_term: 't',
      utm_content: 'c',
      country: 'DE',
      received_at: receivedAt,
      ad_click: null,
      landing_host: 'shop.example',
    });
    expect(conversion).toEqual({
      id: 'e-conversion',
      ts: '2026-11-29T11:00:00.000Z',
      affiliate_id: 'aff-2',
      campaign_id: 'camp-2',
      click_id: 'c-2',
      order_id: 'o-2',
      subject_id: 'subject-2',
      amount: 49.99,
      currency: 'EUR',
      coupon_code: 'ANNA10',
      ip_hash: hashIdentifier(secret, 'ip', '2001:db8:1234:5678::9'),
      ip_prefix: '2001:db8:1234::/48',
      user_agent: 'UA/2',
      country: 'FR',
      new_customer: 0,
      received_at: receivedAt,
    });
    expect(refund).toEqual({
      id: 'e-refund',
      ts: '2026-11-29T12:00:00.000Z',
      order_id: 'o-2',
      amount: 10,
      currency: 'EUR',
      reason: 'damaged',
      received_at: receivedAt,
    });
  });

  it('leaves the optional fields a type omits NULL', () => {
    const [bare] = EventBatchSchema.parse({
      events: [
        {
          id: 'e',
          type: 'click',
          ts: 0,
          affiliateId: 'a',
          clickId: 'c',
          ip: '198.51.100.1',
          userAgent: '',
        },
      ],
    }).events as AffiliateEvent[];
    const row = rowColumns(bare as AffiliateEvent, secret, receivedAt);
    for (const column of [
      'campaign_id',
      'subject_id',
      'referrer_host',
      'landing_path',
      'utm_source',
      'country',
    ])
      expect(row[column as keyof typeof row]).toBeNull();
  });

  it('checks a row has its type’s length and its id, time and arrival', () => {
    const { types, values } = eventRowBatch(events, secret, receivedAt);
    types.forEach((type, i) => {
      expect(() => checkRow(type, values[i])).not.toThrow();
    });
    expect(() => checkRow('click', (values[0] as unknown[]).slice(1))).toThrow(/not a row/);
    const withoutTs = [...(values[2] as unknown[])];
    withoutTs[1] = null;
    expect(() => checkRow('refund', withoutTs)).toThrow(/without ts/);
    const withoutArrival = [...(values[1] as unknown[])];
    withoutArrival[withoutArrival.length - 1] = undefined;
    expect(() => checkRow('conversion', withoutArrival)).toThrow(/without received_at/);
    expect(() => checkRow('refund', 'e-refund')).toThrow(/not a row/);
  });

  it('applies a click journaled before the ad-click and landing-host columns were appended, with them NULL', () => {
    const { values } = eventRowBatch(events, secret, receivedAt);
    const first = (values[0] as unknown[]).slice(0, -2);
    const second = (values[0] as unknown[]).slice(0, -1);
    for (const before of [first, second]) {
      const decoded = decodeBatch(JSON.stringify({ types: ['click'], values: [before] }));
      expect(decoded.values[0]).toEqual([...before, ...(before === first ? [null, null] : [null])]);
      expect(() => checkRow('click', decoded.values[0])).not.toThrow();
    }
    // Only the appended columns are made up: a row shorter still is refused as before.
    const broken = decodeBatch(JSON.stringify({ types: ['click'], values: [first.slice(1)] }));
    expect(() => checkRow('click', broken.values[0])).toThrow(/not a row/);
  });
});
