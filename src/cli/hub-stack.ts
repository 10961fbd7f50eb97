/**
 * The hub as a library: the sharing hub's configuration (ServeConfig), the CLI's data directory
 * and store, and the store, intel, hub, console and web room wired together (openHubStack).
 * `tsunagi serve` (commands/serve.ts) runs it alone; `tsunagi start` (stack.ts) runs it beside the
 * collector and detector, so both serve the same hub.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { LogConfig, type Logger, MetricsConfig, type PipelineHealth } from '../core/index.ts';
import { IntelConfig, type ChangeRelay, type Intel } from '../intel/index.ts';
import {
  ConsoleConfig,
  consoleDepsOf,
  createConsole,
  type ConsoleOsint,
  type ConsoleWeb,
  type WebConsole,
} from '../console/index.ts';
import { osintView, type OsintTables } from '../osint/index.ts';
import { type Hub, HubConfig, loadSigner, wireHub } from '../share/index.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';
import { createHygieneReader, type HygieneTables } from '../hygiene/index.ts';
import { createSensorReader, type SensorTables } from '../sensor/index.ts';
import { openStore, privateDataDir, storeOptionsFrom, type Store } from '../store/index.ts';
import { C2SharerConfig } from '../uplink/index.ts';
import {
  explainReason,
  groundsOf,
  createBrandIndex,
  createWeb,
  WebConfig,
  webOverview,
  type TakedownTables,
  type Web,
  type WebTables,
} from '../web/index.ts';
import { CandidateStreamConfig } from '../transport/index.ts';
import type { Lang, Runbook } from '../report/index.ts';

export const ServeConfig = z.object({
  /** Data directory of the embedded SQLite store (ignored when TSUNAGI_DATABASE_URL is set). */
  data: z.string().default('.tsunagi'),
  log: LogConfig,
  metrics: MetricsConfig,
  intel: IntelConfig,
  hub: HubConfig,
  console: ConsoleConfig,
  /** Candidates of `detect --nats` workers, written to intel (`--nats URL`; replicas share one consumer). */
  candidates: CandidateStreamConfig.and(
    z.object({
      enabled: z.boolean().default(false),
      source: z.string().min(1).max(100).default('local-detector'),
    }),
  ).prefault({}),
  /** Where the workers' candidates go on over TAXII (an analysis centre's submission collection). */
  shareTo: C2SharerConfig.optional(),
});
export type ServeConfig = z.infer<typeof ServeConfig>;

const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The data directory named by `--data` / TSUNAGI_DATA (default .tsunagi), made private (0700). */
export function cliDataDir(data: string | undefined, env: NodeJS.ProcessEnv): string {
  const dir = resolve(data ?? env.TSUNAGI_DATA ?? '.tsunagi');
  privateDataDir(dir);
  return dir;
}

/** Opens the store named by `--data` / TSUNAGI_DATA, or TSUNAGI_DATABASE_URL when set. */
export async function openCliStore(data: string | undefined, env: NodeJS.ProcessEnv): Promise<Store> {
  return openStore(
    storeOptionsFrom({ databaseUrl: env.TSUNAGI_DATABASE_URL, dataDir: cliDataDir(data, env) }),
    { migrations: ROOM_MIGRATIONS },
  );
}

export interface HubStack {
  store: Store;
  intel: Intel;
  hub: Hub;
  /** The web console and public self-check, registered on the hub's app. */
  console: WebConsole;
  /** The web room over the same store (the console's overview and reports; start's certstream). */
  web: Web;
}

/**
 * Store, intel, hub and console wired together; the caller starts `[intel, hub, console]` and
 * closes the store. The audit log signs its checkpoints with the data directory's key.
 */
export async function openHubStack(
  config: Pick<ServeConfig, 'data' | 'intel' | 'hub' | 'console'> & { web?: WebConfig },
  deps: {
    env: NodeJS.ProcessEnv;
    logger: Logger;
    registry: Registry;
    health?: () => PipelineHealth;
    /** The runbook of the configuration this process runs with (the console's Runbook page). */
    runbook?: (lang: Lang) => Runbook;
    /** Scaled out: intel's change feed also on NATS subjects (started before intel). */
    relay?: ChangeRelay;
  },
): Promise<HubStack> {
  const dataDir = cliDataDir(config.data, deps.env);
  const store = await openCliStore(dataDir, deps.env);
  // The hygiene room's tables live in the same store (the CLI hands the store every room's
  // migrations): the console reads them, and the publisher shares each recorded survey.
  const hygiene = createHygieneReader(store.db as unknown as Kysely<HygieneTables>);
  const { intel, hub } = wireHub(
    { hub: config.hub, intel: config.intel },
    {
      store,
      logger: deps.logger,
      registry: deps.registry,
      signer: loadSigner(dataDir),
      hygiene,
      ...(deps.relay ? { relay: deps.relay } : {}),
    },
  );
  const webRoom = createWeb(config.web ?? WebConfig.parse({}), {
    logger: deps.logger,
    registry: deps.registry,
    db: store.db as unknown as Kysely<WebTables>,
  });
  const distDir = isAbsolute(config.console.distDir)
    ? config.console.distDir
    : resolve(PACKAGE_ROOT, config.console.distDir);
  const web = createConsole(
    { ...config.console, distDir },
    consoleDepsOf(hub.context, {
      registry: deps.registry,
      logger: deps.logger,
      health: deps.health,
      runbook: deps.runbook,
      hygiene,
      // The sensor room's tables live in the same store too (what `tsunagi sensor serve` on the same data directory stores).
      sensor: createSensorReader(store.db as unknown as Kysely<SensorTables>),
      web: consoleWebOf(store.db, deps, webRoom),
      osint: consoleOsintOf(store.db),
    }),
  );
  hub.use((app) => web.register(app));
  return { store, intel, hub, console: web, web: webRoom };
}

/** The osint room's documents and indicators for the console, over the same store. */
export function consoleOsintOf(db: unknown): ConsoleOsint {
  return { view: (query) => osintView(db as Kysely<OsintTables>, query) };
}

/** The web room's overview and user reports for the console, over the same store. */
export function consoleWebOf(
  db: unknown,
  deps: { logger: Logger; registry: Registry },
  web: Web = createWeb(WebConfig.parse({}), {
    logger: deps.logger,
    registry: deps.registry,
    db: db as Kysely<WebTables>,
  }),
): ConsoleWeb {
  const brands = createBrandIndex();
  return {
    async overview(mayRead, readableUrls) {
      const o = await webOverview(web, db as Kysely<TakedownTables>, brands, mayRead, readableUrls);
      const { byBrand, byTld, byPlatform, hosts } = o.statistics;
      return {
        hosts,
        byBrand,
        byTld,
        byPlatform,
        campaigns: o.campaigns,
        takedowns: o.takedowns,
        brandNames: o.brandNames,
      };
    },
    async report(body, organisation) {
      const result = await web.report(body, organisation);
      return {
        source: result.source,
        reports: result.reports.map((r) =>
          r.ok
            ? {
                ok: true,
                url: r.scored.url,
                host: r.scored.host,
                score: r.scored.score,
                verdict: r.scored.verdict,
                brand: r.scored.brand,
                reasons: r.scored.reasons,
                grounds: groundsOf(r.scored.reasons).map((g) => ({
                  feature: g.feature,
                  contribution: g.contribution,
                  words: { ja: explainReason(g.feature, 'ja'), en: explainReason(g.feature, 'en') },
                })),
              }
            : r,
        ),
      };
    },
  };
}
