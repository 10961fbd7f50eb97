/**
 * The room's read side over its own tables: the surveys kept, the latest score per organisation,
 * adoption of each check per sector per survey (for charts over time), and one organisation's
 * drill-down with what to fix. Who may read which of these is not decided here: the hub's release
 * rule decides (per-organisation results are more sensitive than sector aggregates).
 */
import type { Kysely } from 'kysely';
import { CSV_COLUMNS, type DomainHygiene } from './check.ts';
import { whatToFix, type Advice } from './letter/letters.ts';
import type { HygieneTables } from './migrations.ts';
import { POINTS } from './score/score.ts';

/** The checks a survey makes, as stored (the CSV columns after `domain`). */
export const HYGIENE_CHECKS = CSV_COLUMNS.filter((c) => c !== 'domain');
export type HygieneCheck = (typeof HYGIENE_CHECKS)[number];

export interface SurveySummary {
  id: string;
  startedAt: string;
  domains: number;
}

export interface OrganisationScore {
  organisation: string;
  /** The sector of its domains in its latest survey (null when the list gave none). */
  sector: string | null;
  score: number;
  domains: number;
  /** The survey the score comes from, and the score in the survey before it (null: none). */
  surveyId: string;
  previous: number | null;
}

export interface SectorAdoption {
  sector: string;
  /** Per survey (in `surveys` order), null where the sector was not surveyed. */
  score: (number | null)[];
  domains: (number | null)[];
  /** Per check and survey: the percentage of the sector's domains in the check's best state. */
  adoption: Record<HygieneCheck, (number | null)[]>;
}

export interface AdoptionOverTime {
  surveys: SurveySummary[];
  sectors: SectorAdoption[];
}

export interface DomainDetail {
  domain: string;
  score: number;
  checks: Record<HygieneCheck, string>;
  reasons: Partial<Record<HygieneCheck, string>>;
  /** What to fix and how, in Japanese and English, most urgent first (as in the letters). */
  fixes: Advice[];
}

export interface OrganisationDetail {
  organisation: string;
  sector: string | null;
  surveyId: string;
  startedAt: string;
  score: number;
  /** The organisation's score in each survey that included it, oldest first. */
  history: { surveyId: string; startedAt: string; score: number }[];
  domains: DomainDetail[];
}

/** One organisation's results in one survey: its score, adoption and each domain's states. */
export interface OrganisationSurveyResult {
  organisation: string;
  sector: string | null;
  score: number;
  domains: number;
  /** Per check: the percentage of its domains in the check's best state. */
  adoption: Record<HygieneCheck, number>;
  results: { domain: string; score: number; checks: Record<HygieneCheck, string> }[];
}

/** One sector's aggregate in one survey: no organisation or domain named. */
export interface SectorSurveyResult {
  sector: string;
  score: number;
  domains: number;
  /** The organisations the mean is taken over. */
  organisations: number;
  adoption: Record<HygieneCheck, number>;
}

/** Everything one survey found, per sector and per organisation (for sharing through the hub). */
export interface SurveyResults {
  survey: SurveySummary & { finishedAt: string | null };
  sectors: SectorSurveyResult[];
  organisations: OrganisationSurveyResult[];
}

export interface HygieneReader {
  /** Surveys kept, oldest first. */
  surveys(): Promise<SurveySummary[]>;
  /** One survey's results; undefined when no survey has this id. */
  surveyResults(id: string): Promise<SurveyResults | undefined>;
  /** Every organisation's score in the latest survey that included it, lowest score first. */
  organisationScores(): Promise<OrganisationScore[]>;
  adoption(): Promise<AdoptionOverTime>;
  /** Undefined when no stored survey names the organisation. */
  organisation(name: string): Promise<OrganisationDetail | undefined>;
}

/** A check is adopted when it is in a state worth full points (e.g. DMARC reject, SPF -all). */
export function adopted(check: HygieneCheck, state: string): boolean {
  return POINTS[check][state] === 1;
}

const percent = (part: number, whole: number) => Math.round((1000 * part) / whole) / 10;

/** Per check, the percentage of these rows in the check's best state. */
function adoptionOf(rows: readonly Record<HygieneCheck, string>[]): Record<HygieneCheck, number> {
  const out = {} as Record<HygieneCheck, number>;
  for (const check of HYGIENE_CHECKS)
    out[check] = percent(rows.filter((r) => adopted(check, r[check])).length, rows.length);
  return out;
}

/** Rows grouped by a key (Map.groupBy is newer than Node 20); rows keyed null are left out. */
function groupBy<T>(rows: readonly T[], key: (row: T) => string | null): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    if (k === null) continue;
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(row);
  }
  return out;
}

/** One survey's rows grouped by organisation and sector, beside the scores `record` stored. */
async function readSurveyResults(db: Kysely<HygieneTables>, id: string): Promise<SurveyResults | undefined> {
  const survey = await db
    .selectFrom('hygiene_surveys')
    .select(['id', 'started_at', 'finished_at', 'domains'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!survey) return undefined;
  const [rows, scores] = await Promise.all([
    db
      .selectFrom('hygiene_checks')
      .select(['domain', 'organisation', 'sector', 'score', ...HYGIENE_CHECKS])
      .where('survey_id', '=', id)
      .orderBy('domain')
      .execute(),
    db.selectFrom('hygiene_scores').selectAll().where('survey_id', '=', id).orderBy('name').execute(),
  ]);
  // A domain without an organisation stands for itself, as in `score/`.
  const byOrganisation = groupBy(rows, (r) => r.organisation ?? r.domain);
  const bySector = groupBy(rows, (r) => r.sector);
  return {
    survey: {
      id: survey.id,
      startedAt: survey.started_at,
      finishedAt: survey.finished_at,
      domains: Number(survey.domains),
    },
    sectors: scores
      .filter((s) => s.level === 'sector')
      .map((s) => ({
        sector: s.name,
        score: Number(s.score),
        domains: Number(s.domains),
        organisations: new Set((bySector.get(s.name) ?? []).map((r) => r.organisation ?? r.domain)).size,
        adoption: adoptionOf(bySector.get(s.name) ?? []),
      })),
    organisations: scores
      .filter((s) => s.level === 'organisation')
      .map((s) => {
        const own = byOrganisation.get(s.name) ?? [];
        return {
          organisation: s.name,
          sector: own.find((r) => r.sector)?.sector ?? null,
          score: Number(s.score),
          domains: Number(s.domains),
          adoption: adoptionOf(own),
          results: own.map((r) => ({
            domain: r.domain,
            score: Number(r.score),
            checks: Object.fromEntries(HYGIENE_CHECKS.map((c) => [c, r[c]])) as Record<HygieneCheck, string>,
          })),
        };
      }),
  };
}

export function createHygieneReader(db: Kysely<HygieneTables>): HygieneReader {
  async function surveys(): Promise<SurveySummary[]> {
    const rows = await db
      .selectFrom('hygiene_surveys')
      .select(['id', 'started_at', 'domains'])
      .orderBy('started_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: r.id, startedAt: r.started_at, domains: Number(r.domains) }));
  }

  /** Organisation names as scored: a domain without an organisation stands for itself. */
  async function sectorsOf(): Promise<Map<string, string | null>> {
    const rows = await db
      .selectFrom('hygiene_checks')
      .select(['survey_id', 'organisation', 'domain', 'sector'])
      .execute();
    const out = new Map<string, string | null>();
    for (const r of rows) {
      const key = `${r.survey_id}\u0000${r.organisation ?? r.domain}`;
      if (!out.get(key)) out.set(key, r.sector);
    }
    return out;
  }

  return {
    surveys,
    surveyResults: (id) => readSurveyResults(db, id),

    async organisationScores() {
      const order = new Map((await surveys()).map((s, i) => [s.id, i]));
      const rows = await db
        .selectFrom('hygiene_scores')
        .select(['survey_id', 'name', 'score', 'domains'])
        .where('level', '=', 'organisation')
        .execute();
      rows.sort((a, b) => order.get(a.survey_id)! - order.get(b.survey_id)!);
      const latest = new Map<string, OrganisationScore>();
      const sectors = await sectorsOf();
      for (const r of rows) {
        const before = latest.get(r.name);
        latest.set(r.name, {
          organisation: r.name,
          sector: sectors.get(`${r.survey_id}\u0000${r.name}`) ?? null,
          score: Number(r.score),
          domains: Number(r.domains),
          surveyId: r.survey_id,
          previous: before ? before.score : null,
        });
      }
      return [...latest.values()].sort(
        (a, b) => a.score - b.score || a.organisation.localeCompare(b.organisation),
      );
    },

    adoption: async () => readAdoption(db, await surveys()),

    async organisation(name) {
      const list = await surveys();
      const history = await db
        .selectFrom('hygiene_scores')
        .select(['survey_id', 'score'])
        .where('level', '=', 'organisation')
        .where('name', '=', name)
        .execute();
      if (history.length === 0) return undefined;
      const byId = new Map(list.map((s) => [s.id, s]));
      const ordered = history
        .map((h) => ({
          surveyId: h.survey_id,
          startedAt: byId.get(h.survey_id)!.startedAt,
          score: Number(h.score),
        }))
        .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.surveyId.localeCompare(b.surveyId));
      const latest = ordered[ordered.length - 1]!;
      const rows = await db
        .selectFrom('hygiene_checks')
        .selectAll()
        .where('survey_id', '=', latest.surveyId)
        .where((eb) =>
          eb.or([
            eb('organisation', '=', name),
            eb.and([eb('organisation', 'is', null), eb('domain', '=', name)]),
          ]),
        )
        .orderBy('score')
        .orderBy('domain')
        .execute();
      return {
        organisation: name,
        sector: rows.find((r) => r.sector)?.sector ?? null,
        surveyId: latest.surveyId,
        startedAt: latest.startedAt,
        score: latest.score,
        history: ordered,
        domains: rows.map((r) => {
          const checks = Object.fromEntries(HYGIENE_CHECKS.map((c) => [c, r[c]])) as Record<
            HygieneCheck,
            string
          >;
          let reasons: Partial<Record<HygieneCheck, string>> = {};
          try {
            reasons = JSON.parse(r.reasons) as typeof reasons;
          } catch {
            // a row written by hand without reasons still shows its states
          }
          const fixes = whatToFix({ domain: r.domain, ...checks } as Omit<
            DomainHygiene,
            'reasons' | 'dkimKeys'
          >);
          return { domain: r.domain, score: Number(r.score), checks, reasons, fixes };
        }),
      };
    },
  };
}

/** Per sector and survey: its score and domains, and per check the share of domains adopting it. */
async function readAdoption(db: Kysely<HygieneTables>, list: SurveySummary[]): Promise<AdoptionOverTime> {
  const index = new Map(list.map((s, i) => [s.id, i]));
  const blank = () => new Array<number | null>(list.length).fill(null);
  const sectors = new Map<string, SectorAdoption>();
  const sectorOf = (name: string) => {
    let s = sectors.get(name);
    if (!s) {
      const adoption = Object.fromEntries(HYGIENE_CHECKS.map((c) => [c, blank()]));
      s = { sector: name, score: blank(), domains: blank(), adoption } as SectorAdoption;
      sectors.set(name, s);
    }
    return s;
  };
  const scores = await db
    .selectFrom('hygiene_scores')
    .select(['survey_id', 'name', 'score', 'domains'])
    .where('level', '=', 'sector')
    .execute();
  for (const r of scores) {
    const s = sectorOf(r.name);
    s.score[index.get(r.survey_id)!] = Number(r.score);
    s.domains[index.get(r.survey_id)!] = Number(r.domains);
  }
  // Counted here rather than in SQL: "adopted" is the scoring table's best state per check.
  const checks = await db
    .selectFrom('hygiene_checks')
    .select(['survey_id', 'sector', ...HYGIENE_CHECKS])
    .where('sector', 'is not', null)
    .execute();
  const counts = new Map<string, { total: number; adopted: Record<string, number> }>();
  for (const r of checks) {
    const key = `${r.survey_id}\u0000${r.sector}`;
    let c = counts.get(key);
    if (!c) counts.set(key, (c = { total: 0, adopted: {} }));
    c.total++;
    for (const check of HYGIENE_CHECKS)
      if (adopted(check, r[check])) c.adopted[check] = (c.adopted[check] ?? 0) + 1;
  }
  for (const [key, c] of counts) {
    const [surveyId, sector] = key.split('\u0000') as [string, string];
    const s = sectorOf(sector);
    for (const check of HYGIENE_CHECKS)
      s.adoption[check][index.get(surveyId)!] = percent(c.adopted[check] ?? 0, c.total);
  }
  return {
    surveys: list,
    sectors: [...sectors.values()].sort((a, b) => a.sector.localeCompare(b.sector)),
  };
}
