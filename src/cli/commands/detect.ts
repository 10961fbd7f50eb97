/** `tsunagi detect --flows FILE... --bots BOTS`: offline C&C detection over captured export packets. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../core/config.ts';
import { UsageError } from '../../core/errors.ts';
import { DetectConfig, formatShareCsv, loadBotList } from '../../detect/index.ts';
import { detectOffline, formatExplain } from '../../detect/offline.ts';
import type { CliContext } from '../context.ts';
import { writeOut } from '../output.ts';

interface DetectOptions {
  flows: string[];
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
    .requiredOption('--flows <file...>', 'capture files of export packets, replayed in order')
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
      const botList = loadBotList(options.bots);
      if (botList.rejected.length > 0) {
        ctx.stderr.write(
          `tsunagi: ${botList.rejected.length} bot list lines ignored (first: ${botList.rejected[0]})\n`,
        );
      }
      if (botList.entries.length === 0) throw new UsageError(`${options.bots} holds no bot address`);
      const result = await detectOffline(options.flows, botList.entries, config);
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
      const errors = Object.values(result.replay.errors).reduce((a, b) => a + b, 0);
      ctx.stderr.write(
        `tsunagi: ${result.flows} flow records, ${result.rows.length} C&C candidates` +
          (errors ? `, ${errors} decode errors` : '') +
          (result.keysEvicted ? `, ${result.keysEvicted} destinations evicted at the memory ceiling` : '') +
          '\n',
      );
    });
}
