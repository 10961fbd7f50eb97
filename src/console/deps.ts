/**
 * What the console calls, and nothing more: intel's reads, views and change feed, and share's
 * organisations, collections, tokens, audit log and review queue, each as the function the
 * console needs (the rooms own their tables and run their SQL). `consoleDepsOf(hub)` builds them
 * from the hub's parts; routes see only these.
 */
import type { FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger, PipelineHealth } from '../core/index.ts';
import type { HygieneReader } from '../hygiene/index.ts';
import type { SensorReader } from '../sensor/index.ts';
import type { RunbookView } from './api/types.ts';
import type { AuditEntry, Intel } from '../intel/index.ts';
import type { WebBody, WebReportBody } from './api/types.ts';
import type { OsintView, OsintViewQuery } from '../osint/index.ts';
import {
  type AuditRecord,
  type VerifyResult,
  latestObjectCounts,
  loadCollections,
  type Collection,
  recordRead,
  type AuditedRead,
  type HubContext,
  type Organisation,
  type Principal,
  type TokenSummary,
  type PublicNoticeDecision,
  publicNoticeDecisions,
  type Reviews,
} from '../share/index.ts';

export type ConsoleIntel = Pick<
  Intel,
  | 'get'
  | 'byIds'
  | 'byValues'
  | 'sightings'
  | 'sightingDocuments'
  | 'relationships'
  | 'tallies'
  | 'changes'
  | 'queries'
  | 'list'
>;

export interface ConsoleShare {
  authenticate(token: string): Promise<Principal | undefined>;
  organisations(): Promise<Organisation[]>;
  collections(): Promise<Collection[]>;
  /** Objects at their latest version, per collection. */
  objectCounts(collectionIds: readonly string[]): Promise<Map<string, number>>;
  tokens(orgId: string, onlyId?: string): Promise<TokenSummary[]>;
  /** Audit records newest first, before a sequence number when given. */
  auditRecords(limit: number, beforeSeq?: number): Promise<AuditRecord[]>;
  verifyAudit(): Promise<VerifyResult>;
  recordAudit(entry: AuditEntry): Promise<void>;
  /** Notes a read of restricted data; the hub writes it to the audit log when the answer goes. */
  noteRead(request: FastifyRequest, principal: Principal, read: AuditedRead): Promise<void>;
  /** The analysis centre's public-notice decisions on these indicators. */
  publicNoticeDecisions(indicatorIds: readonly string[]): Promise<Map<string, PublicNoticeDecision>>;
  readonly reviews: Reviews;
}

/** The hygiene room's read side over its own tables (surveys, scores, adoption, drill-down). */
export type ConsoleHygiene = Pick<
  HygieneReader,
  'surveys' | 'organisationScores' | 'adoption' | 'organisation'
>;

/** The sensor room's read side: per-ministry views and attack-trend statistics. */
export type ConsoleSensor = Pick<SensorReader, 'daily' | 'topIocs' | 'organisations'>;
/**
 * The web room's overview, limited to the hosts `mayRead` lets through and, for hosts tied to a
 * campaign by a kit path alone (no host indicator), to the URLs `readableUrls` lets through,
 * asked once for all of them (wired by the CLI).
 */
export interface ConsoleWeb {
  overview(
    mayRead: (host: string) => boolean,
    readableUrls: (urls: readonly string[]) => Promise<ReadonlySet<string>>,
  ): Promise<WebBody>;
  /**
   * Scores and keeps an organisation's reports (the body as received: the web room validates it
   * and throws an InputError, answered 400, for anything else).
   */
  report(body: unknown, organisation: string): Promise<WebReportBody>;
}

/**
 * The osint room's read (wired by the CLI): what matches, limited to the markings given. Its
 * query and answer are the room's own types; the console imports only those, never the room's code.
 */
export interface ConsoleOsint {
  view(query: OsintViewQuery): Promise<OsintView>;
}

export interface ConsoleDeps {
  intel: ConsoleIntel;
  share: ConsoleShare;
  /** Absent when the hub keeps no hygiene surveys: the page then says none is stored. */
  hygiene?: ConsoleHygiene;
  /** Absent when the hub runs no sensor centre: the page then says no sensor reports. */
  sensor?: ConsoleSensor;
  /** Absent when the hub keeps no web verdicts. */
  web?: ConsoleWeb;
  /** Absent when the hub keeps no OSINT documents: the page then says none is stored. */
  osint?: ConsoleOsint;
  registry: Registry;
  logger: Logger;
  /**
   * The pipeline's health (collector, publisher, detector, workers), read in process by
   * `start` or gathered from NATS by `serve --nats`; absent on a hub with no pipeline.
   */
  health?: () => PipelineHealth;
  /**
   * The runbook of the configuration this process runs with, in a language (written by the CLI
   * through the report room); absent when the process was given none.
   */
  runbook?: (lang: 'ja' | 'en') => RunbookView;
}

/** The console's narrow view of a hub. */
export function consoleDepsOf(
  hub: HubContext,
  deps: {
    registry: Registry;
    logger: Logger;
    health?: () => PipelineHealth;
    hygiene?: ConsoleHygiene;
    sensor?: ConsoleSensor;
    runbook?: (lang: 'ja' | 'en') => RunbookView;
    web?: ConsoleWeb;
    osint?: ConsoleOsint;
  },
): ConsoleDeps {
  return {
    ...(deps.hygiene ? { hygiene: deps.hygiene } : {}),
    ...(deps.sensor ? { sensor: deps.sensor } : {}),
    ...(deps.runbook ? { runbook: deps.runbook } : {}),
    ...(deps.web ? { web: deps.web } : {}),
    ...(deps.osint ? { osint: deps.osint } : {}),
    intel: hub.intel,
    share: {
      authenticate: (token) => hub.orgs.authenticate(token),
      organisations: () => hub.orgs.list(),
      collections: () => loadCollections(hub.store),
      objectCounts: (ids) => latestObjectCounts(hub.store, ids),
      tokens: (orgId, onlyId) => hub.orgs.tokens(orgId, onlyId),
      auditRecords: (limit, beforeSeq) => hub.audit.newest(limit, beforeSeq),
      verifyAudit: () => hub.audit.verify(),
      recordAudit: (entry) => hub.audit.record(entry),
      noteRead: (request, principal, read) => recordRead(hub.audit, request, principal, read),
      publicNoticeDecisions: (ids) => publicNoticeDecisions(hub.store.db, ids),
      reviews: hub.reviews,
    },
    registry: deps.registry,
    logger: deps.logger,
    ...(deps.health ? { health: deps.health } : {}),
  };
}
