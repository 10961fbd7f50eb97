/**
 * `tsunagi detect --flows FILE... --bots BOTS`: offline C&C detection over captured export
 * packets; or, with `--nats URL`, a live detector consuming its partitions of the flow stream
 * (the multi-machine shape), keeping the shareable list in `--out` current.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  createLogger,
  createMetricsServer,
  createRegistry,
  InputError,
  Lifecycle,
  type Logger,
  takeProcessHealth,
  loadConfig,
  makeDirectories,
  MetricsConfig,
  untilSignal,
  UsageError,
  writeFileAtomic,
} from '../../core/index.ts';
import type { Command } from 'commander';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import {
  BotListMerge,
  createAnnouncer,
  createDetector,
  DetectConfig,
  formatPeerCsv,
  formatShareCsv,
  loadBotList,
  parseSharedRule,
  protoName,
  StreamClock,
  streamIngest,
  tickOnStreamClock,
  withdrawReasonText,
  type SharedAddressRule,
} from '../../detect/index.ts';
import {
  createCandidatePublisher,
  createFlowSubscriber,
  createHealthPublisher,
  parsePartitionList,
  subscriberHealth,
} from '../../transport/index.ts';
import { HEALTH_INTERVAL_MS } from '../health.ts';
import { followHubBots } from '../hub-bots.ts';
import { StatusLine } from '../progress.ts';
import { detectOffline, formatExplain } from '../offline-detect.ts';
import type { CliContext } from '../context.ts';
import { outputFileOption, writeOut } from '../output.ts';

interface DetectOptions {
  flows?: string[];
  nats?: string;
  partitions?: string;
  partitionCount?: string;
  stream?: string;
  durable?: string;
  worker?: string;
  state?: string;
  metrics?: string;
  hub: boolean;
  candidates?: string;
  checkpoint: string;
  bots: string;
  botsFromHub?: boolean;
  out?: string;
  explain?: boolean;
  config?: string;
  subscribers?: string[];
  allowlist?: string[];
  families?: string;
  threshold?: string;
  mapE?: string[];
  dsLite?: string[];
  homePrefix6?: string;
  peersOut?: string;
  internalPeersOut?: string;
}

/** The detect flags shared with `tsunagi start`: shared IPv4 pools and the IPv6 home prefix. */
export function homeFlags(options: {
  mapE?: string[];
  dsLite?: string[];
  homePrefix6?: string;
}): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  const rules: SharedAddressRule[] = [];
  try {
    for (const text of options.mapE ?? []) rules.push(parseSharedRule('map-e', text));
    for (const text of options.dsLite ?? []) rules.push(parseSharedRule('ds-lite', text));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (rules.length) flags.sharedAddressRules = rules;
  if (options.homePrefix6 !== undefined) {
    const bits = Number(options.homePrefix6);
    if (!Number.isInteger(bits) || bits < 16 || bits > 64)
      throw new UsageError(`--home-prefix6 must be 16-64, not "${options.homePrefix6}"`);
    flags.homePrefixLength6 = bits;
  }
  return flags;
}

/** Adds --map-e, --ds-lite and --home-prefix6 to a command. */
export function addHomeOptions(command: Command): Command {
  return command
    .option(
      '--map-e <rule...>',
      'a MAP-E pool of shared public IPv4 addresses: CIDR,psid-len=K,offset=A (a home is address + PSID)',
    )
    .option('--ds-lite <rule...>', 'a DS-Lite pool with port sets: CIDR,psid-len=K,offset=A')
    .option('--home-prefix6 <bits>', 'the IPv6 prefix length delegated to one home (default 56)');
}

const DetectCommandConfig = z.object({ detect: DetectConfig }).prefault({});

export function register(program: Command, ctx: CliContext): void {
  const command = program
    .command('detect')
    .description(
      'find C&C servers in captured NetFlow v9/IPFIX/sFlow export packets (pcap/pcapng): writes the shareable list ip,port,proto,confidence,family, highest confidence first',
    )
    .option('--flows <file...>', 'capture files of export packets, replayed in order')
    .option('--nats <url>', 'run live on the flow stream of NATS JetStream instead of files')
    .option(
      '--stream <name>',
      'with --nats: the JetStream stream of flow batches (subjects tsunagi.flows.<p>, or tsunagi.<name>.<p> for another stream)',
      'TSUNAGI_FLOWS',
    )
    .option(
      '--partitions <list>',
      'with --nats: the partitions this detector owns, e.g. 0,1 or 0-3 (default all)',
    )
    .option('--partition-count <n>', 'with --nats: partitions of the flow stream (must match the collectors)')
    .option(
      '--durable <name>',
      'with --nats: durable consumer name prefix (<name>-p<partition>); a restarted worker resumes where it stopped',
      'tsunagi-detect',
    )
    .option(
      '--worker <name>',
      "with --nats: this worker's name in the hub stream (default from --durable and --partitions)",
    )
    .option(
      '--state <dir>',
      'with --nats: save the aggregates here every 30 s and at stop, restore them at start',
    )
    .option('--metrics <host:port>', 'with --nats: serve Prometheus metrics on this address')
    .option('--checkpoint <seconds>', 'with --state: seconds between checkpoints', '30')
    .option(
      '--candidates <stream>',
      'with --nats: the JetStream stream of candidates for the hub (subjects tsunagi.candidates.<worker>, or tsunagi.<name>.<worker>)',
      'TSUNAGI_CANDIDATES',
    )
    .option(
      '--no-hub',
      'with --nats: do not announce candidates to the hub stream (tsunagi start --nats consumes it)',
    )
    .requiredOption(
      '--bots <file>',
      'known bots: one a line (a.b.c.d, CIDR, a.b.c.d:port, a.b.c.d:lo-hi, IPv6 address or prefix), optional CSV header bot,family',
    )
    .option(
      '--bots-from-hub',
      "with --nats: also follow the hub's bot indicators (confidence >= 50) on intel's NATS subjects tsunagi.intel.*, as they are committed (the --bots file is the start: the subjects keep no history)",
    )
    .addOption(outputFileOption('-o, --out <file>', 'write the shareable CSV here (default: stdout)'))
    .option('--explain', 'print the evidence columns of each candidate to stdout')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); its detect: section applies')
    .option('--subscribers <cidr...>', "the ISP's own networks (the external side of a flow is outside them)")
    .option('--allowlist <cidr...>', 'destinations never reported')
    .option('--families <file>', 'CSV ip,port,proto,family naming the family of matching candidates')
    .option('--threshold <n>', 'publish at or above this confidence (0-100)')
    .addOption(
      outputFileOption(
        '--peers-out <file>',
        'write the P2P peers of the listed bots outside the ISP (infected hosts, never C&C) as CSV ip,port,proto,confidence,family,bots',
      ),
    )
    .addOption(
      outputFileOption(
        '--internal-peers-out <file>',
        "write the P2P peers inside the subscriber prefixes (the ISP's own infected homes; internal use only)",
      ),
    );
  addHomeOptions(command).action(async (options: DetectOptions) => {
    const flags: Record<string, unknown> = homeFlags(options);
    if (options.subscribers) flags.subscriberPrefixes = options.subscribers;
    if (options.allowlist) flags.allowlistPrefixes = options.allowlist;
    if (options.families) flags.familyFile = options.families;
    if (options.threshold !== undefined) {
      const threshold = Number(options.threshold);
      if (!(threshold >= 0 && threshold <= 100))
        throw new UsageError(`--threshold must be 0-100, not "${options.threshold}"`);
      flags.scoring = { threshold };
    }
    const config = loadConfig(DetectCommandConfig, {
      file: options.config,
      env: ctx.env,
      flags: { detect: flags },
    }).detect;
    // The offline run never persists state: it reads captures and writes only the list.
    config.dataDir = '';
    config.botsFile = '';
    if (Boolean(options.flows) === Boolean(options.nats)) {
      throw new UsageError('give either --flows FILE... (offline) or --nats URL (live)');
    }
    if (options.botsFromHub && !options.nats)
      throw new UsageError("--bots-from-hub follows the hub's bots over NATS: it needs --nats URL");
    const botList = loadBotList(options.bots);
    if (botList.rejected.length > 0) {
      ctx.stderr.write(
        `tsunagi: ${botList.rejected.length} bot list lines ignored (first: ${botList.rejected[0]})\n`,
      );
    }
    if (botList.entries.length === 0) throw new UsageError(`${options.bots} holds no bot address`);
    if (options.nats) {
      await runLive(options, config, botList.entries, ctx);
      return;
    }
    const result = await detectOffline(options.flows!, botList.entries, config);
    const errors = Object.values(result.replay.errors).reduce((a, b) => a + b, 0);
    // As in `flows decode`: captures with nothing decodable are bad input, not an empty list.
    if (result.flows === 0 && errors > 0)
      throw new InputError(`no flow record could be decoded from ${options.flows!.join(', ')}`);
    const csv = formatShareCsv(result.rows);
    const out = writeOut(ctx.stdout);
    if (options.out) {
      try {
        writeFileSync(options.out, csv);
      } catch (error) {
        throw new UsageError(`cannot write ${options.out}: ${(error as Error).message}`);
      }
    }
    writeFileOrFail(options.peersOut, () => formatPeerCsv(result.peerRows));
    writeFileOrFail(options.internalPeersOut, () => formatPeerCsv(result.internalPeerRows));
    if (options.explain) out.write(formatExplain(result.candidates, result.peers));
    else if (!options.out) out.write(csv);
    await out.end();
    ctx.stderr.write(
      `tsunagi: ${result.flows} flow records, ${result.rows.length} C&C candidates, ${result.peerRows.length} P2P peers` +
        (result.internalPeerRows.length ? ` (+${result.internalPeerRows.length} inside the ISP)` : '') +
        (errors ? `, ${errors} decode errors` : '') +
        (result.keysEvicted ? `, ${result.keysEvicted} destinations evicted at the memory ceiling` : '') +
        '\n',
    );
  });
}

function writeFileOrFail(path: string | undefined, body: () => string): void {
  if (!path) return;
  try {
    writeFileSync(path, body());
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

/**
 * The worker's bot list: the --bots file, joined with the hub's bots as intel commits them
 * (--bots-from-hub, followed over NATS). Returns the follower to start, if any.
 */
function liveBotLists(
  detector: { setBots(entries: string[]): { rejected: string[] } },
  bots: string[],
  deps: { options: DetectOptions; worker: string; logger: Logger; registry: Registry },
) {
  const { options, worker, logger, registry } = deps;
  const botLists = new BotListMerge(['file', 'hub'], (entries) => {
    const { rejected } = detector.setBots(entries);
    if (rejected.length > 0)
      logger.warn({ rejected: rejected.slice(0, 10), count: rejected.length }, 'bot entries rejected');
  });
  botLists.set('file', bots);
  return options.botsFromHub
    ? followHubBots(
        { url: options.nats!, name: `detect-${worker}`, minConfidence: 50, logger, registry },
        (list) => botLists.set('hub', list),
      )
    : undefined;
}

/** The flow stream a live worker consumes: its partitions, through a durable consumer. */
function liveSubscriberConfig(
  options: DetectOptions,
  config: DetectConfig,
  partitions: number[],
  durable: string,
) {
  return {
    url: options.nats,
    stream: {
      name: options.stream,
      ...(options.stream && options.stream !== 'TSUNAGI_FLOWS'
        ? { subjectPrefix: `tsunagi.${options.stream.toLowerCase()}` }
        : {}),
      ...(options.partitionCount ? { partitions: Number(options.partitionCount) } : {}),
    },
    // Durable consumers: a restarted worker resumes after its last acknowledged message.
    subscribe: { partitions, durable, deliver: 'all' as const },
    publish: { subscriberPrefixes: config.subscriberPrefixes },
  };
}

/** Live detection on NATS partitions (a worker of the multi-machine shape). */
async function runLive(
  options: DetectOptions,
  config: DetectConfig,
  bots: string[],
  ctx: CliContext,
): Promise<void> {
  const stopped = untilSignal();
  const logger = createLogger({ level: 'warn' }, ctx.stderr);
  const registry = createRegistry();
  const status = new StatusLine(ctx);
  const partitions = options.partitions ? parsePartitionList(options.partitions) : [];
  if (options.partitionCount !== undefined && !/^\d{1,4}$/.test(options.partitionCount))
    throw new UsageError(`--partition-count must be a number of partitions, not "${options.partitionCount}"`);
  const durable = options.durable ?? 'tsunagi-detect';
  const worker = options.worker ?? `${durable}-${partitions.length ? partitions.join('_') : 'all'}`;
  const stateDir = options.state ? resolve(options.state) : '';
  if (stateDir) makeDirectories(stateDir);

  // The list file changes only when the list does: a restarted worker never replaces the last
  // list with an empty one before it has anything to say.
  let listDirty = false;
  const writeList = () => {
    if (!options.out || !listDirty) return;
    writeFileAtomic(options.out, formatShareCsv(detector.shareableRows()));
    listDirty = false;
  };
  const checkpointMs = Number(options.checkpoint) * 1000;
  if (!(checkpointMs >= 1000))
    throw new UsageError(`--checkpoint must be at least 1 second, not "${options.checkpoint}"`);
  const hub = options.hub
    ? createCandidatePublisher(candidateStream(options.nats!, options.candidates), {
        worker,
        logger,
        registry,
      })
    : undefined;
  const positionsFile = stateDir ? join(stateDir, 'positions.json') : '';
  const saved = positionsFile ? readCheckpoint(positionsFile) : undefined;
  const resumeAfter = saved?.positions;
  // Each change is printed at once (no buffering): another program may be following the stream.
  const out = ctx.stdout;
  const announcer = createAnnouncer({
    // Shareable fields only: no timestamps, no subscriber addresses.
    onAnnounce: (c) => {
      out.write(`+${c.ip},${c.port},${protoName(c.proto)},${c.confidence},${c.family}\n`);
      hub?.announce(c);
      listDirty = true;
    },
    onWithdraw: (c, reason) => {
      out.write(`-${c.ip},${c.port},${protoName(c.proto)},${reason}\n`);
      hub?.withdraw(c, withdrawReasonText(reason));
      listDirty = true;
    },
  });
  const detector = createDetector(
    { ...config, dataDir: stateDir },
    {
      registry,
      logger,
      onPublish: (c) => announcer.publish(c),
      onWithdraw: (c, reason) => announcer.withdraw(c, reason),
      // Restored aggregates expire on the stream's clock as of the checkpoint, not today's date
      // (a replayed capture's evidence is years old by the wall clock).
      ...(saved?.streamMinuteMs ? { now: () => saved.streamMinuteMs } : {}),
    },
  );
  const hubBots = liveBotLists(detector, bots, { options, worker, logger, registry });
  const clock = new StreamClock();
  const review = () => announcer.review(detector.candidates());
  const ingest = streamIngest(detector, { clock, afterTick: review });
  const subscriber = createFlowSubscriber(liveSubscriberConfig(options, config, partitions, durable), {
    sink: ingest,
    logger,
    registry,
    resumeAfter,
  });
  /** Aggregates and the stream position they include, taken at one instant. */
  const checkpoint = () => {
    if (!stateDir) return;
    const positions = Object.fromEntries(subscriber.positions());
    // The stream clock to the minute, as coarse as the aggregates' own expiry.
    const streamMinuteMs = Math.floor(detector.detector.clockMs / 60_000) * 60_000;
    detector.saveState();
    writeFileAtomic(
      positionsFile,
      JSON.stringify({ format: 'tsunagi-detect-positions', version: 1, positions, streamMinuteMs }),
    );
  };
  const metrics = createMetricsServer(MetricsConfig.parse({ listen: options.metrics ?? '' }), {
    registry,
    logger,
  });
  const lifecycle = new Lifecycle(logger);
  // The worker's rows folded and lag, for the hub's console (serve --nats / start --nats).
  const who = { role: 'detect', id: worker, intervalMs: HEALTH_INTERVAL_MS };
  const health = createHealthPublisher(
    { ...who, url: subscriber.config.url },
    { take: () => takeProcessHealth(who, [() => subscriberHealth(subscriber)]), logger },
  );
  await lifecycle.start([
    metrics,
    ...(hub ? [hub] : []),
    detector,
    ...(hubBots ? [hubBots] : []),
    subscriber,
    health,
  ]);
  ctx.stderr.write(
    `tsunagi detect: worker ${worker} consuming partitions ${subscriber.partitions.join(',')} from ${options.nats}` +
      ` (durable ${durable}${hub ? ', candidates to the hub stream' : ''}${hubBots ? ", the hub's bots followed" : ''}${stateDir ? `, state ${stateDir}` : ''})\n`,
  );
  let lastCheckpoint = performance.now();
  const timer = setInterval(() => {
    tickOnStreamClock(detector, clock, Date.now());
    review();
    writeList();
    if (stateDir && performance.now() - lastCheckpoint >= checkpointMs) {
      checkpoint();
      lastCheckpoint = performance.now();
    }
    const s = subscriber.stats;
    status.update(
      `flows ${s.rows}  candidates ${detector.shareableRows().length}  redelivered ${s.duplicates}` +
        (hub ? `  to hub ${hub.stats.sent}` : ''),
    );
  }, 1000);
  const signal = await stopped;
  clearInterval(timer);
  // The last scores are announced before the connection to the hub closes.
  tickOnStreamClock(detector, clock, Date.now());
  review();
  await lifecycle.stop();
  checkpoint();
  writeList();
  status.done(
    `stopped by ${signal}: ${subscriber.stats.rows} flows, ${detector.shareableRows().length} C&C candidates`,
  );
}

/** The candidate stream named by --candidates. */
function candidateStream(url: string, name = 'TSUNAGI_CANDIDATES') {
  return {
    url,
    name,
    subjectPrefix: name === 'TSUNAGI_CANDIDATES' ? 'tsunagi.candidates' : `tsunagi.${name.toLowerCase()}`,
  };
}

/** The stream positions and stream minute of the last checkpoint, or none on a first start. */
function readCheckpoint(
  file: string,
): { positions: Map<number, number>; streamMinuteMs: number } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = z
    .object({
      format: z.literal('tsunagi-detect-positions'),
      version: z.literal(1),
      positions: z.record(z.string().regex(/^\d{1,4}$/), z.number().int().min(0)),
      streamMinuteMs: z.number().int().min(0).default(0),
    })
    .safeParse(parseJson(text));
  if (!parsed.success) throw new InputError(`${file} is not a checkpoint of stream positions`);
  return {
    positions: new Map(Object.entries(parsed.data.positions).map(([p, seq]) => [Number(p), seq])),
    streamMinuteMs: parsed.data.streamMinuteMs,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
