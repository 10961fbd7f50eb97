/**
 * The sensor room: the centre that endpoint sensors on government terminals report to (issue
 * #19). It keeps its own CA and enrols sensors with one-time tokens, signs their policy and IoC
 * lists, takes their hash-chained event batches over mutual TLS, keeps per-ministry statistics,
 * and hands IoC matches and connections to known C&C on as observations (the CLI passes them to
 * intel's sensor intake). The wire contract is `protocol.ts`, shared with the terminal package.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { Component, Logger } from '../core/index.ts';
import type { SensorCentreConfig } from './config.ts';
import { createIocListKeeper, iocContent, policyBody, type IocSourceList } from './documents.ts';
import { createSensorMetrics } from './metrics.ts';
import type { SensorTables } from './migrations.ts';
import { ensureCa, openPki, serverNames } from './pki.ts';
import { formatInviteToken, signDocument, type SignedDocument } from './protocol.ts';
import { createSensorServer, sensorRoutes, type SensorRoute } from './server.ts';
import type { SensorObservation } from './stats.ts';
import { createSensorReader } from './read.ts';
import { createDomainResolver } from './resolve.ts';
import { addHash, createToken, listHashes, revokeSensor } from './store.ts';

export { SensorCentreConfig, SensorPolicyConfig, type SensorCentreConfigInput } from './config.ts';
/** The wire contract, for callers that speak it (the terminal package imports protocol.ts itself). */
export {
  IocListBody,
  PolicyBody,
  SENSOR_PATHS,
  verifyDocument,
  type EnrollResponse,
  type SensorEvent,
  type SignedDocument,
} from './protocol.ts';
export { sensorMigrations, type SensorTables } from './migrations.ts';
export { policyBody, iocContent, SENSOR_BUDGETS, type IocSourceList } from './documents.ts';
export type { SensorObservation, IocKind } from './stats.ts';
export {
  createSensorReader,
  type SensorDailyRow,
  type SensorListRow,
  type SensorOrgSummary,
  type SensorReader,
  type SensorTopIoc,
} from './read.ts';

export interface SensorCentreDeps {
  db: Kysely<SensorTables>;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
  /** C&C IP:PORTs and domains for the IoC list (intel's sensor adapter builds it from indicators). */
  iocSource?: () => Promise<IocSourceList>;
  /** IoC matches and connections to known C&C, after their batch is stored (intel's sensor intake). */
  onObservations?: (observations: SensorObservation[]) => void;
}

export interface SensorCentre extends Component {
  readonly name: 'sensor';
  /** Where the server listens, once started. */
  address(): { host: string; port: number };
  /** sha256 hex of the CA certificate (also in every invite token). */
  readonly caSha256: string | undefined;
  /** Rebuilds the signed IoC list now (it is also rebuilt every `iocRefreshMs`). */
  refreshIocs(): Promise<void>;
  /** The routes the server registered (for tests that walk every one). */
  routes(): SensorRoute[];
}

/** The PKI directory's CA fingerprint and an invite token for `org` (CA made on first use). */
export async function inviteSensor(
  db: Kysely<SensorTables>,
  pkiDir: string,
  org: string,
  ttlMs: number,
  now = new Date(),
): Promise<{ token: string; expiresAt: string }> {
  const { caSha256 } = await ensureCa(pkiDir);
  const { tokenId, secret, expiresAt } = await createToken(db, org, ttlMs, now);
  return { token: formatInviteToken({ tokenId, secret, caSha256 }), expiresAt };
}

export const revokeSensorById = (db: Kysely<SensorTables>, idOrPrefix: string, now = new Date()) =>
  revokeSensor(db, idOrPrefix, now);
export const addSensorHash = (db: Kysely<SensorTables>, sha256: string, note: string, now = new Date()) =>
  addHash(db, sha256, note, now);

export function createSensorCentre(config: SensorCentreConfig, deps: SensorCentreDeps): SensorCentre {
  const now = deps.now ?? (() => new Date());
  const metrics = createSensorMetrics(deps.registry);
  const reader = createSensorReader(deps.db, { onlineWithinMs: config.onlineWithinMs, now });
  new Gauge({
    name: 'tsunagi_sensor_sensors',
    help: 'Enrolled sensors by state: online (a batch within onlineWithinMs), silent, revoked',
    labelNames: ['state'],
    registers: [deps.registry],
    async collect() {
      const orgs = await reader.organisations();
      const sum = (pick: (o: (typeof orgs)[number]) => number) => orgs.reduce((n, o) => n + pick(o), 0);
      this.set(
        { state: 'online' },
        sum((o) => o.online),
      );
      this.set(
        { state: 'silent' },
        sum((o) => o.sensors - o.online - o.revoked),
      );
      this.set(
        { state: 'revoked' },
        sum((o) => o.revoked),
      );
    },
  });
  let app: FastifyInstance | undefined;
  let timer: NodeJS.Timeout | undefined;
  let caSha256: string | undefined;
  let iocKeeper: ReturnType<typeof createIocListKeeper> | undefined;
  let policy: SignedDocument | undefined;
  const resolver = createDomainResolver(
    {
      servers: config.resolvers,
      timeoutMs: config.resolveTimeoutMs,
      refreshMs: config.domainRefreshMs,
      concurrency: 16,
      maxPerRefresh: config.maxLookupsPerRefresh,
    },
    { metrics, now },
  );

  /** One rebuild at a time: two would look the same names up twice. */
  let refreshing: Promise<unknown> = Promise.resolve();
  function refreshIocs(lookUp = true): Promise<void> {
    const run = refreshing.then(() => rebuildIocs(lookUp));
    refreshing = run.catch(() => undefined);
    return run;
  }

  /** Rebuilds the list; `lookUp: false` uses the answers known, so a starting centre waits on no resolver. */
  async function rebuildIocs(lookUp: boolean): Promise<void> {
    if (!iocKeeper) throw new Error('the sensor centre is not started');
    const source = deps.iocSource ? await deps.iocSource() : { ipPorts: [], domains: [] };
    const domains = iocContent(source, []).domains;
    const resolved = lookUp ? await resolver.resolve(domains) : resolver.known(domains);
    iocKeeper.update(source, await listHashes(deps.db), resolved);
  }
  const refreshQuietly = () =>
    refreshIocs().catch((error: unknown) =>
      deps.logger.error({ err: error }, 'sensor IoC list refresh failed'),
    );

  return {
    name: 'sensor',
    get caSha256() {
      return caSha256;
    },
    refreshIocs: () => refreshIocs(),
    routes: () => (app ? sensorRoutes(app) : []),
    address() {
      const address = app?.server.address() as AddressInfo | null | undefined;
      if (!address) throw new Error('the sensor centre is not listening');
      return { host: address.address, port: address.port };
    },
    async start() {
      const pki = await openPki(config.pkiDir, serverNames(config.host, config.serverNames));
      caSha256 = pki.caSha256;
      policy = signDocument(policyBody(config.policy), pki.policyKey);
      iocKeeper = createIocListKeeper(pki.policyKey, now);
      const keeper = iocKeeper;
      // Intel being slow or down must not keep the centre from starting: the operator's hashes
      // are served until the next refresh reaches intel.
      await refreshIocs(false).catch(async (error: unknown) => {
        deps.logger.error(
          { err: error },
          'sensor IoC list from intel failed; serving the listed hashes only',
        );
        keeper.update({ ipPorts: [], domains: [] }, await listHashes(deps.db));
      });
      app = await createSensorServer({
        config,
        db: deps.db,
        pki,
        metrics,
        logger: deps.logger,
        now,
        policy: () => policy!,
        iocs: () => keeper.current!.document,
        batch: {
          knownC2: () => keeper.current?.knownC2 ?? new Set(),
          onObservations: (observations) => {
            metrics.sightings.inc(observations.length);
            deps.onObservations?.(observations);
          },
        },
      });
      await app.listen({ host: config.host, port: config.port });
      timer = setInterval(refreshQuietly, config.iocRefreshMs);
      timer.unref();
      // The listed domains' addresses, looked up now that the centre answers.
      void refreshQuietly();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await app?.close();
      app = undefined;
    },
  };
}
