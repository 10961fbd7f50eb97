/** `tsunagi scenario generate|send`: the seeded ISP-day traffic scenario, as a pcap or live over UDP. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type FlowBatch, parseHostPort, UsageError } from '../../core/index.ts';
import {
  PacketSampler,
  ScenarioOptions,
  SeededOptions,
  botListCsv,
  generateScenario,
  generateSeededScenario,
  sendExportUdp,
  writeExportPcap,
  writePacketPcap,
  type ExportFormat,
  type ScenarioTruth,
  type SeededTruth,
} from '../../scenario/index.ts';
import type { CliContext } from '../context.ts';
import { outputFileOption } from '../output.ts';

interface CommonOptions {
  seed: string;
  hours: string;
  subscribers: string;
  format: string;
  profile: string;
  start: string;
  sampling: string;
  botFraction?: string;
}

function number(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, not "${text}"`);
  return value;
}

/** `now` (the stream ends at the current time, so a live detector sees fresh flows) or an ISO time. */
function startMs(text: string, hours: number): number | undefined {
  if (text === 'fixed') return undefined;
  if (text === 'now') return Date.now() - Math.round(hours * 3_600_000);
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms))
    throw new UsageError(`--start must be now, fixed or an ISO time (2026-12-01T00:00:00Z), not "${text}"`);
  return ms;
}

interface Built {
  batches: () => Iterable<FlowBatch>;
  truth: ScenarioTruth | SeededTruth;
  format: ExportFormat;
  /** The bot list file's text. */
  botList: string;
  /** Flags `tsunagi detect` needs for this address plan. */
  detectHint: string;
}

function issues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `--${i.path.map(String).join('.')}: ${i.message}`).join('; ');
}

function build(options: CommonOptions): Built {
  if (options.format !== 'v9' && options.format !== 'ipfix')
    throw new UsageError(`--format must be v9 or ipfix, not "${options.format}"`);
  if (options.profile !== 'seeded' && options.profile !== 'classic')
    throw new UsageError(`--profile must be seeded or classic, not "${options.profile}"`);
  const sampling = number(options.sampling, 'sampling')!;
  if (!Number.isInteger(sampling) || sampling < 1 || sampling > 65535)
    throw new UsageError(`--sampling must be an integer from 1 to 65535, not "${options.sampling}"`);
  const hours = number(options.hours, 'hours') ?? 24;
  const common = {
    seed: number(options.seed, 'seed'),
    hours,
    subscribers: number(options.subscribers, 'subscribers'),
    startMs: startMs(options.start, hours),
  };
  const format = options.format as ExportFormat;
  let built: Built;
  if (options.profile === 'classic') {
    const parsed = ScenarioOptions.safeParse({
      ...common,
      botFraction: number(options.botFraction, 'bot-fraction'),
    });
    if (!parsed.success) throw new UsageError(issues(parsed.error));
    const s = generateScenario(parsed.data);
    built = {
      batches: () => s.batches(),
      truth: s.truth,
      format,
      botList: botListCsv(s.truth.botList.map((bot) => ({ bot, family: s.truth.botFamilies[bot] ?? '' }))),
      detectHint: `--subscribers ${s.truth.subscriberPrefixes.join(',')}`,
    };
  } else {
    if (options.botFraction !== undefined)
      throw new UsageError(
        '--bot-fraction is for --profile classic; the seeded profile draws infection shares per seed',
      );
    const parsed = SeededOptions.safeParse(common);
    if (!parsed.success) throw new UsageError(issues(parsed.error));
    const s = generateSeededScenario(parsed.data);
    const plan = s.truth.addressPlan;
    const rule =
      plan.v4 === 'dedicated'
        ? ''
        : ` --${plan.v4} ${plan.v4Prefix},psid-len=${plan.psidLength},offset=${plan.psidOffset}`;
    built = {
      batches: () => s.batches(),
      truth: s.truth,
      format,
      botList: botListCsv(s.truth.botListRows),
      detectHint: `--subscribers ${s.truth.subscriberPrefixes.join(',')}${rule}${plan.v6 === 'none' ? '' : ` --home-prefix6 ${plan.v6}`}`,
    };
  }
  if (sampling > 1) {
    const sampler = new PacketSampler(sampling, built.truth.seed);
    const inner = built.batches;
    built.batches = function* () {
      for (const batch of inner()) yield sampler.sample(batch);
    };
  }
  return built;
}

function common(command: Command): Command {
  return command
    .option(
      '--profile <profile>',
      'seeded (every parameter drawn from the seed) or classic (the fixed standard day)',
      'seeded',
    )
    .option('--seed <n>', 'random seed (same seed, same day)', '1')
    .option('--hours <h>', 'hours of traffic', '24')
    .option('--subscribers <n>', 'households (default 1000 seeded, 2000 classic)')
    .option(
      '--start <time>',
      'stream start: fixed (2024-04-01, repeatable), now (ends now) or an ISO time',
      'fixed',
    )
    .option('--sampling <n>', 'packet sampling 1:n, stated in the export as options data', '1')
    .option(
      '--bot-fraction <x>',
      'classic profile: share of households with an infected device (default 0.04)',
    )
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
        'write the scenario as a pcap of NetFlow v9/IPFIX export packets (--out) or of the packets themselves, for softflowd (--packets), with its truth and bot list',
      )
      .addOption(outputFileOption('-o, --out <file>', 'pcap of NetFlow v9/IPFIX export packets to write'))
      .addOption(
        outputFileOption(
          '--packets <file>',
          'pcap of the traffic itself (headers, 96 bytes a packet) for exporters that read captures: softflowd -r',
        ),
      )
      .addOption(
        outputFileOption(
          '--truth <file>',
          'truth JSON (C&C servers with active periods, P2P peers, bots, traps, address plan)',
        ),
      )
      .addOption(outputFileOption('--bots <file>', 'the bot list the detector is given (bot,family CSV)')),
  ).action(
    async (options: CommonOptions & { out?: string; packets?: string; truth?: string; bots?: string }) => {
      if (!options.out && !options.packets)
        throw new UsageError('scenario generate needs --out FILE or --packets FILE');
      const s = build(options);
      const lines: string[] = [];
      if (options.out) {
        const written = await writeExportPcap(s.batches(), options.out, { format: s.format });
        lines.push(`${written.flows} flows in ${written.packets} ${s.format} packets -> ${options.out}`);
      }
      if (options.packets) {
        // A scenario's batches are generated once; the second file gets the same day anew
        // (same seed, and the start the first one resolved, as `now` has moved on).
        const again = options.out ? build({ ...options, start: new Date(s.truth.startMs).toISOString() }) : s;
        const written = await writePacketPcap(again.batches(), options.packets);
        lines.push(
          `${written.flows} flows as ${written.packets} packets (${(written.bytes / 1e6).toFixed(1)} MB on the wire) -> ${options.packets}`,
        );
      }
      if (options.truth) writeFileSync(options.truth, `${JSON.stringify(s.truth, null, 2)}\n`);
      if (options.bots) writeFileSync(options.bots, s.botList);
      ctx.stderr.write(
        `${lines.map((line) => `tsunagi: ${line}\n`).join('')}` +
          `tsunagi: ${s.truth.c2.length} C&C servers, ${s.truth.botList.length} bot list entries\n` +
          `tsunagi: detect with ${s.detectHint}\n`,
      );
    },
  );
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
    const s = build(options);
    const sent = await sendExportUdp(s.batches(), { ...target, format: s.format, rate });
    ctx.stderr.write(
      `tsunagi: sent ${sent.flows} flows in ${sent.packets} ${s.format} packets to ${options.to} in ${sent.seconds.toFixed(1)} s\n`,
    );
  });
}
