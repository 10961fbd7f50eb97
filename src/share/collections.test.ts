/** addObjects and versions that another object holds under the same key, or that a racing writer stored. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { objectKey } from '../store/index.ts';
import { testEngines } from '../store/testing.ts';
import { HUB_MIGRATIONS } from './testing.ts';
import { addObjects, refusedVersionCount } from './collections.ts';
import type { StixObject } from './stix.ts';

const COLLECTION = 'collection-1';
const FIRST = '2026-01-01T00:00:00.000Z';
const SECOND = '2026-01-02T00:00:00.000Z';

function indicator(id: string, modified: string): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id,
    created: FIRST,
    modified,
    pattern: "[ipv4-addr:value = '192.0.2.1']",
  };
}

for (const engine of testEngines(HUB_MIGRATIONS)) {
  describe(`addObjects on ${engine.name}`, { skip: engine.skip }, () => {
    // PostgreSQL's unique (object_key, version) index lets one object hold a version under a key;
    // SQLite has no such index (migration 0005), and the ids in each row keep the objects apart.
    const unique = engine.name === 'postgres';
    test(`a version another object holds under the same key is ${unique ? 'refused' : 'stored too'}`, async () => {
      const store = await engine.open();
      try {
        const id = 'indicator--00000000-0000-4000-8000-000000000001';
        // Cyrb53 collisions are not at hand: a row of another object stored under this id's key.
        await store.db
          .insertInto('stix_objects')
          .values({
            collection_id: COLLECTION,
            object_id: 'indicator--00000000-0000-4000-8000-00000000beef',
            object_key: objectKey(COLLECTION, id),
            object_type: 'indicator',
            spec_version: '2.1',
            version: FIRST,
            date_added: FIRST,
            is_latest: 1,
            tier: 'full',
            tlp: 'amber',
            body: '{}',
          })
          .execute();
        const refused: string[] = [];
        const before = refusedVersionCount();
        const added = await store.transaction((trx) =>
          addObjects(trx, COLLECTION, [indicator(id, FIRST), indicator(id, SECOND)], SECOND, {
            onRefused: (object, message) => refused.push(`${object.id} ${message}`),
          }),
        );
        const rows = await store.db
          .selectFrom('stix_objects')
          .select(['object_id', 'version', 'is_latest'])
          .where('object_id', '=', id)
          .orderBy('version')
          .execute();
        const again = await store.transaction((trx) =>
          addObjects(trx, COLLECTION, [indicator(id, FIRST), indicator(id, SECOND)], SECOND),
        );
        if (!unique) {
          assert.equal(added, 2);
          assert.deepEqual(refused, []);
          assert.deepEqual(
            rows.map((r) => [r.version, Number(r.is_latest)]),
            [
              [FIRST, 0],
              [SECOND, 1],
            ],
          );
          assert.equal(again, 0);
          assert.equal(refusedVersionCount(), before);
          return;
        }
        assert.equal(added, 1);
        assert.equal(refused.length, 1);
        assert.match(
          refused[0]!,
          /^indicator--0+-0000-4000-8000-0+1 version 2026-01-01T00:00:00.000Z cannot be stored: .*hash collision/,
        );
        assert.deepEqual(
          rows.map((r) => [r.version, Number(r.is_latest)]),
          [[SECOND, 1]],
        );
        // Posting the same versions again stores nothing and refuses the held one again.
        assert.equal(again, 0);
        assert.equal(refusedVersionCount(), before + 2);
      } finally {
        await store.close();
      }
    });
  });
}

const postgres = testEngines(HUB_MIGRATIONS).find((e) => e.name === 'postgres')!;
test(
  'PostgreSQL: two writers that both read a version as absent store it once',
  { skip: postgres.skip },
  async () => {
    const store = await postgres.open();
    try {
      const id = 'indicator--00000000-0000-4000-8000-000000000002';
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let firstInserted!: () => void;
      const inserted = new Promise<void>((resolve) => (firstInserted = resolve));
      // No advisory lock: what a POST and another replica's publisher do at the same moment.
      const first = store.transaction(async (trx) => {
        const n = await addObjects(trx, COLLECTION, [indicator(id, FIRST)], FIRST);
        firstInserted();
        await released;
        return n;
      });
      await inserted;
      const second = store.transaction((trx) => addObjects(trx, COLLECTION, [indicator(id, FIRST)], FIRST));
      // The second writer read no version (the first is uncommitted) and now waits on the index.
      await new Promise((resolve) => setTimeout(resolve, 200));
      release();
      assert.deepEqual(await Promise.all([first, second]), [1, 1]);
      const rows = await store.db
        .selectFrom('stix_objects')
        .select(['version', 'is_latest'])
        .where('object_id', '=', id)
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.version, Number(r.is_latest)]),
        [[FIRST, 1]],
      );
    } finally {
      await store.close();
    }
  },
);
