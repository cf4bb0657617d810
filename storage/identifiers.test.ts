import { createHmac } from 'node:crypto';
import { isIPv4 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashIdentifier, ipv4Network, truncateIp } from './identifiers.ts';

const secret = Buffer.from('k'.repeat(32));

describe('truncateIp', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['10.1.2.3', '10.1.2.0/24'],
    ['2001:db8:1234:5678::1', '2001:db8:1234::/48'],
    ['2001:0db8:0001:0000:0000:0000:0000:0001', '2001:db8:1::/48'],
    ['::1', '0:0:0::/48'],
    ['::ffff:198.51.100.9', '198.51.100.0/24'],
    ['fe80::1%eth0', 'fe80:0:0::/48'],
  ])('%s → %s', (ip, prefix) => {
    expect(truncateIp(ip)).toBe(prefix);
  });

  it.each(['', 'localhost', '1.2.3', '256.1.1.1', '1:2:3:4:5:6:7:8:9', 'x::y'])('refuses %j', (value) => {
    expect(truncateIp(value)).toBeUndefined();
  });

  it('never keeps the host part of any IPv4 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const prefix = truncateIp(ip) ?? '';
        expect(prefix.endsWith('.0/24')).toBe(true);
        expect(prefix.split('.').slice(0, 3)).toEqual(
          ip
            .split('.')
            .slice(0, 3)
            .map((o) => String(Number(o))),
        );
      }),
    );
  });

  it('gives a /48 for any IPv6 address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        expect(truncateIp(ip)).toMatch(/^([0-9a-f]{1,4}:){2}[0-9a-f]{1,4}::\/48$|^\d+\.\d+\.\d+\.0\/24$/);
      }),
    );
  });
});

describe('ipv4Network', () => {
  it('accepts exactly what isIPv4 accepts, and gives its first three parts', () => {
    const ipLike = fc
      .array(fc.oneof(fc.nat(300).map(String), fc.constantFrom('', '00', '01', '007', '1a', ' 1', '-1')), {
        minLength: 2,
        maxLength: 5,
      })
      .map((parts) => parts.join('.'));
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), ipLike, fc.string({ maxLength: 20 })), (value) => {
        const network = ipv4Network(value);
        expect(network !== undefined).toBe(isIPv4(value));
        if (network !== undefined) expect(network).toBe(`${value.split('.').slice(0, 3).join('.')}.0/24`);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('hashIdentifier', () => {
  it('is HMAC-SHA256 of "<kind>:<value>" under the secret, 128 bits in hex (stored hashes depend on it)', () => {
    for (const [kind, value] of [
      ['ip', '203.0.113.5'],
      ['subject', 'user-1'],
    ] as const) {
      const expected = createHmac('sha256', secret).update(`${kind}:${value}`).digest('hex').slice(0, 32);
      expect(hashIdentifier(secret, kind, value)).toBe(expected);
    }
    expect(hashIdentifier(Buffer.from('other'.repeat(8)), 'ip', '203.0.113.5')).not.toBe(
      hashIdentifier(secret, 'ip', '203.0.113.5'),
    );
  });

  it('equals HMAC-SHA256 for any secret (shorter or longer than a block) and any value', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.string({ unit: 'grapheme', maxLength: 1500 }),
        (key, value) => {
          const keyBuffer = Buffer.from(key);
          const expected = createHmac('sha256', keyBuffer).update(`ip:${value.trim()}`).digest('hex');
          expect(hashIdentifier(keyBuffer, 'ip', value)).toBe(expected.slice(0, 32));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('equals HMAC-SHA256 for values around one block (ASCII or not, 0 to 70 bytes with the prefix)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.oneof(
          fc.string({ maxLength: 70 }),
          fc.string({ unit: 'binary', maxLength: 30 }),
          fc.ipV4(),
          fc.ipV6(),
        ),
        (key, value) => {
          const keyBuffer = Buffer.from(key);
          const expected = createHmac('sha256', keyBuffer).update(`ip:${value.trim()}`).digest('hex');
          expect(hashIdentifier(keyBuffer, 'ip', value)).toBe(expected.slice(0, 32));
        },
      ),
      { numRuns: 2000 },
    );
    // Each length across the one-block boundary (55 bytes with the prefix) once.
    for (let length = 40; length <= 70; length += 1) {
      const value = 'x'.repeat(length);
      const expected = createHmac('sha256', secret).update(`ip:${value}`).digest('hex').slice(0, 32);
      expect(hashIdentifier(secret, 'ip', value)).toBe(expected);
    }
  });

  it('is stable, keyed, separated by kind, and not the input', () => {
    const a = hashIdentifier(secret, 'ip', '203.0.113.7');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(hashIdentifier(secret, 'ip', '203.0.113.7')).toBe(a);
    expect(hashIdentifier(Buffer.from('o'.repeat(32)), 'ip', '203.0.113.7')).not.toBe(a);
    expect(hashIdentifier(secret, 'device', '203.0.113.7')).not.toBe(a);
  });

  it('matches emails regardless of case and surrounding space', () => {
    expect(hashIdentifier(secret, 'email', ' Anna@Example.com ')).toBe(
      hashIdentifier(secret, 'email', 'anna@example.com'),
    );
  });
});
