/**
 * Own-network collections: each ISP pulls over TAXII exactly the infected hosts and vulnerable
 * devices inside its own prefixes and AS numbers, never another's; objects validate as STIX 2.1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig, sightingsFromSurveyFindings } from '../intel/index.ts';
import { testEngines } from '../store/testing.ts';
import { HUB_MIGRATIONS } from './testing.ts';
import { createAuditLog } from './audit.ts';
import { ownNetworkCollectionId } from './collections.ts';
import { HubConfig } from './config.ts';
import { createHub } from './index.ts';
import { stixValidator } from './stix-schemas.ts';
import { tierOf, tlpMarkingId, type StixObject } from './stix.ts';

const TAXII = 'application/taxii+json;version=2.1';
const validate = stixValidator();

function finding(ip: string, port: number, extra: Record<string, unknown> = {}) {
  return {
    survey: 'plan-1',
    time: '2026-01-02T03:04:05.000Z',
    ip,
    port,
    service: 'telnet',
    banner: 'BusyBox login:',
    vendor: 'Acme',
    model: 'R100',
    firmware: '1.0',
    fingerprints: ['acme.r100'],
    weakCredential: { accepted: true, rule: 'acme-default' },
    cves: [{ cve: 'CVE-2024-12345', severity: 'high', summary: 'test' }],
    severity: 'high',
    status: 'weak-credential',
    ...extra,
  };
}

/** Four organisations (one unconsented) and the darknet's and survey's findings in intel, published. */
async function seedOrgsAndFindings(hub: ReturnType<typeof createHub>, intel: ReturnType<typeof createIntel>) {
  const tokens: Record<string, string> = {};
  const orgIds: Record<string, string> = {};
  const orgs = [
    { name: 'NISC', role: 'analysis' as const, prefixes: [], asns: [] },
    { name: 'ISP A', role: 'isp' as const, consent: true, prefixes: ['192.0.2.0/25'], asns: [] },
    // Unconsented: public tier, so it does not receive its own subscribers' hosts until it consents.
    { name: 'ISP B', role: 'isp' as const, prefixes: [], asns: [64501] },
    { name: 'ISP C', role: 'isp' as const, consent: true, prefixes: ['203.0.113.0/24'], asns: [] },
  ];
  for (const o of orgs) {
    await hub.orgs.add(o, 'test');
    tokens[o.name] = (await hub.orgs.createToken(o.name, {}, 'test')).token;
    orgIds[o.name] = (await hub.orgs.get(o.name))!.id;
  }
  const base = { source: 'darknet', confidence: 80, tier: 'full', tlp: 'amber+strict' } as const;
  await intel.recordSightings([
    { ...base, type: 'bot', value: '192.0.2.10' }, // ISP A by prefix
    { ...base, type: 'bot', value: '192.0.2.200' }, // outside A's /25: nobody's
    { ...base, type: 'bot', value: '198.51.100.7', asn: 64501 }, // ISP B by AS number
    { ...base, type: 'c2', value: '192.0.2.20', port: 443, proto: 'tcp' }, // C&C: not a host finding
  ]);
  // The survey's findings reach intel (`tsunagi import-findings`), then ISP C's collection.
  const findings = [
    finding('203.0.113.5', 23),
    finding('192.0.2.11', 80, {
      service: 'http',
      status: 'exposed',
      weakCredential: null,
      cves: [],
      severity: 'none',
    }),
  ];
  const results = await intel.recordSightings(sightingsFromSurveyFindings(findings, 'survey-2026-01'));
  assert.equal(results.filter((r) => r.created).length, 2);
  await hub.publisher.sync();
  return { tokens, orgIds };
}

for (const engine of testEngines(HUB_MIGRATIONS)) {
  describe(`own-network collections on ${engine.name}`, { skip: engine.skip }, () => {
    test('an ISP reads exactly the bots and vulnerable devices of its own network', async () => {
      const store = await engine.open();
      const registry = new Registry();
      const logger = silentLogger();
      const audit = createAuditLog({ store });
      const intel = createIntel(IntelConfig.parse({}), { store, logger, registry, audit });
      const hub = createHub(HubConfig.parse({ listen: '', publishIntervalMs: 0 }), {
        store,
        intel,
        audit,
        logger,
        registry,
      });
      await hub.start();
      try {
        const { tokens, orgIds } = await seedOrgsAndFindings(hub, intel);

        const app = hub.app();
        const get = (url: string, org: string) =>
          app.inject({
            method: 'GET',
            url,
            headers: { accept: TAXII, authorization: `Bearer ${tokens[org]}` },
          });
        const objectsOf = async (org: string, owner = org) => {
          const res = await get(
            `/network/collections/${ownNetworkCollectionId(orgIds[owner]!)}/objects/`,
            org,
          );
          return {
            status: res.statusCode,
            objects: res.statusCode === 200 ? (res.json().objects as StixObject[]) : [],
          };
        };
        const addressesIn = (objects: StixObject[]) =>
          objects
            .filter((o) => o.type === 'ipv4-addr')
            .map((o) => o.value as string)
            .sort();

        const a = await objectsOf('ISP A');
        assert.equal(a.status, 200);
        assert.deepEqual(addressesIn(a.objects), ['192.0.2.10', '192.0.2.11']);
        const patterns = a.objects.filter((o) => o.type === 'indicator').map((o) => o.pattern as string);
        assert.ok(patterns.every((p) => !p.includes('192.0.2.20') && !p.includes('192.0.2.200')));
        // Unconsented: public tier, it may not receive the AMBER+STRICT product (issue #15, 2).
        const b = await objectsOf('ISP B');
        assert.equal(b.status, 404, 'an unconsented ISP does not read the council-tier product');
        await hub.orgs.recordConsent('ISP B', 'council-confidentiality-v1', 'test');
        const consented = await objectsOf('ISP B');
        assert.equal(consented.status, 200, 'after consent it does');
        assert.deepEqual(addressesIn(consented.objects), ['198.51.100.7']);
        const c = await objectsOf('ISP C');
        assert.deepEqual(addressesIn(c.objects), ['203.0.113.5']);
        assert.ok(c.objects.some((o) => o.type === 'vulnerability' && o.name === 'CVE-2024-12345'));
        assert.ok(c.objects.some((o) => o.type === 'software' && o.name === 'Acme R100'));

        // Never another's: not listed, not readable, the same 404 as a collection that does not exist.
        for (const [reader, owner] of [
          ['ISP A', 'ISP B'],
          ['ISP B', 'ISP A'],
          ['ISP C', 'ISP A'],
          ['NISC', 'ISP A'],
        ] as const)
          assert.equal((await objectsOf(reader, owner)).status, 404, `${reader} reading ${owner}'s`);
        const listed = await get('/network/collections/', 'ISP A');
        assert.deepEqual(
          (listed.json().collections as { id: string; can_read: boolean; can_write: boolean }[]).map(
            (x) => `${x.id}:${x.can_read}:${x.can_write}`,
          ),
          [`${ownNetworkCollectionId(orgIds['ISP A']!)}:true:false`],
        );
        assert.ok((await get('/taxii2/', 'ISP A')).json().api_roots.includes('/network/'));
        assert.ok(!(await get('/taxii2/', 'NISC')).json().api_roots.includes('/network/'));
        const post = await app.inject({
          method: 'POST',
          url: `/network/collections/${ownNetworkCollectionId(orgIds['ISP A']!)}/objects/`,
          headers: { accept: TAXII, 'content-type': TAXII, authorization: `Bearer ${tokens['ISP A']}` },
          payload: JSON.stringify({ objects: [] }),
        });
        assert.equal(post.statusCode, 403);

        // Sanitised, marked, valid: council tier, AMBER+STRICT, no sources or sightings.
        for (const object of [...a.objects, ...consented.objects, ...c.objects]) {
          assert.equal(validate(object), undefined, object.id);
          assert.ok(!['sighting'].includes(object.type));
          if (object.type === 'marking-definition' || object.type === 'extension-definition') continue;
          assert.equal(tierOf(object), 'council', object.id);
          if (object.id !== hub.context.hub.id)
            assert.deepEqual(object.object_marking_refs, [tlpMarkingId('amber+strict')], object.id);
        }
        assert.ok(!JSON.stringify(a.objects).includes('darknet'), 'source names stay at the full tier');

        // Withdrawn in intel: the ISP's collection gets a revoked version.
        await intel.withdraw({ kind: 'bot', value: '192.0.2.10' }, 'cleaned', 'test');
        await hub.publisher.sync();
        const after = await objectsOf('ISP A');
        const revoked = after.objects.find(
          (o) => o.type === 'indicator' && (o.pattern as string).includes('192.0.2.10'),
        );
        assert.equal(revoked?.revoked, true);

        // An organisation added later gets what intel already holds inside its network.
        await hub.orgs.add(
          { name: 'ISP D', role: 'isp', consent: true, prefixes: ['192.0.2.128/25'], asns: [] },
          'test',
        );
        tokens['ISP D'] = (await hub.orgs.createToken('ISP D', {}, 'test')).token;
        orgIds['ISP D'] = (await hub.orgs.get('ISP D'))!.id;
        await hub.publisher.sync();
        assert.deepEqual(addressesIn((await objectsOf('ISP D')).objects), ['192.0.2.200']);

        const actions = (await audit.list(0, 1000)).map((r) => `${r.action} ${r.actor}`);
        assert.ok(actions.includes('taxii.read ISP A'), 'AMBER+STRICT reads are audited');
      } finally {
        await hub.stop();
        await store.close();
      }
    });
  });
}
