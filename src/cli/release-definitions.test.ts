/**
 * The definitions every released object refers to reach every reader that gets the object: a
 * public and a council reader (and an ISP on its own network) walk the TAXII collections of their
 * tier, and every id in `object_marking_refs` and every extension-definition id in `extensions`
 * of what they received is itself there (or fetchable by id from the same collection). Walked on
 * a fresh store and on one filled before the definitions were public (unlabelled TLP marking
 * definitions, the tier extension's unmarked first version), which the publisher brings up to
 * date at start. Nothing else reaches further than before: public readers get only public,
 * TLP:CLEAR objects, council readers nothing of the full tier and nothing RED.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TIERS, TLPS, type SightingInput } from '../intel/index.ts';
import {
  COLLECTION_IDS,
  hubIdentity,
  tierExtensionDefinition,
  tierOf,
  TIER_EXTENSION_ID,
  tlpMarkingDefinition,
  tlpMarkingId,
  type OrganisationInput,
  type StixObject,
} from '../share/index.ts';
import { addObjects, ensureCollections, ownNetworkCollectionId } from '../share/testing.ts';
import type { Store } from '../store/index.ts';
import { testEngines } from '../store/testing.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';
import { startReleaseHub, type ReleaseHub } from './testing.ts';

/**
 * The OASIS TLP 2.0 extension the TLP marking definitions use: known to consumers by its id, as
 * the definitions are, and published by OASIS as a schema, not as a STIX object the hub could
 * copy. The one reference a reader is not given an object for.
 */
const OASIS_TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

const ORGS: OrganisationInput[] = [
  { name: 'analysis', role: 'analysis', prefixes: [], asns: [] },
  { name: 'public-reader', role: 'public', prefixes: [], asns: [] },
  { name: 'council-reader', role: 'council', consent: true, prefixes: [], asns: [] },
  { name: 'isp-reader', role: 'isp', consent: true, prefixes: ['10.7.0.0/16'], asns: [] },
];

/** Indicators of every tier x TLP, C&C servers and bots in the ISP's network. */
function analysis(): SightingInput[] {
  const out: SightingInput[] = [];
  let n = 0;
  for (const tier of TIERS)
    for (const tlp of TLPS) {
      n++;
      out.push(
        {
          type: 'c2',
          value: `10.240.0.${n}`,
          port: 4444,
          proto: 'tcp',
          source: 'defs',
          confidence: 80,
          tier,
          tlp,
        },
        { type: 'bot', value: `10.7.0.${n}`, source: 'defs', confidence: 80, tier, tlp },
        { type: 'domain', value: `d${n}.defs.example`, source: 'defs', confidence: 80, tier, tlp },
      );
    }
  return out;
}

/** A store as the hub left it before the definitions were public: unlabelled, unmarked. */
async function fillAsBefore(store: Store): Promise<void> {
  await ensureCollections(store);
  const {
    object_marking_refs: _marked,
    extensions: _labelled,
    ...unmarked
  } = tierExtensionDefinition(hubIdentity());
  const firstVersion = { ...unmarked, modified: '2026-01-01T00:00:00.000Z' } as StixObject;
  const at = '2026-06-01T00:00:00.000Z';
  await store.transaction(async (trx) => {
    for (const collection of [COLLECTION_IDS.full, COLLECTION_IDS.council, COLLECTION_IDS.public])
      await addObjects(trx, collection, [...TLPS.map(tlpMarkingDefinition), firstVersion], at);
  });
  await store.db
    .updateTable('stix_objects')
    .set({ tier: 'full', tlp: 'amber+strict' })
    .where('object_type', '=', 'marking-definition')
    .execute();
}

/** Every object a reader gets from a collection, page after page. */
async function readAll(h: ReleaseHub, root: string, collection: string, org: string): Promise<StixObject[]> {
  const out: StixObject[] = [];
  let next: string | undefined;
  do {
    const url = `/${root}/collections/${collection}/objects/?limit=500${next ? `&next=${next}` : ''}`;
    const res = await h.req('GET', url, org);
    assert.equal(res.statusCode, 200, `${org} reading ${url}: ${res.body}`);
    const page = res.json() as { objects?: StixObject[]; more: boolean; next?: string };
    out.push(...(page.objects ?? []));
    next = page.more ? page.next : undefined;
  } while (next);
  return out;
}

/** The marking definitions and extension definitions an object refers to. */
function referencesOf(object: StixObject): string[] {
  const markings = Array.isArray(object.object_marking_refs) ? (object.object_marking_refs as string[]) : [];
  const extensions = Object.keys((object.extensions as Record<string, unknown> | undefined) ?? {}).filter(
    (id) => id.startsWith('extension-definition--') && id !== OASIS_TLP2_EXTENSION_ID,
  );
  return [...markings, ...extensions];
}

/** Walks one collection as one reader: no reference left dangling, nothing past the reader's tier. */
async function walkCollection(
  h: ReleaseHub,
  reader: { org: string; tier: 'public' | 'council' },
  root: string,
  collection: string,
): Promise<void> {
  const objects = await readAll(h, root, collection, reader.org);
  const where = `${reader.org} in ${root}/${collection}`;
  assert.ok(
    objects.some((o) => o.type === 'indicator'),
    `${where}: the walk reads indicators`,
  );
  const received = new Map(objects.map((o) => [o.id, o]));
  let references = 0;
  for (const object of objects)
    for (const ref of referencesOf(object)) {
      references++;
      if (received.has(ref)) continue;
      const res = await h.req('GET', `/${root}/collections/${collection}/objects/${ref}/`, reader.org);
      assert.equal(
        res.statusCode,
        200,
        `${where}: ${object.id} refers to ${ref}, which the reader cannot get`,
      );
      received.set(ref, (res.json() as { objects: StixObject[] }).objects[0]!);
    }
  assert.ok(references > objects.length, `${where}: ${references} references checked`);

  // The definitions are the published ones, the tier extension in its marked version.
  for (const tlp of TLPS) {
    const definition = received.get(tlpMarkingId(tlp));
    if (definition) assert.deepEqual(definition, tlpMarkingDefinition(tlp), `${where}: TLP:${tlp}`);
  }
  assert.deepEqual(received.get(TIER_EXTENSION_ID), tierExtensionDefinition(hubIdentity()), where);

  // Nothing reaches further than the reader's tier lets it.
  for (const object of objects) {
    if (object.type === 'marking-definition') continue; // the OASIS definitions, checked above
    const tier = tierOf(object);
    const markings = (object.object_marking_refs as string[] | undefined) ?? [];
    if (reader.tier === 'public') {
      assert.equal(tier, 'public', `${where}: ${object.id} of tier ${tier}`);
      assert.deepEqual(markings, [tlpMarkingId('clear')], `${where}: ${object.id} marked ${markings}`);
    } else {
      assert.ok(tier === 'public' || tier === 'council', `${where}: ${object.id} of tier ${tier}`);
      assert.ok(!markings.includes(tlpMarkingId('red')), `${where}: ${object.id} marked RED`);
    }
  }
}

async function walk(h: ReleaseHub): Promise<void> {
  await h.intel.recordSightings(analysis());
  await h.hub.publisher.sync();
  // Public notice is what the analysis centre approves (those whose marking allows it).
  for (const entry of await h.hub.reviews.list('pending', 10_000))
    await h.hub.reviews.approve(entry.id, 'definitions walk').catch((error: unknown) => {
      assert.match((error as Error).message, /the marking binds/);
    });
  await h.hub.publisher.sync();

  await walkCollection(h, { org: 'public-reader', tier: 'public' }, 'public', COLLECTION_IDS.public);
  await walkCollection(h, { org: 'council-reader', tier: 'council' }, 'council', COLLECTION_IDS.council);
  await walkCollection(h, { org: 'isp-reader', tier: 'council' }, 'council', COLLECTION_IDS.council);
  await walkCollection(
    h,
    { org: 'isp-reader', tier: 'council' },
    'network',
    ownNetworkCollectionId(h.orgIds['isp-reader']!),
  );
}

for (const engine of testEngines(ROOM_MIGRATIONS)) {
  describe(`shared definitions released on ${engine.name}`, { skip: engine.skip }, () => {
    test('public and council readers get every definition what they received refers to', async () => {
      const h = await startReleaseHub(await engine.open(), ORGS);
      try {
        await walk(h);
      } finally {
        await h.close();
      }
    });

    test('a store filled before the definitions were public is brought up to date at start', async () => {
      const store = await engine.open();
      await fillAsBefore(store);
      const h = await startReleaseHub(store, ORGS);
      try {
        await walk(h);
      } finally {
        await h.close();
      }
    });
  });
}
