/**
 * The publisher follows intel's change feed and writes STIX into the collections: the full
 * analysis into the full collection, and the products of the named sanitisers into the council
 * and public collections (what a page becomes is publisher-plan.ts). An indicator that may no
 * longer reach a tier gets a revoked version there. Its durable cursor (the watermark) moves in
 * the same transaction as the objects, so nothing is lost or doubled: a change event only says
 * "sync now"; what to publish is read from intel after the watermark (which also catches up
 * after a restart, and across hub replicas, where another publisher may have got there first).
 */
import { Counter, type Registry } from 'prom-client';
import { singleFlight, type Component, type Logger } from '../core/index.ts';
import type { ChangeCursor, Intel } from '../intel/index.ts';
import type { Transaction } from 'kysely';
import { sqliteStatements, type Database, type Store } from '../store/index.ts';
import { addObjects, COLLECTION_IDS, ensureCollections, latestObjects } from './collections.ts';
import { fixedObjects, ownNetworks, refreshSharedDefinitions } from './publisher-networks.ts';
import { planPage, type OwnNetwork } from './publisher-plan.ts';
import type { HubIdentity, MappingInput, StixObject } from './stix.ts';
import { publicNoticeDecisions } from './review.ts';
import { publishHygieneSurveys, type HygieneSurveySource } from './hygiene.ts';

const WATERMARK_KEY = 'publisher.watermark';
/** Every source whose sightings were published: a JSON list, kept in the publishing transaction. */
const SOURCES_KEY = 'publisher.sources';
const PUBLISH_LOCK_KEY = 0x7a5a_0002;

export interface Publisher extends Component {
  /** Publishes everything changed since the last run; returns how many indicators it handled. */
  sync(): Promise<number>;
  /** Asks for a sync soon (coalesced); the change feed calls it on every change. */
  notify(): void;
}

export function createPublisher(
  /**
   * intervalMs 0: publishes only on sync() (tests, one-shot CLI commands); otherwise follows
   * intel's change feed, and looks for new hygiene surveys every hygieneCheckMs.
   */
  config: { intervalMs: number; pageSize?: number; hygieneCheckMs?: number },
  deps: {
    store: Store;
    intel: Intel;
    hub: HubIdentity;
    logger: Logger;
    registry: Registry;
    /** Recorded hygiene surveys (the hygiene room's reader); each is published once. */
    hygiene?: HygieneSurveySource;
  },
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
  let surveysPublished = 0;
  new Counter({
    name: 'tsunagi_share_published_hygiene_surveys_total',
    help: 'Hygiene surveys published as STIX reports into the collections',
    registers: [deps.registry],
    collect() {
      this.reset();
      this.inc(surveysPublished);
    },
  });
  let unsubscribe: (() => void) | undefined;
  let hygieneTimer: NodeJS.Timeout | undefined;
  let bootstrapped = false;
  const networkPublisher = { store, intel, hub, pageSize, lockKey: PUBLISH_LOCK_KEY };

  async function runOnce(): Promise<number> {
    if (!bootstrapped) {
      await publishFixedObjects(store, hub);
      bootstrapped = true;
    }
    // Surveys are recorded by another process (`hygiene check --record`), never through intel:
    // each run asks the hygiene room for surveys it has not published yet (a cheap list of ids).
    if (deps.hygiene)
      surveysPublished += await publishHygieneSurveys(store, deps.hygiene, hub, PUBLISH_LOCK_KEY);
    const networks = await ownNetworks(networkPublisher);
    let handled = 0;
    for (;;) {
      // Read intel outside the write transaction (SQLite has one connection; a read inside would
      // wait on the transaction holding it), then write only if the watermark has not moved.
      const mark = await readKv(store, WATERMARK_KEY);
      const page = await readChanges(store, intel, hub, pageSize, mark);
      if (!page) return handled;
      const done = await store.transaction((trx) => publishPage(trx, mark, page, networks), PUBLISH_LOCK_KEY);
      if (done < 0) continue;
      handled += done;
      published += done;
      if (done < pageSize) return handled;
      // On SQLite every query above resolves at once, so a long catch-up would otherwise hold the
      // event loop to its end: let requests and timers run between pages.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  const flight = singleFlight(runOnce);
  const sync = (): Promise<number> => flight.run();

  const tick = () => {
    sync().catch((error: unknown) => deps.logger.error({ err: error }, 'publishing to collections failed'));
  };

  return {
    name: 'publisher',
    async start() {
      // Subscribed before the first sync: a change committed while it runs asks for another.
      if (config.intervalMs > 0)
        unsubscribe = intel.changes.subscribe(tick, {
          kinds: ['indicator.added', 'indicator.updated', 'indicator.withdrawn'],
        }).unsubscribe;
      if (config.intervalMs > 0 && deps.hygiene)
        hygieneTimer = setInterval(tick, config.hygieneCheckMs ?? 60_000).unref();
      await sync();
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      clearInterval(hygieneTimer);
      hygieneTimer = undefined;
      await flight.settled();
    },
    sync,
    notify: tick,
  };
}

/** The hub's identity and markings, in every collection once, the definitions up to date. */
async function publishFixedObjects(store: Store, hub: HubIdentity): Promise<void> {
  await ensureCollections(store);
  const now = new Date().toISOString();
  await store.transaction(async (trx) => {
    for (const [collection, tier] of [
      [COLLECTION_IDS.full, 'full'],
      [COLLECTION_IDS.council, 'council'],
      [COLLECTION_IDS.public, 'public'],
    ] as const) {
      await addObjects(trx, collection, fixedObjects(hub, tier, now), now, { onlyIfAbsent: true });
    }
    const ownNetworks = await trx
      .selectFrom('collections')
      .select('id')
      .where('owner_org_id', 'is not', null)
      .execute();
    await refreshSharedDefinitions(
      trx,
      hub,
      [COLLECTION_IDS.full, COLLECTION_IDS.council, COLLECTION_IDS.public, ...ownNetworks.map((c) => c.id)],
      now,
    );
  }, PUBLISH_LOCK_KEY);
}

type ChangePage = NonNullable<Awaited<ReturnType<typeof readChanges>>>;

/** The changes after the watermark with everything their mapping needs, read outside any transaction. */
async function readChanges(
  store: Store,
  intel: Intel,
  hub: HubIdentity,
  pageSize: number,
  mark: string | undefined,
) {
  const changed = await intel.changedSince(mark ? (JSON.parse(mark) as ChangeCursor) : undefined, pageSize);
  if (changed.length === 0) return undefined;
  const ids = changed.map((i) => i.id);
  const [sightingsOf, relationshipsOf, decisions, storedSources] = await Promise.all([
    intel.sightingsOf(ids),
    intel.relationshipsFrom(ids),
    publicNoticeDecisions(store.db, ids),
    readKv(store, SOURCES_KEY),
  ]);
  const fallbackSources = storedSources === undefined ? await intel.sightingSources() : [];
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
  return { changed, inputs, fallbackSources };
}

/**
 * Publishes a page read at watermark `mark` and moves the watermark past it, in one transaction;
 * how many indicators it handled, or -1 when another publisher moved the watermark meanwhile.
 */
async function publishPage(
  trx: Transaction<Database>,
  mark: string | undefined,
  page: ChangePage,
  networks: Awaited<ReturnType<typeof ownNetworks>>,
): Promise<number> {
  const { changed, inputs, fallbackSources } = page;
  const now = await trx.selectFrom('kv').select('value').where('key', '=', WATERMARK_KEY).executeTakeFirst();
  if ((now?.value ?? null) !== (mark ?? null)) return -1; // another publisher got here first
  const { sources, stored } = await publishedSources(trx, () => fallbackSources);
  const knownBefore = sources.size;
  // Every source of the page is known before any chunk is planned, as when the page was one plan.
  for (const input of inputs) for (const s of input.sightings) sources.add(s.source);
  if (!stored || sources.size !== knownBefore)
    await putKv(trx, SOURCES_KEY, JSON.stringify([...sources].sort()));
  await writeInChunks(trx, inputs, networks, sources, new Date().toISOString());
  const last = changed[changed.length - 1]!;
  await putKv(trx, WATERMARK_KEY, JSON.stringify({ modifiedAt: last.modifiedAt, id: last.id }));
  return changed.length;
}

/**
 * The sources whose sightings were ever published. A store that published before this list was
 * kept starts from every source intel still holds a sighting of (`fallback`, read once, the
 * first time, before the transaction: SQLite has one connection).
 */
async function publishedSources(
  trx: Transaction<Database>,
  fallback: () => readonly string[],
): Promise<{ sources: Set<string>; stored: boolean }> {
  const row = await trx.selectFrom('kv').select('value').where('key', '=', SOURCES_KEY).executeTakeFirst();
  if (row) return { sources: new Set(JSON.parse(row.value) as string[]), stored: true };
  return { sources: new Set(fallback()), stored: false };
}

async function readKv(store: Store, key: string): Promise<string | undefined> {
  const row = await store.db.selectFrom('kv').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

async function putKv(trx: Transaction<Database>, key: string, value: string): Promise<void> {
  await trx
    .insertInto('kv')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/**
 * Indicators planned and written at a time on SQLite. A page's STIX objects all alive at once
 * (~13 per indicator) outlived V8's young generation and were copied into the old one, whose
 * collections took a fifth of publishing; a chunk's die young. On PostgreSQL every statement is
 * a round trip, which costs more than the collections: there a page is one chunk.
 */
const SQLITE_PLAN_CHUNK = 50;

/**
 * Plans and writes a page chunk by chunk, in the order one plan of the page was written: each
 * collection's versioned objects in indicator order, then the shared objects (kept until the
 * end: about one small observable per indicator and collection), then the revoked versions.
 */
async function writeInChunks(
  trx: Transaction<Database>,
  inputs: readonly MappingInput[],
  networks: readonly OwnNetwork[],
  sources: Set<string>,
  dateAdded: string,
): Promise<void> {
  const shared = new Map<string, StixObject[]>();
  const refused = new Map<string, { ids: string[]; modified: Map<string, string> }>();
  const chunk = sqliteStatements(trx) ? SQLITE_PLAN_CHUNK : inputs.length;
  for (let i = 0; i < inputs.length; i += chunk) {
    const plan = planPage(inputs.slice(i, i + chunk), networks, sources);
    for (const [collection, objects] of plan.versioned)
      await addObjects(trx, collection, objects, dateAdded, { skipUnchanged: true });
    for (const [collection, objects] of plan.shared) appendTo(shared, collection, objects);
    for (const [collection, r] of plan.refused) {
      let into = refused.get(collection);
      if (!into) refused.set(collection, (into = { ids: [], modified: new Map() }));
      into.ids.push(...r.ids);
      for (const [id, modified] of r.modified) into.modified.set(id, modified);
    }
  }
  for (const [collection, objects] of shared)
    await addObjects(trx, collection, objects, dateAdded, { onlyIfAbsent: true });
  for (const [collection, r] of refused) {
    const latest = await latestObjects(trx, collection, r.ids);
    const revoked = [...latest.values()]
      .filter((o) => o.revoked !== true)
      .map((o) => ({ ...o, modified: r.modified.get(o.id)!, revoked: true }));
    await addObjects(trx, collection, revoked, dateAdded);
  }
}

function appendTo(map: Map<string, StixObject[]>, key: string, items: readonly StixObject[]): void {
  const list = map.get(key);
  if (!list) map.set(key, [...items]);
  else for (const item of items) list.push(item);
}
