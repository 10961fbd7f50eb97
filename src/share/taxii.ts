/**
 * The TAXII 2.1 routes: discovery, API roots per trust group, collections, objects (GET with
 * added_after, limit, next and match[...] filters; POST), single objects (GET, DELETE), versions,
 * manifest and status. Each organisation sees only the roots and collections its tier allows;
 * a POSTed object above a collection's ceiling is refused.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import { InputError } from '../core/index.ts';
import { indicatorKey, SightingInput, type Tier, type Tlp, type WithinTransaction } from '../intel/index.ts';
import { objectKey, type Database } from '../store/index.ts';
import {
  addObjects,
  API_ROOTS,
  canRead,
  canWrite,
  loadCollections,
  objectKeys,
  ownersOf,
  receivable,
  recordOwners,
  underCeiling,
  versionOf,
  type Collection,
} from './collections.ts';
import {
  HttpError,
  isRestrictedTlp,
  notFound,
  principalOf,
  recordRead,
  sendTaxii,
  TAXII_MEDIA_TYPE,
  type HubContext,
} from './http.ts';
import { applyWithdrawals, sightingsFromStix } from './ingest.ts';
import type { Principal } from './orgs.ts';
import { mayChange, release, readerOf } from './release/index.ts';
import { capSubmission } from './review.ts';
import { isStixCommon, stampCreator, StixCommon, tierOf, type StixObject } from './stix.ts';

const FilterQuery = {
  type: 'object',
  properties: {
    added_after: { type: 'string', maxLength: 40 },
    limit: { type: 'integer', minimum: 1 },
    next: { type: 'string', maxLength: 40 },
    'match[id]': { type: 'string', maxLength: 20_000 },
    'match[type]': { type: 'string', maxLength: 2000 },
    'match[version]': { type: 'string', maxLength: 2000 },
    'match[spec_version]': { type: 'string', maxLength: 100 },
  },
} as const;

interface Filters {
  added_after?: string;
  limit?: number;
  next?: string;
  'match[id]'?: string;
  'match[type]'?: string;
  'match[version]'?: string;
  'match[spec_version]'?: string;
}

const RootParams = {
  type: 'object',
  required: ['root'],
  properties: { root: { type: 'string', maxLength: 64 } },
} as const;
const CollectionParams = {
  type: 'object',
  required: ['root', 'collection'],
  properties: { root: { type: 'string', maxLength: 64 }, collection: { type: 'string', maxLength: 64 } },
} as const;
const ObjectParams = {
  type: 'object',
  required: ['root', 'collection', 'object'],
  properties: {
    root: { type: 'string', maxLength: 64 },
    collection: { type: 'string', maxLength: 64 },
    object: { type: 'string', maxLength: 300 },
  },
} as const;

function isoOrThrow(text: string, name: string): string {
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(t))
    throw new HttpError(400, 'Bad Request', `${name} must be an RFC 3339 timestamp`);
  return new Date(t).toISOString();
}

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length > 1000) throw new HttpError(400, 'Bad Request', 'too many values in a match filter');
  return items;
}

function encodeNext(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}
function decodeNext(next: string): number {
  const text = Buffer.from(next, 'base64url').toString('utf8');
  const seq = /^s(\d{1,15})$/.exec(text);
  if (!seq) throw new HttpError(400, 'Bad Request', 'next is not a value this server handed out');
  return Number(seq[1]);
}

type ObjectQuery = SelectQueryBuilder<Database, 'stix_objects', object>;

/** Applies the TAXII filters shared by objects, manifest and single-object reads. */
function applyFilters(
  query: ObjectQuery,
  collection: Collection,
  f: Filters,
  reader: Principal,
  defaultVersion = 'last',
): ObjectQuery {
  // The release rule as SQL (tiers and markings the reader may receive); `released` checks each row.
  const { tiers, tlps } = receivable(reader, collection);
  let q = query
    .where('stix_objects.collection_id', '=', collection.id)
    .where('stix_objects.tier', 'in', tiers.length ? tiers : [''])
    .where('stix_objects.tlp', 'in', tlps.length ? tlps : ['']);
  if (f.added_after) q = q.where('stix_objects.date_added', '>', isoOrThrow(f.added_after, 'added_after'));
  const ids = list(f['match[id]']);
  // Through the versions' index (object_key); the ids themselves weed out keys that collide.
  if (ids?.length)
    q = q
      .where('stix_objects.object_key', 'in', objectKeys(collection.id, ids))
      .where('stix_objects.object_id', 'in', ids);
  const types = list(f['match[type]']);
  if (types?.length) q = q.where('stix_objects.object_type', 'in', types);
  const specs = list(f['match[spec_version]']);
  if (specs?.length) q = q.where('stix_objects.spec_version', 'in', specs);
  const versions = list(f['match[version]']) ?? [defaultVersion];
  if (!versions.includes('all')) {
    const stamps = versions
      .filter((v) => v !== 'first' && v !== 'last')
      .map((v) => isoOrThrow(v, 'match[version]'));
    q = q.where((eb) => {
      const ors = [];
      if (versions.includes('last')) ors.push(eb('stix_objects.is_latest', '=', 1));
      if (versions.includes('first')) {
        ors.push(
          eb(
            'stix_objects.version',
            '=',
            eb
              .selectFrom('stix_objects as first')
              .select(sql<string>`min(first.version)`.as('v'))
              .whereRef('first.object_key', '=', 'stix_objects.object_key')
              .whereRef('first.collection_id', '=', 'stix_objects.collection_id')
              .whereRef('first.object_id', '=', 'stix_objects.object_id'),
          ),
        );
      }
      if (stamps.length) ors.push(eb('stix_objects.version', 'in', stamps));
      return eb.or(ors);
    });
  }
  if (f.next) q = q.where('stix_objects.seq', '>', decodeNext(f.next));
  return q;
}

/** The rows the release decision lets this reader have (the SQL filter already applied the same rule). */
function released<R extends { tier: string; tlp: string }>(p: Principal, c: Collection, rows: R[]): R[] {
  const reader = readerOf(p);
  return rows.filter(
    (r) =>
      release({ type: 'stored', tier: r.tier as Tier, tlp: r.tlp as Tlp, collection: c }, reader).outcome !==
      'deny',
  );
}

export function registerTaxii(app: FastifyInstance, ctx: HubContext): void {
  const { store, config, audit } = ctx;

  async function visibleCollections(p: Principal, root?: string): Promise<Collection[]> {
    const all = await loadCollections(store);
    return all.filter((c) => (root === undefined || c.apiRoot === root) && (canRead(p, c) || canWrite(p, c)));
  }
  async function rootFor(p: Principal, root: string) {
    const api = API_ROOTS.find((r) => r.path === root);
    if (!api || (await visibleCollections(p, root)).length === 0) throw notFound();
    return api;
  }
  async function collectionFor(p: Principal, root: string, id: string): Promise<Collection> {
    // One read of the collections serves both checks (rootFor's: the root is visible at all).
    if (!API_ROOTS.some((r) => r.path === root)) throw notFound();
    const c = (await visibleCollections(p, root)).find((x) => x.id === id);
    if (!c) throw notFound();
    return c;
  }
  function readable(p: Principal, c: Collection) {
    if (!canRead(p, c)) throw new HttpError(403, 'Forbidden', 'This collection does not allow you to read.');
  }
  function pageLimit(f: Filters) {
    return Math.min(f.limit ?? config.defaultPageSize, config.maxPageSize);
  }
  /** Notes a read of restricted data (AMBER, AMBER+STRICT or RED); the server records it before sending. */
  async function auditRead(
    request: FastifyRequest,
    p: Principal,
    c: Collection,
    rows: { object_id: string; tlp: string }[],
    what: 'objects' | 'manifest' | 'versions' = 'objects',
  ) {
    const restricted = rows.filter((r) => isRestrictedTlp(r.tlp));
    if (restricted.length === 0) return;
    await recordRead(audit, request, p, {
      channel: 'taxii',
      purpose: 'taxii-poll',
      target: `collection:${c.id}`,
      detail: {
        ...(what === 'objects' ? {} : { read: what }),
        objects: rows.length,
        restricted: restricted.length,
        first: restricted[0]!.object_id,
        last: restricted[restricted.length - 1]!.object_id,
      },
    });
  }
  function dateHeaders(reply: FastifyReply, rows: { date_added: string }[]) {
    if (rows.length === 0) return;
    let first = rows[0]!.date_added;
    let last = first;
    for (const r of rows) {
      if (r.date_added < first) first = r.date_added;
      if (r.date_added > last) last = r.date_added;
    }
    reply.header('X-TAXII-Date-Added-First', first).header('X-TAXII-Date-Added-Last', last);
  }

  app.get('/taxii2/', async (request, reply) => {
    const p = principalOf(request);
    const roots = [];
    for (const r of API_ROOTS)
      if ((await visibleCollections(p, r.path)).length > 0) roots.push(`/${r.path}/`);
    return sendTaxii(reply, 200, {
      title: 'tsunagi TAXII 2.1',
      description: `Sharing hub of ${ctx.hub.name}`,
      ...(roots[0] ? { default: roots[0] } : {}),
      api_roots: roots,
    });
  });

  app.get<{ Params: { root: string } }>(
    '/:root/',
    { schema: { params: RootParams } },
    async (request, reply) => {
      const root = await rootFor(principalOf(request), request.params.root);
      return sendTaxii(reply, 200, {
        title: root.title,
        description: root.description,
        versions: ['application/taxii+json;version=2.1'],
        max_content_length: config.bodyLimitBytes,
      });
    },
  );

  app.get<{ Params: { root: string; id: string } }>(
    '/:root/status/:id/',
    {
      schema: {
        params: {
          type: 'object',
          properties: { root: { type: 'string', maxLength: 64 }, id: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      await rootFor(p, request.params.root);
      const row = await store.db
        .selectFrom('taxii_status')
        .selectAll()
        .where('id', '=', request.params.id)
        .where('api_root', '=', request.params.root)
        .where('org_id', '=', p.org.id)
        .executeTakeFirst();
      if (!row) throw notFound();
      const details = JSON.parse(row.details) as { successes: unknown[]; failures: unknown[] };
      return sendTaxii(reply, 200, {
        id: row.id,
        status: row.status,
        request_timestamp: row.request_timestamp,
        total_count: row.total,
        success_count: row.success,
        successes: details.successes,
        failure_count: row.failure,
        failures: details.failures,
        pending_count: row.pending,
      });
    },
  );

  app.get<{ Params: { root: string } }>(
    '/:root/collections/',
    { schema: { params: RootParams } },
    async (request, reply) => {
      const p = principalOf(request);
      await rootFor(p, request.params.root);
      const collections = (await visibleCollections(p, request.params.root)).map((c) =>
        describeCollection(p, c),
      );
      return sendTaxii(reply, 200, collections.length ? { collections } : {});
    },
  );

  app.get<{ Params: { root: string; collection: string } }>(
    '/:root/collections/:collection/',
    { schema: { params: CollectionParams } },
    async (request, reply) => {
      const p = principalOf(request);
      return sendTaxii(
        reply,
        200,
        describeCollection(p, await collectionFor(p, request.params.root, request.params.collection)),
      );
    },
  );

  app.get<{ Params: { root: string; collection: string }; Querystring: Filters }>(
    '/:root/collections/:collection/objects/',
    { schema: { params: CollectionParams, querystring: FilterQuery } },
    async (request, reply) => {
      const p = principalOf(request);
      const c = await collectionFor(p, request.params.root, request.params.collection);
      readable(p, c);
      const limit = pageLimit(request.query);
      const rows = await applyFilters(store.db.selectFrom('stix_objects'), c, request.query, p)
        .select([
          'stix_objects.seq',
          'stix_objects.object_id',
          'stix_objects.date_added',
          'stix_objects.tier',
          'stix_objects.tlp',
          'stix_objects.body',
        ])
        .orderBy('stix_objects.seq')
        .limit(limit + 1)
        .execute();
      const more = rows.length > limit;
      const page = released(p, c, rows.slice(0, limit));
      await auditRead(request, p, c, page);
      dateHeaders(reply, page);
      // Bodies are stored as JSON text: splice them in rather than parse and re-serialise.
      const body = `{"more":${more}${more ? `,"next":"${encodeNext(rows[limit - 1]!.seq)}"` : ''}${page.length ? `,"objects":[${page.map((r) => r.body).join(',')}]` : ''}}`;
      return reply.code(200).header('content-type', TAXII_MEDIA_TYPE).send(Buffer.from(body));
    },
  );

  app.get<{ Params: { root: string; collection: string }; Querystring: Filters }>(
    '/:root/collections/:collection/manifest/',
    { schema: { params: CollectionParams, querystring: FilterQuery } },
    async (request, reply) => {
      const p = principalOf(request);
      const c = await collectionFor(p, request.params.root, request.params.collection);
      readable(p, c);
      const limit = pageLimit(request.query);
      const rows = await applyFilters(store.db.selectFrom('stix_objects'), c, request.query, p)
        .select([
          'stix_objects.seq',
          'stix_objects.object_id',
          'stix_objects.date_added',
          'stix_objects.version',
          'stix_objects.spec_version',
          'stix_objects.tier',
          'stix_objects.tlp',
        ])
        .orderBy('stix_objects.seq')
        .limit(limit + 1)
        .execute();
      const more = rows.length > limit;
      const page = released(p, c, rows.slice(0, limit));
      await auditRead(request, p, c, page, 'manifest');
      dateHeaders(reply, page);
      return sendTaxii(reply, 200, {
        more,
        ...(more ? { next: encodeNext(rows[limit - 1]!.seq) } : {}),
        ...(page.length
          ? {
              objects: page.map((r) => ({
                id: r.object_id,
                date_added: r.date_added,
                version: r.version,
                media_type: `application/stix+json;version=${r.spec_version}`,
              })),
            }
          : {}),
      });
    },
  );

  app.get<{ Params: { root: string; collection: string; object: string }; Querystring: Filters }>(
    '/:root/collections/:collection/objects/:object/',
    { schema: { params: ObjectParams, querystring: FilterQuery } },
    async (request, reply) => {
      const p = principalOf(request);
      const c = await collectionFor(p, request.params.root, request.params.collection);
      readable(p, c);
      const limit = pageLimit(request.query);
      const rows = await applyFilters(
        store.db.selectFrom('stix_objects'),
        c,
        { ...request.query, 'match[id]': request.params.object },
        p,
      )
        .select([
          'stix_objects.seq',
          'stix_objects.object_id',
          'stix_objects.date_added',
          'stix_objects.tier',
          'stix_objects.tlp',
          'stix_objects.body',
        ])
        .orderBy('stix_objects.seq')
        .limit(limit + 1)
        .execute();
      if (rows.length === 0 && !request.query['match[version]'] && !request.query.added_after)
        throw notFound();
      const more = rows.length > limit;
      const page = released(p, c, rows.slice(0, limit));
      await auditRead(request, p, c, page);
      dateHeaders(reply, page);
      return sendTaxii(reply, 200, {
        more,
        ...(more ? { next: encodeNext(rows[limit - 1]!.seq) } : {}),
        ...(page.length ? { objects: page.map((r) => JSON.parse(r.body) as unknown) } : {}),
      });
    },
  );

  app.get<{ Params: { root: string; collection: string; object: string }; Querystring: Filters }>(
    '/:root/collections/:collection/objects/:object/versions/',
    { schema: { params: ObjectParams, querystring: FilterQuery } },
    async (request, reply) => {
      const p = principalOf(request);
      const c = await collectionFor(p, request.params.root, request.params.collection);
      readable(p, c);
      const limit = pageLimit(request.query);
      const rows = await applyFilters(
        store.db.selectFrom('stix_objects'),
        c,
        { ...request.query, 'match[id]': request.params.object, 'match[version]': 'all' },
        p,
      )
        .select([
          'stix_objects.seq',
          'stix_objects.object_id',
          'stix_objects.version',
          'stix_objects.date_added',
          'stix_objects.tier',
          'stix_objects.tlp',
        ])
        .orderBy('stix_objects.seq')
        .limit(limit + 1)
        .execute();
      if (rows.length === 0 && !request.query.next && !request.query.added_after) throw notFound();
      const more = rows.length > limit;
      const page = released(p, c, rows.slice(0, limit));
      await auditRead(request, p, c, page, 'versions');
      dateHeaders(reply, page);
      return sendTaxii(reply, 200, {
        more,
        ...(more ? { next: encodeNext(rows[limit - 1]!.seq) } : {}),
        ...(page.length ? { versions: page.map((r) => r.version).sort() } : {}),
      });
    },
  );

  app.delete<{ Params: { root: string; collection: string; object: string }; Querystring: Filters }>(
    '/:root/collections/:collection/objects/:object/',
    { schema: { params: ObjectParams, querystring: FilterQuery } },
    async (request, reply) => {
      const p = principalOf(request);
      const c = await collectionFor(p, request.params.root, request.params.collection);
      if (!canWrite(p, c))
        throw new HttpError(403, 'Forbidden', 'This collection does not allow you to write.');
      const objectId = request.params.object;
      const key = objectKey(c.id, objectId);
      const deleted = await store.transaction(async (trx) => {
        // Only its owner (or the analysis centre, audited) deletes an object; to anyone else it
        // answers as if it did not exist.
        const owner = (await ownersOf(trx, c.id, [objectId])).get(objectId);
        if (owner === undefined) return 0;
        const right = mayChange(p, owner);
        if (right === 'refused') return 0;
        let q = trx
          .deleteFrom('stix_objects')
          .where('object_key', '=', key)
          .where('collection_id', '=', c.id)
          .where('object_id', '=', objectId);
        const versions = list(request.query['match[version]']);
        if (versions && !versions.includes('all')) {
          const stamps = versions
            .filter((v) => v !== 'first' && v !== 'last')
            .map((v) => isoOrThrow(v, 'match[version]'));
          const current = await trx
            .selectFrom('stix_objects')
            .select(['version', 'is_latest'])
            .where('object_key', '=', key)
            .where('collection_id', '=', c.id)
            .where('object_id', '=', objectId)
            .orderBy('version')
            .execute();
          if (versions.includes('first') && current[0]) stamps.push(current[0].version);
          if (versions.includes('last'))
            stamps.push(...current.filter((v) => v.is_latest === 1).map((v) => v.version));
          q = q.where('version', 'in', stamps.length ? stamps : ['']);
        }
        const result = await q.executeTakeFirst();
        const count = Number(result.numDeletedRows);
        if (count > 0) {
          const remaining = await trx
            .selectFrom('stix_objects')
            .select(['seq', 'version', 'is_latest'])
            .where('object_key', '=', key)
            .where('collection_id', '=', c.id)
            .where('object_id', '=', objectId)
            .orderBy('version', 'desc')
            .execute();
          if (remaining.length === 0)
            await trx
              .deleteFrom('stix_owners')
              .where('collection_id', '=', c.id)
              .where('object_id', '=', objectId)
              .execute();
          if (remaining[0] && !remaining.some((r) => r.is_latest === 1))
            await trx
              .updateTable('stix_objects')
              .set({ is_latest: 1 })
              .where('seq', '=', remaining[0].seq)
              .execute();
          await audit.append(trx, {
            actor: p.org.name,
            action: 'taxii.delete',
            target: `collection:${c.id}`,
            detail: {
              object: objectId,
              versions: count,
              token: p.tokenId,
              ...(right === 'analysis-centre' ? { forOwner: owner ?? 'hub' } : {}),
            },
          });
        }
        return count;
      }, audit.lockKey);
      if (deleted === 0) throw notFound();
      return reply.code(200).send();
    },
  );

  app.post<{ Params: { root: string; collection: string }; Body: { objects: unknown[] } }>(
    '/:root/collections/:collection/objects/',
    {
      schema: {
        params: CollectionParams,
        body: {
          type: 'object',
          required: ['objects'],
          properties: {
            objects: { type: 'array', maxItems: config.maxObjectsPerPost, items: { type: 'object' } },
          },
        },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const c = await collectionFor(p, request.params.root, request.params.collection);
      if (!canWrite(p, c))
        throw new HttpError(403, 'Forbidden', 'This collection does not allow you to write.');
      const requestTimestamp = new Date().toISOString();
      const successes: { id: string; version: string; message?: string }[] = [];
      const failures: { id: string; version?: string; message: string }[] = [];
      const accepted: StixObject[] = [];
      for (const raw of request.body.objects) {
        const id =
          typeof (raw as { id?: unknown }).id === 'string'
            ? String((raw as { id: string }).id).slice(0, 300)
            : '';
        // The quick check passes almost every object; the schema runs only to word a failure.
        if (!isStixCommon(raw)) {
          const parsed = StixCommon.safeParse(raw);
          const issue = parsed.error?.issues[0];
          failures.push({
            id,
            message: `not a valid STIX 2.1 object: ${issue?.path.join('.') || '(object)'} ${issue?.message ?? 'rejected'}`,
          });
          continue;
        }
        const object = raw;
        // An unlabelled object is treated as the most restricted tier until someone says otherwise.
        const tier = tierOf(object) ?? 'full';
        if (!underCeiling(tier, c.ceiling)) {
          failures.push({ id, message: `tier ${tier} is above this collection's ceiling (${c.ceiling})` });
          continue;
        }
        accepted.push(stampCreator(object, p.org.id));
      }
      // Ownership: only the organisation that wrote an object (or the analysis centre) versions it.
      const { objects: owned } = await changeable(p, c, accepted, store.db, failures);
      const dateAdded = new Date().toISOString();
      const statusId = randomUUID();
      const total = request.body.objects.length;
      let statusJson = '';
      // Sightings, reviews, withdrawals, objects, status and audit record commit together: a
      // request that fails anywhere leaves nothing behind.
      await store.transaction(async (trx) => {
        const ingestFailed =
          c.ingest && owned.length > 0 ? await ingest(ctx, p, owned, { trx }) : new Map<string, string>();
        const toStore = owned.filter((o) => !ingestFailed.has(o.id));
        for (const [id, message] of ingestFailed) failures.push({ id, message });
        const refused = new Set<StixObject>();
        // Checked again under the write lock: another organisation may have posted the id meanwhile.
        const { objects: mine, forOthers } = await changeable(p, c, toStore, trx, failures);
        const allowed = new Set(mine);
        for (const o of toStore) if (!allowed.has(o)) refused.add(o);
        await recordOwners(
          trx,
          c.id,
          p.org.id,
          mine.map((o) => o.id),
          dateAdded,
        );
        await addObjects(trx, c.id, mine, dateAdded, {
          onRefused(object, message) {
            refused.add(object);
            failures.push({ id: object.id, message });
          },
        });
        for (const o of toStore)
          if (refused.size === 0 || !refused.has(o))
            successes.push({ id: o.id, version: versionOf(o, dateAdded) });
        // The status record and the response carry the same lists: serialised once, for both.
        const details = JSON.stringify({ successes, failures });
        await trx
          .insertInto('taxii_status')
          .values({
            id: statusId,
            api_root: c.apiRoot,
            org_id: p.org.id,
            status: 'complete',
            request_timestamp: requestTimestamp,
            total,
            success: successes.length,
            failure: failures.length,
            pending: 0,
            details,
          })
          .execute();
        await audit.append(trx, {
          actor: p.org.name,
          action: 'taxii.write',
          target: `collection:${c.id}`,
          detail: {
            status: statusId,
            success: successes.length,
            failure: failures.length,
            token: p.tokenId,
            ...(forOthers ? { forOthers } : {}),
          },
        });
        statusJson =
          `{"id":${JSON.stringify(statusId)},"status":"complete","request_timestamp":${JSON.stringify(requestTimestamp)}` +
          `,"total_count":${total},"success_count":${successes.length},"failure_count":${failures.length}` +
          `,"pending_count":0,${details.slice(1)}`;
      }, audit.lockKey);
      if (c.ingest) ctx.publisher.notify();
      return reply.code(202).header('content-type', TAXII_MEDIA_TYPE).send(Buffer.from(statusJson));
    },
  );
}

/**
 * The objects this organisation may version in the collection: new ones, its own, and (for the
 * analysis centre, audited as `forOthers`) anyone's. The others fail with a message.
 */
async function changeable(
  p: Principal,
  c: Collection,
  objects: readonly StixObject[],
  db: Transaction<Database> | Kysely<Database>,
  failures: { id: string; message: string }[],
): Promise<{ objects: StixObject[]; forOthers: number }> {
  const owners = await ownersOf(db, c.id, [...new Set(objects.map((o) => o.id))]);
  const out: StixObject[] = [];
  let forOthers = 0;
  for (const o of objects) {
    const owner = owners.get(o.id);
    if (owner === undefined) {
      out.push(o);
      continue;
    }
    const right = mayChange(p, owner);
    if (right === 'refused') {
      failures.push({ id: o.id, message: 'this object belongs to another organisation' });
      continue;
    }
    if (right === 'analysis-centre') forOthers++;
    out.push(o);
  }
  return { objects: out, forOthers };
}

/**
 * A submission into intel: each indicator becomes a sighting by the posting organisation, its
 * claimed tier capped at the council (a claim of public notice is queued for review).
 */
async function ingest(
  ctx: HubContext,
  p: Principal,
  objects: StixObject[],
  within: WithinTransaction,
): Promise<Map<string, string>> {
  const ingested = sightingsFromStix(objects, p.org.name);
  const failed = new Map(ingested.failures.map((f) => [f.id, f.message]));
  const good: { objectId: string; sighting: SightingInput }[] = [];
  for (const s of ingested.sightings) {
    const check = SightingInput.safeParse(s.sighting);
    try {
      if (!check.success) throw new InputError(check.error.issues[0]!.message);
      indicatorKey(check.data.type, check.data.value, check.data.port, check.data.proto);
      good.push(s);
    } catch (error) {
      failed.set(s.objectId, `cannot record: ${(error as Error).message}`);
    }
  }
  if (good.length) {
    const capped = capSubmission(good.map((g) => g.sighting));
    const results = await ctx.intel.recordSightings(capped.sightings, p.org.name, within);
    await ctx.reviews.queue(
      results
        .map((r, i) => ({ indicatorId: r.indicatorId, sighting: good[i]!.sighting }))
        .filter((_, i) => capped.asksPublic[i]),
      p.org.name,
      within,
    );
  }
  // A revoked indicator takes this organisation's report back; the indicator goes only when no
  // other source reports it (intel decides).
  const taken = await applyWithdrawals(ctx.intel, ingested.withdrawals, p.org.name, p.org.name, within);
  for (const f of taken.failures) failed.set(f.id, f.message);
  return failed;
}

function describeCollection(p: Principal, c: Collection) {
  return {
    id: c.id,
    title: c.title,
    description: `${c.description} Tier ceiling: ${c.ceiling}.`,
    can_read: canRead(p, c),
    can_write: canWrite(p, c),
    media_types: ['application/stix+json;version=2.1'],
  };
}
