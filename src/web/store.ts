/**
 * The room's writes: each URL's latest verdict (with its kit tie's basis beside the reasons, so
 * readers select ties by column), and first/last seen per source. Upserts keep the
 * earliest first-seen and the latest last-seen whatever order the inputs come in (portable CASE,
 * not SQLite's two-argument min() nor PostgreSQL's LEAST()).
 */
import { sql, type Kysely } from 'kysely';
import { kitPathTieBasis } from './campaign/kit-paths.ts';
import type { ScoredUrl, WebTables } from './types.ts';

export interface SightingRow {
  scored: ScoredUrl;
  source: string;
  seenAt: string;
  description: string | null;
}

export interface WriteResult {
  /** URLs the room had never stored before this batch. */
  newUrls: number;
  /** (source, URL) pairs new to the room. */
  newSightings: number;
}

/** A scored URL as `web_urls` keeps it: its reasons as JSON, its kit tie's basis beside them. */
export function urlRowOf(scored: ScoredUrl, model: string, firstSeen: string, lastSeen: string) {
  return {
    url: scored.url,
    host: scored.host,
    registrable_domain: scored.registrableDomain,
    score: scored.score,
    verdict: scored.verdict,
    host_score: scored.hostScore,
    host_verdict: scored.hostVerdict,
    brand: scored.brand,
    reasons: JSON.stringify(scored.reasons),
    kit_tie: kitPathTieBasis(scored),
    model,
    first_seen: firstSeen,
    last_seen: lastSeen,
  };
}

export async function writeSightings(
  db: Kysely<WebTables>,
  rows: readonly SightingRow[],
  model: string,
): Promise<WriteResult> {
  if (rows.length === 0) return { newUrls: 0, newSightings: 0 };
  const urls = mergeByUrl(rows);
  const sightings = mergeBySighting(rows);
  return db.transaction().execute(async (tx) => {
    const knownUrls = await existing(tx, 'web_urls', [...urls.keys()]);
    const knownSightings = await tx
      .selectFrom('web_sightings')
      .select(['source', 'url'])
      .where('url', 'in', [...urls.keys()])
      .execute();
    const known = new Set(knownSightings.map((s) => `${s.source}\n${s.url}`));
    await tx
      .insertInto('web_urls')
      .values([...urls.values()].map(({ scored, first, last }) => urlRowOf(scored, model, first, last)))
      .onConflict((oc) =>
        oc.column('url').doUpdateSet({
          score: (eb) => eb.ref('excluded.score'),
          verdict: (eb) => eb.ref('excluded.verdict'),
          host_score: (eb) => eb.ref('excluded.host_score'),
          host_verdict: (eb) => eb.ref('excluded.host_verdict'),
          brand: (eb) => eb.ref('excluded.brand'),
          reasons: (eb) => eb.ref('excluded.reasons'),
          kit_tie: (eb) => eb.ref('excluded.kit_tie'),
          model: (eb) => eb.ref('excluded.model'),
          first_seen: sql`CASE WHEN excluded.first_seen < web_urls.first_seen THEN excluded.first_seen ELSE web_urls.first_seen END`,
          last_seen: sql`CASE WHEN excluded.last_seen > web_urls.last_seen THEN excluded.last_seen ELSE web_urls.last_seen END`,
        }),
      )
      .execute();
    await tx
      .insertInto('web_sightings')
      .values([...sightings.values()])
      .onConflict((oc) =>
        oc.columns(['source', 'url']).doUpdateSet({
          first_seen: sql`CASE WHEN excluded.first_seen < web_sightings.first_seen THEN excluded.first_seen ELSE web_sightings.first_seen END`,
          last_seen: sql`CASE WHEN excluded.last_seen > web_sightings.last_seen THEN excluded.last_seen ELSE web_sightings.last_seen END`,
          description: sql`COALESCE(web_sightings.description, excluded.description)`,
        }),
      )
      .execute();
    return {
      newUrls: urls.size - knownUrls.size,
      newSightings: [...sightings.keys()].filter((key) => !known.has(key)).length,
    };
  });
}

async function existing(db: Kysely<WebTables>, table: 'web_urls', urls: string[]): Promise<Set<string>> {
  const rows = await db.selectFrom(table).select('url').where('url', 'in', urls).execute();
  return new Set(rows.map((r) => r.url));
}

function mergeByUrl(rows: readonly SightingRow[]) {
  const urls = new Map<string, { scored: ScoredUrl; first: string; last: string }>();
  for (const row of rows) {
    const seen = urls.get(row.scored.url);
    if (!seen) urls.set(row.scored.url, { scored: row.scored, first: row.seenAt, last: row.seenAt });
    else {
      if (row.seenAt < seen.first) seen.first = row.seenAt;
      if (row.seenAt > seen.last) seen.last = row.seenAt;
    }
  }
  return urls;
}

function mergeBySighting(rows: readonly SightingRow[]) {
  const sightings = new Map<string, WebTables['web_sightings']>();
  for (const row of rows) {
    const key = `${row.source}\n${row.scored.url}`;
    const seen = sightings.get(key);
    if (!seen)
      sightings.set(key, {
        source: row.source,
        url: row.scored.url,
        first_seen: row.seenAt,
        last_seen: row.seenAt,
        description: row.description,
      });
    else {
      if (row.seenAt < seen.first_seen) seen.first_seen = row.seenAt;
      if (row.seenAt > seen.last_seen) seen.last_seen = row.seenAt;
      seen.description ??= row.description;
    }
  }
  return sightings;
}
