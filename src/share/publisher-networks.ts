/**
 * Each organisation's own network (its prefixes and AS numbers): the collection its infected
 * hosts and vulnerable devices are published to, back-filled the first time it is seen, and the
 * objects every collection holds once.
 */
import { PrefixSet } from '../core/index.ts';
import { type Intel, TLPS, type Tier } from '../intel/index.ts';
import type { Transaction } from 'kysely';
import type { Database, Store } from '../store/index.ts';
import {
  addObjects,
  OWN_NETWORK_TIER,
  ownNetworkCollectionId,
  SHARED_TYPES,
  storedLabel,
} from './collections.ts';
import { inNetwork, type OwnNetwork } from './publisher-plan.ts';
import {
  hubIdentityObject,
  OWN_NETWORK_SANITISER,
  publishedMarkingDefinitionTexts,
  tierExtensionDefinition,
  tlpMarkingDefinition,
  type HubIdentity,
  type StixObject,
} from './stix.ts';

/** What publishing to own networks needs. */
export interface NetworkPublisher {
  store: Store;
  intel: Pick<Intel, 'list' | 'relationshipsFrom'>;
  hub: HubIdentity;
  pageSize: number;
  /** The publisher's lock: own-network writes are publishing writes. */
  lockKey: number;
}

/**
 * The definitions every object refers to: the TLP 2.0 marking definitions and the tier
 * extension. Every collection holds them, public by nature, so each reader can read what it gets.
 */
export function sharedDefinitions(hub: HubIdentity): StixObject[] {
  return [...TLPS.map(tlpMarkingDefinition), tierExtensionDefinition(hub)];
}

/** What every collection holds once: the shared definitions and the hub's identity. */
export function fixedObjects(hub: HubIdentity, tier: Tier, now: string): StixObject[] {
  return [...sharedDefinitions(hub), hubIdentityObject(hub, now, tier, 'clear')];
}

/**
 * Brings the shared definitions of collections filled earlier up to date, at publisher start:
 * a new version of a definition is stored where its content changed (the tier extension, now
 * marked), and versions of the TLP marking definitions stored before they were labelled public
 * are labelled as `storedLabel` labels them now (a marking definition has no later version to
 * add). Idempotent; it runs under the publisher's lock. A start-time step rather than a store
 * migration: the label is the release rule's (code), and a migration named 0008 would sort before
 * the 0010-0013 migrations stores built from the current tree already ran, which the migrator
 * refuses.
 */
export async function refreshSharedDefinitions(
  trx: Transaction<Database>,
  hub: HubIdentity,
  collectionIds: readonly string[],
  now: string,
): Promise<void> {
  for (const collection of collectionIds)
    await addObjects(trx, collection, sharedDefinitions(hub), now, { skipUnchanged: true });
  for (const [id, text] of publishedMarkingDefinitionTexts()) {
    const label = storedLabel(JSON.parse(text) as StixObject);
    await trx
      .updateTable('stix_objects')
      .set(label)
      .where('object_id', '=', id)
      .where('object_type', '=', 'marking-definition')
      .where('body', '=', text)
      .where((eb) => eb.or([eb('tier', '!=', label.tier), eb('tlp', '!=', label.tlp)]))
      .execute();
  }
}

/**
 * Own networks of every organisation that names prefixes or AS numbers. A network seen for the
 * first time is back-filled with every host indicator already in intel before its collection
 * row appears (so a reader never sees a half-filled collection); a crash mid-way redoes it.
 */
export async function ownNetworks(deps: NetworkPublisher): Promise<OwnNetwork[]> {
  const { store } = deps;
  const [orgs, existing] = await Promise.all([
    store.db.selectFrom('organisations').select(['id', 'name', 'prefixes', 'asns']).execute(),
    store.db
      .selectFrom('collections')
      .select(['id', 'owner_org_id'])
      .where('owner_org_id', 'is not', null)
      .execute(),
  ]);
  const have = new Set(existing.map((c) => c.id));
  const out: OwnNetwork[] = [];
  for (const org of orgs) {
    const prefixes = JSON.parse(org.prefixes) as string[];
    const asns = JSON.parse(org.asns) as number[];
    if (prefixes.length === 0 && asns.length === 0) continue;
    const network: OwnNetwork = {
      orgId: org.id,
      collectionId: ownNetworkCollectionId(org.id),
      prefixes: new PrefixSet(prefixes),
      asns: new Set(asns),
    };
    if (!have.has(network.collectionId)) await backfill(deps, network, org.name);
    out.push(network);
  }
  return out;
}

async function backfill(deps: NetworkPublisher, network: OwnNetwork, orgName: string): Promise<void> {
  const { store, intel, hub, pageSize } = deps;
  const now = new Date().toISOString();
  await store.transaction(async (trx) => {
    await addObjects(trx, network.collectionId, fixedObjects(hub, OWN_NETWORK_TIER, now), now, {
      onlyIfAbsent: true,
    });
  }, deps.lockKey);
  let cursor: string | undefined;
  do {
    const page = await intel.list({
      kinds: ['bot', 'vulnerable-device'],
      includeWithdrawn: true,
      includeExpired: true,
      limit: pageSize,
      ...(cursor ? { cursor } : {}),
    });
    cursor = page.next;
    const mine = page.items.filter((i) => inNetwork(network, i));
    if (mine.length === 0) continue;
    const relationshipsOf = await intel.relationshipsFrom(mine.map((i) => i.id));
    const objects: StixObject[] = [];
    const sharedObjects: StixObject[] = [];
    for (const indicator of mine) {
      const out = OWN_NETWORK_SANITISER.apply({
        indicator,
        sightings: [],
        relationships: relationshipsOf.get(indicator.id) ?? [],
        hub,
      });
      for (const o of out ?? []) (SHARED_TYPES.has(o.type) ? sharedObjects : objects).push(o);
    }
    const dateAdded = new Date().toISOString();
    await store.transaction(async (trx) => {
      await addObjects(trx, network.collectionId, objects, dateAdded, { skipUnchanged: true });
      await addObjects(trx, network.collectionId, sharedObjects, dateAdded, { onlyIfAbsent: true });
    }, deps.lockKey);
  } while (cursor);
  await store.db
    .insertInto('collections')
    .values({
      id: network.collectionId,
      api_root: 'network',
      title: `Own network of ${orgName}`,
      description: `Infected hosts and vulnerable devices inside the prefixes and AS numbers of ${orgName} (sanitiser own-network-v1: no sources, TLP:AMBER+STRICT).`,
      ceiling: OWN_NETWORK_TIER,
      read_tier: OWN_NETWORK_TIER,
      write_tier: null,
      ingest: 0,
      created_at: now,
      owner_org_id: network.orgId,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
