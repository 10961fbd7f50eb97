/**
 * The console API's bodies: the one definition both the server (src/console/api/) and the SPA
 * (console/src/, built by Vite) import. Types only, and self-contained (no imports), so the SPA's
 * bundle takes nothing from the server; view.ts checks that intel's vocabulary matches these.
 */

export type ApiTier = 'full' | 'council' | 'public';
export type ApiTlp = 'clear' | 'green' | 'amber' | 'amber+strict' | 'red';
export type ApiIndicatorKind = 'c2' | 'bot' | 'vulnerable-device' | 'url' | 'domain';

/** An indicator as a reader at one tier may see it. */
export interface IndicatorView {
  ref: string;
  kind: ApiIndicatorKind;
  value: string;
  port: number;
  proto: string;
  family: string;
  /** Absent at the public tier. */
  confidence?: number;
  /** The tier of the copy this reader sees. */
  tier: ApiTier;
  tlp: ApiTlp;
  /** The day it was first published (lower tiers see no observation times). */
  createdDay: string;
  active: boolean;
  /** Full tier only. */
  asn?: number | null;
  attributes?: Record<string, string>;
  firstSeen?: string;
  lastSeen?: string;
  expiresAt?: string;
  withdrawnAt?: string | null;
  withdrawnReason?: string | null;
  releasableTo?: ApiTier;
  originalTlp?: ApiTlp;
}

/** GET me */
export interface MeBody {
  org: string;
  role: string;
  tier: ApiTier;
  scopes: string[];
  consent: boolean;
}

/** GET overview */
export interface OverviewBody {
  tier: ApiTier;
  at: string;
  active: Record<string, number>;
  new24h: Record<string, number>;
  hours: string[];
  trend: Record<string, number[]>;
  newestC2: IndicatorView[];
}

/** GET indicators */
export interface IndicatorPageBody {
  items: IndicatorView[];
  /** Absent when the page was asked without a count (later pages keep the first page's). */
  total?: number;
  totalCapped?: boolean;
  offset: number;
  limit: number;
  /** Keyset cursor of the next page; absent on the last. */
  next?: string;
}

/** GET indicators/:ref (everything but `indicator` at the full tier only) */
export interface IndicatorDetailBody {
  indicator: IndicatorView;
  sightings?: { source: string; confidence: number; count: number; firstSeen: string; lastSeen: string }[];
  relationships?: {
    type: string;
    direction: 'in' | 'out';
    source: string;
    other: { ref: string; kind: string; value: string; port: number } | null;
    firstSeen: string;
    lastSeen: string;
  }[];
  relationshipsTotal?: number;
  /** The published documents that name it (OSINT), each once per source, oldest first (200 at most). */
  documents?: {
    source: string;
    document: string;
    url: string;
    title: string;
    context: string;
    firstSeen: string;
  }[];
  documentsTotal?: number;
  sharedWith?: { tier: ApiTier; collections: string[]; organisations: string[] }[];
  network?: { asn: number | null; name?: string; byAddress: boolean };
  evidence?: Record<string, string | number | boolean>;
}

/** GET hosts */
export interface HostsBody {
  totals: Record<string, number>;
  byAsn: { kind: string; asn: number | null; name?: string; count: number }[];
  /** Hosts without an AS beyond the ones placed by address (then byAsn is a sample). */
  asnSampled: boolean;
  byCountry: { kind: string; country: string; count: number }[];
  byFamily: { kind: string; family: string; count: number }[];
}

/** GET darknet */
export interface DarknetBody {
  scanners: number;
  sampled: number;
  hours: string[];
  newScannersPerHour: number[];
  surges: { hour: string; count: number }[];
  topPorts: { port: number; count: number }[];
  fingerprints: { name: string; count: number }[];
}

/** GET survey */
export interface SurveyBody {
  byProduct: { product: string; count: number }[];
  byService: { service: string; count: number }[];
  notification: { state: string; count: number }[];
}

/** GET sharing */
export interface SharingBody {
  organisations: {
    name: string;
    role: string;
    tier: ApiTier;
    consentAt: string | null;
    consentTerms: string | null;
    prefixes: number;
    asns: number;
  }[];
  collections: {
    id: string;
    apiRoot: string;
    title: string;
    ceiling: ApiTier;
    canRead: boolean;
    canWrite: boolean;
    objects: number;
  }[];
  tokens: {
    id: string;
    label: string;
    scopes: string[];
    createdAt: string;
    revokedAt: string | null;
    current: boolean;
  }[];
}

/** GET audit */
export interface AuditBody {
  verification: { ok: boolean; records: number; head: string; problem?: string };
  records: {
    seq: number;
    at: string;
    actor: string;
    action: string;
    target: string;
    reason: string;
    detail: string;
    hash: string;
  }[];
}

export interface GraphNode {
  id: string;
  /** c2, family, or bots (all infected hosts of one family, full tier only). */
  kind: 'c2' | 'family' | 'bots';
  label: string;
  family: string;
  /** c2: the detector's distinct bots; family: C&C servers shown; bots: hosts in the group. */
  count?: number;
}
export interface GraphEdge {
  from: string;
  to: string;
  type: string;
  count?: number;
}
/** GET graph */
export interface GraphBody {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export type SelfCheckCategory = 'infected' | 'weak' | 'c2';
export interface SelfCheckFinding {
  category: SelfCheckCategory;
  /** Bot family (infected) — about the visitor's own device only. */
  family?: string;
  /** The exposed service and port (weak device, C&C). */
  service?: string;
  port?: number;
  /** The day it was first listed. */
  since: string;
}
/** GET self-check (no sign-in) */
export interface SelfCheckAnswer {
  address: string;
  listed: boolean;
  findings: SelfCheckFinding[];
  checkedAt: string;
}

/** The live stream's `indicator` event. */
export interface LiveIndicatorEvent {
  change: 'created' | 'updated';
  indicator: IndicatorView;
}
/** The live stream's `changed` event: how many changes the last batch held. */
export interface LiveChangedEvent {
  count: number;
}

/** GET health: the flow pipeline's components, as every process last reported them. */
export type HealthLevelView = 'ok' | 'warning' | 'loss';
export interface ComponentHealthView {
  component: string;
  level: HealthLevelView;
  handled: number;
  dropped: number;
  counters: Record<string, number>;
}
export interface ProcessHealthView {
  role: string;
  id: string;
  /** ISO time of its last report. */
  at: string;
  intervalMs: number;
  /** Silent for more than three intervals: shown as "no report". */
  stale: boolean;
  components: ComponentHealthView[];
}
export interface HealthBody {
  /** Whether this hub watches a pipeline at all (false on a bare `serve`). */
  watched: boolean;
  /** Any component lost data since its start. */
  loss: boolean;
  processes: ProcessHealthView[];
  /** Flows handled and dropped per second, oldest first, one sample every few seconds. */
  history: { at: string; handledPerSecond: number; droppedPerSecond: number }[];
}

/** The hygiene survey's checks, as stored (the CSV columns after `domain`). */
export type ApiHygieneCheck =
  'dnssec' | 'spf' | 'dmarc_policy' | 'dkim' | 'mta_sts' | 'tls_rpt' | 'dane' | 'ipv6' | 'https' | 'hsts';

/** The marking the release rule gave a part of the hygiene results. */
export interface HygieneMarking {
  tier: ApiTier;
  tlp: ApiTlp;
}

/** GET /console/api/hygiene: sector adoption over time for every reader; scores per organisation when released. */
export interface HygieneBody {
  surveys: { id: string; startedAt: string; domains: number }[];
  sectors: {
    sector: string;
    /** Per survey, in `surveys` order; null where the sector was not surveyed. */
    score: (number | null)[];
    domains: (number | null)[];
    /** Per check and survey: percentage of the sector's domains in the check's best state. */
    adoption: Record<ApiHygieneCheck, (number | null)[]>;
  }[];
  sectorMarking: HygieneMarking;
  /** Null when the release rule keeps per-organisation results from this reader. */
  organisations:
    | {
        organisation: string;
        sector: string | null;
        score: number;
        domains: number;
        surveyId: string;
        previous: number | null;
      }[]
    | null;
  organisationMarking: HygieneMarking | null;
}

/** GET /console/api/hygiene/organisations/{name}: one organisation's latest survey, what to fix. */
export interface HygieneOrganisationBody {
  organisation: string;
  sector: string | null;
  surveyId: string;
  startedAt: string;
  score: number;
  history: { surveyId: string; startedAt: string; score: number }[];
  domains: {
    domain: string;
    score: number;
    checks: Record<ApiHygieneCheck, string>;
    reasons: Partial<Record<ApiHygieneCheck, string>>;
    fixes: { ja: string; en: string }[];
  }[];
  marking: HygieneMarking;
}

/** GET /console/api/sensors: endpoint sensors per ministry and attack-trend statistics (full tier only). */
export interface SensorsBody {
  /** How many UTC days `daily` covers, ending today. */
  days: number;
  /** The days, oldest first (`YYYY-MM-DD`), so the chart has every one even when nothing was counted. */
  labels: string[];
  organisations: {
    org: string;
    sensors: number;
    online: number;
    revoked: number;
    lastSeen: string | null;
  }[];
  /** Counts per ministry and day: IoC matches, connections to known C&C, sockets reported. */
  daily: { day: string; org: string; matches: number; connections: number; sockets: number }[];
  topIocs: { ioc: string; kind: string; count: number; orgs: number }[];
  marking: { tier: ApiTier; tlp: ApiTlp };
}
/**
 * GET runbook?lang=ja|en: the manual procedure for each automated step, written by the report
 * room from the configuration the serving process runs with (full tier: it names ports and paths).
 */
export interface RunbookStepView {
  text: string;
  command?: string;
}
export interface RunbookProcedureView {
  stage: 'intake' | 'detection' | 'sharing' | 'notification';
  id: string;
  title: string;
  when: string;
  steps: RunbookStepView[];
  check: string;
}
export interface RunbookView {
  lang: 'ja' | 'en';
  title: string;
  intro: string;
  configuration: { name: string; value: string }[];
  procedures: RunbookProcedureView[];
}
export type RunbookBody = { available: false } | ({ available: true } & RunbookView);
/** GET /console/api/web: malicious-website campaigns, counts and takedowns the reader may see. */
export interface WebCount {
  key: string;
  hosts: number;
}
export interface WebCampaignRow {
  id: string;
  hosts: string[];
  brands: string[];
  tlds: string[];
  platforms: string[];
  countries: string[];
  firstSeen: string;
  lastSeen: string;
  /** What ties the hosts: a shared IP, AS and brand, registrable domain, naming template, brand-bearing subdomain, kit marker or kit path. */
  ties: { kind: string; value: string; hosts: string[] }[];
  /** Members whose host name is not judged malicious, there by a kit path their URLs carry; absent when none. */
  kitPathOnly?: string[];
}
export interface WebTakedownRow {
  host: string;
  brand: string | null;
  status: string;
  abuseEmail: string;
  updatedAt: string;
}
/** One report's answer: the verdict of the URL as sent (nothing of what the hub knew before), or why it was not read. */
export type WebReportAnswer =
  | {
      ok: true;
      url: string;
      host: string;
      score: number;
      verdict: 'benign' | 'suspicious' | 'malicious';
      brand: string | null;
      reasons: { feature: string; value: number | string; contribution: number }[];
      /** The reasons that pointed to phishing (the web room's groundsOf), largest first, each in words. */
      grounds: { feature: string; contribution: number; words: { ja: string; en: string } }[];
    }
  | { ok: false; url: string; error: string };

/** POST /console/api/web/reports: `{url, description?, brand?}` or a list in; each answer in order out. */
export interface WebReportBody {
  /** The source the reports are kept under: `report:<organisation>`. */
  source: string;
  reports: WebReportAnswer[];
}

export interface WebBody {
  /** Malicious hosts the reader may see (their intel domain indicators released to it). */
  hosts: number;
  campaigns: WebCampaignRow[];
  byBrand: WebCount[];
  byTld: WebCount[];
  byPlatform: WebCount[];
  takedowns: WebTakedownRow[];
  /** The lexicon's names of the brand keys above, to show instead of the keys. */
  brandNames: Record<string, { ja: string; en: string }>;
}

/** One published document the reader may see (GET /console/api/osint). */
export interface OsintDocumentRow {
  /** SHA-256 of the content. */
  id: string;
  /** The feed it first came from. */
  source: string;
  url: string;
  title: string;
  fetchedAt: string;
  publishedAt: string | null;
  /** `ja`, `en` or '' (no text). */
  language: string;
  indicators: number;
  /** Its marking: the feed's TLP and the tier the release decision weighed. */
  tlp: string;
  tier: string;
}

/** One indicator found in a document, with the sentence around it. */
export interface OsintIndicatorRow {
  documentId: string;
  source: string;
  fetchedAt: string;
  type: string;
  value: string;
  /** 0 when none was written. */
  port: number;
  context: string;
  /** The intel indicator its sighting went into, when the reader may see it (an `/indicators/` ref). */
  intel: { kind: string; ref: string; confidence: number } | null;
}

export interface OsintBody {
  /** False when the hub keeps no OSINT documents (the page then says how to configure feeds). */
  available: boolean;
  days: number;
  /** UTC days of the chart, oldest first (`YYYY-MM-DD`). */
  labels: string[];
  documents: OsintDocumentRow[];
  documentCount: number;
  indicators: OsintIndicatorRow[];
  byType: { type: string; count: number }[];
  daily: { day: string; type: string; count: number }[];
  sources: string[];
  /** Listed indicators that became intel sightings the reader may see. */
  inIntel: number;
}
