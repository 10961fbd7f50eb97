/**
 * The room's read side, for exports, campaigns and the console: stored verdicts URL by URL and
 * hosts with their tallies, both as async iterators that page through the tables in key order
 * (so a list of millions never sits in memory). Who may see what is the hub's release rule.
 */
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { HostSummary, Reason, ScoredUrl, StoredVerdict, Verdict, WebTables } from './types.ts';
import { normaliseUrl } from './normalise.ts';
import { isDomainTie, suffixPathOfTie } from './campaign/kit-paths.ts';

export interface VerdictQuery {
  /** Only these verdicts (all when absent). */
  verdicts?: readonly Verdict[];
  /** Only URLs this source gave. */
  source?: string;
  /** Only URLs last seen at or after this ISO time. */
  since?: string;
  pageSize?: number;
}

export interface HostQuery {
  /** Only hosts whose verdict is one of these (all when absent). */
  verdicts?: readonly Verdict[];
  pageSize?: number;
}

const PAGE = 1000;
const RANK: Record<Verdict, number> = { benign: 0, suspicious: 1, malicious: 2 };

export async function* readVerdicts(
  db: Kysely<WebTables>,
  query: VerdictQuery = {},
): AsyncGenerator<StoredVerdict> {
  let after = '';
  const size = query.pageSize ?? PAGE;
  for (;;) {
    let select = db.selectFrom('web_urls').selectAll().where('url', '>', after);
    if (query.verdicts) select = select.where('verdict', 'in', [...query.verdicts]);
    if (query.since) select = select.where('last_seen', '>=', query.since);
    if (query.source)
      select = select.where('url', 'in', (eb) =>
        eb.selectFrom('web_sightings').select('url').where('source', '=', query.source!),
      );
    const rows = await select.orderBy('url').limit(size).execute();
    if (rows.length === 0) return;
    const sightings = await db
      .selectFrom('web_sightings')
      .selectAll()
      .where(
        'url',
        'in',
        rows.map((r) => r.url),
      )
      .orderBy('first_seen')
      .execute();
    const byUrl = groupBy(sightings, (s) => s.url);
    for (const row of rows) yield storedVerdict(row, byUrl.get(row.url) ?? []);
    after = rows.at(-1)!.url;
    if (rows.length < size) return;
  }
}

function storedVerdict(row: WebTables['web_urls'], sightings: WebTables['web_sightings'][]): StoredVerdict {
  return {
    ...normaliseUrl(row.url),
    score: row.score,
    verdict: row.verdict,
    hostScore: row.host_score ?? row.score,
    hostVerdict: row.host_verdict ?? row.verdict,
    brand: row.brand,
    reasons: JSON.parse(row.reasons) as Reason[],
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    sources: sightings.map((s) => ({
      source: s.source,
      firstSeen: s.first_seen,
      description: s.description,
    })),
  };
}

/**
 * The whole-host rule on one scored URL, for callers that hold rows rather than the store (the
 * benchmark, intel's intake through withWholeHost): both verdicts malicious, and a name (host
 * exports never list an address).
 */
export function blocksWholeHost(v: Pick<ScoredUrl, 'verdict' | 'hostVerdict' | 'hostKind'>): boolean {
  return v.verdict === 'malicious' && v.hostVerdict === 'malicious' && v.hostKind === 'domain';
}

/** Scored rows with the whole-host rule's answer beside each, for intake that records hosts (intel). */
export function withWholeHost<T extends Pick<ScoredUrl, 'verdict' | 'hostVerdict' | 'hostKind'>>(
  rows: readonly T[],
): (T & { wholeHost: boolean })[] {
  return rows.map((row) => ({ ...row, wholeHost: blocksWholeHost(row) }));
}

/** How many of a host's URLs have both verdicts among `verdicts` (the rule blocksWholeHost states). */
function countWhere(eb: ExpressionBuilder<WebTables, 'web_urls'>, verdicts: Verdict[]) {
  const hostVerdict = sql<Verdict>`COALESCE(host_verdict, verdict)`;
  return eb.fn.sum<number>(
    eb
      .case()
      .when(eb.and([eb(hostVerdict, 'in', verdicts), eb('verdict', 'in', verdicts)]))
      .then(1)
      .else(0)
      .end(),
  );
}

export async function* readHosts(db: Kysely<WebTables>, query: HostQuery = {}): AsyncGenerator<HostSummary> {
  let after = '';
  const size = query.pageSize ?? PAGE;
  for (;;) {
    const rows = await db
      .selectFrom('web_urls')
      .select((eb) => [
        'host',
        eb.fn.max('registrable_domain').as('registrable_domain'),
        eb.fn.countAll<number>().as('urls'),
        // A URL counts against its whole host only when BOTH verdicts say so: the host-name
        // verdict (a host is no more malicious than its name) and the URL verdict, whose threshold
        // holds on benign sites the name model never saw (on the tuning data when the rule was
        // chosen, the name alone flagged 12 of 47,587 benign hosts and pages, both together none,
        // at 30.7 % recall against 33.5 %). Suspicious: both at least suspicious, less the malicious ones.
        countWhere(eb, ['malicious']).as('malicious'),
        countWhere(eb, ['malicious', 'suspicious']).as('flagged'),
        eb.fn.max(eb.fn.coalesce('host_score', 'score')).as('max_score'),
        eb.fn.min('first_seen').as('first_seen'),
        eb.fn.max('last_seen').as('last_seen'),
      ])
      .where('host', '>', after)
      .groupBy('host')
      .orderBy('host')
      .limit(size)
      .execute();
    if (rows.length === 0) return;
    const brandRows = await db
      .selectFrom('web_urls')
      .select(['host', 'brand'])
      .distinct()
      .where(
        'host',
        'in',
        rows.map((r) => r.host),
      )
      .where('brand', 'is not', null)
      .execute();
    const brands = groupBy(brandRows, (r) => r.host);
    for (const row of rows) {
      const malicious = Number(row.malicious);
      const suspicious = Number(row.flagged) - malicious;
      const verdict: Verdict = malicious > 0 ? 'malicious' : suspicious > 0 ? 'suspicious' : 'benign';
      if (query.verdicts && !query.verdicts.includes(verdict)) continue;
      yield {
        host: row.host,
        registrableDomain: row.registrable_domain,
        urls: Number(row.urls),
        malicious,
        suspicious,
        maxScore: Number(row.max_score),
        brands: (brands.get(row.host) ?? []).map((r) => r.brand!).sort(),
        verdict,
        firstSeen: row.first_seen,
        lastSeen: row.last_seen,
      };
    }
    after = rows.at(-1)!.host;
    if (rows.length < size) return;
  }
}

export interface HostUrlQuery {
  pageSize?: number;
  /** Hosts one query names in its `IN` list (500: well under SQLite's and PostgreSQL's limits). */
  hostsPerQuery?: number;
}

/**
 * The stored URLs of these hosts, host then URL order: a query for each 500 hosts, paged, so
 * thousands of hosts (campaign kit paths) cost a few queries rather than one each.
 */
export async function* readHostUrls(
  db: Kysely<WebTables>,
  hosts: readonly string[],
  query: HostUrlQuery = {},
): AsyncGenerator<{ host: string; url: string }> {
  const pageSize = query.pageSize ?? PAGE;
  const hostsPerQuery = query.hostsPerQuery ?? 500;
  const sorted = [...new Set(hosts)].sort();
  for (let start = 0; start < sorted.length; start += hostsPerQuery) {
    const chunk = sorted.slice(start, start + hostsPerQuery);
    let after: { host: string; url: string } | undefined;
    for (;;) {
      let select = db.selectFrom('web_urls').select(['host', 'url']).where('host', 'in', chunk);
      if (after) {
        const { host, url } = after;
        select = select.where((eb) => eb(eb.refTuple('host', 'url'), '>', eb.tuple(host, url)));
      }
      const rows = await select.orderBy('host').orderBy('url').limit(pageSize).execute();
      yield* rows;
      if (rows.length < pageSize) break;
      after = rows.at(-1)!;
    }
  }
}

/** One stored URL a kit-path, registered-domain or suffix-path tie alone made malicious (readKitPathTies). */
export interface KitPathTieRow {
  host: string;
  url: string;
  firstSeen: string;
  lastSeen: string;
  /** Made so by a registered-domain tie (`domain_judged`), not a kit path. */
  byDomain: boolean;
  /** Made so by a suffix-path tie (`suffix_path_judged`): the suffix path it stood on. */
  suffixPath: string | null;
}

/**
 * The stored URLs whose verdict a kit path made malicious (their `kit_tie` column, written by
 * kitPathTieBasis) on hosts whose host-name verdict is not malicious, URL order, paged: what ties
 * such a host to its kit's campaign, which readHosts (and so every host-level export) leaves out.
 */
export async function* readKitPathTies(
  db: Kysely<WebTables>,
  query: { pageSize?: number } = {},
): AsyncGenerator<KitPathTieRow> {
  let after = '';
  const size = query.pageSize ?? PAGE;
  for (;;) {
    const rows = await db
      .selectFrom('web_urls')
      .select(['url', 'host', 'first_seen', 'last_seen', 'reasons'])
      // As the partial index web_urls_kit_tie states it, so both engines read the ties off it.
      .where('kit_tie', 'is not', null)
      .where(sql<Verdict>`COALESCE(host_verdict, verdict)`, '<>', 'malicious')
      .where('url', '>', after)
      .orderBy('url')
      .limit(size)
      .execute();
    if (rows.length === 0) return;
    for (const row of rows)
      yield {
        host: row.host,
        url: row.url,
        firstSeen: row.first_seen,
        lastSeen: row.last_seen,
        // Ties are few: their reasons are parsed, the other rows' never read.
        ...tieKindOf(JSON.parse(row.reasons) as Reason[]),
      };
    after = rows.at(-1)!.url;
    if (rows.length < size) return;
  }
}

/** What a stored tie stood on besides a kit path: a registered domain, or a suffix path. */
function tieKindOf(reasons: Reason[]): Pick<KitPathTieRow, 'byDomain' | 'suffixPath'> {
  return { byDomain: isDomainTie({ reasons }), suffixPath: suffixPathOfTie({ reasons }) };
}

export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  return verdicts.reduce<Verdict>((worst, v) => (RANK[v] > RANK[worst] ? v : worst), 'benign');
}

/** Map.groupBy, which Node 20 lacks. */
function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
