/** SPF parsing, and check_host() and postures against real records served by BIND through Unbound. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLookup, type Lookup } from '../dns/lookup.ts';
import { labClient, labUnavailable, startDnsLab, type DnsLab } from '../testing.ts';
import { checkHost, expandMacros, parseSpf, spfPosture, SpfSyntaxError, type SpfPosture } from './spf.ts';

describe('SPF records', () => {
  test('mechanisms, qualifiers, prefix lengths and modifiers', () => {
    const record = parseSpf(
      'v=spf1 ip4:192.0.2.0/24 -ip6:2001:db8::/32 a/24//64 mx:mail.example ~include:_spf.example ?exists:%{i}.x.example redirect=other.example',
    );
    assert.deepEqual(
      record.mechanisms.map((m) => `${m.qualifier}${m.kind}`),
      ['+ip4', '-ip6', '+a', '+mx', '~include', '?exists'],
    );
    assert.equal(record.mechanisms[2]!.cidr4, 24);
    assert.equal(record.mechanisms[2]!.cidr6, 64);
    assert.equal(record.redirect, 'other.example');
  });

  for (const bad of [
    'v=spf1 ip4:999.1.1.1',
    'v=spf1 ip4:192.0.2.0/33',
    'v=spf1 foo',
    'v=spf1 include',
    'v=spf1 all:x',
    'v=spf1 redirect=a.example redirect=b.example',
    'v=spf1 a:ex..ample',
    'v=spf1 exists:%{z}.example',
  ])
    test(`"${bad}" is a syntax error`, () => assert.throws(() => parseSpf(bad), SpfSyntaxError));

  test('macros (RFC 7208 §7.4 examples)', () => {
    const context = { sender: 'strong-bad@email.example.com', ip: '192.0.2.3' };
    assert.equal(expandMacros('%{s}', 'email.example.com', context), 'strong-bad@email.example.com');
    assert.equal(expandMacros('%{o}', 'email.example.com', context), 'email.example.com');
    assert.equal(expandMacros('%{d4}', 'email.example.com', context), 'email.example.com');
    assert.equal(expandMacros('%{d2}', 'email.example.com', context), 'example.com');
    assert.equal(expandMacros('%{dr}', 'email.example.com', context), 'com.example.email');
    assert.equal(expandMacros('%{l-}', 'email.example.com', context), 'strong.bad');
    assert.equal(
      expandMacros('%{ir}.%{v}._spf.%{d2}', 'email.example.com', context),
      '3.2.0.192.in-addr._spf.example.com',
    );
    assert.equal(
      expandMacros('%{ir}.%{v}._spf.%{d2}', 'email.example.com', { ...context, ip: '2001:db8::cb01' }),
      '1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com',
    );
  });
});

const unavailable = labUnavailable();
describe('SPF against BIND and Unbound', { skip: unavailable }, () => {
  let lab: DnsLab;
  let lookup: Lookup;
  before(async () => {
    lab = await startDnsLab();
    lookup = createLookup(labClient(lab));
  });
  after(() => lab?.stop());

  const postures: [string, SpfPosture, RegExp][] = [
    ['strict.mail.test', 'strict', /fail/],
    ['soft.mail.test', 'softfail', /softfail/],
    ['neutral.mail.test', 'neutral', /neutral/],
    ['noall.mail.test', 'neutral', /neutral/],
    ['permissive.mail.test', 'permissive', /pass/],
    ['redirect.mail.test', 'strict', /fail/],
    ['include.mail.test', 'strict', /fail/],
    ['toomany.mail.test', 'invalid', /more than 10 DNS lookups/],
    ['void.mail.test', 'invalid', /more than 2 void lookups/],
    ['syntax.mail.test', 'invalid', /bad network/],
    ['twospf.mail.test', 'invalid', /2 SPF records/],
    ['includemissing.mail.test', 'invalid', /include:nothing\.mail\.test has no SPF record/],
    ['nothing.mail.test', 'missing', /no SPF record/],
    ['nxdomain.mail.test', 'missing', /no SPF record/],
  ];
  for (const [domain, posture, reason] of postures)
    test(`${domain} is ${posture}`, async () => {
      const result = await spfPosture(lookup, domain);
      assert.equal(result.posture, posture, result.reason);
      assert.match(result.reason, reason);
    });

  test('check_host matches addresses through ip4, ip6, a, mx, include and exists', async () => {
    assert.equal((await checkHost(lookup, 'strict.mail.test', { ip: '192.0.2.44' })).result, 'pass');
    assert.equal((await checkHost(lookup, 'strict.mail.test', { ip: '2001:db8::1' })).result, 'pass');
    assert.equal((await checkHost(lookup, 'strict.mail.test', { ip: '198.51.100.1' })).result, 'fail');
    assert.equal((await checkHost(lookup, 'soft.mail.test', { ip: '127.0.0.10' })).result, 'pass');
    assert.equal((await checkHost(lookup, 'soft.mail.test', { ip: '127.0.0.11' })).result, 'softfail');
    assert.equal((await checkHost(lookup, 'include.mail.test', { ip: '127.0.0.10' })).result, 'pass');
    assert.equal((await checkHost(lookup, 'exists.mail.test', { ip: '192.0.2.77' })).result, 'pass');
    assert.equal((await checkHost(lookup, 'exists.mail.test', { ip: '192.0.2.78' })).result, 'fail');
  });

  test('the include chain counts every lookup: 11 of them exceed the limit', async () => {
    const result = await checkHost(lookup, 'toomany.mail.test', { ip: '192.0.2.1' });
    assert.equal(result.result, 'permerror');
    assert.equal(result.lookups, 11);
  });
});
