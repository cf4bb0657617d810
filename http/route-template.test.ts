import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedLabel, templatePath } from './route-template.ts';

describe('templatePath', () => {
  it.each([
    ['/', '/'],
    ['/products/123', '/products/:id'],
    ['/products/123/', '/products/:id'],
    ['/Checkout?step=2&email=a@b.c', '/checkout'],
    ['/orders/550e8400-e29b-41d4-a716-446655440000/items', '/orders/:id/items'],
    ['/u/anna@example.com', '/u/:id'],
    ['/c/summer-sale', '/c/summer-sale'],
    ['/p/SKU9A8B7C6D', '/p/:id'],
    ['/api/v2/cart', '/api/v2/cart'],
    ['https://shop.example/products/42?utm_source=x#top', '/products/:id'],
    ['/a/b/c/d/e/f/g/h', '/a/b/c/d/e/f'],
    ['/bad/%E0%A4%A', '/bad/:id'],
    ['/checkout/step-3', '/checkout/step-3'],
    ['/assets/app.js', '/assets/app.js'],
    ['/index.html', '/index.html'],
    ['/static/Logo.PNG', '/static/logo.png'],
    ['/static/app.min.js', '/static/app.min.js'],
    ['/static/app.3f9a2c1b.js', '/static/:id'],
    ['/orders/{id}/items', '/orders/:id/items'],
    ['/orders/:id/items', '/orders/:id/items'],
    ['/users/{userId}/:tab', '/users/:userId/:tab'],
  ])('%s → %s', (raw, template) => {
    expect(templatePath(raw)).toBe(template);
  });

  it.each([
    ['/api/geo/203.0.113.45', '/api/geo/:id'],
    ['/track/203.0.113.99/x', '/track/:id/x'],
    ['/api/users/jane.doe/profile', '/api/users/:id/profile'],
    ['/users/jane/profile', '/users/:id/profile'],
    ['/u/jane', '/u/:id'],
    ['/creators/bigstar/links', '/creators/:id/links'],
    ['/@jane/posts', '/:id/posts'],
    ['/p/jane.doe', '/p/:id'],
    ['/hosts/2001:db8::1/stats', '/hosts/:id/stats'],
    ['/hosts/[2001:db8::1]', '/hosts/:id'],
    ['/unsubscribe/alice%40example.com', '/unsubscribe/:id'],
    ['/c/summer%20sale', '/c/:id'],
    ['/search/jörg', '/search/:id'],
    ['/r/abc123', '/r/:id'],
    ['/v/h264', '/v/:id'],
    [`/w/${'a'.repeat(33)}`, '/w/:id'],
  ])('keeps no identifier: %s → %s', (raw, template) => {
    expect(templatePath(raw)).toBe(template);
  });

  it('never keeps digits-only segments or query strings', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        const t = templatePath(url);
        expect(t.startsWith('/')).toBe(true);
        expect(t).not.toMatch(/[?#]/);
        expect(t.split('/').some((s) => /^\d+$/.test(s))).toBe(false);
      }),
    );
  });
});

/** The extensions `templatePath` keeps as a static file's (`app.js`, `logo.png`). */
const FILE_EXTENSIONS = new Set(
  'js mjs css map htm html json txt xml webmanifest png jpg jpeg gif svg webp avif ico woff woff2 ttf pdf'.split(
    ' ',
  ),
);

describe('templatePath and identifiers', () => {
  const name = fc.stringMatching(/^[a-z]{2,10}$/);
  const identifier = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    // A path carries `/`, `?` and `#` of an address's local part percent-encoded, never raw.
    fc.emailAddress().filter((e) => !/[/?#]/.test(e)),
    fc
      .emailAddress()
      .filter((e) => !/[/?#]/.test(e))
      .map((e) => e.replace('@', '%40')),
    // `anna.js` or `logo.map` is a static file's name, by design kept literal: no surname is a file extension.
    fc
      .tuple(
        name,
        name.filter((last) => !FILE_EXTENSIONS.has(last)),
      )
      .map(([first, last]) => `${first}.${last}`),
  );
  const word = fc.constantFrom('api', 'shop', 'checkout', 'v2', 'products', 'users', 'geo', 'track');

  it('contains none of the IPs, emails or first.last names placed as any segment of a path', () => {
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 4 }),
        identifier,
        fc.array(word, { maxLength: 4 }),
        (before, id, after) => {
          const template = templatePath(`/${[...before, id, ...after].join('/')}`);
          const segments = template.split('/');
          expect(segments).not.toContain(id.toLowerCase());
          expect(template.toLowerCase()).not.toContain(id.toLowerCase());
          // Without its separator: the local part of an email, the first name of first.last.
          const head = id.split(/@|%40|\./)[0] ?? '';
          if (head.length >= 3 && !/^\d+$/.test(head) && before.length + 1 <= 6)
            expect(segments[before.length + 1]).toBe(':id');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('BoundedLabel', () => {
  it('keeps the first values up to the cap, then reports new ones as other', () => {
    const label = new BoundedLabel(2);
    expect(['/a', '/b', '/c', '/a', '/d', '/b'].map((v) => label.label(v))).toEqual([
      '/a',
      '/b',
      'other',
      '/a',
      'other',
      '/b',
    ]);
  });
});
