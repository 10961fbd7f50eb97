import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRoutes, RouteFormatError } from '../input/routes.ts';
import { parseVrps, VrpFormatError } from '../input/vrps.ts';
import { VrpIndex } from './rov.ts';

/** rpki-client's JSON (numbers) and Routinator's (AS strings) side by side. */
const RPKI_CLIENT = JSON.stringify({
  metadata: { buildmachine: 'rp.example', generated: 1764892800 },
  roas: [
    { asn: 64500, prefix: '192.0.2.0/24', maxLength: 24, ta: 'apnic', expires: 1764979200 },
    { asn: 64501, prefix: '198.51.100.0/22', maxLength: 24, ta: 'apnic', expires: 1764979200 },
    { asn: 0, prefix: '203.0.113.0/24', maxLength: 32, ta: 'apnic', expires: 1764979200 },
    { asn: 64502, prefix: '2001:db8::/32', maxLength: 48, ta: 'apnic', expires: 1764979200 },
  ],
});
const ROUTINATOR = JSON.stringify({
  metadata: { generated: 1764892800, generatedTime: '2025-12-05T00:00:00Z' },
  roas: [{ asn: 'AS64503', prefix: '192.0.2.0/23', maxLength: 24, ta: 'arin' }],
});

describe('route origin validation (RFC 6811)', () => {
  const index = new VrpIndex([...parseVrps(RPKI_CLIENT), ...parseVrps(ROUTINATOR)]);
  const cases: [string, number, string, string | undefined, RegExp][] = [
    ['192.0.2.0/24', 64500, 'valid', '192.0.2.0/24', /AS64500/],
    ['192.0.2.0/24', 64503, 'valid', '192.0.2.0/23', /AS64503/],
    ['192.0.2.0/25', 64500, 'invalid', '192.0.2.0/24', /longer than maxLength 24/],
    ['192.0.2.0/24', 64999, 'invalid', undefined, /AS64999 is not authorised/],
    ['198.51.101.0/24', 64501, 'valid', '198.51.100.0/22', /maxLength 24/],
    ['203.0.113.0/24', 0, 'invalid', '203.0.113.0/24', /AS0 is not authorised/],
    ['203.0.113.128/25', 64500, 'invalid', '203.0.113.0/24', /not authorised/],
    ['2001:db8:1::/48', 64502, 'valid', '2001:db8::/32', /AS64502/],
    ['2001:db8:1::/64', 64502, 'invalid', '2001:db8::/32', /maxLength 48/],
    ['100.64.0.0/10', 64500, 'not-found', undefined, /no VRP covers/],
  ];
  for (const [prefix, asn, state, roa, reason] of cases)
    test(`${prefix} from AS${asn} is ${state}`, () => {
      const result = index.validate({ prefix, originAsn: asn });
      assert.equal(result.state, state, result.reason);
      if (roa) assert.equal(result.roa?.prefix, roa);
      assert.match(result.reason, reason);
    });
});

describe('VRP and route files', () => {
  test('bad VRP files are named precisely', () => {
    assert.throws(() => parseVrps('nope'), /not JSON/);
    assert.throws(() => parseVrps('{"vrps": []}'), /no "roas" array/);
    assert.throws(
      () => parseVrps('{"roas": [{"asn": "AS1", "prefix": "10.0.0.0/33", "maxLength": 24}]}'),
      VrpFormatError,
    );
    assert.throws(
      () => parseVrps('{"roas": [{"asn": 1, "prefix": "10.0.0.0/16", "maxLength": 8}]}'),
      /maxLength 8 does not fit/,
    );
  });
  test('routes: header, AS prefixes, comments, and line numbers in errors', () => {
    assert.deepEqual(parseRoutes('prefix,origin_asn\n192.0.2.0/24,AS64500\n# note\n2001:db8::/32,64502\n'), [
      { prefix: '192.0.2.0/24', originAsn: 64500 },
      { prefix: '2001:db8::/32', originAsn: 64502 },
    ]);
    assert.throws(() => parseRoutes('192.0.2.0/24,64500\n'), /line 1: expected a header/);
    assert.throws(() => parseRoutes('prefix,origin_asn\n192.0.2.0/24,ASX\n'), RouteFormatError);
    assert.throws(
      () => parseRoutes('prefix,origin_asn\n192.0.2/24,1\n'),
      /line 2: "192.0.2\/24" is not a prefix/,
    );
  });
});
