import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBatchSchema } from './schemas.ts';
import { landing } from './store.ts';

const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;

describe('landing URL reduction', () => {
  it('keeps the path and the UTM parameters, and nothing else of the query', () => {
    expect(
      landing('https://shop.example/p/42?email=a%40b.c&utm_source=insta+gram&utm_campaign=bf%2025#top'),
    ).toEqual({
      landing_host: 'shop.example',
      landing_path: '/p/42',
      utm_source: 'insta gram',
      utm_medium: null,
      utm_campaign: 'bf 25',
      utm_term: null,
      utm_content: null,
      ad_click: null,
    });
    expect(landing('https://shop.example')?.landing_path).toBe('/');
    expect(landing('https://shop.example?utm_source=x')).toMatchObject({
      landing_path: '/',
      utm_source: 'x',
    });
    expect(landing('https://shop.example/#?utm_source=x')).toMatchObject({
      landing_path: '/',
      utm_source: null,
    });
    expect(landing('https://shop.example/?utm_source=%E0%A4%A')?.utm_source).toBe('%E0%A4%A');
  });

  it('keeps the name of a search-ad click id, never its value, and ignores the link ids social networks add', () => {
    const gclid = landing('https://shop.example/p/1?utm_source=aff-7&gclid=Cj0KCQiA_secret-value&x=1');
    expect(gclid.ad_click).toBe('gclid');
    expect(JSON.stringify(gclid)).not.toContain('secret-value');
    expect(landing('https://shop.example/?msclkid=0f3a9b&gclid=Cj0')?.ad_click).toBe('msclkid');
    expect(landing('https://shop.example/?%67braid=x')?.ad_click).toBe('gbraid');
    for (const key of ['wbraid', 'yclid'])
      expect(landing(`https://shop.example/?${key}=1`).ad_click).toBe(key);
    // Facebook adds fbclid to every outbound link, paid or not; TikTok and others likewise.
    for (const url of [
      'https://shop.example/p/1?fbclid=IwAR0abc',
      'https://shop.example/p/1?ttclid=E.C.P',
      'https://shop.example/p/1?utm_source=google&utm_medium=cpc',
      'https://shop.example/p/1#gclid=x',
      'https://shop.example/p/1?gclidx=1&xgclid=2',
      'https://shop.example/p/1',
    ])
      expect(landing(url).ad_click, url).toBeNull();
  });

  it('reads UTM parameters as the WHATWG URL parser does', () => {
    const param = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(
        fc.webUrl(),
        fc.array(fc.tuple(fc.constantFrom(...UTM, 'ref', 'utm_x'), param), { maxLength: 6 }),
        fc.boolean(),
        (base, pairs, encodedFirst) => {
          // Keys as a browser may send them too: with a letter percent-encoded (`utm%5Fsource`, `%75tm_term`).
          const encoded = pairs.map(([key, value], i) => {
            const at = i % (key.length + 1);
            const escaped =
              at < key.length
                ? `${key.slice(0, at)}%${key.charCodeAt(at).toString(16)}${key.slice(at + 1)}`
                : key;
            return `${escaped}=${encodeURIComponent(value)}`;
          });
          const plain = new URLSearchParams(pairs).toString();
          const query = (encodedFirst ? [...encoded, plain] : [plain, ...encoded]).filter(Boolean).join('&');
          const url = `${base.split(/[?#]/)[0]}${query ? `?${query}` : ''}`;
          const parsed = new URL(url);
          const fields = landing(url);
          for (const key of UTM)
            expect(fields[key]).toBe(parsed.searchParams.get(key)?.slice(0, 200) ?? null);
        },
      ),
    );
  });

  it('keeps the host as the WHATWG URL parser reads it, without user, password or port', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        expect(landing(url).landing_host).toBe(new URL(url).hostname);
      }),
    );
    expect(landing('https://user:pw@Shop.Example:8443/p/1?x=1').landing_host).toBe('shop.example');
    expect(landing('https://[2001:db8::1]:8080/p').landing_host).toBe('[2001:db8::1]');
    expect(landing('https://shop.example?utm_source=x').landing_host).toBe('shop.example');
  });
});

describe('event timestamps', () => {
  const click = (ts: unknown) => ({
    events: [
      { id: 'e1', type: 'click', ts, affiliateId: 'a', clickId: 'c', ip: '203.0.113.9', userAgent: 'UA' },
    ],
  });
  const normalised = (ts: unknown) => {
    const result = EventBatchSchema.safeParse(click(ts));
    return result.success ? result.data.events[0]?.ts : 'rejected';
  };

  it('normalises every accepted form to UTC with milliseconds', () => {
    expect(normalised('2026-11-28T12:00:00Z')).toBe('2026-11-28T12:00:00.000Z');
    expect(normalised('2026-11-28T12:00:00.123Z')).toBe('2026-11-28T12:00:00.123Z');
    expect(normalised('2026-11-28T12:00:00.5Z')).toBe('2026-11-28T12:00:00.500Z');
    expect(normalised('2026-11-28T13:00:00+01:00')).toBe('2026-11-28T12:00:00.000Z');
    expect(normalised(Date.UTC(2026, 10, 28, 12))).toBe('2026-11-28T12:00:00.000Z');
  });

  it('refuses dates that do not exist', () => {
    expect(normalised('2026-02-30T00:00:00Z')).toBe('rejected');
    expect(normalised('2026-13-01T00:00:00Z')).toBe('rejected');
    expect(normalised('2026-11-28 12:00:00Z')).toBe('rejected');
  });

  it('accepts only absolute URLs with an authority as referrer and landing URL', () => {
    const withReferrer = (referrer: string) =>
      EventBatchSchema.safeParse({
        events: [{ ...click('2026-11-28T12:00:00Z').events[0], referrer }],
      }).success;
    expect(withReferrer('https://www.instagram.com/')).toBe(true);
    expect(withReferrer('android-app://com.google.android.gm/')).toBe(true);
    for (const bad of ['instagram.com', 'javascript:alert(1)', 'https://', 'https://a b.com/', '/p/1'])
      expect(withReferrer(bad), bad).toBe(false);
  });
});
