/**
 * `tsunagi serve`: the sharing hub — TAXII 2.1 and the JSON API over the store, with the
 * publisher turning intel into tiered STIX. `openHubStack` is what `tsunagi start` reuses.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { loadConfig } from '../../core/config.ts';
import { Lifecycle, untilSignal } from '../../core/lifecycle.ts';
import { createLogger, LogConfig, type Logger } from '../../core/logger.ts';
import { createMetricsServer, createRegistry, MetricsConfig } from '../../core/metrics.ts';
import { createIntel, IntelConfig, type Intel } from '../../intel/index.ts';
import { createAuditLog, createHub, HubConfig, type Hub } from '../../share/index.ts';
import { openStore, storeOptionsFrom, type Store } from '../../store/index.ts';
import { requireDataDir, type CliContext } from '../context.ts';

export const ServeConfig = z.object({
  /** Data directory of the embedded SQLite store (ignored when TSUNAGI_DATABASE_URL is set). */
  data: z.string().default('.tsunagi'),
  log: LogConfig,
  metrics: MetricsConfig,
  intel: IntelConfig,
  hub: HubConfig,
});
export type ServeConfig = z.infer<typeof ServeConfig>;

/** Opens the store named by `--data` / TSUNAGI_DATA, or TSUNAGI_DATABASE_URL when set. */
export async function openCliStore(data: string | undefined, env: NodeJS.ProcessEnv): Promise<Store> {
  return openStore(
    storeOptionsFrom({
      databaseUrl: env.TSUNAGI_DATABASE_URL,
      dataDir: resolve(data ?? env.TSUNAGI_DATA ?? '.tsunagi'),
    }),
  );
}

export interface HubStack {
  store: Store;
  intel: Intel;
  hub: Hub;
}

/** Store, intel and hub wired together; the caller starts `[intel, hub]` and closes the store. */
export async function openHubStack(
  config: Pick<ServeConfig, 'data' | 'intel' | 'hub'>,
  deps: { env: NodeJS.ProcessEnv; logger: Logger; registry: Registry },
): Promise<HubStack> {
  const store = await openCliStore(config.data, deps.env);
  const audit = createAuditLog({ store });
  const intel = createIntel(config.intel, { store, logger: deps.logger, registry: deps.registry, audit });
  const hub = createHub(config.hub, { store, intel, audit, logger: deps.logger, registry: deps.registry });
  return { store, intel, hub };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('run the sharing hub: TAXII 2.1 and the JSON API (exports, indicators, audit)')
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option(
      '-d, --data <dir>',
      'data directory (default .tsunagi, or $TSUNAGI_DATA; $TSUNAGI_DATABASE_URL selects PostgreSQL)',
    )
    .option('-l, --listen <host:port>', 'address for TAXII and the API (default 127.0.0.1:8470)')
    .option('--metrics <host:port>', 'Prometheus metrics address (off unless given)')
    .action(async (options: { config?: string; data?: string; listen?: string; metrics?: string }) => {
      // serve does not create a hub: start or org add does (a mistyped --data must not).
      requireDataDir(options.data, ctx.env);
      const flags: Record<string, unknown> = {};
      const data = options.data ?? ctx.env.TSUNAGI_DATA;
      if (data) flags.data = data;
      if (options.listen) flags.hub = { listen: options.listen };
      if (options.metrics) flags.metrics = { listen: options.metrics };
      const config = loadConfig(ServeConfig, { file: options.config, env: ctx.env, flags });
      await runServe(config, ctx);
    });
}

export async function runServe(
  config: ServeConfig,
  ctx: CliContext,
  until: () => Promise<unknown> = untilSignal,
): Promise<void> {
  const logger = createLogger(config.log, ctx.stderr);
  const registry = createRegistry({ processMetrics: config.metrics.processMetrics });
  const { store, intel, hub } = await openHubStack(config, { env: ctx.env, logger, registry });
  const lifecycle = new Lifecycle(logger);
  try {
    await lifecycle.start([intel, hub, createMetricsServer(config.metrics, { registry, logger })]);
    ctx.stderr.write(
      `tsunagi hub on ${hub.url()} (TAXII discovery ${hub.url()}/taxii2/, API ${hub.url()}/api/), store ${store.location}\n`,
    );
    await until();
  } finally {
    await lifecycle.stop();
    await store.close();
  }
}
