/** STIX mapping: every emitted object validates against the OASIS schemas; sanitisers make new objects. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Indicator, Sighting } from '../intel/index.ts';
import { stixValidator } from './stix-schemas.ts';
import {
  SANITISERS,
  StixCommon,
  hubIdentity,
  isStixCommon,
  hubIdentityObject,
  mapFull,
  patternFor,
  tierExtensionDefinition,
  tierOf,
  tlpMarkingDefinition,
  uuidv5,
  type StixObject,
} from './stix.ts';

const validate = stixValidator();
const hub = hubIdentity();

function indicator(over: Partial<Indicator>): Indicator {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    kind: 'c2',
    value: '198.51.100.7',
    port: 443,
    proto: 'tcp',
    family: 'mirai',
    confidence: 75,
    tier: 'public',
    tlp: 'amber',
    asn: 64500,
    attributes: {},
    firstSeen: '2026-01-01T10:00:00.000Z',
    lastSeen: '2026-01-03T10:00:00.000Z',
    expiresAt: '2026-02-02T10:00:00.000Z',
    withdrawnAt: null,
    withdrawnReason: null,
    createdAt: '2026-01-01T10:00:05.000Z',
    modifiedAt: '2026-01-03T10:00:05.000Z',
    ...over,
  };
}
const sightings: Sighting[] = [
  {
    id: 's1',
    indicatorId: 'x',
    source: 'ISP A',
    confidence: 50,
    count: 3,
    firstSeen: '2026-01-01T10:00:00.000Z',
    lastSeen: '2026-01-02T10:00:00.000Z',
  },
  {
    id: 's2',
    indicatorId: 'x',
    source: 'ISP B',
    confidence: 50,
    count: 1,
    firstSeen: '2026-01-03T10:00:00.000Z',
    lastSeen: '2026-01-03T10:00:00.000Z',
  },
];

function assertValid(objects: StixObject[]) {
  for (const o of objects) {
    assert.equal(validate(o), undefined);
    assert.ok(StixCommon.safeParse(o).success, `runtime schema accepts ${o.id}`);
  }
}

test('uuidv5 matches the RFC 4122 example and STIX ids for observables', () => {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org')
  assert.equal(
    uuidv5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
    '886313e1-3b8a-5372-9b90-0c9aee199e5d',
  );
  const [sco] = mapFull({ indicator: indicator({}), sightings: [], relationships: [], hub });
  // The STIX 2.1 deterministic id of ipv4-addr 198.51.100.7 (python stix2 gives the same).
  assert.equal(
    sco!.id,
    `ipv4-addr--${uuidv5('{"value":"198.51.100.7"}', '00abedb4-aa42-466c-9c01-fed23315a9b7')}`,
  );
  // Ids are hashed from a scratch buffer; a name longer than it (a URL of 3000 characters) is
  // hashed another way, to the same id.
  for (const url of ['http://example.com/short', `http://example.com/${'a'.repeat(3000)}`]) {
    const [urlSco] = mapFull({
      indicator: indicator({ kind: 'url', value: url, port: 0, proto: '' }),
      sightings: [],
      relationships: [],
      hub,
    });
    assert.equal(
      urlSco!.id,
      `url--${uuidv5(JSON.stringify({ value: url }), '00abedb4-aa42-466c-9c01-fed23315a9b7')}`,
    );
  }
});

test('fixed objects validate: TLP 2.0 markings, the tier extension definition, the hub identity', () => {
  for (const tlp of ['clear', 'green', 'amber', 'amber+strict', 'red'] as const)
    assertValid([tlpMarkingDefinition(tlp)]);
  assert.equal(
    tlpMarkingDefinition('amber+strict').id,
    'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  );
  assertValid([
    tierExtensionDefinition(hub),
    hubIdentityObject(hub, '2026-01-01T00:00:00.000Z', 'public', 'clear'),
  ]);
});

test('every kind maps to valid full-tier STIX, with markings and tier on every object', () => {
  const cases: Indicator[] = [
    indicator({}),
    indicator({ value: '2001:db8::7', port: 0, proto: '' }),
    indicator({ kind: 'bot', value: '192.0.2.4', port: 0, proto: '', family: '' }),
    indicator({
      kind: 'vulnerable-device',
      value: '192.0.2.5',
      port: 23,
      proto: 'tcp',
      family: '',
      attributes: { product: 'busybox telnetd', vendor: 'acme', cve: 'CVE-2024-12345' },
    }),
    indicator({ kind: 'url', value: "http://evil.example/a'b?q=1", port: 0, proto: '', family: '' }),
    indicator({
      kind: 'domain',
      value: 'evil.example',
      port: 0,
      proto: '',
      family: '',
      withdrawnAt: '2026-01-05T00:00:00.000Z',
    }),
  ];
  const types = new Set<string>();
  for (const ind of cases) {
    const objects = mapFull({
      indicator: ind,
      sightings,
      relationships: [
        {
          id: 'r',
          fromId: ind.id,
          toId: '22222222-2222-4222-8222-222222222222',
          type: 'communicates-with',
          source: 'x',
          firstSeen: ind.firstSeen,
          lastSeen: ind.lastSeen,
        },
      ],
      hub,
    });
    assertValid(objects);
    for (const o of objects) {
      types.add(o.type);
      assert.equal(tierOf(o), 'full');
      assert.deepEqual(o.object_marking_refs, ['marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421']);
    }
  }
  for (const t of [
    'indicator',
    'infrastructure',
    'ipv4-addr',
    'ipv6-addr',
    'url',
    'domain-name',
    'malware',
    'vulnerability',
    'software',
    'sighting',
    'relationship',
    'identity',
  ])
    assert.ok(types.has(t), t);
  assert.equal(
    patternFor(cases[0]!),
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']",
  );
  assert.equal(patternFor(cases[4]!), "[url:value = 'http://evil.example/a\\'b?q=1']");
  assert.equal(
    patternFor({ kind: 'domain', value: "a\\b'c", port: 0, proto: '' }),
    "[domain-name:value = 'a\\\\b\\'c']",
  );
});

test('sanitisers build new objects without sources or observation times', () => {
  const ind = indicator({});
  const full = mapFull({ indicator: ind, sightings, relationships: [], hub });
  const fullIds = new Set(full.filter((o) => !['ipv4-addr'].includes(o.type)).map((o) => o.id));
  for (const [name, tier, tlp, source] of [
    ['council-v1', 'council', 'amber+strict', ind],
    // Public notice only of what its source marked CLEAR (the marking binds).
    ['public-v1', 'public', 'clear', indicator({ tlp: 'clear' })],
  ] as const) {
    const out = SANITISERS[name].apply({ indicator: source, sightings, relationships: [], hub })!;
    assertValid(out);
    const text = JSON.stringify(out);
    assert.ok(!text.includes('ISP A') && !text.includes('ISP B'), 'no source names');
    assert.ok(!text.includes('10:00:00'), 'no observation times');
    assert.ok(!out.some((o) => o.type === 'sighting' || o.type === 'identity'));
    for (const o of out) {
      assert.equal(tierOf(o), tier);
      assert.deepEqual(o.object_marking_refs, [tlpMarkingDefinition(tlp).id]);
      if (o.type !== 'ipv4-addr')
        assert.ok(!fullIds.has(o.id), `${o.id} is a new object, not a relabelled one`);
    }
    const indicatorObject = out.find((o) => o.type === 'indicator')!;
    assert.equal('confidence' in indicatorObject, name === 'council-v1');
  }
});

test('sanitisers refuse what must not reach their tier', () => {
  const base = { sightings, relationships: [], hub };
  assert.equal(
    SANITISERS['council-v1'].apply({ ...base, indicator: indicator({ tier: 'full' }) }),
    undefined,
  );
  assert.equal(SANITISERS['council-v1'].apply({ ...base, indicator: indicator({ tlp: 'red' }) }), undefined);
  assert.equal(SANITISERS['council-v1'].apply({ ...base, indicator: indicator({ kind: 'bot' }) }), undefined);
  assert.equal(
    SANITISERS['public-v1'].apply({ ...base, indicator: indicator({ tier: 'council' }) }),
    undefined,
  );
  assert.ok(SANITISERS['council-v1'].apply({ ...base, indicator: indicator({ tier: 'council' }) }));
  for (const tlp of ['green', 'amber', 'amber+strict', 'red'] as const)
    assert.equal(
      SANITISERS['public-v1'].apply({ ...base, indicator: indicator({ tlp }) }),
      undefined,
      `a public-tier indicator under TLP:${tlp} is not public notice`,
    );
});

test('the schema validator is not vacuous', () => {
  const [, ind] = mapFull({ indicator: indicator({}), sightings: [], relationships: [], hub });
  const { pattern: _drop, ...noPattern } = ind!;
  assert.match(validate(noPattern as StixObject)!, /pattern/);
  assert.ok(validate({ ...ind!, extensions: { 'extension-definition--bad': { tier: 'x' } } }));
});

test('the runtime schema rejects malformed objects', () => {
  assert.equal(StixCommon.safeParse({ type: 'indicator', id: 'indicator--nope' }).success, false);
  assert.equal(
    StixCommon.safeParse({
      type: 'indicator',
      id: 'malware--11111111-1111-4111-8111-111111111111',
      spec_version: '2.1',
      created: '2026-01-01T00:00:00Z',
      modified: '2026-01-01T00:00:00Z',
    }).success,
    false,
  );
  assert.equal(
    StixCommon.safeParse({
      type: 'indicator',
      id: 'indicator--11111111-1111-4111-8111-111111111111',
      spec_version: '2.1',
    }).success,
    false,
  );
});

test('the fast common-property check accepts exactly what the runtime schema accepts', () => {
  const uuid = '11111111-1111-4111-8111-111111111111';
  const field = (...values: unknown[]) => fc.constantFrom<unknown>(undefined, ...values);
  const candidate = fc.record(
    {
      type: field('indicator', 'ipv4-addr', 'marking-definition', 'x-custom', 'Bad', 'a', 7),
      id: field(
        `indicator--${uuid}`,
        `ipv4-addr--${uuid}`,
        `marking-definition--${uuid}`,
        `x-custom--${uuid}`,
        `indicator--${uuid.replace('4111', '6111')}`,
        'indicator--nope',
        3,
      ),
      spec_version: field('2.1', '2.0', 2.1),
      created: field('2026-01-01T00:00:00Z', '2026-01-01T00:00:00.123456Z', '2026-01-01 00:00:00', ''),
      modified: field('2026-01-01T00:00:00.000Z', '2026-1-01T00:00:00Z', null),
      object_marking_refs: field([], [`marking-definition--${uuid}`], ['nope'], 'x', [1]),
      name: field('C&C server'),
    },
    { requiredKeys: [] },
  );
  const envelope = fc.oneof(candidate, fc.constantFrom(null, [], 'text', 5));
  fc.assert(
    fc.property(envelope, (value) => {
      assert.equal(isStixCommon(value), StixCommon.safeParse(value).success, JSON.stringify(value));
    }),
    { numRuns: 3000 },
  );
});
