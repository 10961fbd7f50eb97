/** The publisher: tiers reach their collections, re-sightings add versions only where content changed, revocation. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig } from '../intel/index.ts';
import { testEngines } from '../store/testing.ts';
import { HUB_MIGRATIONS } from './testing.ts';
import { COLLECTION_IDS } from './collections.ts';
import { createPublisher } from './publisher.ts';
import { hubIdentity, indicatorObjectId, sightingObjectId } from './stix.ts';

for (const engine of testEngines(HUB_MIGRATIONS)) {
  describe(`publisher on ${engine.name}`, { skip: engine.skip }, () => {
    test('versions follow content; a tier that may no longer see an indicator gets a revoked version', async () => {
      const store = await engine.open();
      try {
        const registry = new Registry();
        const intel = createIntel(IntelConfig.parse({}), { store, logger: silentLogger(), registry });
        const publisher = createPublisher(
          { intervalMs: 0, pageSize: 2 },
          { store, intel, hub: hubIdentity(), logger: silentLogger(), registry },
        );
        const versions = async (collection: string, objectId: string) =>
          await store.db
            .selectFrom('stix_objects')
            .select(['version', 'is_latest', 'body'])
            .where('collection_id', '=', collection)
            .where('object_id', '=', objectId)
            .orderBy('version')
            .execute();

        const base = {
          type: 'c2' as const,
          value: '198.51.100.7',
          port: 443,
          proto: 'tcp',
          source: 'isp-a',
          confidence: 60,
          family: 'mirai',
          tier: 'public' as const,
          tlp: 'clear' as const,
        };
        const { indicatorId } = await intel.recordSighting({ ...base, observedAt: '2026-01-01T00:00:00Z' });
        for (let i = 0; i < 4; i++) await intel.recordSighting({ ...base, value: `198.51.100.${20 + i}` });
        assert.equal(await publisher.sync(), 5, 'pages of 2 cover all 5');
        assert.equal(await publisher.sync(), 0, 'nothing new, nothing done');

        // The same source again: observation times move, the sanitised products do not.
        await intel.recordSighting({ ...base, observedAt: '2026-01-05T00:00:00Z' });
        assert.equal(await publisher.sync(), 1);
        assert.equal(
          (await versions(COLLECTION_IDS.full, indicatorObjectId(indicatorId, 'full'))).length,
          2,
          'full: valid_until moved',
        );
        assert.equal(
          (await versions(COLLECTION_IDS.council, indicatorObjectId(indicatorId, 'council'))).length,
          1,
          'council: unchanged, no new version',
        );
        assert.equal(
          (await versions(COLLECTION_IDS.public, indicatorObjectId(indicatorId, 'public'))).length,
          1,
        );

        // A second source classifies it full-tier: council and public get a revoked version.
        await intel.recordSighting({ ...base, source: 'isp-b', tier: 'full' });
        await publisher.sync();
        for (const [collection, tier] of [
          [COLLECTION_IDS.council, 'council'],
          [COLLECTION_IDS.public, 'public'],
        ] as const) {
          const v = await versions(collection, indicatorObjectId(indicatorId, tier));
          assert.equal(v.length, 2);
          assert.equal(v[1]!.is_latest, 1);
          assert.equal((JSON.parse(v[1]!.body) as { revoked?: boolean }).revoked, true);
        }
        const full = await versions(COLLECTION_IDS.full, indicatorObjectId(indicatorId, 'full'));
        assert.equal(full.filter((v) => v.is_latest === 1).length, 1);
        assert.ok(
          !full.some((v) => (JSON.parse(v.body) as { revoked?: boolean }).revoked),
          'the full analysis keeps it live',
        );

        // A source that takes its report back: its sighting gets a revoked version in the full
        // collection; the other source's stays live.
        const revokedOf = (v: { body: string }[]) =>
          (JSON.parse(v.at(-1)!.body) as { revoked?: boolean }).revoked === true;
        const sightingVersions = (source: string) =>
          versions(COLLECTION_IDS.full, sightingObjectId(indicatorId, source, 'full'));
        assert.equal(revokedOf(await sightingVersions('isp-a')), false);
        const outcome = await intel.withdrawSource(indicatorId, 'isp-a', 'cleaned up', 'isp-a');
        assert.equal(outcome.outcome, 'source-removed');
        await publisher.sync();
        const withdrawnSighting = await sightingVersions('isp-a');
        assert.equal(withdrawnSighting.filter((v) => v.is_latest === 1).length, 1);
        assert.equal(withdrawnSighting.at(-1)!.is_latest, 1);
        assert.ok(revokedOf(withdrawnSighting), "the withdrawn source's sighting is revoked");
        assert.equal(revokedOf(await sightingVersions('isp-b')), false, 'the other source still reports it');
        // Publishing again revokes nothing twice.
        await intel.recordSighting({ ...base, value: '198.51.100.99' });
        await publisher.sync();
        assert.equal((await sightingVersions('isp-a')).length, withdrawnSighting.length);

        // Withdrawal revokes at the full tier too.
        await intel.withdraw(indicatorId, 'false positive', 'analyst');
        await publisher.sync();
        const last = (await versions(COLLECTION_IDS.full, indicatorObjectId(indicatorId, 'full'))).at(-1)!;
        assert.equal((JSON.parse(last.body) as { revoked?: boolean }).revoked, true);
      } finally {
        await store.close();
      }
    });
  });
}
