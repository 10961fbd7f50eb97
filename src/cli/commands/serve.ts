/**
 * `tsunagi serve`: the sharing hub — TAXII 2.1, the JSON API and the web console (with the
 * public self-check) over the store, with the publisher turning intel into tiered STIX.
 * `openHubStack` is what `tsunagi start` reuses, so both serve the same hub.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  createLogger,
  createMetricsServer,
  createRegistry,
  Lifecycle,
  loadConfig,
  LogConfig,
  type Logger,
  MetricsConfig,
  untilSignal,
  UsageError,
  HealthBoard,
  type PipelineHealth,
} from '../../core/index.ts';
import { IntelConfig, type ChangeRelay, type Intel } from '../../intel/index.ts';
import {
  ConsoleConfig,
  consoleDepsOf,
  createConsole,
  type ConsoleOsint,
  type ConsoleWeb,
  type WebConsole,
} from '../../console/index.ts';
import { osintView, type OsintTables } from '../../osint/index.ts';
import { type Hub, HubConfig, loadSigner, wireHub } from '../../share/index.ts';
import { ROOM_MIGRATIONS } from '../store-migrations.ts';
import { createHygieneReader, type HygieneTables } from '../../hygiene/index.ts';
import { createSensorReader, type SensorTables } from '../../sensor/index.ts';
import { openStore, privateDataDir, storeOptionsFrom, type Store } from '../../store/index.ts';
import { C2SharerConfig, createC2Sharer } from '../../uplink/index.ts';
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
} from '../../web/index.ts';
import { CandidateStreamConfig, createHealthSubscriber, createNatsRelay } from '../../transport/index.ts';
import { createCandidateIntake } from '../candidate-intake.ts';
import { buildRunbook, type Lang, type Runbook } from '../../report/index.ts';
import { runbookInputOf } from '../runbook-input.ts';
import { requireDataDir, type CliContext } from '../context.ts';
import { healthSampler } from '../health.ts';

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

const PACKAGE_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

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
    async overview(mayRead) {
      const o = await webOverview(web, db as Kysely<TakedownTables>, brands, mayRead);
      const { byBrand, byTld, byPlatform, hosts } = o.statistics;
      return { hosts, byBrand, byTld, byPlatform, campaigns: o.campaigns, takedowns: o.takedowns };
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

interface ServeOptions {
  config?: string;
  data?: string;
  listen?: string;
  metrics?: string;
  tlsCert?: string;
  tlsKey?: string;
  nats?: string;
  shareTo?: string;
  shareRoot: string;
  shareCollection?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description(
      'run the sharing hub: TAXII 2.1, the JSON API (exports, indicators, audit), the console and self-check',
    )
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option(
      '-d, --data <dir>',
      'data directory (default .tsunagi, or $TSUNAGI_DATA; $TSUNAGI_DATABASE_URL selects PostgreSQL)',
    )
    .option('-l, --listen <host:port>', 'address for TAXII and the API (default 127.0.0.1:8470)')
    .option('--metrics <host:port>', 'Prometheus metrics address (off unless given)')
    .option('--tls-cert <file>', 'serve HTTPS: the certificate (chain) in PEM (with --tls-key)')
    .option('--tls-key <file>', 'serve HTTPS: its private key in PEM')
    .option('--nats <url>', 'take the C&C candidates of detect --nats workers from NATS JetStream into intel')
    .option(
      '--share-to <url>',
      'with --nats: share them on to this hub over TAXII (token: $TSUNAGI_SHARE_TO__TOKEN)',
    )
    .option('--share-root <name>', 'its API root', 'council')
    .option('--share-collection <id>', 'its collection for submissions')
    .action(async (options: ServeOptions) => {
      // serve does not create a hub: start or org add does (a mistyped --data must not).
      requireDataDir(options.data, ctx.env);
      const flags: Record<string, unknown> = {};
      const data = options.data ?? ctx.env.TSUNAGI_DATA;
      if (data) flags.data = data;
      if (Boolean(options.tlsCert) !== Boolean(options.tlsKey))
        throw new UsageError('--tls-cert and --tls-key go together');
      const hub: Record<string, unknown> = {};
      if (options.listen) hub.listen = options.listen;
      if (options.tlsCert) hub.tls = { cert: options.tlsCert, key: options.tlsKey };
      if (Object.keys(hub).length) flags.hub = hub;
      if (options.metrics) flags.metrics = { listen: options.metrics };
      if ((options.shareTo || options.shareCollection) && !options.nats)
        throw new UsageError("--share-to shares the workers' candidates: it needs --nats");
      if (options.nats) flags.candidates = { enabled: true, url: options.nats };
      if (options.shareTo || options.shareCollection)
        flags.shareTo = {
          url: options.shareTo,
          apiRoot: options.shareRoot,
          collection: options.shareCollection,
        };
      const config = loadConfig(ServeConfig, { file: options.config, env: ctx.env, flags });
      await runServe(config, ctx, untilSignal, options.config);
    });
}

export async function runServe(
  config: ServeConfig,
  ctx: CliContext,
  until: () => Promise<unknown> = untilSignal,
  /** The --config file the configuration came from (the runbook names it). */
  configFile?: string,
): Promise<void> {
  const logger = createLogger(config.log, ctx.stderr);
  const registry = createRegistry({ processMetrics: config.metrics.processMetrics });
  // With --nats, the console shows every collector's and worker's health reports.
  const board = config.candidates.enabled ? new HealthBoard() : undefined;
  const natsUrl = config.candidates.url || 'nats://127.0.0.1:4222';
  // With --nats, intel's change feed also goes out and comes in on NATS subjects.
  const relay = config.candidates.enabled
    ? createNatsRelay({ url: natsUrl, name: 'intel-feed' }, { logger })
    : undefined;
  const {
    store,
    intel,
    hub,
    console: web,
  } = await openHubStack(config, {
    env: ctx.env,
    logger,
    registry,
    runbook: (lang) =>
      buildRunbook(runbookInputOf(config, ctx.env, configFile ?? ctx.env.TSUNAGI_CONFIG), lang),
    ...(board ? { health: () => board.read() } : {}),
    ...(relay ? { relay } : {}),
  });
  const healthIn =
    board &&
    createHealthSubscriber({ url: natsUrl }, { onReport: (report) => board.receive(report), logger });
  const sharer =
    config.shareTo &&
    createC2Sharer(
      {
        ...config.shareTo,
        stateFile: config.shareTo.stateFile || join(cliDataDir(config.data, ctx.env), 'c2-sharer.json'),
      },
      { logger, registry },
    );
  const source = config.candidates.source;
  const intake =
    config.candidates.enabled &&
    createCandidateIntake(config.candidates, { intel, source, uplink: sharer, logger, registry });
  const lifecycle = new Lifecycle(logger);
  try {
    const metrics = createMetricsServer(config.metrics, { registry, logger });
    await lifecycle.start([
      ...(relay ? [relay] : []),
      intel,
      hub,
      web,
      ...(sharer ? [sharer] : []),
      ...(intake ? [intake] : []),
      ...(board && healthIn ? [healthIn, healthSampler(board)] : []),
      metrics,
    ]);
    // Listen for signals before saying we are up: a caller may signal as soon as it reads the
    // line. Another `until` (tests) may read that line itself, so it is called after it.
    const signalled = until === untilSignal ? untilSignal() : undefined;
    ctx.stderr.write(
      `tsunagi hub on ${hub.url()} (console ${hub.url()}/, self-check ${hub.url()}/check, TAXII discovery ${hub.url()}/taxii2/, API ${hub.url()}/api/), store ${store.location}` +
        (intake
          ? `, worker candidates from ${config.candidates.url || 'nats://127.0.0.1:4222'} (${config.candidates.name}, consumer ${config.candidates.durable})`
          : '') +
        (config.shareTo ? `, shared on to ${config.shareTo.url}` : '') +
        '\n',
    );
    await (signalled ?? until());
  } finally {
    await lifecycle.stop();
    await store.close();
  }
}
