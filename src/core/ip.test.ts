import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { ipv4FromString, ipv4ToString, ipv6FromString, ipv6ToString, parsePrefix, PrefixSet } from './ip.ts';

describe('ip', () => {
  test('IPv4 text round trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        assert.equal(ipv4FromString(ipv4ToString(value)), value);
      }),
      { numRuns: 2000 },
    );
  });

  test('IPv6 text agrees with ipaddr.js RFC 5952 form', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 7 }),
        (bytes, zeros) => {
          // Force zero runs of various lengths so compression is exercised.
          for (let i = 0; i < zeros * 2; i++) bytes[(i + zeros) % 16] = 0;
          const text = ipv6ToString(bytes);
          const reference = ipaddr.fromByteArray(Array.from(bytes)) as ipaddr.IPv6;
          if (reference.isIPv4MappedAddress()) {
            assert.equal(text, `::ffff:${reference.toIPv4Address().toString()}`);
          } else {
            assert.equal(text, reference.toRFC5952String());
          }
          assert.deepEqual(ipv6FromString(text), bytes);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('prefixes normalise their network and match members only', () => {
    const p = parsePrefix('192.0.2.77/24');
    assert.equal(p.text, '192.0.2.0/24');
    const set = new PrefixSet(['192.0.2.0/24', '10.0.0.0/8', '2001:db8::/32', '198.51.100.7']);
    assert.ok(set.hasText('192.0.2.200'));
    assert.ok(set.hasText('10.255.0.1'));
    assert.ok(set.hasText('198.51.100.7'));
    assert.ok(!set.hasText('198.51.100.8'));
    assert.ok(!set.hasText('192.0.3.1'));
    assert.ok(set.hasText('2001:db8:1::5'));
    assert.ok(!set.hasText('2001:db9::1'));
    assert.ok(set.hasText('::ffff:10.1.2.3'));
    assert.throws(() => parsePrefix('300.1.1.1/8'));
    assert.throws(() => parsePrefix('10.0.0.0/33'));
  });

  test('PrefixSet agrees with ipaddr.js match on random IPv4 prefixes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })), {
          maxLength: 8,
        }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (prefixes, address) => {
          const texts = prefixes.map(([a, bits]) => `${ipv4ToString(a)}/${bits}`);
          const set = new PrefixSet(texts);
          const parsed = ipaddr.IPv4.parse(ipv4ToString(address));
          const expected = texts.some((t) => parsed.match(ipaddr.IPv4.parseCIDR(t)));
          assert.equal(set.has4(address), expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
