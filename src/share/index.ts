/**
 * The sharing hub's front door: `createHub(config, deps)` wires the audit log, organisations,
 * the STIX publisher and the HTTP server (TAXII 2.1 and the JSON API) over a store and intel.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { type Component, type Logger, parseHostPort } from '../core/index.ts';
import { createIntel, IntelConfig, type ChangeRelay, type Intel } from '../intel/index.ts';
import type { Store } from '../store/index.ts';
import type { AuditSigner } from './audit-checkpoints.ts';
import { createAuditLog, type AuditLog } from './audit.ts';
import { ensureCollections } from './collections.ts';
import { HubConfig } from './config.ts';
import { createOrganisations, type Organisations } from './orgs.ts';
import { createPublisher, type Publisher } from './publisher.ts';
import { buildExport, type ExportName, type ExportReader } from './api.ts';
import type { HubContext } from './http.ts';
import { createReviews, type Reviews } from './review.ts';
import { createHubServer } from './server.ts';
import { hubIdentity } from './stix.ts';
import type { HygieneSurveySource } from './hygiene.ts';

export { HubConfig } from './config.ts';
export { shareMigrations } from './migrations.ts';
// The room's tables (they also join store's Database type).
export type {
  AuditCheckpointTable,
  AuditTable,
  CollectionTable,
  OrganisationTable,
  ShareReviewTable,
  StixObjectTable,
  StixOwnerTable,
  TaxiiStatusTable,
  TokenTable,
} from './tables.ts';
export {
  createAuditLog,
  verifyExport,
  verifyRecords,
  type AuditLog,
  type AuditRecord,
  type VerifyOptions,
  type VerifyResult,
} from './audit.ts';
export {
  checkpointFile,
  loadSigner,
  parseCheckpointFile,
  type AuditSigner,
  type Checkpoint,
} from './audit-checkpoints.ts';
export {
  createOrganisations,
  OrganisationInput,
  ROLES,
  SCOPES,
  roleTier,
  type Organisation,
  type Organisations,
  type Principal,
  type Role,
  type Scope,
  type TokenSummary,
} from './orgs.ts';
export {
  API_ROOTS,
  canRead,
  canWrite,
  COLLECTION_IDS,
  latestObjectCounts,
  loadCollections,
  ownNetworkCollectionId,
  type Collection,
} from './collections.ts';
export {
  HttpError,
  isRestrictedTlp,
  notFound,
  principalOf,
  recordRead,
  tokenFrom,
  type AuditedRead,
  type HubContext,
} from './http.ts';
export { StreamSlots } from './ratelimit.ts';
export { buildExport, EXPORT_NAMES, type ExportName, type ExportReader } from './api.ts';
export {
  approvedForPublicNotice,
  capSubmission,
  createReviews,
  publicNoticeDecisions,
  REVIEW_STATUSES,
  type ReviewEntry,
  type Reviews,
  type ReviewStatus,
} from './review.ts';
export * as releaseRule from './release/index.ts';
export {
  anonymousReader,
  CLEARANCE,
  HOST_KINDS,
  isHostKind,
  markingAllows,
  mayDecidePublicNotice,
  mayReportUrls,
  mayReadAudit,
  mayReadPipelineHealth,
  mayReadOrganisations,
  readerOf,
  readerOfOrg,
  receivableMarkings,
  releasedTo,
  release,
  HYGIENE_MARKINGS,
  type HygieneLevel,
  SENSOR_MARKINGS,
  type SensorLevel,
  tierReader,
  type PublicNoticeDecision,
  type Reader,
} from './release/index.ts';
export {
  applyWithdrawals,
  readPattern,
  sightingsFromCsv,
  sightingsFromStix,
  type Ingested,
} from './ingest.ts';
export { stixValidator } from './stix-schemas.ts';
export {
  HYGIENE_EXTENSION_ID,
  HYGIENE_REPORT_TYPE,
  hygieneIdentityId,
  hygieneProducts,
  hygieneReportId,
  type HygieneSurveyResults,
  type HygieneSurveySource,
} from './hygiene.ts';
export { createHubServer } from './server.ts';
export * from './stix.ts';

export interface HubDeps {
  store: Store;
  intel: Intel;
  /** The same audit log intel writes to; made here when not given. */
  audit?: AuditLog;
  /** Recorded hygiene surveys to publish (the hygiene room's reader, wired by the CLI). */
  hygiene?: HygieneSurveySource;
  logger: Logger;
  registry: Registry;
}

/** Adds routes to the hub's app before it listens (the console registers itself this way). */
export type HubPlugin = (app: FastifyInstance) => Promise<void> | void;

export interface Hub extends Component {
  /** What route plugins share with the hub: store, intel, organisations, audit, publisher. */
  readonly context: HubContext;
  /** Registers a plugin; call before start. */
  use(plugin: HubPlugin): void;
  readonly audit: AuditLog;
  readonly orgs: Organisations;
  readonly publisher: Publisher;
  readonly reviews: Reviews;
  /** The fastify app (ready after start), for inject() in tests and for extension. */
  app(): FastifyInstance;
  /** The listening address, e.g. http://127.0.0.1:8470 (after start). */
  url(): string;
  /** Builds an export for a reader (the CLI and the API share this). */
  export(name: ExportName, reader: ExportReader): ReturnType<typeof buildExport>;
}

/** The hub over one store: its audit log, intel writing to that log, and the hub itself. */
export interface WiredHub {
  audit: AuditLog;
  intel: Intel;
  hub: Hub;
}

/**
 * The one wiring of a hub, for `serve` and `start`, the benchmarks and the test hubs: audit log
 * (signed with `signer`, an in-memory key when absent) → intel → hub. Nothing is started: the
 * caller starts `[intel, hub]` (and what it adds with `hub.use`) and closes the store.
 */
export function wireHub(
  config: { hub: HubConfig; intel?: IntelConfig },
  deps: {
    store: Store;
    logger: Logger;
    registry: Registry;
    signer?: AuditSigner;
    hygiene?: HygieneSurveySource;
    relay?: ChangeRelay;
  },
): WiredHub {
  const { store, logger, registry } = deps;
  const audit = createAuditLog({ store, ...(deps.signer ? { signer: deps.signer } : {}) });
  const intel = createIntel(config.intel ?? IntelConfig.parse({}), {
    store,
    logger,
    registry,
    audit,
    ...(deps.relay ? { relay: deps.relay } : {}),
  });
  const hub = createHub(config.hub, {
    store,
    intel,
    audit,
    logger,
    registry,
    ...(deps.hygiene ? { hygiene: deps.hygiene } : {}),
  });
  return { audit, intel, hub };
}

export function createHub(config: HubConfig, deps: HubDeps): Hub {
  const audit = deps.audit ?? createAuditLog({ store: deps.store });
  const orgs = createOrganisations({ store: deps.store, audit });
  const hub = hubIdentity(config.name);
  const publisher = createPublisher(
    { intervalMs: config.publishIntervalMs, hygieneCheckMs: config.hygieneCheckMs },
    {
      store: deps.store,
      intel: deps.intel,
      hub,
      logger: deps.logger,
      registry: deps.registry,
      ...(deps.hygiene ? { hygiene: deps.hygiene } : {}),
    },
  );
  const reviews = createReviews({ store: deps.store, audit, intel: deps.intel, hub });
  const ctx: HubContext = {
    config,
    store: deps.store,
    intel: deps.intel,
    orgs,
    audit,
    publisher,
    reviews,
    hub,
    logger: deps.logger,
  };
  let app: FastifyInstance | undefined;
  let url = '';
  const plugins: HubPlugin[] = [];
  return {
    name: 'hub',
    context: ctx,
    use(plugin) {
      if (app) throw new Error('hub plugins must be added before start');
      plugins.push(plugin);
    },
    audit,
    orgs,
    publisher,
    reviews,
    async start() {
      await ensureCollections(deps.store);
      await publisher.start();
      app = await createHubServer({ ...ctx, registry: deps.registry });
      for (const plugin of plugins) await plugin(app);
      if (config.listen) {
        const { host, port } = parseHostPort(config.listen);
        await app.listen({ host, port });
        const address = app.server.address();
        const actualPort = typeof address === 'object' && address ? address.port : port;
        const scheme = config.tls ? 'https' : 'http';
        url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
        deps.logger.info({ url }, 'hub listening (TAXII at /taxii2/, API at /api/)');
      } else {
        await app.ready();
      }
    },
    async stop() {
      await publisher.stop();
      await app?.close();
      // The head at shutdown is signed, so records cut from the end later do not go unseen.
      await audit.checkpoint();
    },
    app() {
      if (!app) throw new Error('hub not started');
      return app;
    },
    url: () => url,
    export: (name, reader) => buildExport(ctx, name, reader),
  };
}
