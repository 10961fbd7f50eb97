/** `tsunagi darknet analyze FILE...` and `tsunagi darknet watch`: darknet observation from captures or live. */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, parsePrefix, untilSignal, UsageError } from '../../core/index.ts';
import {
  createDarknet,
  DarknetConfig,
  type DarknetDeps,
  formatBotList,
  formatStatsBatch,
  formatSummary,
  loadAsnFile,
  loadCountryFile,
  loadRuleFile,
  loadScannerFile,
  type SourceClass,
  sourceTotal,
  STATS_CSV_HEADER,
} from '../../darknet/index.ts';
import type { CliContext } from '../context.ts';
import { formatRate, progressBar, StatusLine } from '../progress.ts';
import { z } from 'zod';

interface CommonOptions {
  prefix: string[];
  config?: string;
  rules?: string;
  scanners?: string;
  asn?: string;
  country?: string;
  hosts?: string;
  bots?: string;
}

const FileConfig = z.object({ darknet: DarknetConfig }).loose();

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function buildSetup(options: CommonOptions, ctx: CliContext): { config: DarknetConfig; deps: DarknetDeps } {
  for (const p of options.prefix) {
    try {
      parsePrefix(p);
    } catch {
      throw new UsageError(`--prefix "${p}" is not a CIDR prefix`);
    }
  }
  const base = loadConfig(FileConfig, { file: options.config, env: ctx.env, flags: {} }).darknet;
  const config: DarknetConfig = {
    ...base,
    prefixes: [...base.prefixes, ...options.prefix],
    rules: options.rules ? [...base.rules, ...loadRuleFile(options.rules)] : base.rules,
  };
  if (config.prefixes.length === 0)
    throw new UsageError('give at least one --prefix (the darknet address space)');
  const deps: DarknetDeps = {};
  if (options.scanners) deps.scanners = loadScannerFile(options.scanners);
  if (options.asn) deps.asn = loadAsnFile(options.asn);
  if (options.country) deps.country = loadCountryFile(options.country);
  return { config, deps };
}

function addCommonOptions(command: Command): Command {
  return command
    .requiredOption('-p, --prefix <cidr>', 'darknet prefix (repeatable)', collect, [])
    .option('-c, --config <file>', 'configuration file (YAML or JSON) with a darknet: section')
    .option('--rules <file>', 'extra fingerprint rules (YAML or JSON { rules: [...] })')
    .option('--scanners <file>', 'known research scanner networks, one "cidr[,name]" per line')
    .option('--asn <file>', 'ASN ranges as CSV start,end,asn,name (e.g. @ip-location-db/asn)')
    .option('--country <file>', 'country ranges as CSV start,end,country')
    .option('--hosts <file>', 'write classified sources as CSV: ip,class,fingerprint,packets,ports')
    .option(
      '--bots <file>',
      'write infected hosts, one address per line under an "ip" header (the C&C bot list)',
    );
}

/** Writes the files asked for; returns the number of sources per class. */
function writeResults(
  darknet: ReturnType<typeof createDarknet>,
  options: CommonOptions & { ispDir?: string },
): Record<SourceClass, number> {
  const analyzer = darknet.analyzer;
  let counts: Record<SourceClass, number>;
  if (options.hosts) {
    const fd = openSync(options.hosts, 'w');
    try {
      counts = analyzer.writeHostsCsv((chunk) => writeSync(fd, chunk));
    } finally {
      closeSync(fd);
    }
  } else counts = analyzer.sourceCounts();
  if (options.bots) writeFileSync(options.bots, formatBotList(analyzer.infectedHosts()));
  if (options.ispDir) {
    for (const [isp, hosts] of analyzer.infectedHostsByIsp()) {
      writeFileSync(`${options.ispDir}/${isp}.csv`, formatBotList(hosts));
    }
  }
  return counts;
}

export function register(program: Command, ctx: CliContext): void {
  const darknet = program
    .command('darknet')
    .description('observe darknet traffic: scanners, infected hosts, port trends');

  addCommonOptions(
    darknet
      .command('analyze')
      .description('analyze pcap/pcapng captures of darknet traffic and print a summary')
      .argument('<file...>', 'capture files (pcap or pcapng), read in order as one stream'),
  )
    .option('--stats <file>', 'write statistics as CSV: granularity,start,protocol,port,packets,sources')
    .option('--indicators <file>', 'write bot indicator records for the hub as JSON lines')
    .option('--isp-dir <dir>', 'write one bot list per configured ISP into this directory')
    .option('--json', 'print the summary as JSON')
    .action(
      async (
        files: string[],
        options: CommonOptions & { stats?: string; indicators?: string; ispDir?: string; json?: boolean },
      ) => {
        const { config, deps } = buildSetup(options, ctx);
        let statsFd: number | undefined;
        let pending = '';
        if (options.stats) {
          statsFd = openSync(options.stats, 'w');
          pending = `${STATS_CSV_HEADER}\n`;
          deps.onStatsRows = (batch) =>
            formatStatsBatch(batch, (text) => {
              pending += text;
              if (pending.length >= 1 << 16) {
                writeSync(statsFd!, pending);
                pending = '';
              }
            });
        }
        const component = createDarknet(config, deps);
        const status = new StatusLine(ctx);
        const started = performance.now();
        let lastDraw = 0;
        try {
          await component.analyzeFiles(files, {
            onProgress: (p) => {
              const now = performance.now();
              if (now - lastDraw < 250) return;
              lastDraw = now;
              const rate = p.packets / ((now - started) / 1000);
              status.update(
                `${progressBar(p.bytesDone, p.bytesTotal)} ${formatRate(p.packets)} packets  ${formatRate(rate)}/s`,
              );
            },
          });
          component.analyzer.finish();
        } finally {
          if (statsFd !== undefined) {
            if (pending) writeSync(statsFd, pending);
            closeSync(statsFd);
          }
        }
        status.done();
        const counts = writeResults(component, options);
        if (options.indicators) {
          writeFileSync(
            options.indicators,
            component
              .indicators()
              .map((i) => JSON.stringify(i) + '\n')
              .join(''),
          );
        }
        const analyzer = component.analyzer;
        if (options.json) {
          ctx.stdout.write(
            JSON.stringify({
              counters: analyzer.counters,
              sources: sourceTotal(counts),
              infected: analyzer.infectedHosts(),
              topPorts: analyzer.stats.topPorts(config.stats.topPorts),
              surges: analyzer.stats.surges,
            }) + '\n',
          );
        } else {
          ctx.stdout.write(formatSummary(analyzer, counts, config.stats.topPorts));
        }
      },
    );

  addCommonOptions(
    darknet
      .command('watch')
      .description(
        'capture live on an interface (libpcap) and show a rate line; results are written on SIGINT/SIGTERM',
      )
      .requiredOption('-i, --interface <name>', 'interface to capture on'),
  )
    .option('--filter <bpf>', 'extra BPF filter (the darknet prefixes are always applied)')
    .option('--interval <seconds>', 'seconds between rate lines', '5')
    .action(async (options: CommonOptions & { interface: string; filter?: string; interval: string }) => {
      const { config, deps } = buildSetup(options, ctx);
      // The kernel filter keeps non-darknet traffic out of the process altogether.
      const prefixFilter = config.prefixes.map((p) => `dst net ${parsePrefix(p).text}`).join(' or ');
      const filter = options.filter ? `(${prefixFilter}) and (${options.filter})` : prefixFilter;
      const component = createDarknet(config, { ...deps, live: { interface: options.interface, filter } });
      await component.start();
      const status = new StatusLine(ctx);
      let lastFrames = 0;
      let lastTime = performance.now();
      const interval = Math.max(0.2, Number(options.interval) || 5);
      const timer = setInterval(() => {
        const now = performance.now();
        const frames = component.liveFrames();
        const c = component.analyzer.counters;
        status.update(
          `packets/s ${formatRate((frames - lastFrames) / ((now - lastTime) / 1000))}  packets ${frames}  sources ${component.analyzer.table.size}  infected ${component.infectedHosts().length}  skipped ${c.notIp + c.badHeader + c.unsupportedLink}`,
        );
        lastFrames = frames;
        lastTime = now;
      }, interval * 1000);
      const signal = await untilSignal();
      clearInterval(timer);
      await component.stop();
      component.analyzer.finish();
      const counts = writeResults(component, options);
      status.done(`stopped by ${signal}: ${component.liveFrames()} packets, ${sourceTotal(counts)} sources`);
      ctx.stdout.write(formatSummary(component.analyzer, counts, config.stats.topPorts));
    });
}
