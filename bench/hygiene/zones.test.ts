import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dmarcCategory, spfCategory } from './peers.ts';
import { DMARC_KINDS, generateDomains, SPF_KINDS, zoneRecords } from './zones.ts';

test('the generator is seeded and covers every SPF and DMARC kind', () => {
  const domains = generateDomains(500, 21);
  assert.deepEqual(generateDomains(500, 21), domains);
  assert.notDeepEqual(generateDomains(500, 22), domains);
  assert.deepEqual(new Set(domains.map((d) => d.spf)), new Set(SPF_KINDS));
  assert.deepEqual(new Set(domains.map((d) => d.dmarc)), new Set(DMARC_KINDS));
  for (const d of domains) assert.equal(d.name.startsWith('mail.'), d.dmarc === 'fallback');
});

test('the zone holds one SPF record per domain that has one and the include chain past ten lookups', () => {
  const domains = generateDomains(200, 5);
  const zone = zoneRecords(domains);
  const spfOwners = zone.split('\n').filter((line) => /^(mail\.)?d\d+ IN TXT "v=spf1/.test(line));
  assert.equal(spfOwners.length, domains.filter((d) => d.spf !== 'missing').length);
  assert.match(zone, /^l11\.lookups IN TXT "v=spf1 include:l12\.lookups\.test -all"$/m);
  const fallback = domains.find((d) => d.dmarc === 'fallback')!;
  assert.match(
    zone,
    new RegExp(`^_dmarc\\.${fallback.name.slice(5, -5)} IN TXT "v=DMARC1; p=reject; sp=quarantine"$`, 'm'),
  );
});

test("checkdmarc's JSON maps to tsunagi's categories", () => {
  assert.equal(spfCategory({ valid: true, parsed: { all: 'fail' } }), 'strict');
  assert.equal(spfCategory({ valid: true, parsed: { all: 'pass' } }), 'permissive');
  assert.equal(spfCategory({ valid: true, parsed: { all: null } }), 'neutral');
  assert.equal(spfCategory({ valid: false, error: 'd4.test does not have a SPF TXT record' }), 'missing');
  assert.equal(spfCategory({ valid: false, error: 'Too many DNS lookups' }), 'invalid');
  const tags = { p: { value: 'reject' }, sp: { value: 'quarantine' } };
  assert.equal(dmarcCategory('d3.test', { valid: true, location: 'd3.test', tags }), 'reject');
  assert.equal(dmarcCategory('mail.d3.test', { valid: true, location: 'd3.test', tags }), 'quarantine');
  assert.equal(
    dmarcCategory('d9.test', { valid: false, error: 'A DMARC record does not exist for this domain' }),
    'missing',
  );
  assert.equal(
    dmarcCategory('d9.test', { valid: false, error: 'Tag p must have one of the following values' }),
    'invalid',
  );
});
