/**
 * Hygiene surveys as STIX 2.1. Each recorded survey becomes, per sector, a `report` of the
 * sector's score and adoption figures (tier public, TLP:CLEAR: no organisation or domain named)
 * and, per organisation, a `report` of its score, adoption and each domain's states (tier
 * council, TLP:AMBER: a list of its weak points). A report is what a STIX consumer files a
 * published, dated finding under and shows by its name and description; `observed-data` would
 * need observables and carries no score, and a `note` annotates someone else's object. The
 * figures travel in a property extension defined here (as the tier extension is), the same in
 * words in `description` for consumers that ignore extensions.
 *
 * Which collection gets which report is the release rule's alone: the products for a collection
 * are what `release({ type: 'hygiene', level }, tierReader(collection's tier))` allows, stamped
 * with the copy's tier and marking.
 *
 * The hygiene room is not imported (share may not): its reader fits `HygieneSurveySource`.
 */
import type { Transaction } from 'kysely';
import type { Tier, Tlp } from '../intel/index.ts';
import type { Database, Store } from '../store/index.ts';
import { COLLECTION_IDS, writeProducts } from './collections.ts';
import { release, tierReader, type HygieneLevel } from './release/index.ts';
import { dropUndefined, sdoId, stamp, type HubIdentity, type StixObject } from './stix.ts';

/** One survey's results, as the hygiene room's reader gives them (`surveyResults`). */
export interface HygieneSurveyResults {
  survey: { id: string; startedAt: string; finishedAt: string | null; domains: number };
  sectors: readonly {
    sector: string;
    score: number;
    domains: number;
    organisations: number;
    adoption: Readonly<Record<string, number>>;
  }[];
  organisations: readonly {
    organisation: string;
    sector: string | null;
    score: number;
    domains: number;
    adoption: Readonly<Record<string, number>>;
    results: readonly { domain: string; score: number; checks: Readonly<Record<string, string>> }[];
  }[];
}

/** Where the publisher finds recorded surveys: the hygiene room's reader fits. */
export interface HygieneSurveySource {
  surveys(): Promise<readonly { id: string }[]>;
  surveyResults(id: string): Promise<HygieneSurveyResults | undefined>;
}

/** The tier and marking the release rule gave a level's copy. */
interface Marking {
  tier: Tier;
  tlp: Tlp;
}

/** The tsunagi hygiene-survey property extension: the figures of a survey report. */
export const HYGIENE_EXTENSION_ID = 'extension-definition--4b1003b0-37ba-432a-b1b8-c047d85f6902';

/** The report type of a hygiene survey report (report-type-ov is open; none of its values fits). */
export const HYGIENE_REPORT_TYPE = 'internet-hygiene';

export function hygieneExtensionDefinition(hub: HubIdentity, marking: Marking): StixObject {
  return stamp(
    {
      type: 'extension-definition',
      spec_version: '2.1',
      id: HYGIENE_EXTENSION_ID,
      created_by_ref: hub.id,
      created: '2026-12-01T00:00:00.000Z',
      modified: '2026-12-01T00:00:00.000Z',
      name: 'tsunagi internet hygiene survey',
      description:
        'Figures of an internet hygiene survey report: survey_id, level (sector or organisation), sector, organisation, score (0-100), domains, organisations, adoption (per check, the percentage of domains in its best state) and, per organisation, results (each domain with its score and the state of every check).',
      schema: 'https://github.com/tsunagi/tsunagi/blob/main/src/share/README.md#hygiene-surveys',
      version: '1.0.0',
      extension_types: ['property-extension'],
    },
    marking.tier,
    marking.tlp,
  );
}

/** The fixed collections a survey is published to, with the tier each one's readers hold. */
const SURVEY_COLLECTIONS = [
  [COLLECTION_IDS.full, 'full'],
  [COLLECTION_IDS.council, 'council'],
  [COLLECTION_IDS.public, 'public'],
] as const;

export function hygieneReportId(surveyId: string, level: HygieneLevel, name: string): string {
  return sdoId('report', 'hygiene', surveyId, level, name);
}
export function hygieneIdentityId(level: HygieneLevel, name: string): string {
  return sdoId('identity', 'hygiene', level, name);
}

const figures = (adoption: Readonly<Record<string, number>>) =>
  Object.entries(adoption)
    .map(([check, pct]) => `${check} ${pct}%`)
    .join(', ');

/** What one survey becomes in each collection, as the release rule allows it there. */
export function hygieneProducts(results: HygieneSurveyResults, hub: HubIdentity): Map<string, StixObject[]> {
  const out = new Map<string, StixObject[]>();
  for (const [collection, tier] of SURVEY_COLLECTIONS) {
    const objects: StixObject[] = [];
    for (const level of ['sector', 'organisation'] as const) {
      const decision = release({ type: 'hygiene', level }, tierReader(tier));
      if (decision.outcome === 'deny') continue;
      const marking = decision.copy;
      if (level === 'sector') objects.push(...sectorObjects(results, hub, marking));
      else objects.push(...organisationObjects(results, hub, marking));
    }
    out.set(collection, objects.map(dropUndefined));
  }
  return out;
}

function published(results: HygieneSurveyResults): string {
  return results.survey.finishedAt ?? results.survey.startedAt;
}

function identity(
  hub: HubIdentity,
  level: HygieneLevel,
  name: string,
  at: string,
  marking: Marking,
): StixObject {
  return stamp(
    {
      type: 'identity',
      spec_version: '2.1',
      id: hygieneIdentityId(level, name),
      created: at,
      modified: at,
      created_by_ref: hub.id,
      name,
      // A sector is a class of organisations, not one of them.
      identity_class: level === 'sector' ? 'class' : 'organization',
      description:
        level === 'sector'
          ? `The organisations of sector ${name} in tsunagi's internet hygiene surveys`
          : `An organisation in tsunagi's internet hygiene surveys`,
    },
    marking.tier,
    marking.tlp,
  );
}

function report(
  hub: HubIdentity,
  results: HygieneSurveyResults,
  level: HygieneLevel,
  name: string,
  fields: { description: string; refs: string[]; extension: Record<string, unknown> },
  marking: Marking,
): StixObject {
  const at = published(results);
  return stamp(
    {
      type: 'report',
      spec_version: '2.1',
      id: hygieneReportId(results.survey.id, level, name),
      created: at,
      modified: at,
      created_by_ref: hub.id,
      name: `Internet hygiene survey ${results.survey.id}: ${level} ${name}`,
      description: fields.description,
      report_types: [HYGIENE_REPORT_TYPE],
      published: at,
      object_refs: fields.refs,
      extensions: {
        [HYGIENE_EXTENSION_ID]: {
          extension_type: 'property-extension',
          survey_id: results.survey.id,
          survey_started: results.survey.startedAt,
          level,
          ...fields.extension,
        },
      },
    },
    marking.tier,
    marking.tlp,
  );
}

/** Per sector: its identity and its report. The extension's definition goes with them. */
function sectorObjects(results: HygieneSurveyResults, hub: HubIdentity, marking: Marking): StixObject[] {
  if (results.sectors.length === 0) return [];
  const at = published(results);
  const out: StixObject[] = [hygieneExtensionDefinition(hub, marking)];
  for (const s of results.sectors) {
    const sector = identity(hub, 'sector', s.sector, at, marking);
    out.push(
      sector,
      report(
        hub,
        results,
        'sector',
        s.sector,
        {
          description: `Sector ${s.sector}: mean score ${s.score} of ${s.organisations} organisations (${s.domains} domains). Adoption: ${figures(s.adoption)}.`,
          refs: [sector.id],
          extension: {
            sector: s.sector,
            score: s.score,
            domains: s.domains,
            organisations: s.organisations,
            adoption: { ...s.adoption },
          },
        },
        marking,
      ),
    );
  }
  return out;
}

/** Per organisation: its identity and its report with every domain's states. */
function organisationObjects(
  results: HygieneSurveyResults,
  hub: HubIdentity,
  marking: Marking,
): StixObject[] {
  const at = published(results);
  const out: StixObject[] = [];
  for (const o of results.organisations) {
    const organisation = identity(hub, 'organisation', o.organisation, at, marking);
    const refs = [organisation.id];
    // The sector's identity is a public object; it is in every collection a council report is.
    if (o.sector && results.sectors.some((s) => s.sector === o.sector))
      refs.push(hygieneIdentityId('sector', o.sector));
    const weakest = [...o.results].sort((a, b) => a.score - b.score)[0];
    out.push(
      organisation,
      report(
        hub,
        results,
        'organisation',
        o.organisation,
        {
          description:
            `${o.organisation}${o.sector ? ` (sector ${o.sector})` : ''}: score ${o.score} over ${o.domains} domains` +
            `${weakest ? `, weakest ${weakest.domain} (${weakest.score})` : ''}. Adoption: ${figures(o.adoption)}.`,
          refs,
          extension: {
            organisation: o.organisation,
            sector: o.sector ?? undefined,
            score: o.score,
            domains: o.domains,
            adoption: { ...o.adoption },
            results: o.results.map((r) => ({ domain: r.domain, score: r.score, ...r.checks })),
          },
        },
        marking,
      ),
    );
  }
  return out;
}

/** The surveys already published: a JSON list in the kv table, moved in the publishing transaction. */
const PUBLISHED_SURVEYS_KEY = 'publisher.hygiene-surveys';

/**
 * Publishes every recorded survey not yet published; how many it published. The results are
 * read outside the write transaction (SQLite has one connection); the list of published surveys
 * is read again inside it, under the publisher's lock, so two hub replicas never publish one twice.
 */
export async function publishHygieneSurveys(
  store: Store,
  source: HygieneSurveySource,
  hub: HubIdentity,
  lockKey: number,
): Promise<number> {
  const done = await publishedSurveys(store.db);
  const pending = (await source.surveys()).filter((s) => !done.has(s.id));
  let count = 0;
  for (const { id } of pending) {
    const results = await source.surveyResults(id);
    if (!results) continue;
    const products = hygieneProducts(results, hub);
    count += await store.transaction(async (trx) => {
      const now = await publishedSurveys(trx);
      if (now.has(id)) return 0;
      const dateAdded = new Date().toISOString();
      for (const [collection, objects] of products) await writeProducts(trx, collection, objects, dateAdded);
      now.add(id);
      const value = JSON.stringify([...now].sort());
      await trx
        .insertInto('kv')
        .values({ key: PUBLISHED_SURVEYS_KEY, value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute();
      return 1;
    }, lockKey);
  }
  return count;
}

async function publishedSurveys(db: Store['db'] | Transaction<Database>): Promise<Set<string>> {
  const row = await db
    .selectFrom('kv')
    .select('value')
    .where('key', '=', PUBLISHED_SURVEYS_KEY)
    .executeTakeFirst();
  return new Set(row ? (JSON.parse(row.value) as string[]) : []);
}
