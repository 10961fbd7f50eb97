/**
 * `tsunagi demo`: the whole loop on one machine for a newcomer. A generated ISP scenario is
 * replayed as real NetFlow v9 / IPFIX over loopback into the live collector; the detector
 * publishes C&C servers into intel; the hub serves them over TAXII and in the console, where
 * they appear live. Demo organisations (one per tier) and their tokens are printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Registry } from 'prom-client';
import { loadConfig, makeDirectories, silentLogger, untilSignal, UsageError } from '../../core/index.ts';
import { sightingsFromInfectedHosts } from '../../intel/index.ts';
import { generateScenario, sendExportUdp } from '../../scenario/index.ts';
import type { OrganisationInput } from '../../share/index.ts';
import type { CliContext } from '../context.ts';
import { startDemoFeed } from '../demo-feed.ts';
import { commandName } from '../first-run.ts';
import { demoPhishingUrls, demoScannedPorts, recordDemoSources } from '../demo-sources.ts';
import { formatRate, progressBar, StatusLine } from '../progress.ts';
import { StackConfig, type Stack } from '../stack.ts';
import { runStart } from './start.ts';

interface DemoOptions {
  data?: string;
  hub: string;
  hours: string;
  subscribers: string;
  rate: string;
  seed: string;
  format: string;
  exitWhenDone?: boolean;
}

/** One organisation per legal tier, so the console can be seen as each of them. */
export const DEMO_ORGANISATIONS: { tier: string; term: string; org: OrganisationInput }[] = [
  { tier: 'full', term: '総合整理分析情報', org: { name: 'Demo Analysis Center', role: 'analysis' } },
  {
    tier: 'council',
    term: '提供用総合整理分析情報',
    org: { name: 'Demo ISP', role: 'isp', consent: true, prefixes: ['198.18.0.0/15'] },
  },
  { tier: 'public', term: '周知等用総合整理分析情報', org: { name: 'Demo Vendor', role: 'vendor' } },
];

/** Waits for `promise` (one that never rejects) or `ms`, whichever comes first; the timer is cleared. */
async function settledWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function positive(name: string, text: string, integer = true): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'whole ' : ''}number, not "${text}"`);
  }
  return value;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'replay a generated ISP scenario as NetFlow over loopback into the live collector, detector, hub and console',
    )
    .option('-d, --data <dir>', 'data directory (default: a new temporary one)')
    .option('--hub <host:port>', 'address of the console, TAXII and the API', '127.0.0.1:8470')
    .option('--hours <n>', 'hours of ISP traffic to replay', '6')
    .option('--subscribers <n>', 'subscriber households in the scenario', '600')
    .option('--rate <flows/s>', 'replay speed in flows per second', '20000')
    .option('--seed <n>', 'scenario seed', '1')
    .option('--format <format>', 'export protocol: v9 or ipfix', 'ipfix')
    .option('--exit-when-done', 'stop once the replay has been detected (for scripts and tests)')
    .action(async (options: DemoOptions) => {
      if (options.format !== 'v9' && options.format !== 'ipfix') {
        throw new UsageError(`--format must be v9 or ipfix, not "${options.format}"`);
      }
      const hours = positive('hours', options.hours, false);
      const subscribers = positive('subscribers', options.subscribers);
      const rate = positive('rate', options.rate);
      const seed = positive('seed', options.seed);
      const data = demoDataDir(options.data);
      // Scenario time starts now and runs faster than the wall clock, so the detector's stream
      // clock (the newest flow end) is never behind the wall clock it is also ticked with.
      const scenario = generateScenario({ seed, hours, subscribers, startMs: Date.now() });
      // The advisories a vendor would publish about the same infrastructure, read by start's own
      // OSINT round from a feed on loopback, so published and detected servers meet in intel.
      const feed = await startDemoFeed({
        c2: scenario.plannedC2(),
        phishingUrls: demoPhishingUrls(seed),
        published: new Date(),
      });
      // A temporary data directory is the demo's own: removed when the demo ends (Ctrl-C too).
      try {
        const botsFile = writeDemoBotList(data, scenario.truth);
        const config = loadConfig(StackConfig, {
          env: ctx.env,
          flags: {
            data,
            source: 'demo-isp-detector',
            log: { level: 'warn' },
            metrics: { listen: '' },
            flow: { listen: ['127.0.0.1:0'] },
            hub: { listen: options.hub, publishIntervalMs: 1000 },
            detect: { botsFile, subscriberPrefixes: scenario.truth.subscriberPrefixes },
            osint: { feeds: [{ name: 'demo-advisories', url: feed.url }] },
          },
        });
        let finished: (reason: string) => void = () => {};
        const done = new Promise<string>((resolve) => (finished = resolve));
        await runStart(config, ctx, {
          until: () => Promise.race([untilSignal(), done]),
          onReady: (stack) => {
            void replay(stack).then(
              () => {
                if (options.exitWhenDone) finished('the end of the replay');
              },
              (error: unknown) => {
                ctx.stderr.write(`tsunagi: demo replay failed: ${(error as Error).message}\n`);
                finished('a failed replay');
              },
            );
          },
        });
      } finally {
        await feed.close();
        if (!options.data) rmSync(data, { recursive: true, force: true });
      }

      async function replay(stack: Stack): Promise<void> {
        const out = ctx.stderr;
        out.write('demo organisations (sign in to the console with a token):\n');
        for (const { tier, term, org } of DEMO_ORGANISATIONS) {
          if (!(await stack.hub.orgs.get(org.name))) await stack.hub.orgs.add(org, 'demo');
          const { token } = await stack.hub.orgs.createToken(
            org.name,
            { scopes: ['read'], label: 'demo' },
            'demo',
          );
          out.write(`  ${tier.padEnd(8)} ${org.name.padEnd(21)} ${token}  ${term}\n`);
        }
        // The darknet's view of the same ISP: its infected subscribers, as the console overlays them.
        await stack.intel.recordSightings(
          sightingsFromInfectedHosts(
            scenario.truth.botList.map((ip) => ({
              ip,
              family: scenario.truth.botFamilies[ip],
              ports: demoScannedPorts(scenario.truth.botFamilies[ip]),
            })),
            'demo-darknet',
          ),
          'demo',
        );
        // Phishing through the web room and survey findings through intel's survey intake, so every
        // section of `tsunagi report daily` on this data directory has something to show.
        const extra = await recordDemoSources(stack, {
          logger: silentLogger(),
          registry: new Registry(),
          seed,
        });
        out.write(
          `phishing: ${extra.phishingUrls} URLs scored by the web model, ${extra.phishingRecorded} malicious sightings in intel; ` +
            `survey: ${extra.surveyFindings} vulnerable devices\n`,
        );
        out.write(
          `replaying ${hours} h of ${subscribers} subscribers at ${formatRate(rate)} flows/s; open ${stack.hub.url()}/\n`,
        );
        const port = stack.collector.listeners[0]!.boundPort;
        const status = new StatusLine(ctx);
        const spanMs = hours * 3_600_000;
        const batches = (function* () {
          for (const batch of scenario.batches()) {
            const at = batch.length ? batch.endMs[batch.length - 1]! - scenario.truth.startMs : 0;
            status.update(
              `${progressBar(at, spanMs)} scenario ${(at / 3_600_000).toFixed(1)} h  C&C published ${stack.published()}`,
            );
            yield batch;
          }
        })();
        const sent = await sendExportUdp(batches, {
          host: '127.0.0.1',
          port,
          format: options.format as 'v9' | 'ipfix',
          rate,
        });
        // Let the last datagrams be decoded and the detector score the end of the stream.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        stack.collector.flush();
        stack.detector.tick();
        await new Promise((resolve) => setTimeout(resolve, 500));
        status.done(
          `replayed ${sent.flows} flows in ${sent.packets} packets (${sent.seconds.toFixed(1)} s); C&C published ${stack.published()} of ${scenario.truth.c2.length} in the scenario`,
        );
        // start's first OSINT round began with the stack; on a loaded machine it may still be
        // reading: its end is awaited, for 10 s at the most.
        await settledWithin(stack.osint.osint.firstRound(), 10_000);
        const osint = stack.osint.osint.stats();
        out.write(
          `OSINT: ${osint.documents} advisories read from the demo feed, ${osint.indicators} indicators, ${stack.osint.sightings()} intel sightings\n`,
        );
        out.write(reportHint(data, options.data !== undefined, ctx.env));
      }
    });
}

/** How to make the daily report of what the demo showed (every section has something by then). */
export function reportHint(data: string, kept: boolean, env: NodeJS.ProcessEnv): string {
  const dir = /[\s'"$\\]/.test(data) ? `'${data.replaceAll("'", `'\\''`)}'` : data;
  return (
    `report: ${commandName(process.argv[1], process.cwd(), env.PATH)} report daily --lang ja --data ${dir} ` +
    `--out report.html [--pdf report.pdf]` +
    `${kept ? '' : ' (while the demo runs: its temporary data directory goes when it ends)'}\n`
  );
}

/** A temporary directory of the demo's own, or the one named: kept, and made when it is not there yet. */
function demoDataDir(named: string | undefined): string {
  if (!named) return mkdtempSync(join(tmpdir(), 'tsunagi-demo-'));
  makeDirectories(named);
  return named;
}

/** The demo ISP's bot list (its known infected subscribers and their families), as start reads one. */
function writeDemoBotList(
  data: string,
  truth: { botList: readonly string[]; botFamilies: Readonly<Record<string, string | undefined>> },
): string {
  const file = join(data, 'bots.txt');
  const rows = truth.botList.map((ip) => `${ip},${truth.botFamilies[ip] ?? ''}`);
  writeFileSync(
    file,
    `# bot list of the demo ISP (known infected subscribers and their malware family)\nip,family\n${rows.join('\n')}\n`,
  );
  return file;
}
