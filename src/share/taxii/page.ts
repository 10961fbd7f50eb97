/**
 * The one page query of the TAXII reads (objects, a single object, manifest, versions): the
 * filters and the release rule as SQL, the release decision on each row, the audit record of a
 * restricted read, and the page's `more`/`next` and X-TAXII-Date-Added headers.
 */
import type { FastifyRequest } from 'fastify';
import type { Selectable } from 'kysely';
import type { Tier, Tlp } from '../../intel/index.ts';
import type { Database } from '../../store/index.ts';
import type { Collection } from '../collections.ts';
import { isRestrictedTlp, principalOf, recordRead, type HubContext } from '../http.ts';
import type { Principal } from '../orgs.ts';
import { readerOf, release } from '../release/index.ts';
import { applyFilters, encodeNext, type Filters } from './filters.ts';
import { readable, type TaxiiRoutes } from './scope.ts';

type StixObjectRow = Selectable<Database['stix_objects']>;
/** The columns every page reads: its order, what the release rule and the audit record need. */
const PAGE_COLUMNS = ['seq', 'object_id', 'date_added', 'tier', 'tlp'] as const;
/** The columns a resource reads besides those. */
export type PageColumn = 'body' | 'version' | 'spec_version';
export type PageRow<K extends PageColumn> = Pick<StixObjectRow, (typeof PAGE_COLUMNS)[number] | K>;

/** Which read of a collection the audit record names (`objects` is the default, left unnamed). */
export type ReadKind = 'objects' | 'manifest' | 'versions';

export interface PageQuery<K extends PageColumn> {
  principal: Principal;
  collection: Collection;
  filters: Filters;
  columns: readonly K[];
  read: ReadKind;
}

export interface Page<K extends PageColumn> {
  /** The rows released to the reader, in order. */
  rows: PageRow<K>[];
  /** Rows the filters matched before the page was cut and released (0: nothing there at all). */
  matched: number;
  more: boolean;
  /** The cursor of the next page, when there is one. */
  next?: string;
  /** X-TAXII-Date-Added-First/Last of the released rows (none for an empty page). */
  headers: Record<string, string>;
}

/**
 * The page every TAXII read answers with: the collection named in the path, once the reader is
 * found allowed to read it, read with the resource's filters and columns.
 */
export async function readCollectionPage<K extends PageColumn>(
  { ctx, scope }: Pick<TaxiiRoutes, 'ctx' | 'scope'>,
  request: FastifyRequest<{ Params: { root: string; collection: string } }>,
  query: Omit<PageQuery<K>, 'principal' | 'collection'>,
): Promise<Page<K>> {
  const principal = principalOf(request);
  const collection = await scope.collectionFor(principal, request.params.root, request.params.collection);
  readable(principal, collection);
  return readPage(ctx, request, { principal, collection, ...query });
}

/** Reads one page of a collection for a reader; restricted rows are audited before it returns. */
export async function readPage<K extends PageColumn>(
  ctx: HubContext,
  request: FastifyRequest,
  query: PageQuery<K>,
): Promise<Page<K>> {
  const { principal: p, collection: c, filters } = query;
  const limit = Math.min(filters.limit ?? ctx.config.defaultPageSize, ctx.config.maxPageSize);
  const columns = [...PAGE_COLUMNS, ...(query.columns as readonly PageColumn[])].map(
    (name) => `stix_objects.${name}` as const,
  );
  const rows: Pick<StixObjectRow, (typeof PAGE_COLUMNS)[number] | PageColumn>[] = await applyFilters(
    ctx.store.db.selectFrom('stix_objects'),
    c,
    filters,
    p,
  )
    .select(columns)
    .orderBy('stix_objects.seq')
    .limit(limit + 1)
    .execute();
  const more = rows.length > limit;
  // The select above read exactly the columns asked for: the rows are PageRow<K>.
  const page = released(p, c, rows.slice(0, limit)) as unknown as PageRow<K>[];
  await auditRead(ctx, request, p, c, page, query.read);
  return {
    rows: page,
    matched: rows.length,
    more,
    ...(more ? { next: encodeNext(rows[limit - 1]!.seq) } : {}),
    headers: dateHeaders(page),
  };
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

/** Notes a read of restricted data (AMBER, AMBER+STRICT or RED); the server records it before sending. */
async function auditRead(
  ctx: HubContext,
  request: FastifyRequest,
  p: Principal,
  c: Collection,
  rows: { object_id: string; tlp: string }[],
  what: ReadKind,
): Promise<void> {
  const restricted = rows.filter((r) => isRestrictedTlp(r.tlp));
  if (restricted.length === 0) return;
  await recordRead(ctx.audit, request, p, {
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

function dateHeaders(rows: { date_added: string }[]): Record<string, string> {
  if (rows.length === 0) return {};
  let first = rows[0]!.date_added;
  let last = first;
  for (const r of rows) {
    if (r.date_added < first) first = r.date_added;
    if (r.date_added > last) last = r.date_added;
  }
  return { 'X-TAXII-Date-Added-First': first, 'X-TAXII-Date-Added-Last': last };
}
