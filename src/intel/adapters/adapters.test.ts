/** The adapters feed real detector-shaped output into intel and it merges as expected. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withIntel } from '../testing.ts';
import {
  createDarknetIntake,
  familyOfDarknetFingerprint,
  protocolName,
  sightingsFromCandidates,
  sightingsFromInfectedHosts,
  sightingsFromSurveyFindings,
} from './index.ts';

test('candidates, infected hosts and survey findings become indicators', async () => {
  await withIntel(async (intel) => {
    assert.equal(protocolName(6), 'tcp');
    assert.equal(protocolName(47), '47');
    const candidate = {
      key: '198.51.100.7|443|6',
      ip: '198.51.100.7',
      port: 443,
      proto: 6,
      confidence: 87,
      family: 'mirai',
      evidence: { bots: 12 },
      firstSeenMs: 1,
      lastSeenMs: 2,
    };
    await intel.recordSightings(sightingsFromCandidates([candidate], 'isp-a-detector'));
    await intel.recordSightings(
      sightingsFromCandidates([{ ...candidate, confidence: 50 }], 'isp-b-detector'),
    );
    await intel.recordSightings(
      sightingsFromInfectedHosts([{ ip: '192.0.2.1' }, { ip: '::ffff:192.0.2.1' }], 'darknet'),
    );
    await intel.recordSightings(
      sightingsFromSurveyFindings(
        [
          {
            ip: '192.0.2.9',
            port: 23,
            status: 'weak-credential',
            vendor: 'Acme',
            model: 'Cam 1',
            cves: [{ cve: 'CVE-2024-0001' }],
            weakCredential: { rule: 'default-admin' },
            service: 'telnet',
          },
        ],
        'survey',
      ),
    );
    const c2 = (await intel.list({ kinds: ['c2'] })).items;
    assert.equal(c2.length, 1);
    assert.deepEqual(
      [c2[0]!.proto, c2[0]!.family, c2[0]!.confidence, c2[0]!.tier],
      ['tcp', 'mirai', 94, 'council'],
    );
    assert.equal(c2[0]!.attributes.evidence, '{"bots":12}');
    assert.equal((await intel.list({ kinds: ['bot'] })).items.length, 1, 'the mapped form is the same host');
    const device = (await intel.list({ kinds: ['vulnerable-device'] })).items[0]!;
    assert.deepEqual(device.attributes, {
      status: 'weak-credential',
      product: 'Acme Cam 1',
      vendor: 'Acme',
      cve: 'CVE-2024-0001',
      credentialRule: 'default-admin',
      service: 'telnet',
    });
  });
});

test('an infected host keeps the family its sensor named (none when it named none)', () => {
  const sightings = sightingsFromInfectedHosts(
    [{ ip: '192.0.2.1', family: 'mirai' }, { ip: '192.0.2.2' }, { ip: '192.0.2.3', fingerprint: 'mirai' }],
    'darknet',
    70,
  );
  assert.equal(sightings[0]!.family, 'mirai');
  assert.equal('family' in sightings[1]!, false);
  assert.equal(sightings[2]!.family, 'mirai', 'the family its fingerprint names');
  assert.equal(
    'family' in sightingsFromInfectedHosts([{ ip: '192.0.2.1', fingerprint: 'zmap' }], 'darknet')[0]!,
    false,
  );
});

test('a darknet host goes to intel at the full tier whatever the sensor exports, never less careful than AMBER+STRICT', () => {
  const host = {
    ip: '192.0.2.1',
    fingerprint: 'masscan',
    lastSeen: '2026-01-02T03:04:05.000Z',
    ports: [23, 2323],
  };
  for (const tlp of ['clear', 'green', 'amber', 'amber+strict'] as const) {
    const [sighting] = sightingsFromInfectedHosts([{ ...host, tlp }], 'darknet', 80);
    assert.equal(sighting!.tier, 'full', tlp);
    assert.equal(sighting!.tlp, 'amber+strict', tlp);
  }
  const [red] = sightingsFromInfectedHosts([{ ...host, tlp: 'red' }], 'darknet', 80);
  assert.equal(red!.tlp, 'red', 'RED is kept (it keeps the host from its holder too)');
  assert.equal(red!.observedAt, host.lastSeen);
  assert.deepEqual(red!.attributes, { fingerprint: 'masscan', ports: '23;2323' });
  assert.equal(red!.confidence, 80);
});

test('the darknet intake sends only infected hosts, and each again only when seen again', async () => {
  const sent: string[][] = [];
  const intake = createDarknetIntake(
    {
      async recordSightings(inputs) {
        sent.push(inputs.map((i) => `${i.value}@${i.observedAt}`));
        return [];
      },
      async withdrawSource() {},
    },
    { source: 'darknet', confidence: 80 },
  );
  const hosts = [
    { ip: '192.0.2.1', class: 'infected', lastSeen: '2026-01-01T00:00:00.000Z', fingerprint: 'mirai' },
    { ip: '192.0.2.2', class: 'scanner', lastSeen: '2026-01-01T00:00:00.000Z', fingerprint: 'zmap' },
  ];
  assert.equal(await intake.push(hosts), 1);
  assert.equal(await intake.push(hosts), 0, 'nothing new');
  assert.equal(await intake.push([{ ...hosts[0]!, lastSeen: '2026-01-01T01:00:00.000Z' }]), 1);
  assert.deepEqual(sent, [['192.0.2.1@2026-01-01T00:00:00.000Z'], ['192.0.2.1@2026-01-01T01:00:00.000Z']]);
});

test('only the Mirai fingerprint names a family (scanning tools and user rules do not)', () => {
  assert.equal(familyOfDarknetFingerprint('mirai'), 'mirai');
  for (const other of ['masscan', 'zmap', 'my-rule', ''])
    assert.equal(familyOfDarknetFingerprint(other), undefined);
});
