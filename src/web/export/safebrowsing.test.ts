import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicaliseUrl,
  CanonicalUrlError,
  hashPrefix,
  parseLegacyIpv4,
  suffixPrefixExpressions,
} from './safebrowsing.ts';

// The canonicalisation tests published with the Safe Browsing v4 spec ("URLs and Hashing").
const SPEC_VECTORS: [string, string][] = [
  ['http://host/%25%32%35', 'http://host/%25'],
  ['http://host/%25%32%35%25%32%35', 'http://host/%25%25'],
  ['http://host/%2525252525252525', 'http://host/%25'],
  ['http://host/asdf%25%32%35asd', 'http://host/asdf%25asd'],
  ['http://host/%%%25%32%35asd%%', 'http://host/%25%25%25asd%25%25'],
  ['http://www.google.com/', 'http://www.google.com/'],
  [
    'http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/',
    'http://168.188.99.26/.secure/www.ebay.com/',
  ],
  [
    'http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/',
    'http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/',
  ],
  [
    'http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B',
    'http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+',
  ],
  ['http://3279880203/blah', 'http://195.127.0.11/blah'],
  ['http://www.google.com/blah/..', 'http://www.google.com/'],
  ['www.google.com/', 'http://www.google.com/'],
  ['www.google.com', 'http://www.google.com/'],
  ['http://www.evil.com/blah#frag', 'http://www.evil.com/blah'],
  ['http://www.GOOgle.com/', 'http://www.google.com/'],
  ['http://www.google.com.../', 'http://www.google.com/'],
  ['http://www.google.com/foo\tbar\rbaz\n2', 'http://www.google.com/foobarbaz2'],
  ['http://www.google.com/q?', 'http://www.google.com/q?'],
  ['http://www.google.com/q?r?', 'http://www.google.com/q?r?'],
  ['http://www.google.com/q?r?s', 'http://www.google.com/q?r?s'],
  ['http://evil.com/foo#bar#baz', 'http://evil.com/foo'],
  ['http://evil.com/foo;', 'http://evil.com/foo;'],
  ['http://evil.com/foo?bar;', 'http://evil.com/foo?bar;'],
  ['http://notrailingslash.com', 'http://notrailingslash.com/'],
  ['http://www.gotaport.com:1234/', 'http://www.gotaport.com/'],
  ['  http://www.google.com/  ', 'http://www.google.com/'],
  ['http:// leadingspace.com/', 'http://%20leadingspace.com/'],
  ['http://%20leadingspace.com/', 'http://%20leadingspace.com/'],
  ['%20leadingspace.com/', 'http://%20leadingspace.com/'],
  ['https://www.securesite.com/', 'https://www.securesite.com/'],
  ['http://host.com/ab%23cd', 'http://host.com/ab%23cd'],
  ['http://host.com//twoslashes?more//slashes', 'http://host.com/twoslashes?more//slashes'],
];

describe('Safe Browsing canonicalisation', () => {
  for (const [input, expected] of SPEC_VECTORS)
    it(`canonicalises ${JSON.stringify(input).slice(0, 60)}`, () => {
      assert.equal(canonicaliseUrl(input).url, expected);
    });

  it('escapes non-ASCII as UTF-8 bytes (the spec vector \\x01\\x80 is bytes; here U+0080 is C2 80)', () => {
    assert.equal(canonicaliseUrl('http://\x01\u0080.com/').url, 'http://%01%C2%80.com/');
  });

  it('reads every legal IPv4 spelling', () => {
    assert.equal(parseLegacyIpv4('0x7f.1'), '127.0.0.1');
    assert.equal(parseLegacyIpv4('0300.0250.0.01'), '192.168.0.1');
    assert.equal(parseLegacyIpv4('4294967296'), undefined);
    assert.equal(parseLegacyIpv4('1.2.3.4.5'), undefined);
    assert.equal(parseLegacyIpv4('example'), undefined);
  });

  it('throws only CanonicalUrlError on random bytes (seeded)', () => {
    let seed = 18;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: Math.floor(random() * 60) }, () =>
        String.fromCharCode(Math.floor(random() * 256)),
      ).join('');
      try {
        const c = canonicaliseUrl(text);
        assert.ok(c.url.startsWith(`${c.scheme}://`));
        suffixPrefixExpressions(c);
      } catch (error) {
        assert.ok(error instanceof CanonicalUrlError, String(error));
      }
    }
  });
});

describe('suffix/prefix expressions (the spec examples)', () => {
  it('http://a.b.c/1/2.html?param=1', () => {
    assert.deepEqual(
      new Set(suffixPrefixExpressions('http://a.b.c/1/2.html?param=1')),
      new Set([
        'a.b.c/1/2.html?param=1',
        'a.b.c/1/2.html',
        'a.b.c/',
        'a.b.c/1/',
        'b.c/1/2.html?param=1',
        'b.c/1/2.html',
        'b.c/',
        'b.c/1/',
      ]),
    );
  });
  it('http://a.b.c.d.e.f.g/1.html', () => {
    assert.deepEqual(
      new Set(suffixPrefixExpressions('http://a.b.c.d.e.f.g/1.html')),
      new Set([
        'a.b.c.d.e.f.g/1.html',
        'a.b.c.d.e.f.g/',
        'c.d.e.f.g/1.html',
        'c.d.e.f.g/',
        'd.e.f.g/1.html',
        'd.e.f.g/',
        'e.f.g/1.html',
        'e.f.g/',
        'f.g/1.html',
        'f.g/',
      ]),
    );
  });
  it('http://1.2.3.4/1/ (an IP host has no suffixes)', () => {
    assert.deepEqual(
      new Set(suffixPrefixExpressions('http://1.2.3.4/1/')),
      new Set(['1.2.3.4/1/', '1.2.3.4/']),
    );
  });
  it('at most five hosts and six paths', () => {
    const e = suffixPrefixExpressions('http://a.b.c.d.e.f.g/1/2/3/4/5/6.html?q=1');
    assert.ok(e.length <= 30);
    assert.ok(e.includes('a.b.c.d.e.f.g/1/2/3/'));
    assert.ok(!e.includes('a.b.c.d.e.f.g/1/2/3/4/'));
  });
});

describe('hash prefixes', () => {
  it('are the first 4 bytes of SHA-256 (the spec example "abc")', () => {
    // The spec's example: SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 ...
    assert.equal(hashPrefix('abc'), 'ba7816bf');
    assert.equal(hashPrefix('abc', 32), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
