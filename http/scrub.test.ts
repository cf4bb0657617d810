import { domainToASCII } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandIPv6, hashIdentifier, truncateIp } from '../storage/identifiers.ts';
import { scrubPath, scrubQueryValue, scrubText } from './scrub.ts';

const secret = Buffer.from('s'.repeat(32));
const runs = { numRuns: 400 };

/*
 * What erasure looks for: the keyed hash of an address as the data subject gives it (`retention/subject-data.ts`
 * hashes the DPO's plain `alice@example.com` / `198.51.100.23`). Built here from `identifiers.ts` alone, not from
 * the scrubber's own token functions, so a scrubber that hashes another form of the address fails.
 */
function soughtEmail(plain: string): string {
  return `email:${hashIdentifier(secret, 'email', plain)}`;
}

function soughtIp(plain: string): string {
  return `ip:${truncateIp(plain)}#${hashIdentifier(secret, 'ip', plain)}`;
}

/** The address a data subject knows an IPv6 address by: an IPv4-mapped one is its IPv4 address. */
function plainIp(ip: string): string {
  const groups = expandIPv6(ip);
  if (!groups?.slice(0, 5).every((g) => g === 0) || groups[5] !== 0xffff) return ip;
  const hi = groups[6] ?? 0;
  const lo = groups[7] ?? 0;
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

const WORD_CHARACTER = /[\p{L}\p{N}\p{M}]/u;

/**
 * Erasure finds `token` in `text`: browser telemetry by substring (`instr`), server logs through FTS5, whose
 * words are runs of letters, digits and marks, so the hash must not run on into the text after it.
 */
function expectFindable(text: string, token: string): void {
  expect(text).toContain(token);
  const after = text.charAt(text.indexOf(token) + token.length);
  expect(after, `${text} runs on after ${token}`).not.toMatch(WORD_CHARACTER);
}

const TOKEN = /email:[0-9a-f]{32}|ip:(?:[0-9a-f.:]+\/\d\d|unknown)#[0-9a-f]{32}/g;

/** The text with every token cut out (a NUL in its place, so the text either side cannot join into an address). */
function outsideTokens(text: string): string {
  return text.replace(TOKEN, '\u0000');
}

const word = fc.stringMatching(/^[a-z]{1,8}$/);

/*
 * Emails as logs carry them. fc.emailAddress() follows RFC 5322, whose local part may also hold
 * `! # $ % & ' * / = ? ^ ` { | } ~`: real mailboxes almost never use them, and in logs they separate an address
 * from its context (`email=…`, `/users/…`, `%40`), which is where the scrubber ends a local part. Each is
 * replaced by one of `_ + -`, which mailboxes do use. A domain has at most 16 labels before its top level (the
 * scrubber's bound; real ones have a handful).
 */
const email = fc
  .emailAddress()
  .map((address) => {
    const at = address.lastIndexOf('@');
    const local = address.slice(0, at).replace(/[^a-z0-9._+-]/g, (c) => '_+-'.charAt(c.charCodeAt(0) % 3));
    return `${local}${address.slice(at)}`;
  })
  .filter((address) => address.slice(address.lastIndexOf('@') + 1).split('.').length <= 17);

/** An ASCII address as it may be written (the subject gives it in lower case; hashing ignores case). */
const writtenEmail = fc
  .tuple(email, fc.constantFrom('lower', 'upper', 'capitalised'))
  .map(([address, casing]) => ({
    plain: address,
    written:
      casing === 'upper'
        ? address.toUpperCase()
        : casing === 'capitalised'
          ? address.replace(/(^|[._@])([a-z])/g, (_, before: string, c: string) => before + c.toUpperCase())
          : address,
  }));

const ASCII_LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const NON_ASCII_LETTERS =
  'äöüßéèêñçøåæłśźżčšžőűабвгджзиклмнопрстуфхцчшыэюяαβγδεζηθικλμνξοπρστυφχψω中文字例测试日本語';
const asciiRun = fc.string({ unit: fc.constantFrom(...ASCII_LETTERS), maxLength: 6 });
const nonAsciiRun = fc.string({ unit: fc.constantFrom(...NON_ASCII_LETTERS), minLength: 1, maxLength: 4 });
/** A run of letters with at least one beyond ASCII (`jörg`, `ana.maría`, `иван`). */
const mixedRun = fc.tuple(asciiRun, nonAsciiRun, asciiRun).map((parts) => parts.join(''));
const labelRun = fc.oneof(mixedRun, fc.stringMatching(/^[a-z0-9]{1,8}$/));
const topLevel = fc.oneof(fc.stringMatching(/^[a-z]{2,6}$/), fc.constantFrom('рф', '中国', 'ελ', 'укр'));

/** Addresses with non-ASCII letters in the local part, the domain, or both; the domain is valid IDNA. */
const internationalEmail = fc
  .record({
    local: fc.oneof(
      fc.array(labelRun, { minLength: 1, maxLength: 3 }).map((runs) => runs.join('.')),
      fc.stringMatching(/^[a-z0-9]{1,8}$/),
    ),
    labels: fc.array(labelRun, { minLength: 1, maxLength: 3 }),
    tld: topLevel,
  })
  .map(({ local, labels, tld }) => ({ local, domain: [...labels, tld].join('.') }))
  .filter(({ local, domain }) => /\P{ASCII}/u.test(local + domain) && domainToASCII(domain) !== '')
  .map(({ local, domain }) => ({ local, domain, address: `${local}@${domain}` }));

const emailPrefix = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'user=',
    'email=',
    'mailto:',
    '<',
    '"',
    "'",
    '(',
    ',',
    ':',
    '/',
    '[',
    'to: ',
    '\t',
    '\n',
  ),
  word.map((w) => `${w} `),
  fc.tuple(word, fc.constantFrom('=', ': ', '/', ' <', ' (')).map(([w, s]) => w + s),
);
const emailSuffix = fc.oneof(
  fc.constantFrom('', ' ', '>', '"', "'", ')', ',', ';', '.', ':', '/', '?', ']', '&x=1', '\n'),
  word.map((w) => ` ${w}`),
  word.map((w) => `. ${w}`),
);

// `::` alone names no one, and in text is a separator far more often than the unspecified address.
const ipv6 = fc.ipV6().filter((ip) => ip !== '::');
const mappedIpv6 = fc.ipV4().map((ip) => `::ffff:${ip}`);

/*
 * A key written right before an address (`peer:2001:db8::1`) has a letter beyond `f`: `cafe:2001:db8::1` is itself
 * a valid IPv6 address, so a key of hex letters reads as one more group, and a one-letter key as well.
 */
const key = fc
  .tuple(fc.stringMatching(/^[a-z]{0,4}$/), fc.stringMatching(/^[g-z]$/), fc.stringMatching(/^[a-z]{1,4}$/))
  .map((parts) => parts.join(''));

const ipPrefix = fc.oneof(
  fc.constantFrom('', ' ', 'ip_', 'ip=', 'ip:', 'client ', 'from ', '(', '"', "'", '<', ',', '/', '\t'),
  word.map((w) => `${w} `),
  fc.tuple(word, fc.constantFrom('=', ': ', ' (', '_')).map(([w, s]) => w + s),
  key.map((k) => `${k}:`),
);
const ipSuffix = fc.oneof(
  fc.constantFrom('', ' ', ')', '"', "'", '>', ',', '.', ';', '/', ': refused', '\n'),
  word.map((w) => ` ${w}`),
  word.map((w) => `. ${w}`),
);
/** An IPv6 address as text around it writes it: bare, bracketed with a port, with a zone or a prefix length. */
const writtenIpv6 = (ip: string) => fc.constantFrom(ip, `[${ip}]`, `[${ip}]:8443`, `${ip}%eth0`, `${ip}/64`);
const writtenIpv4 = (ip: string) => fc.constantFrom(ip, `${ip}:8443`, `${ip}/24`);

/** Text with an address in it: the plain address, and the text as it is written. */
interface Placed {
  plain: string;
  written: string;
  prefix: string;
  suffix: string;
}

function placed(
  plain: fc.Arbitrary<{ plain: string; written: string }>,
  prefix: fc.Arbitrary<string>,
  suffix: fc.Arbitrary<string>,
) {
  return fc
    .record({ address: plain, prefix, suffix })
    .map(({ address, prefix, suffix }): Placed => ({ ...address, prefix, suffix }));
}

const placedEmail = placed(writtenEmail, emailPrefix, emailSuffix);
const placedIpv4 = placed(
  fc.ipV4().chain((ip) => writtenIpv4(ip).map((written) => ({ plain: ip, written }))),
  ipPrefix,
  ipSuffix,
);
const placedIpv6 = placed(
  fc.oneof(ipv6, mappedIpv6).chain((ip) => writtenIpv6(ip).map((written) => ({ plain: ip, written }))),
  ipPrefix,
  ipSuffix,
);

function scrubbedOf({ prefix, written, suffix }: Placed): string {
  return scrubText(secret, `${prefix}${written}${suffix}`);
}

/** The address does not survive: neither whole nor, for an email, its local part of three characters or more. */
function expectNoRawEmail(scrubbed: string, written: string, surroundings: string): void {
  const rest = outsideTokens(scrubbed).toLowerCase();
  const address = written.toLowerCase();
  const local = address.slice(0, address.lastIndexOf('@'));
  expect(rest).not.toContain(address);
  if (local.length >= 3 && !surroundings.toLowerCase().includes(local)) expect(rest).not.toContain(local);
}

function expectNoRawIp(scrubbed: string, ip: string, surroundings: string): void {
  if (!surroundings.includes(ip)) expect(outsideTokens(scrubbed)).not.toContain(ip);
}

describe('scrubText', () => {
  describe('emails', () => {
    it('leaves none of an address, wherever it stands', () => {
      fc.assert(
        fc.property(placedEmail, (p) => {
          expectNoRawEmail(scrubbedOf(p), p.written, p.prefix + p.suffix);
        }),
        runs,
      );
    });

    it('puts the token erasure searches for (from the plain address) in its place', () => {
      fc.assert(
        fc.property(placedEmail, (p) => {
          expectFindable(scrubbedOf(p), soughtEmail(p.plain));
        }),
        runs,
      );
    });

    it('replaces an address with non-ASCII letters whole, by the token of the address as the subject gives it', () => {
      fc.assert(
        fc.property(internationalEmail, emailPrefix, emailSuffix, ({ local, address }, prefix, suffix) => {
          const scrubbed = scrubText(secret, `${prefix}${address}${suffix}`);
          expectNoRawEmail(scrubbed, address, prefix + suffix);
          if (!(prefix + suffix).includes(local)) expect(outsideTokens(scrubbed)).not.toContain(local);
          expectFindable(scrubbed, soughtEmail(address));
        }),
        runs,
      );
    });

    it('leaves encoded punctuation around an encoded address out of the address it hashes', () => {
      // Curly quotes are non-ASCII bytes when encoded, as an encoded letter is: taken into the match, left out of
      // the address once decoded, so the token is the plain address's.
      for (const written of [
        'q=%E2%80%9Calice%40example.com%E2%80%9D',
        'to%3A%C2%ABalice%2540example.com%C2%BB',
      ]) {
        const scrubbed = scrubText(secret, written);
        expect(scrubbed).not.toMatch(/alice/);
        expectFindable(scrubbed, soughtEmail('alice@example.com'));
      }
    });

    it('gives an internationalised domain and its punycode form one token', () => {
      fc.assert(
        fc.property(
          internationalEmail,
          emailPrefix,
          emailSuffix,
          ({ local, domain, address }, prefix, suffix) => {
            const punycode = `${local}@${domainToASCII(domain)}`;
            const scrubbed = scrubText(secret, `${prefix}${punycode}${suffix}`);
            expectNoRawEmail(scrubbed, punycode, prefix + suffix);
            expectFindable(scrubbed, soughtEmail(address));
          },
        ),
        runs,
      );
    });

    it('gives an address written decomposed (letters and combining marks) the token of its composed form', () => {
      fc.assert(
        fc.property(internationalEmail, emailPrefix, emailSuffix, ({ address }, prefix, suffix) => {
          const decomposed = address.normalize('NFD');
          const scrubbed = scrubText(secret, `${prefix}${decomposed}${suffix}`);
          expectNoRawEmail(scrubbed, decomposed, prefix + suffix);
          expectFindable(scrubbed, soughtEmail(address));
        }),
        runs,
      );
    });

    it('reads URL-encoded addresses, once or twice encoded, with encoded surroundings', () => {
      const encodedPrefix = fc.constantFrom(
        '',
        ' ',
        '?email=',
        '/users/',
        'q=',
        '%2F',
        '%3D',
        '%20',
        '%3C',
        '%22',
        '%28',
      );
      const encodedSuffix = fc.constantFrom(
        '',
        ' ',
        '&page=2',
        '/orders',
        '%2F',
        '%26',
        '%20',
        '%3E',
        '%22',
        '%29',
        '%2C',
      );
      fc.assert(
        fc.property(
          fc.oneof(
            email,
            internationalEmail.map((e) => e.address),
          ),
          fc.constantFrom(1, 2),
          encodedPrefix,
          encodedSuffix,
          (address, times, prefix, suffix) => {
            const once = encodeURIComponent(address);
            const written = times === 1 ? once : encodeURIComponent(once);
            const scrubbed = scrubText(secret, `${prefix}${written}${suffix}`);
            expect(scrubbed).not.toContain(written);
            expectNoRawEmail(decodeURIComponent(decodeURIComponent(scrubbed)), address, prefix + suffix);
            expectFindable(scrubbed, soughtEmail(address));
          },
        ),
        runs,
      );
    });

    it.each([
      ['alice%40example.com', 'alice@example.com'],
      ['GET /users/alice%40example.com/orders', 'alice@example.com'],
      ['next=%2Fprofile%3Femail%3Dalice%2540example.com', 'alice@example.com'],
      ['alice.smith%2Bshop%40example.co.uk', 'alice.smith+shop@example.co.uk'],
      ['j%C3%B6rg%40b%C3%BCcher.de', 'jörg@bücher.de'],
      ['reason: wrong item, contact Alice.Smith@Example.COM.', 'alice.smith@example.com'],
      ["refund for o'brien@example.ie (duplicate)", "o'brien@example.ie"],
    ])('%s carries the token of %s', (text, plain) => {
      expectFindable(scrubText(secret, text), soughtEmail(plain));
    });

    it('replaces jörg@example.de whole: no jö left, and the token of the plain address', () => {
      const scrubbed = scrubText(secret, 'user=jörg@example.de');
      expect(scrubbed).toBe(`user=${soughtEmail('jörg@example.de')}`);
      expect(scrubbed).not.toContain('jö');
    });

    it('gives bob@bücher.de and bob@xn--bcher-kva.de one token', () => {
      expect(scrubText(secret, 'bob@xn--bcher-kva.de')).toBe(soughtEmail('bob@bücher.de'));
      expect(scrubText(secret, 'bob@bücher.de')).toBe(soughtEmail('bob@bücher.de'));
    });
  });

  describe('IP addresses', () => {
    it.each([
      ['IPv4', placedIpv4],
      ['IPv6', placedIpv6],
    ])('leaves no %s address, wherever it stands', (_, arbitrary) => {
      fc.assert(
        fc.property(arbitrary, (p) => {
          expectNoRawIp(scrubbedOf(p), p.plain, p.prefix + p.suffix);
        }),
        runs,
      );
    });

    it.each([
      ['IPv4', placedIpv4],
      ['IPv6', placedIpv6],
    ])('puts the token erasure searches for in place of an %s address', (_, arbitrary) => {
      fc.assert(
        fc.property(arbitrary, (p) => {
          expectFindable(scrubbedOf(p), soughtIp(plainIp(p.plain)));
        }),
        runs,
      );
    });

    it.each([
      ['ip_198.51.100.23', '198.51.100.23'],
      ['client_ip=198.51.100.23:443 refused', '198.51.100.23'],
      ['from 2a02::1f', '2a02::1f'],
      ['ip_2a02::1f', '2a02::1f'],
      ['peer=fe80::beef,', 'fe80::beef'],
      ['[2001:db8::1]:443', '2001:db8::1'],
      ['from 2001:db8::1: refused', '2001:db8::1'],
      ['blocked 2001:db8:1:2::: too many requests', '2001:db8:1:2::'],
      ['from 64:ff9b::198.51.100.9: refused', '64:ff9b::198.51.100.9'],
      ['peer ::ffff:198.51.100.7: closed', '198.51.100.7'],
      ['::ffff:198.51.100.7', '198.51.100.7'],
      ['remote ::ffff:198.51.100.7 closed', '198.51.100.7'],
    ])('%s carries the token of %s', (text, plain) => {
      const scrubbed = scrubText(secret, text);
      expectFindable(scrubbed, soughtIp(plain));
      expect(outsideTokens(scrubbed)).not.toContain(plain);
    });
  });

  describe('what is no address', () => {
    it.each([
      'std::vector<int> grew',
      'ns::a::b() threw',
      'a::b::c',
      'Cafe::Babe::add(1)',
      'Stack::add(1)',
      'boost::asio::ip::tcp::socket',
      'at 12:30:45 and 23:59:59.999',
      'version 1.2.3, node v20.11.0, 2.0.0-beta.1',
      'took 3.14 s for 1,024 rows',
      'Payment declined: card expired',
      'ratio 16:9',
      'user@ logged out',
      '@alice mentioned',
      '100% done, 50%off',
    ])('%j stays as it is', (text) => {
      expect(scrubText(secret, text)).toBe(text);
    });

    it('returns text holding no address unchanged', () => {
      const piece = fc.oneof(
        fc.string({
          unit: fc.constantFrom(...`${ASCII_LETTERS}${NON_ASCII_LETTERS}ABCXYZ`),
          minLength: 1,
          maxLength: 10,
        }),
        fc.nat(99_999).map(String),
        fc.tuple(fc.nat(999), fc.nat(999)).map(([a, b]) => `${a}.${b}`),
        fc.tuple(fc.nat(23), fc.nat(59)).map(([h, m]) => `${h}:${String(m).padStart(2, '0')}`),
        fc.constantFrom(
          ' ',
          ', ',
          '. ',
          '-',
          '_',
          '(',
          ')',
          '"',
          "'",
          '=',
          '/',
          '!',
          '?',
          '\n',
          'std::string',
          '@team',
          '50%',
        ),
      );
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
          const text = pieces.join(' ');
          expect(scrubText(secret, text)).toBe(text);
        }),
        runs,
      );
    });
  });

  describe('cost', () => {
    it.each([
      ['a.a.a…@', `${'a.'.repeat(50_000)}@`],
      ['aaaa…@', `${'a'.repeat(100_000)}@`],
      ['a@a.a@a.…', 'a@a.'.repeat(25_000)],
      ['a-a-a…@a-a-a…', `${'a-'.repeat(25_000)}@${'a-'.repeat(25_000)}`],
      ['%25%25…40', `${'%25'.repeat(33_000)}40`],
      ['1.1.1.1…', '1.'.repeat(50_000)],
      ['::::', ':'.repeat(100_000)],
      ['1:1:1:…', '1:'.repeat(50_000)],
      ['ffff:ffff:…', 'ffff:'.repeat(20_000)],
      ['1.1.1.1:1.1.1.1:…', '1.1.1.1:'.repeat(12_500)],
    ])('scrubs 100 KB of %s and the addresses after it', (_, hostile) => {
      const scrubbed = scrubText(secret, `${hostile} alice@example.com 198.51.100.23 2001:db8::1`);
      expect(scrubbed).not.toContain('alice@example.com');
      expect(scrubbed).not.toContain('198.51.100.23');
      expect(scrubbed).not.toContain('2001:db8::1');
      expectFindable(scrubbed, soughtEmail('alice@example.com'));
      expectFindable(scrubbed, soughtIp('198.51.100.23'));
      expectFindable(scrubbed, soughtIp('2001:db8::1'));
    });
  });
});

const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9_-]{1,12}$/),
  // Written as a browser may send them, not as encodeURIComponent would: left as they are all the same.
  fc.constantFrom(
    'v1',
    '42',
    'caf%C3%A9',
    'caf%c3%a9',
    'a%20b',
    'a+b',
    'a,b',
    '@scope',
    'report.pdf',
    'x%2Fy',
  ),
);

/** Any address, with the token erasure searches for. */
const address = fc.oneof(
  email.map((plain) => ({ plain, sought: soughtEmail(plain) })),
  internationalEmail.map(({ address }) => ({ plain: address, sought: soughtEmail(address) })),
  fc.ipV4().map((plain) => ({ plain, sought: soughtIp(plain) })),
  ipv6.map((plain) => ({ plain, sought: soughtIp(plainIp(plain)) })),
);

/** An address in a path segment, as written there: plain, encoded, or encoded twice. */
const segmentAddress = fc.record({ address, times: fc.constantFrom(0, 1, 2) }).map(({ address, times }) => {
  const once = encodeURIComponent(address.plain);
  return {
    ...address,
    written: times === 0 ? address.plain : times === 1 ? once : encodeURIComponent(once),
  };
});

describe('scrubPath', () => {
  it('replaces a segment holding an address, leaves the others, and decodes to the token', () => {
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 4 }),
        segmentAddress,
        fc.array(segment, { maxLength: 4 }),
        (before, address, after) => {
          const path = `/${[...before, address.written, ...after].join('/')}`;
          const scrubbed = scrubPath(secret, path);
          const segments = scrubbed.split('/');
          expect(segments).toHaveLength(before.length + after.length + 2);
          expect(segments.slice(1, 1 + before.length)).toEqual(before);
          expect(segments.slice(2 + before.length)).toEqual(after);
          const replaced = segments[1 + before.length] ?? '';
          expect(decodeURIComponent(replaced)).toBe(address.sought);
          expect(outsideTokens(decodeURIComponent(scrubbed))).not.toContain(address.plain);
        },
      ),
      runs,
    );
  });

  it.each([
    ['/users/alice%40example.com/orders', '/users/{token}/orders', soughtEmail('alice@example.com')],
    ['/users/alice%2540example.com', '/users/{token}', soughtEmail('alice@example.com')],
    ['/u/j%C3%B6rg%40b%C3%BCcher.de/', '/u/{token}/', soughtEmail('jörg@bücher.de')],
    ['/hosts/2001:db8::1/v1', '/hosts/{token}/v1', soughtIp('2001:db8::1')],
  ])('%s is %s', (path, shape, token) => {
    const scrubbed = scrubPath(secret, path);
    expect(scrubbed).toBe(shape.replace('{token}', encodeURIComponent(token).replaceAll('%3A', ':')));
    expect(decodeURIComponent(scrubbed)).toBe(shape.replace('{token}', token));
  });

  it('leaves a path without an address as it is', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), (segments) => {
        const path = `/${segments.join('/')}`;
        expect(scrubPath(secret, path)).toBe(path);
      }),
      runs,
    );
  });
});

/** Form-encodes a query value as browsers do (`+` for a space). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replaceAll('+', ' '));
}

describe('scrubQueryValue', () => {
  it('replaces an address in a value, leaves the rest of it, and decodes to the token', () => {
    fc.assert(
      fc.property(
        address,
        fc.constantFrom('', 'contact ', 'to: ', '<', '"'),
        fc.constantFrom('', ' please', '>', '"', ', thanks'),
        (address, prefix, suffix) => {
          const value = formEncode(`${prefix}${address.plain}${suffix}`);
          const scrubbed = scrubQueryValue(secret, value);
          const decoded = formDecode(scrubbed);
          expect(decoded).toBe(`${prefix}${address.sought}${suffix}`);
          expect(outsideTokens(decoded)).not.toContain(address.plain);
        },
      ),
      runs,
    );
  });

  it('reads a value encoded twice', () => {
    const value = encodeURIComponent(encodeURIComponent('alice@example.com'));
    expect(formDecode(scrubQueryValue(secret, value))).toBe(soughtEmail('alice@example.com'));
  });

  it('leaves a value without an address as it is, encoded or not', () => {
    fc.assert(
      fc.property(fc.oneof(segment, fc.string({ maxLength: 20 }).map(formEncode)), (value) => {
        fc.pre(!/[@:]|%40|%3A|\d\.\d/i.test(value));
        expect(scrubQueryValue(secret, value)).toBe(value);
      }),
      runs,
    );
  });
});
