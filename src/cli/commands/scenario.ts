/** `tsunagi scenario generate|send`: the seeded ISP-day traffic scenario, as a pcap or live over UDP. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { parseHostPort } from '../../core/metrics.ts';
import {
  ScenarioOptions,
  generateScenario,
  sendExportUdp,
  writeExportPcap,
  type ExportFormat,
} from '../../scenario/index.ts';
import type { CliContext } from '../context.ts';

interface CommonOptions {
  seed: string;
  hours: string;
  subscribers: string;
  format: string;
  botFraction?: string;
}

function scenarioFrom(options: CommonOptions) {
  const number = (text: string | undefined, name: string) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, not "${text}"`);
    return value;
  };
  if (options.format !== 'v9' && options.format !== 'ipfix')
    throw new UsageError(`--format must be v9 or ipfix, not "${options.format}"`);
  const parsed = ScenarioOptions.safeParse({
    seed: number(options.seed, 'seed'),
    hours: number(options.hours, 'hours'),
    subscribers: number(options.subscribers, 'subscribers'),
    botFraction: number(options.botFraction, 'bot-fraction'),
  });
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return { scenario: generateScenario(parsed.data), format: options.format as ExportFormat };
}

function common(command: Command): Command {
  return command
    .option('--seed <n>', 'random seed (same seed, same day)', '1')
    .option('--hours <h>', 'hours of traffic', '24')
    .option('--subscribers <n>', 'households', '2000')
    .option('--bot-fraction <x>', 'share of households with an infected device (default 0.04)')
    .option('--format <format>', 'export format: v9 or ipfix', 'ipfix');
}

export function register(program: Command, ctx: CliContext): void {
  const scenario = program
    .command('scenario')
    .description('generate labelled ISP traffic for tests, benchmarks and demos');
  common(
    scenario
      .command('generate')
      .description(
        'write the scenario as a pcap of NetFlow v9/IPFIX export packets, with its truth and bot list',
      )
      .requiredOption('-o, --out <file>', 'pcap file to write')
      .option('--truth <file>', 'truth JSON (C&C servers with active periods, bots, traps)')
      .option('--bots <file>', 'the bot list the detector is given (one address a line)'),
  ).action(async (options: CommonOptions & { out: string; truth?: string; bots?: string }) => {
    const { scenario: s, format } = scenarioFrom(options);
    const written = await writeExportPcap(s.batches(), options.out, { format });
    if (options.truth) writeFileSync(options.truth, `${JSON.stringify(s.truth, null, 2)}\n`);
    if (options.bots)
      writeFileSync(
        options.bots,
        `# known bots of scenario seed ${s.truth.seed}\n${s.truth.botList.join('\n')}\n`,
      );
    ctx.stderr.write(
      `tsunagi: ${written.flows} flows in ${written.packets} ${format} packets -> ${options.out}; ${s.truth.c2.length} C&C servers, ${s.truth.botList.length} listed bots\n`,
    );
  });
  common(
    scenario
      .command('send')
      .description('send the scenario as NetFlow v9/IPFIX over UDP to a loopback collector')
      .requiredOption('--to <host:port>', 'collector address (loopback only)')
      .option('--rate <flows/s>', 'flows per second of wall time (0: as fast as possible)', '100000'),
  ).action(async (options: CommonOptions & { to: string; rate: string }) => {
    let target: { host: string; port: number };
    try {
      target = parseHostPort(options.to);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const rate = Number(options.rate);
    if (!(rate >= 0)) throw new UsageError(`--rate must be a number >= 0, not "${options.rate}"`);
    const { scenario: s, format } = scenarioFrom(options);
    const sent = await sendExportUdp(s.batches(), { ...target, format, rate });
    ctx.stderr.write(
      `tsunagi: sent ${sent.flows} flows in ${sent.packets} ${format} packets to ${options.to} in ${sent.seconds.toFixed(1)} s\n`,
    );
  });
}
