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
  ])('%s → %s', (raw, template) => {
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
