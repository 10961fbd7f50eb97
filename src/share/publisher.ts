/**
 * The publisher follows intel's changes and writes STIX into the collections: the full analysis
 * into the full collection, and the products of the named sanitisers into the council and public
 * collections. An indicator that may no longer reach a tier gets a revoked version there. The
 * watermark moves in the same transaction as the objects, so nothing is lost or doubled.
 */
import { Counter, type Registry } from 'prom-client';
import type { Component } from '../core/lifecycle.ts';
import type { Logger } from '../core/logger.ts';
import type { Intel } from '../intel/index.ts';
import type { Store } from '../store/index.ts';
import { addObjects, COLLECTION_IDS, ensureCollections, latestObjects } from './collections.ts';
import {
  hubIdentityObject,
  indicatorObjectId,
  infrastructureId,
  mapFull,
  SANITISERS,
  tierExtensionDefinition,
  tlpMarkingDefinition,
  type HubIdentity,
  type MappingInput,
  type StixObject,
} from './stix.ts';
import { TLPS, type Tier } from '../intel/types.ts';

const WATERMARK_KEY = 'publisher.watermark';
const PUBLISH_LOCK_KEY = 0x7a5a_0002;
/** Types that stand for one shared thing: stored once per collection, not versioned per indicator. */
const SHARED_TYPES = new Set([
  'malware',
  'identity',
  'vulnerability',
  'software',
  'ipv4-addr',
  'ipv6-addr',
  'url',
  'domain-name',
  'marking-definition',
  'extension-definition',
]);

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
  const pageSize = config.pageSize ?? 500;
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
        const fixed: StixObject[] = [
          ...TLPS.map(tlpMarkingDefinition),
          tierExtensionDefinition(hub),
          hubIdentityObject(hub, now, tier, 'clear'),
        ];
        await addObjects(trx, collection, fixed, now, { onlyIfAbsent: true });
      }
    }, PUBLISH_LOCK_KEY);
    bootstrapped = true;
  }

  async function runOnce(): Promise<number> {
    await bootstrap();
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
      const [sightingsOf, relationshipsOf] = await Promise.all([
        intel.sightingsOf(ids),
        intel.relationshipsFrom(ids),
      ]);
      const inputs: MappingInput[] = changed.map((indicator) => ({
        indicator,
        sightings: sightingsOf.get(indicator.id) ?? [],
        relationships: relationshipsOf.get(indicator.id) ?? [],
        hub,
      }));
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
              let r = refused.get(collection);
              if (!r) refused.set(collection, (r = { ids: [], modified: new Map() }));
              for (const id of [
                indicatorObjectId(indicator.id, tier as Tier),
                infrastructureId(indicator.id, tier as Tier),
              ]) {
                r.ids.push(id);
                r.modified.set(id, indicator.modifiedAt);
              }
            }
          }
        }
        for (const [collection, objects] of versioned)
          await addObjects(trx, collection, objects, dateAdded, { skipUnchanged: true });
        for (const [collection, objects] of shared)
          await addObjects(trx, collection, objects, dateAdded, { onlyIfAbsent: true });
        // What may no longer reach a tier gets a revoked version there, if it was ever published.
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
