/**
 * `tsunagi collect`: receive flows live and print a rate line until SIGINT/SIGTERM; with
 * `--nats URL`, the collector of the multi-machine shape: every batch goes to the partitioned
 * flow stream for `detect --nats` workers, nothing else runs here.
 */
import type { Command } from 'commander';
import {
  createLogger,
  createMetricsServer,
  createRegistry,
  Lifecycle,
  loadConfig,
  LogConfig,
  MetricsConfig,
  takeProcessHealth,
  untilSignal,
} from '../../core/index.ts';
import { z } from 'zod';
import { boundAddress, collectorHealth, createFlowCollector, FlowConfig } from '../../flow/index.ts';
import {
  createFlowPublisher,
  createHealthPublisher,
  defaultHealthId,
  publisherHealth,
  TransportConfig,
  type FlowPublisher,
} from '../../transport/index.ts';
import { HEALTH_INTERVAL_MS } from '../health.ts';
import type { CliContext } from '../context.ts';
import { formatRate, StatusLine } from '../progress.ts';

const CollectConfig = z.object({
  log: LogConfig,
  metrics: MetricsConfig,
  flow: FlowConfig,
  nats: TransportConfig.and(z.object({ enabled: z.boolean().default(false) })).prefault({}),
});

export function register(program: Command, ctx: CliContext): void {
  program
    .command('collect')
    .description('receive NetFlow v5/v9, IPFIX and sFlow v5 over UDP and print a rate line')
    .option('-l, --listen <host:port...>', 'UDP address to listen on (repeatable)')
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--metrics <host:port>', 'serve Prometheus metrics on this address')
    .option('--interval <seconds>', 'seconds between rate lines', '5')
    .option('--templates <file>', 'persist templates in this file across restarts')
    .option(
      '--nats <url>',
      'publish every flow batch to the NATS JetStream flow stream (for detect --nats workers)',
    )
    .option(
      '--subscribers <cidr...>',
      "with --nats: the ISP's own networks (partitions by the external side)",
    )
    .action(
      async (options: {
        listen?: string[];
        config?: string;
        metrics?: string;
        interval: string;
        templates?: string;
        nats?: string;
        subscribers?: string[];
      }) => {
        const flags: Record<string, unknown> = { flow: {} as Record<string, unknown> };
        const flow = flags.flow as Record<string, unknown>;
        if (options.listen) flow.listen = options.listen;
        if (options.templates) flow.templateFile = options.templates;
        if (options.metrics) flags.metrics = { listen: options.metrics };
        const natsUrl = options.nats ?? ctx.env.TSUNAGI_NATS_URL;
        if (natsUrl)
          flags.nats = {
            enabled: true,
            url: natsUrl,
            ...(options.subscribers ? { publish: { subscriberPrefixes: options.subscribers } } : {}),
          };
        const config = loadConfig(CollectConfig, { file: options.config, env: ctx.env, flags });
        await runCollector(config, ctx, Number(options.interval) || 5);
      },
    );
}

async function runCollector(config: z.infer<typeof CollectConfig>, ctx: CliContext, intervalSeconds: number) {
  const stopped = untilSignal();
  const logger = createLogger(config.log, ctx.stderr);
  const registry = createRegistry({ processMetrics: config.metrics.processMetrics });
  let flowsSinceLast = 0;
  const publisher: FlowPublisher | undefined = config.nats.enabled
    ? createFlowPublisher(config.nats, { logger, registry })
    : undefined;
  const collector = createFlowCollector(config.flow, {
    registry,
    logger,
    // Neither counting nor the publisher keeps a batch after the sink returns.
    recycleBatches: true,
    sink: (batch) => {
      flowsSinceLast += batch.length;
      publisher?.publish(batch);
    },
  });
  // With --nats, the hub's console shows this collector's drops and queue (serve --nats / start --nats).
  const who = { role: 'collect', id: defaultHealthId(), intervalMs: HEALTH_INTERVAL_MS };
  const health =
    publisher &&
    createHealthPublisher(
      { ...who, url: config.nats.url },
      {
        take: () =>
          takeProcessHealth(who, [() => collectorHealth(collector), () => publisherHealth(publisher)]),
        logger,
      },
    );
  const lifecycle = new Lifecycle(logger);
  await lifecycle.start([
    ...(publisher ? [publisher] : []),
    ...(health ? [health] : []),
    collector,
    createMetricsServer(config.metrics, { registry, logger }),
  ]);
  const status = new StatusLine(ctx);
  status.update(`listening on ${collector.listeners.map(boundAddress).join(', ')}`);
  let last = collector.counters();
  let lastTime = performance.now();
  const timer = setInterval(() => {
    collector.flush();
    const now = performance.now();
    const seconds = (now - lastTime) / 1000;
    const current = collector.counters();
    const line =
      `flows/s ${formatRate(flowsSinceLast / seconds)}  packets/s ${formatRate((current.payloads - last.payloads) / seconds)}` +
      `  flows ${current.records}  errors ${current.decodeErrors}  drops ${current.kernelDrops}` +
      (publisher
        ? `  published ${publisher.stats.rows}  unpublished ${publisher.droppedRows()}  queued ${publisher.stats.queuedRows}`
        : '');
    flowsSinceLast = 0;
    last = current;
    lastTime = now;
    status.update(line);
  }, intervalSeconds * 1000);
  const signal = await stopped;
  clearInterval(timer);
  await lifecycle.stop();
  const total = collector.counters();
  status.done(
    `stopped by ${signal}: ${total.records} flows from ${total.payloads} packets, ${total.decodeErrors} errors` +
      (publisher ? `, ${publisher.stats.rows} published, ${publisher.droppedRows()} unpublished` : ''),
  );
}
