/**
 * The hygiene room: how far organisations have adopted DNSSEC, SPF/DKIM/DMARC, MTA-STS,
 * TLS-RPT, DANE, IPv6 and HTTPS/HSTS (per domain, through one configured resolver, DNSSEC
 * validated by tsunagi itself), and RPKI route-origin validation of their prefixes. The only
 * way in: other rooms and the CLI import from here.
 */
import type { Kysely } from 'kysely';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import { checkDomain, type DomainHygiene } from './check.ts';
import { createDnsClient, DnsTimeoutError, parseResolver, type DnsClient } from './dns/client.ts';
import { createValidator, parseTrustAnchors, ROOT_TRUST_ANCHOR, type Validator } from './dns/dnssec.ts';
import { createLookup } from './dns/lookup.ts';
import type { HygieneConfig } from './config.ts';
import { parseDomainList, type SurveyTarget } from './input/domains.ts';
import type { Route } from './input/routes.ts';
import type { Vrp } from './input/vrps.ts';
import type { HygieneTables } from './migrations.ts';
import { hygieneLetters, type HygieneLetter, type Lang } from './letter/letters.ts';
import { VrpIndex, type RovResult } from './routing/rov.ts';
import { domainScore, organisationScores, sectorScores, type GroupScore } from './score/score.ts';

export { HygieneConfig } from './config.ts';
export { CSV_COLUMNS, toCsvLine, normaliseDomain, type DomainHygiene } from './check.ts';
export { parseDomainList, DomainListError, type SurveyTarget } from './input/domains.ts';
export { parseRoutes, RouteFormatError, type Route } from './input/routes.ts';
export { isMrt, parseMrtRib, MrtFormatError } from './input/mrt.ts';
export { parseVrps, VrpFormatError, type Vrp } from './input/vrps.ts';
export { parseTrustAnchors } from './dns/dnssec.ts';
export type { DnssecResult, Verdict } from './dns/verdict.ts';
export { parseResolver } from './dns/client.ts';
export type { RovResult, RovState } from './routing/rov.ts';
export { domainScore, type GroupScore } from './score/score.ts';
export type { HygieneLetter, Lang } from './letter/letters.ts';
export { hygieneMigrations, type HygieneTables } from './migrations.ts';
export {
  adopted,
  createHygieneReader,
  HYGIENE_CHECKS,
  type AdoptionOverTime,
  type DomainDetail,
  type HygieneCheck,
  type HygieneReader,
  type OrganisationDetail,
  type OrganisationScore,
  type OrganisationSurveyResult,
  type SectorAdoption,
  type SectorSurveyResult,
  type SurveyResults,
  type SurveySummary,
} from './read.ts';
export type { Advice } from './letter/letters.ts';

/** The configured trust anchors are not DS or DNSKEY records. */
export class TrustAnchorError extends Error {}

export interface HygieneDeps {
  logger: Logger;
  registry: Registry;
  /** Where surveys are kept; only `record` needs it. */
  db?: Kysely<HygieneTables>;
  now?: () => Date;
}

/** A surveyed domain: its checks, who it belongs to, and its score. */
export type SurveyRow = DomainHygiene & { organisation?: string; sector?: string; score: number };

export interface Hygiene {
  readonly name: 'hygiene';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Throws when the resolver does not answer at all (a survey through it would be all errors). */
  probeResolver(name: string): Promise<void>;
  /** Checks every target, `concurrency` at a time; rows come back in the targets' order. */
  check(targets: readonly SurveyTarget[], onRow?: (row: SurveyRow) => void): Promise<SurveyRow[]>;
  validateRoutes(vrps: readonly Vrp[], routes: readonly Route[]): RovResult[];
  scores(rows: readonly SurveyRow[]): { organisations: GroupScore[]; sectors: GroupScore[] };
  /** Keeps a survey, its rows and its scores in the room's tables. */
  record(surveyId: string, startedAt: Date, rows: readonly SurveyRow[]): Promise<void>;
  /** One letter per organisation saying what to fix and how. */
  letters(rows: readonly SurveyRow[], lang: Lang, sender: string): HygieneLetter[];
  /** The survey targets in a domain list; a bad list is counted and thrown (DomainListError). */
  readTargets(text: string): SurveyTarget[];
  /** Counts a rejected input (for the CLI's bad-input path). */
  countInputError(input: 'domains' | 'vrps' | 'routes' | 'trust-anchor'): void;
  readonly client: DnsClient;
  readonly validator: Validator;
}

export function createHygiene(config: HygieneConfig, deps: HygieneDeps): Hygiene {
  const client = createDnsClient({
    resolver: parseResolver(config.resolver),
    timeoutMs: config.timeoutMs,
    retries: config.retries,
    udpPayloadSize: config.udpPayloadSize,
  });
  const lookup = createLookup(client);
  const { domains, routes, lettersWritten, inputErrors } = hygieneMetrics(deps.registry, client);

  let anchors;
  try {
    anchors = parseTrustAnchors(config.trustAnchors ?? ROOT_TRUST_ANCHOR);
  } catch (error) {
    inputErrors.inc({ input: 'trust-anchor' });
    throw new TrustAnchorError((error as Error).message);
  }
  const validator = createValidator({ anchors, client, now: deps.now });

  const checkDeps = { lookup, validator, https: config.https, dkimSelectors: config.dkimSelectors };

  return {
    name: 'hygiene',
    client,
    validator,
    async start() {},
    async stop() {},
    async probeResolver(name) {
      try {
        await client.query(name, 'SOA');
      } catch (error) {
        if (error instanceof DnsTimeoutError) throw new Error(`resolver ${config.resolver} does not answer`);
        throw error;
      }
    },
    async check(targets, onRow) {
      const rows: SurveyRow[] = new Array(targets.length);
      let next = 0;
      const worker = async () => {
        while (next < targets.length) {
          const index = next++;
          const target = targets[index]!;
          const checked = await checkDomain(target.domain, checkDeps);
          const row: SurveyRow = {
            ...checked,
            ...(target.organisation ? { organisation: target.organisation } : {}),
            ...(target.sector ? { sector: target.sector } : {}),
            score: domainScore(checked),
          };
          domains.inc({ dnssec: row.dnssec });
          rows[index] = row;
          onRow?.(row);
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.concurrency, targets.length) }, worker));
      deps.logger.info({ domains: targets.length }, 'hygiene survey done');
      return rows;
    },
    validateRoutes(vrps, list) {
      const index = new VrpIndex(vrps);
      return list.map((route) => {
        const result = index.validate(route);
        routes.inc({ state: result.state });
        return result;
      });
    },
    scores(rows) {
      return { organisations: organisationScores(rows), sectors: sectorScores(rows) };
    },
    async record(surveyId, startedAt, rows) {
      if (!deps.db) throw new Error('hygiene: no database to record the survey in');
      await recordSurvey(deps.db, surveyId, startedAt, (deps.now?.() ?? new Date()).toISOString(), rows);
    },
    letters(rows, lang, sender) {
      const letters = hygieneLetters(rows, lang, sender);
      lettersWritten.inc({ lang }, letters.length);
      return letters;
    },
    readTargets(text) {
      try {
        return parseDomainList(text);
      } catch (error) {
        inputErrors.inc({ input: 'domains' });
        throw error;
      }
    },
    countInputError(input) {
      inputErrors.inc({ input });
    },
  };
}

function organisationAndSector(rows: readonly SurveyRow[]) {
  return { organisations: organisationScores(rows), sectors: sectorScores(rows) };
}

/** The room's counters; the DNS client's are read from it when scraped. */
function hygieneMetrics(registry: Registry, client: DnsClient) {
  const domains = new Counter({
    name: 'tsunagi_hygiene_domains_total',
    help: 'Domains checked, by DNSSEC verdict',
    labelNames: ['dnssec'],
    registers: [registry],
  });
  new Counter({
    name: 'tsunagi_hygiene_dns_queries_total',
    help: 'DNS queries sent to the resolver, by transport',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ transport: 'udp' }, client.sent.udp);
      this.inc({ transport: 'tcp' }, client.sent.tcp);
    },
  });
  new Counter({
    name: 'tsunagi_hygiene_dns_timeouts_total',
    help: 'DNS attempts that got no answer in time',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(client.sent.timeouts);
    },
  });
  const routes = new Counter({
    name: 'tsunagi_hygiene_rov_routes_total',
    help: 'Routes validated against VRPs, by RFC 6811 state',
    labelNames: ['state'],
    registers: [registry],
  });
  const lettersWritten = new Counter({
    name: 'tsunagi_hygiene_letters_total',
    help: 'Organisation letters written, by language',
    labelNames: ['lang'],
    registers: [registry],
  });
  const inputErrors = new Counter({
    name: 'tsunagi_hygiene_input_errors_total',
    help: 'Inputs rejected, by kind',
    labelNames: ['input'],
    registers: [registry],
  });

  return { domains, routes, lettersWritten, inputErrors };
}

/** One survey, its rows and its organisation and sector scores, in one transaction. */
async function recordSurvey(
  db: Kysely<HygieneTables>,
  surveyId: string,
  startedAt: Date,
  finished: string,
  rows: readonly SurveyRow[],
): Promise<void> {
  const { organisations, sectors } = organisationAndSector(rows);
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('hygiene_surveys')
      .values({
        id: surveyId,
        started_at: startedAt.toISOString(),
        finished_at: finished,
        domains: rows.length,
      })
      .execute();
    for (const row of rows)
      await trx
        .insertInto('hygiene_checks')
        .values({
          survey_id: surveyId,
          domain: row.domain,
          organisation: row.organisation ?? null,
          sector: row.sector ?? null,
          dnssec: row.dnssec,
          spf: row.spf,
          dmarc_policy: row.dmarc_policy,
          dkim: row.dkim,
          mta_sts: row.mta_sts,
          tls_rpt: row.tls_rpt,
          dane: row.dane,
          ipv6: row.ipv6,
          https: row.https,
          hsts: row.hsts,
          score: row.score,
          reasons: JSON.stringify(row.reasons),
        })
        .execute();
    for (const [level, groups] of [
      ['organisation', organisations],
      ['sector', sectors],
    ] as const)
      for (const group of groups)
        await trx
          .insertInto('hygiene_scores')
          .values({
            survey_id: surveyId,
            level,
            name: group.name,
            score: group.score,
            domains: group.domains,
          })
          .execute();
  });
}
