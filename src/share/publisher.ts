/**
 * The publisher follows intel's changes and writes STIX into the collections: the full analysis
 * into the full collection, and the products of the named sanitisers into the council and public
 * collections. An indicator that may no longer reach a tier gets a revoked version there. The
 * watermark moves in the same transaction as the objects, so nothing is lost or doubled.
 */
import { Counter, type Registry } from 'prom-client';
import { type Component, type Logger, PrefixSet } from '../core/index.ts';
import { type Indicator, type Intel, type Tier, TLPS } from '../intel/index.ts';
import type { Transaction } from 'kysely';
import type { Database, Store } from '../store/index.ts';
import {
  addObjects,
  COLLECTION_IDS,
  ensureCollections,
  latestObjects,
  OWN_NETWORK_TIER,
  ownNetworkCollectionId,
  SHARED_TYPES,
} from './collections.ts';
import {
  hubIdentityObject,
  indicatorObjectId,
  infrastructureId,
  mapFull,
  OWN_NETWORK_SANITISER,
  SANITISERS,
  sightingObjectId,
  tierExtensionDefinition,
  tlpMarkingDefinition,
  type HubIdentity,
  type MappingInput,
  type StixObject,
} from './stix.ts';
import { publicNoticeDecisions } from './review.ts';

const WATERMARK_KEY = 'publisher.watermark';
/** Every source whose sightings were published: a JSON list, kept in the publishing transaction. */
const SOURCES_KEY = 'publisher.sources';
const PUBLISH_LOCK_KEY = 0x7a5a_0002;

/** An organisation's own network: where its infected hosts and vulnerable devices are published. */
interface OwnNetwork {
  orgId: string;
  collectionId: string;
  prefixes: PrefixSet;
  asns: Set<number>;
}

/** Indicator kinds that name a subscriber's host: they reach only the ISP owning the address. */
const OWN_NETWORK_KINDS = new Set(['bot', 'vulnerable-device']);

function inNetwork(network: OwnNetwork, indicator: Indicator): boolean {
  if (indicator.asn !== null && network.asns.has(indicator.asn)) return true;
  try {
    return network.prefixes.hasText(indicator.value);
  } catch {
    return false;
  }
}

export interface Publisher extends Component {
  /** Publishes everything changed since the last run; returns how many indicators it handled. */
  sync(): Promise<number>;
  /** Asks for a sync soon (coalesced). */
  notify(): void;
}

export function createPublisher(
  config: { intervalMs: number; pageSize?: number },
  deps: { store: Store; intel: Intel; hub: HubIdentity; logger: Logger; registry: Registry },
): Publisher {
  const { store, intel, hub } = deps;
  // Larger pages: fewer transactions and index lookups per indicator (memory stays a few MB a page).
  const pageSize = config.pageSize ?? 2000;
  let published = 0;
  new Counter({
    name: 'tsunagi_share_published_indicators_total',
    help: 'Indicator changes published as STIX into the collections',
    registers: [deps.registry],
    collect() {
      this.reset();
      this.inc(published);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let bootstrapped = false;

  function fixedObjects(tier: Tier, now: string): StixObject[] {
    return [
      ...TLPS.map(tlpMarkingDefinition),
      tierExtensionDefinition(hub),
      hubIdentityObject(hub, now, tier, 'clear'),
    ];
  }

  /**
   * Own networks of every organisation that names prefixes or AS numbers. A network seen for the
   * first time is back-filled with every host indicator already in intel before its collection
   * row appears (so a reader never sees a half-filled collection); a crash mid-way redoes it.
   */
  async function ownNetworks(): Promise<OwnNetwork[]> {
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
      if (!have.has(network.collectionId)) await backfill(network, org.name);
      out.push(network);
    }
    return out;
  }

  async function backfill(network: OwnNetwork, orgName: string): Promise<void> {
    const now = new Date().toISOString();
    await store.transaction(async (trx) => {
      await addObjects(trx, network.collectionId, fixedObjects(OWN_NETWORK_TIER, now), now, {
        onlyIfAbsent: true,
      });
    }, PUBLISH_LOCK_KEY);
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
      }, PUBLISH_LOCK_KEY);
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

  /**
   * The sources whose sightings were ever published. A store that published before this list was
   * kept starts from every source intel still holds a sighting of (read once, the first time).
   */
  async function publishedSources(
    trx: Transaction<Database>,
  ): Promise<{ sources: Set<string>; stored: boolean }> {
    const row = await trx.selectFrom('kv').select('value').where('key', '=', SOURCES_KEY).executeTakeFirst();
    if (row) return { sources: new Set(JSON.parse(row.value) as string[]), stored: true };
    const rows = await trx.selectFrom('sightings').select('source').distinct().execute();
    return { sources: new Set(rows.map((r) => r.source)), stored: false };
  }

  async function bootstrap() {
    if (bootstrapped) return;
    await ensureCollections(store);
    const now = new Date().toISOString();
    await store.transaction(async (trx) => {
      for (const [collection, tier] of [
        [COLLECTION_IDS.full, 'full'],
        [COLLECTION_IDS.council, 'council'],
        [COLLECTION_IDS.public, 'public'],
      ] as const) {
        await addObjects(trx, collection, fixedObjects(tier, now), now, { onlyIfAbsent: true });
      }
    }, PUBLISH_LOCK_KEY);
    bootstrapped = true;
  }

  async function runOnce(): Promise<number> {
    await bootstrap();
    const networks = await ownNetworks();
    let handled = 0;
    for (;;) {
      // Read intel outside the write transaction (SQLite has one connection; a read inside would
      // wait on the transaction holding it), then write only if the watermark has not moved.
      const mark = await store.db
        .selectFrom('kv')
        .select('value')
        .where('key', '=', WATERMARK_KEY)
        .executeTakeFirst();
      const watermark = mark ? (JSON.parse(mark.value) as { modifiedAt: string; id: string }) : undefined;
      const changed = await intel.changedSince(watermark, pageSize);
      if (changed.length === 0) return handled;
      const ids = changed.map((i) => i.id);
      const [sightingsOf, relationshipsOf, decisions] = await Promise.all([
        intel.sightingsOf(ids),
        intel.relationshipsFrom(ids),
        publicNoticeDecisions(store.db, ids),
      ]);
      const inputs: MappingInput[] = changed.map((indicator) => {
        const publicNotice = decisions.get(indicator.id);
        return {
          indicator,
          sightings: sightingsOf.get(indicator.id) ?? [],
          relationships: relationshipsOf.get(indicator.id) ?? [],
          hub,
          ...(publicNotice ? { publicNotice } : {}),
        };
      });
      const done = await store.transaction(async (trx) => {
        const now = await trx
          .selectFrom('kv')
          .select('value')
          .where('key', '=', WATERMARK_KEY)
          .executeTakeFirst();
        if ((now?.value ?? null) !== (mark?.value ?? null)) return -1; // another publisher got here first
        const dateAdded = new Date().toISOString();
        // Gather the whole page per collection, then write each in batches.
        const versioned = new Map<string, StixObject[]>();
        const shared = new Map<string, StixObject[]>();
        const refused = new Map<string, { ids: string[]; modified: Map<string, string> }>();
        const revoke = (collection: string, id: string, modifiedAt: string) => {
          let r = refused.get(collection);
          if (!r) refused.set(collection, (r = { ids: [], modified: new Map() }));
          r.ids.push(id);
          r.modified.set(id, modifiedAt);
        };
        // A source that took its report back has no sighting in intel any more, but its sighting
        // object may still be the latest in the full collection: each source published before and
        // not reporting now gets a revoked version there (if it ever had one).
        const { sources, stored } = await publishedSources(trx);
        const knownBefore = sources.size;
        for (const input of inputs) for (const s of input.sightings) sources.add(s.source);
        for (const input of inputs) {
          const reporting = new Set(input.sightings.map((s) => s.source));
          for (const source of sources)
            if (!reporting.has(source))
              revoke(
                COLLECTION_IDS.full,
                sightingObjectId(input.indicator.id, source, 'full'),
                input.indicator.modifiedAt,
              );
        }
        if (!stored || sources.size !== knownBefore) {
          const value = JSON.stringify([...sources].sort());
          await trx
            .insertInto('kv')
            .values({ key: SOURCES_KEY, value })
            .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
            .execute();
        }
        const put = (map: Map<string, StixObject[]>, collection: string, objects: StixObject[]) => {
          let list = map.get(collection);
          if (!list) map.set(collection, (list = []));
          list.push(...objects);
        };
        for (const input of inputs) {
          const indicator = input.indicator;
          const full = mapFull(input);
          put(
            versioned,
            COLLECTION_IDS.full,
            full.filter((o) => !SHARED_TYPES.has(o.type)),
          );
          put(
            shared,
            COLLECTION_IDS.full,
            full.filter((o) => SHARED_TYPES.has(o.type)),
          );
          for (const [sanitiser, collection, tier] of [
            [SANITISERS['council-v1'], COLLECTION_IDS.council, 'council'],
            [SANITISERS['public-v1'], COLLECTION_IDS.public, 'public'],
          ] as const) {
            const out = sanitiser.apply(input);
            if (out) {
              put(
                versioned,
                collection,
                out.filter((o) => !SHARED_TYPES.has(o.type)),
              );
              put(
                shared,
                collection,
                out.filter((o) => SHARED_TYPES.has(o.type)),
              );
            } else {
              for (const id of [
                indicatorObjectId(indicator.id, tier as Tier),
                infrastructureId(indicator.id, tier as Tier),
              ])
                revoke(collection, id, indicator.modifiedAt);
            }
          }
          if (OWN_NETWORK_KINDS.has(indicator.kind)) {
            const owners = networks.filter((n) => inNetwork(n, indicator));
            const out = owners.length ? OWN_NETWORK_SANITISER.apply(input) : undefined;
            for (const network of owners) {
              if (out) {
                put(
                  versioned,
                  network.collectionId,
                  out.filter((o) => !SHARED_TYPES.has(o.type)),
                );
                put(
                  shared,
                  network.collectionId,
                  out.filter((o) => SHARED_TYPES.has(o.type)),
                );
              } else {
                for (const id of [
                  indicatorObjectId(indicator.id, OWN_NETWORK_TIER),
                  infrastructureId(indicator.id, OWN_NETWORK_TIER),
                ])
                  revoke(network.collectionId, id, indicator.modifiedAt);
              }
            }
          }
        }
        for (const [collection, objects] of versioned)
          await addObjects(trx, collection, objects, dateAdded, { skipUnchanged: true });
        for (const [collection, objects] of shared)
          await addObjects(trx, collection, objects, dateAdded, { onlyIfAbsent: true });
        // What may no longer reach a tier (or a source no longer reports) gets a revoked version
        // there, if it was ever published.
        for (const [collection, r] of refused) {
          const latest = await latestObjects(trx, collection, r.ids);
          const revoked = [...latest.values()]
            .filter((o) => o.revoked !== true)
            .map((o) => ({ ...o, modified: r.modified.get(o.id)!, revoked: true }));
          await addObjects(trx, collection, revoked, dateAdded);
        }
        const last = changed[changed.length - 1]!;
        const value = JSON.stringify({ modifiedAt: last.modifiedAt, id: last.id });
        await trx
          .insertInto('kv')
          .values({ key: WATERMARK_KEY, value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
        return changed.length;
      }, PUBLISH_LOCK_KEY);
      if (done < 0) continue;
      handled += done;
      published += done;
      if (done < pageSize) return handled;
      // On SQLite every query above resolves at once, so a long catch-up would otherwise hold the
      // event loop to its end: let requests and timers run between pages.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function sync(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      do {
        again = false;
        total += await runOnce();
      } while (again);
      return total;
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const tick = () => {
    sync().catch((error: unknown) => deps.logger.error({ err: error }, 'publishing to collections failed'));
  };

  return {
    name: 'publisher',
    async start() {
      await sync();
      if (config.intervalMs > 0) {
        timer = setInterval(tick, config.intervalMs);
        timer.unref();
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
    sync,
    notify: tick,
  };
}
