/**
 * `tsunagi start`: every component in one process on embedded defaults (the single-machine
 * shape of ARCHITECTURE.md): flow collector, then what consumes its batches.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../core/config.ts';
import { Lifecycle, untilSignal } from '../../core/lifecycle.ts';
import { createLogger, LogConfig } from '../../core/logger.ts';
import { createMetricsServer, createRegistry, MetricsConfig } from '../../core/metrics.ts';
import { createFlowCollector, FlowConfig } from '../../flow/index.ts';
import type { CliContext } from '../context.ts';
import { formatRate, StatusLine } from '../progress.ts';

export const StartConfig = z.object({
  /** Where the embedded store and component state live. */
  data: z.string().default('.tsunagi'),
  log: LogConfig,
  metrics: MetricsConfig.prefault({ listen: '127.0.0.1:9470' }),
  flow: FlowConfig,
});
export type StartConfig = z.infer<typeof StartConfig>;

export function register(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .description('run tsunagi on one machine: collect flows and hand them to detection')
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .option('-l, --listen <host:port...>', 'UDP addresses for flow export (default 0.0.0.0:2055, :4739, :6343)')
    .option('--metrics <host:port>', 'Prometheus metrics address (default 127.0.0.1:9470)')
    .action(async (options: { config?: string; data?: string; listen?: string[]; metrics?: string }) => {
      const flags: Record<string, unknown> = {};
      const data = options.data ?? ctx.env.TSUNAGI_DATA;
      if (data) flags.data = data;
      if (options.listen) flags.flow = { listen: options.listen };
      if (options.metrics) flags.metrics = { listen: options.metrics };
      const config = loadConfig(StartConfig, { file: options.config, env: ctx.env, flags });
      await runStart(config, ctx);
    });
}

export async function runStart(config: StartConfig, ctx: CliContext): Promise<void> {
  const dataDir = resolve(config.data);
  mkdirSync(dataDir, { recursive: true });
  const logger = createLogger(config.log, ctx.stderr);
  const registry = createRegistry({ processMetrics: config.metrics.processMetrics });
  let flows = 0;
  const collector = createFlowCollector(
    { ...config.flow, templateFile: config.flow.templateFile || join(dataDir, 'templates.json') },
    {
      registry,
      logger,
      sink: (batch) => {
        flows += batch.length;
      },
    },
  );
  const lifecycle = new Lifecycle(logger);
  await lifecycle.start([collector, createMetricsServer(config.metrics, { registry, logger })]);
  const status = new StatusLine(ctx);
  status.update(
    `tsunagi is running (data ${dataDir}); flows on ${collector.listeners
      .map((l) => `udp ${l.address.replace(/:\d+$/, '')}:${l.boundPort}`)
      .join(', ')}; metrics http://${config.metrics.listen}/metrics`,
  );
  let lastFlows = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const c = collector.counters();
    status.update(
      `flows/s ${formatRate((flows - lastFlows) / ((now - last) / 1000))}  flows ${flows}  errors ${c.decodeErrors}  drops ${c.kernelDrops}`,
    );
    lastFlows = flows;
    last = now;
  }, 10_000);
  const signal = await untilSignal();
  clearInterval(timer);
  await lifecycle.stop();
  status.done(`stopped by ${signal}`);
}
