/**
 * `tsunagi start`: every component in one process on embedded defaults (the single-machine
 * shape of docs/architecture.md): flow collector -> C&C detector -> intel -> hub (TAXII, API,
 * console), with a rate line on stderr.
 */
import type { Command } from 'commander';
import {
  createLogger,
  createMetricsServer,
  createRegistry,
  Lifecycle,
  loadConfig,
  untilSignal,
  UsageError,
} from '../../core/index.ts';
import { z } from 'zod';
import { boundAddress } from '../../flow/index.ts';
import type { CliContext } from '../context.ts';
import { bootstrapAdmin, commandName, signInInstructions } from '../first-run.ts';
import { formatRate, StatusLine } from '../progress.ts';
import { createReporter, humanLogStream, languageOf, LOG_FORMATS, type LogFormat } from '../reporter.ts';
import { createStack, StackConfig, type Stack } from '../stack.ts';
import { certstreamRateLine } from '../web-certstream.ts';
import { addHomeOptions, homeFlags } from './detect.ts';

export { StackConfig as StartConfig } from '../stack.ts';

interface StartOptions {
  config?: string;
  data?: string;
  listen?: string[];
  hub?: string;
  metrics?: string;
  bots?: string;
  subscribers?: string[];
  nats?: string;
  localDetect: boolean;
  darknetInterface?: string;
  darknetPrefix?: string[];
  botsTaxii?: string;
  botsRoot?: string;
  botsCollection?: string;
  shareTo?: string;
  shareRoot: string;
  shareCollection?: string;
  mapE?: string[];
  dsLite?: string[];
  homePrefix6?: string;
  logFormat?: string;
  logLevel?: string;
  certstream?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const command = program
    .command('start')
    .description(
      'run tsunagi on one machine: collect flows, detect C&C servers, share them (TAXII, API, console)',
    )
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option(
      '-d, --data <dir>',
      'data directory (default .tsunagi, or $TSUNAGI_DATA; $TSUNAGI_DATABASE_URL selects PostgreSQL)',
    )
    .option(
      '-l, --listen <host:port...>',
      'UDP addresses for flow export (default 0.0.0.0:2055, :4739, :6343)',
    )
    .option('--hub <host:port>', 'address of TAXII, the API and the console (default 127.0.0.1:8470)')
    .option('--metrics <host:port>', 'Prometheus metrics address (default 127.0.0.1:9470)')
    .option(
      '--bots <file>',
      'bot list: one bot a line (a.b.c.d, CIDR, a.b.c.d:port, a.b.c.d:lo-hi, IPv6), optional CSV header bot,family (watched for changes)',
    )
    .option('--subscribers <cidr...>', "the ISP's own networks: the other side of a flow is the external one")
    .option(
      '--nats <url>',
      'carry flow batches over NATS JetStream and take C&C candidates from detect --nats workers (the multi-machine shape)',
    )
    .option(
      '--no-local-detect',
      'with --nats: run no detector here; detect --nats workers own the partitions',
    )
    .option(
      '--darknet-interface <if>',
      'watch darknet traffic live on this capture interface (needs --darknet-prefix)',
    )
    .option('--darknet-prefix <cidr...>', 'the unused address space the darknet interface receives')
    .option('--bots-taxii <url>', 'also take bots from this TAXII server (token: $TSUNAGI_BOTS_TAXII__TOKEN)')
    .option('--bots-root <name>', 'its API root (default: from discovery)')
    .option('--bots-collection <id>', 'its collection of bot indicators')
    .option('--share-to <url>', 'share the C&C list to this hub over TAXII (token: $TSUNAGI_SHARE_TO__TOKEN)')
    .option('--share-root <name>', 'its API root', 'council')
    .option('--share-collection <id>', 'its collection for submissions')
    .option(
      '--certstream <url>',
      'score certificate-transparency names from this certstream websocket (ws:// or wss://) and keep the flagged ones',
    )
    .option(
      '--log-format <format>',
      'json (machine logs, unchanged) or pretty (one readable line per event); default pretty on a terminal, else json',
    )
    .option(
      '--log-level <level>',
      'fatal, error, warn, info, debug, trace or silent (default warn on a terminal, else info)',
    );
  addHomeOptions(command).action(async (options: StartOptions) => {
    const logFormat = parseLogFormat(options.logFormat, ctx.interactive);
    const flags = startFlags(options, ctx.env);
    // A person at a terminal reads the reporter's lines; the JSON logger then keeps to warnings,
    // unless --log-level, the environment or the config file asks for more.
    const level =
      options.logLevel ??
      (logFormat === 'pretty' && !levelConfigured(options.config, ctx.env) ? 'warn' : undefined);
    if (level) flags.log = { level };
    const config = loadConfig(StackConfig, { file: options.config, env: ctx.env, flags });
    await runStart(config, ctx, {
      firstRun: true,
      logFormat,
      ...(options.config ? { configFile: options.config } : {}),
    });
  });
}

export function startFlags(options: StartOptions, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const flags: Record<string, Record<string, unknown> | string> = {};
  const data = options.data ?? env.TSUNAGI_DATA;
  if (data) flags.data = data;
  if (options.listen) flags.flow = { listen: options.listen };
  if (options.hub) flags.hub = { listen: options.hub };
  if (options.metrics !== undefined) flags.metrics = { listen: options.metrics };
  const detect: Record<string, unknown> = homeFlags(options);
  if (options.bots) detect.botsFile = options.bots;
  if (options.subscribers) detect.subscriberPrefixes = options.subscribers;
  if (Object.keys(detect).length) flags.detect = detect;
  if (options.darknetInterface || options.darknetPrefix) {
    flags.darknet = {
      ...(options.darknetInterface ? { interface: options.darknetInterface } : {}),
      ...(options.darknetPrefix ? { prefixes: options.darknetPrefix } : {}),
    };
  }
  // Tokens come from the environment or the config file, never from a command line (ps shows it).
  if (options.botsTaxii || options.botsCollection) {
    flags.botsTaxii = {
      ...(options.botsTaxii ? { url: options.botsTaxii } : {}),
      ...(options.botsRoot ? { apiRoot: options.botsRoot } : {}),
      ...(options.botsCollection ? { collection: options.botsCollection } : {}),
    };
  }
  if (options.shareTo || options.shareCollection) {
    flags.shareTo = {
      ...(options.shareTo ? { url: options.shareTo } : {}),
      apiRoot: options.shareRoot,
      ...(options.shareCollection ? { collection: options.shareCollection } : {}),
    };
  }
  if (options.certstream) flags.web = { certstream: { url: options.certstream } };
  const natsUrl = options.nats ?? env.TSUNAGI_NATS_URL;
  if (natsUrl)
    flags.nats = {
      enabled: true,
      url: natsUrl,
      ...(options.localDetect === false ? { localDetect: false } : {}),
    };
  return flags;
}

export function parseLogFormat(value: string | undefined, interactive: boolean): LogFormat {
  if (value === undefined) return interactive ? 'pretty' : 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(value))
    throw new UsageError(`--log-format: ${value} is not one of ${LOG_FORMATS.join(', ')}`);
  return value as LogFormat;
}

/** True when the config file or the environment sets the log level (it wins over a default). */
function levelConfigured(file: string | undefined, env: NodeJS.ProcessEnv): boolean {
  const level = loadConfig(
    z.looseObject({ log: z.looseObject({ level: z.string().optional() }).prefault({}) }),
    { file, env },
  ).log.level;
  return level !== undefined;
}

function osintLine(config: StackConfig): string {
  const { feeds, intervalMs } = config.osint;
  if (feeds.length === 0) return 'no feeds (osint.feeds in the config file)';
  const every =
    intervalMs > 0 ? `every ${Math.round(intervalMs / 60_000)} min` : 'only by tsunagi osint fetch';
  return `${feeds.length} feed${feeds.length === 1 ? '' : 's'}, read ${every}`;
}

/** The OSINT part of the rate line: documents and intel sightings, and a round under way. */
function osintRate(stack: Stack): string {
  const s = stack.osint.osint.stats();
  return (
    `OSINT documents ${s.documents}  indicators ${s.indicators}  sightings ${stack.osint.sightings()}` +
    `  errors ${s.errors}${s.running ? '  (reading feeds)' : ''}`
  );
}

/** Starts the stack, prints where everything is, and runs until `until` resolves. */
export async function runStart(
  config: StackConfig,
  ctx: CliContext,
  options: {
    until?: () => Promise<unknown>;
    onReady?: (stack: Stack) => Promise<void> | void;
    /** On a store with no organisation, create the analysis centre and print its admin token. */
    firstRun?: boolean;
    /** pretty: readable lines for a person (default on a terminal); json: the logger's lines. */
    logFormat?: LogFormat;
    /** The --config file the configuration came from (the runbook names it). */
    configFile?: string;
  } = {},
): Promise<void> {
  // Listen for the stop signal before anything starts, so an early SIGTERM is not lost.
  const stopped = (options.until ?? untilSignal)();
  const status = new StatusLine(ctx);
  const pretty = (options.logFormat ?? (ctx.interactive ? 'pretty' : 'json')) === 'pretty';
  const language = languageOf(ctx.env);
  const say = (line: string) => status.print(line);
  const logger = createLogger(config.log, pretty ? humanLogStream(say, language) : ctx.stderr);
  const registry = createRegistry({ processMetrics: config.metrics.processMetrics });
  const reporter = pretty ? createReporter(say, language) : undefined;
  const stack = await createStack(config, {
    env: ctx.env,
    logger,
    registry,
    ...(reporter ? { reporter } : {}),
    ...(options.configFile ? { configFile: options.configFile } : {}),
  });
  const lifecycle = new Lifecycle(logger);
  let timer: NodeJS.Timeout | undefined;
  try {
    await lifecycle.start([...stack.components, createMetricsServer(config.metrics, { registry, logger })]);
    const udp = stack.collector.listeners.map((l) => `udp ${boundAddress(l)}`).join(', ');
    const first = options.firstRun ? await bootstrapAdmin(stack.hub.orgs) : undefined;
    ctx.stderr.write(
      [
        `tsunagi is running (data ${stack.dataDir}, store ${stack.store.location})`,
        `  flows     ${udp}`,
        `  console   ${stack.hub.url()}/`,
        `  TAXII     ${stack.hub.url()}/taxii2/`,
        `  API       ${stack.hub.url()}/api/`,
        `  metrics   ${config.metrics.listen ? `http://${config.metrics.listen}/metrics` : 'off'}`,
        ...(config.web.certstream
          ? [
              `  certstream ${config.web.certstream.url} (flagging ${config.web.certstream.minVerdict} or worse)`,
            ]
          : []),
        `  OSINT     ${osintLine(config)}`,
        first
          ? signInInstructions(
              first,
              stack.hub.url(),
              stack.dataDir,
              commandName(process.argv[1], process.cwd(), ctx.env.PATH),
            )
          : '',
      ].join('\n'),
    );

    await options.onReady?.(stack);
    let lastRecords = stack.collector.counters().records;
    let lastNames = 0;
    let last = performance.now();
    timer = setInterval(() => {
      const now = performance.now();
      const c = stack.collector.counters();
      status.update(
        `flows/s ${formatRate((c.records - lastRecords) / ((now - last) / 1000))}  flows ${c.records}  ` +
          `C&C published ${stack.published()}  withdrawn ${stack.withdrawn()}  errors ${c.decodeErrors}  ` +
          `drops ${c.kernelDrops}` +
          (stack.flowPublisher
            ? `  unpublished ${stack.flowPublisher.droppedRows()}  queued ${stack.flowPublisher.stats.queuedRows}`
            : '') +
          (stack.certstream
            ? `  ${certstreamRateLine(stack.certstream.stats, lastNames, (now - last) / 1000)}`
            : '') +
          (config.osint.feeds.length > 0 ? `  ${osintRate(stack)}` : ''),
      );
      lastNames = stack.certstream?.stats.names ?? 0;
      lastRecords = c.records;
      last = now;
    }, 5_000);
    timer.unref();
    const reason = await stopped;
    status.done(typeof reason === 'string' ? `stopped by ${reason}` : 'stopped');
  } finally {
    clearInterval(timer);
    await lifecycle.stop();
    await stack.close();
  }
}
