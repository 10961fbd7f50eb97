/**
 * `tsunagi detect --flows FILE... --bots BOTS`: offline C&C detection over captured export
 * packets; or, with `--nats URL`, a live detector consuming its partitions of the flow stream
 * (the multi-machine shape), keeping the shareable list in `--out` current.
 */
import { writeFileSync } from 'node:fs';
import { writeFileAtomic } from '../../core/files.ts';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../core/config.ts';
import { UsageError } from '../../core/errors.ts';
import { Lifecycle, untilSignal } from '../../core/lifecycle.ts';
import { createLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/metrics.ts';
import {
  createDetector,
  DetectConfig,
  formatPeerCsv,
  formatShareCsv,
  loadBotList,
  parseSharedRule,
  protoName,
  type SharedAddressRule,
} from '../../detect/index.ts';
import { createFlowSubscriber, parsePartitionList } from '../../transport/index.ts';
import { StatusLine } from '../progress.ts';
import { detectOffline, formatExplain } from '../../detect/offline.ts';
import { streamIngest } from '../../detect/stream.ts';
import type { CliContext } from '../context.ts';
import { writeOut } from '../output.ts';

interface DetectOptions {
  flows?: string[];
  nats?: string;
  partitions?: string;
  stream?: string;
  bots: string;
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
    .requiredOption(
      '--bots <file>',
      'known bots: one a line (a.b.c.d, CIDR, a.b.c.d:port, a.b.c.d:lo-hi, IPv6 address or prefix), optional CSV header bot,family',
    )
    .option('-o, --out <file>', 'write the shareable CSV here (default: stdout)')
    .option('--explain', 'print the evidence columns of each candidate to stdout')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); its detect: section applies')
    .option('--subscribers <cidr...>', "the ISP's own networks (the external side of a flow is outside them)")
    .option('--allowlist <cidr...>', 'destinations never reported')
    .option('--families <file>', 'CSV ip,port,proto,family naming the family of matching candidates')
    .option('--threshold <n>', 'publish at or above this confidence (0-100)')
    .option(
      '--peers-out <file>',
      'write the P2P peers of the listed bots outside the ISP (infected hosts, never C&C) as CSV ip,port,proto,confidence,family,bots',
    )
    .option(
      '--internal-peers-out <file>',
      "write the P2P peers inside the subscriber prefixes (the ISP's own infected homes; internal use only)",
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
    const errors = Object.values(result.replay.errors).reduce((a, b) => a + b, 0);
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

/** Live detection on NATS partitions; the shareable list file is replaced on every change. */
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
  const writeList = () => {
    if (!options.out) return;
    writeFileAtomic(options.out, formatShareCsv(detector.shareableRows()));
  };
  // Each change is printed at once (no buffering): another program may be following the stream.
  const out = ctx.stdout;
  const detector = createDetector(config, {
    registry,
    logger,
    // Shareable fields only: no timestamps, no subscriber addresses.
    onPublish: (c) => {
      out.write(`+${c.ip},${c.port},${protoName(c.proto)},${c.confidence},${c.family}\n`);
      writeList();
    },
    onWithdraw: (c) => {
      out.write(`-${c.ip},${c.port},${protoName(c.proto)}\n`);
      writeList();
    },
  });
  detector.setBots(bots);
  let rows = 0;
  const ingest = streamIngest(detector);
  const subscriber = createFlowSubscriber(
    {
      url: options.nats,
      stream: {
        name: options.stream,
        ...(options.stream && options.stream !== 'TSUNAGI_FLOWS'
          ? { subjectPrefix: `tsunagi.${options.stream.toLowerCase()}` }
          : {}),
      },
      subscribe: { partitions: options.partitions ? parsePartitionList(options.partitions) : [] },
      publish: { subscriberPrefixes: config.subscriberPrefixes },
    },
    {
      sink: (batch) => {
        rows += batch.length;
        ingest(batch);
      },
      logger,
      registry,
    },
  );
  const lifecycle = new Lifecycle(logger);
  await lifecycle.start([detector, subscriber]);
  writeList();
  ctx.stderr.write(
    `tsunagi detect: consuming partitions ${subscriber.partitions.join(',')} from ${options.nats}\n`,
  );
  const timer = setInterval(() => {
    detector.tick(Date.now());
    status.update(`flows ${rows}  candidates ${detector.shareableRows().length}`);
  }, 1000);
  const signal = await stopped;
  clearInterval(timer);
  await lifecycle.stop();
  writeList();
  status.done(`stopped by ${signal}: ${rows} flows, ${detector.shareableRows().length} C&C candidates`);
}
