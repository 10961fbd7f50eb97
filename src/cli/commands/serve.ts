/**
 * `tsunagi serve`: the sharing hub — TAXII 2.1, the JSON API and the web console (with the
 * public self-check) over the store, with the publisher turning intel into tiered STIX.
 * The hub itself is opened by hub-stack.ts (openHubStack), which `tsunagi start` reuses, so both
 * serve the same hub.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  createLogger,
  createMetricsServer,
  createRegistry,
  Lifecycle,
  loadConfig,
  untilSignal,
  UsageError,
  HealthBoard,
} from '../../core/index.ts';
import { createC2Sharer } from '../../uplink/index.ts';
import { createHealthSubscriber, createNatsRelay } from '../../transport/index.ts';
import { createCandidateIntake } from '../candidate-intake.ts';
import { buildRunbook } from '../../report/index.ts';
import { runbookInputOf } from '../runbook-input.ts';
import { requireDataDir, type CliContext } from '../context.ts';
import { healthSampler } from '../health.ts';
import { cliDataDir, openHubStack, ServeConfig } from '../hub-stack.ts';

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
