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
import { InputError, UsageError } from '../../core/errors.ts';
import { Lifecycle, untilSignal } from '../../core/lifecycle.ts';
import { createLogger } from '../../core/logger.ts';
import { createRegistry } from '../../core/metrics.ts';
import { createDetector, DetectConfig, formatShareCsv, loadBotList, protoName } from '../../detect/index.ts';
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
}

const DetectCommandConfig = z.object({ detect: DetectConfig }).prefault({});

export function register(program: Command, ctx: CliContext): void {
  program
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
    .requiredOption('--bots <file>', 'known bots: one address or CIDR a line, or CSV with an ip column')
    .option('-o, --out <file>', 'write the shareable CSV here (default: stdout)')
    .option('--explain', 'print the evidence columns of each candidate to stdout')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); its detect: section applies')
    .option('--subscribers <cidr...>', "the ISP's own networks (the external side of a flow is outside them)")
    .option('--allowlist <cidr...>', 'destinations never reported')
    .option('--families <file>', 'CSV ip,port,proto,family naming the family of matching candidates')
    .option('--threshold <n>', 'publish at or above this confidence (0-100)')
    .action(async (options: DetectOptions) => {
      const flags: Record<string, unknown> = {};
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
      const decodeErrors = Object.values(result.replay.errors).reduce((a, b) => a + b, 0);
      // As in `flows decode`: captures with nothing decodable are bad input, not an empty list.
      if (result.flows === 0 && decodeErrors > 0)
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
      if (options.explain) out.write(formatExplain(result.candidates));
      else if (!options.out) out.write(csv);
      await out.end();
      const errors = decodeErrors;
      ctx.stderr.write(
        `tsunagi: ${result.flows} flow records, ${result.rows.length} C&C candidates` +
          (errors ? `, ${errors} decode errors` : '') +
          (result.keysEvicted ? `, ${result.keysEvicted} destinations evicted at the memory ceiling` : '') +
          '\n',
      );
    });
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
