/** The adapters feed real detector-shaped output into intel and it merges as expected. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import {
  familyOfDarknetFingerprint,
  protocolName,
  sightingsFromCandidates,
  sightingsFromInfectedHosts,
  sightingsFromSurveyFindings,
} from './adapters.ts';
import { createIntel, IntelConfig } from './index.ts';

test('candidates, infected hosts and survey findings become indicators', async () => {
  const store = await openStore({ memory: true });
  try {
    const intel = createIntel(IntelConfig.parse({}), {
      store,
      logger: silentLogger(),
      registry: new Registry(),
    });
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
    await intel.recordSightings(sightingsFromInfectedHosts(['192.0.2.1', '::ffff:192.0.2.1'], 'darknet'));
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
  } finally {
    await store.close();
  }
});

test('an infected host keeps the family its sensor named (none when it named none)', () => {
  const families: Record<string, string> = { '192.0.2.1': 'mirai' };
  const sightings = sightingsFromInfectedHosts(
    ['192.0.2.1', '192.0.2.2'],
    'darknet',
    70,
    (ip) => families[ip],
  );
  assert.equal(sightings[0]!.family, 'mirai');
  assert.equal('family' in sightings[1]!, false);
  assert.equal('family' in sightingsFromInfectedHosts(['192.0.2.1'], 'darknet')[0]!, false);
});

test('only the Mirai fingerprint names a family (scanning tools and user rules do not)', () => {
  assert.equal(familyOfDarknetFingerprint('mirai'), 'mirai');
  for (const other of ['masscan', 'zmap', 'my-rule', ''])
    assert.equal(familyOfDarknetFingerprint(other), undefined);
});
