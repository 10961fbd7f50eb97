/**
 * The composition root of `tsunagi start` and `tsunagi demo`: every component of one machine,
 * wired as docs/architecture.md draws it, and nothing else. Flow batches go from the collector
 * (or from NATS) to the detector; candidates go to intel through intel's detector intake, the
 * darknet's infected hosts through its darknet intake; the hub serves TAXII, the API and the
 * console; the detector's bot list (detect's BotListMerge) follows intel's bot indicators on
 * intel's change feed. Nothing flows backwards but configuration.
 */
import { readFileSync } from 'node:fs';
import {
  type Component,
  HealthBoard,
  type Logger,
  makeDirectories,
  UsageError,
  writeFileAtomic,
} from '../core/index.ts';
import { isAbsolute, join, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { WebConsole } from '../console/index.ts';
import { createDarknet, type Darknet } from '../darknet/index.ts';
import {
  BotListMerge,
  createAnnouncer,
  createDetector,
  loadBotList,
  StreamClock,
  streamIngest,
  tickOnStreamClock,
  watchBotList,
  withdrawReasonText,
  type DetectorComponent,
} from '../detect/index.ts';
import { boundAddress, collectorHealth, createFlowCollector, type FlowCollector } from '../flow/index.ts';
import { createDarknetIntake, createDetectorIntake, followBots, type Intel } from '../intel/index.ts';
import type { Hub } from '../share/index.ts';
import { createBotFeed, createC2Sharer } from '../uplink/index.ts';
import type { Store } from '../store/index.ts';
import { buildRunbook } from '../report/index.ts';
import { createCandidateIntake } from './candidate-intake.ts';
import { runbookInputOf } from './runbook-input.ts';
import { createOsintIntake, osintHealth, type OsintIntakeRun } from './osint-intake.ts';
import {
  createFlowPublisher,
  createFlowSubscriber,
  createHealthSubscriber,
  createNatsRelay,
  defaultHealthId,
  publisherHealth,
  subscriberHealth,
  type FlowPublisher,
} from '../transport/index.ts';
import type { CertstreamIntake } from '../web/index.ts';
import { openHubStack } from './hub-stack.ts';
import { detectorHealth, HEALTH_INTERVAL_MS, healthSampler } from './health.ts';
import { type Reporter, silentReporter } from './reporter.ts';
import type { StackConfig } from './stack-config.ts';

export { StackConfig } from './stack-config.ts';

export interface Stack {
  /** In start order. */
  readonly components: Component[];
  readonly collector: FlowCollector;
  /** The flow publisher when flows go over NATS (its drops go on the rate line). */
  readonly flowPublisher: FlowPublisher | undefined;
  readonly detector: DetectorComponent;
  readonly intel: Intel;
  readonly hub: Hub;
  readonly console: WebConsole;
  readonly darknet: Darknet | undefined;
  /** The certstream intake when `web.certstream` is configured (its counts go on the rate line). */
  readonly certstream: CertstreamIntake | undefined;
  /** OSINT intake (reads the configured feeds on its timer; idle without feeds). */
  readonly osint: OsintIntakeRun;
  /** Sends the darknet's infected hosts not yet in intel; returns how many (also run on a timer). */
  pushDarknet(): Promise<number>;
  readonly store: Store;
  readonly dataDir: string;
  /** Candidates published so far (for the rate line). */
  published(): number;
  /** Candidates withdrawn so far, every one logged with its reason. */
  withdrawn(): number;
  /** The detector's stream clock (newest flow end time, live pace). */
  readonly clock: StreamClock;
  close(): Promise<void>;
}

export interface StackDeps {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  registry: Registry;
  /** Readable lines for a person at the terminal (publications, withdrawals); none by default. */
  reporter?: Reporter;
  /** The configuration file the stack was read from (--config, else $TSUNAGI_CONFIG): the runbook names it. */
  configFile?: string;
}

function readStreamMinute(file: string): number | undefined {
  try {
    const parsed = z
      .object({ streamMinuteMs: z.number().int().min(0) })
      .safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data.streamMinuteMs : undefined;
  } catch {
    return undefined; // first start, or unreadable: restore against the wall clock
  }
}

function withinData(dataDir: string, path: string): string {
  return isAbsolute(path) ? path : join(dataDir, path);
}

type Sharer = ReturnType<typeof createC2Sharer>;
type DetectorIntake = ReturnType<typeof createDetectorIntake>;

/**
 * What the detector announces goes to intel (the detector intake), the uplink sharer and the
 * terminal, each publication and withdrawal logged; counts kept for the rate line.
 */
function announceCandidates(
  intake: DetectorIntake,
  sharer: Sharer | undefined,
  logger: Logger,
  reporter: Reporter,
) {
  const counts = { published: 0, withdrawn: 0 };
  const announcer = createAnnouncer({
    onAnnounce: (candidate, kind) => {
      if (kind === 'new') counts.published++;
      logger.info(
        {
          ip: candidate.ip,
          port: candidate.port,
          proto: candidate.proto,
          confidence: candidate.confidence,
          family: candidate.family || undefined,
        },
        kind === 'new'
          ? 'C&C candidate published'
          : 'C&C candidate re-announced (confidence or family changed)',
      );
      reporter.published(candidate, kind);
      intake.announce(candidate);
      sharer?.publish(candidate);
    },
    onWithdraw: (candidate, reason) => {
      counts.withdrawn++;
      const why = withdrawReasonText(reason);
      logger.info(
        { ip: candidate.ip, port: candidate.port, proto: candidate.proto, reason },
        `C&C candidate withdrawn: ${why}`,
      );
      reporter.withdrawn(candidate, reason);
      sharer?.withdraw(candidate);
      intake.withdraw(candidate, why);
    },
  });
  return { announcer, counts };
}

/** This machine's detector on its stream clock, restored against the stream minute it saved. */
function localDetector(
  config: StackConfig,
  dataDir: string,
  announcer: ReturnType<typeof createAnnouncer>,
  deps: { logger: Logger; registry: Registry },
) {
  const detectDir = config.detect.dataDir || join(dataDir, 'detect');
  // The stream minute the saved aggregates belong to: they are restored against it, not against
  // today's date (a replayed capture's evidence would all count as expired).
  const clockFile = join(detectDir, 'stream-clock.json');
  const savedStreamMinute = readStreamMinute(clockFile);
  const detector = createDetector(
    // The stack owns the bot list: the file's entries joined with intel's bots.
    { ...config.detect, botsFile: '', dataDir: detectDir },
    {
      ...deps,
      onPublish: (candidate) => announcer.publish(candidate),
      onWithdraw: (candidate, reason) => announcer.withdraw(candidate, reason),
      ...(savedStreamMinute ? { now: () => savedStreamMinute } : {}),
    },
  );
  const clock = new StreamClock();
  const review = () => announcer.review(detector.candidates());
  const ingest = streamIngest(detector, { clock, afterTick: review });
  /** Saves the stream minute the detector's state belongs to (at stop). */
  const saveClock = () => {
    const streamMinuteMs = Math.floor(detector.detector.clockMs / 60_000) * 60_000;
    if (streamMinuteMs > 0) {
      makeDirectories(detectDir);
      writeFileAtomic(clockFile, JSON.stringify({ streamMinuteMs }));
    }
  };
  return { detector, clock, review, ingest, saveClock };
}

/**
 * The multi-machine shape when NATS is on: the collector publishes, this process may consume
 * every partition, and workers' candidates come in through the candidate intake.
 */
function natsTransport(
  config: StackConfig,
  ingest: ReturnType<typeof streamIngest>,
  intel: Intel,
  sharer: Sharer | undefined,
  deps: { logger: Logger; registry: Registry },
) {
  if (!config.nats.enabled)
    return { publisher: undefined, subscriber: undefined, candidateIntake: undefined };
  const publisher = createFlowPublisher(
    {
      ...config.nats,
      publish: { ...config.nats.publish, subscriberPrefixes: config.detect.subscriberPrefixes },
    },
    deps,
  );
  const subscriber = config.nats.localDetect
    ? createFlowSubscriber(config.nats, { sink: ingest, ...deps })
    : undefined;
  const candidateIntake = createCandidateIntake(
    { ...config.nats.candidates, url: config.nats.candidates.url || config.nats.url },
    { intel, source: config.source, uplink: sharer, ...deps },
  );
  return { publisher, subscriber, candidateIntake };
}

/**
 * The detector's one bot list: the ISP's file (watched), intel's bots and a remote TAXII
 * collection, merged; and the detector's wall-time ticks. Its stop announces the last scores
 * and saves the stream clock.
 */
function detectInputs(
  config: StackConfig,
  dataDir: string,
  local: ReturnType<typeof localDetector>,
  intel: Intel,
  intake: DetectorIntake,
  deps: { logger: Logger; registry: Registry },
) {
  const { logger } = deps;
  const { detector, clock, review } = local;
  const timers: NodeJS.Timeout[] = [];
  let stopWatching: (() => void) | undefined;
  const bots = new BotListMerge(['file', 'intel', 'taxii'], (entries, counts) => {
    const { accepted, rejected } = detector.setBots(entries);
    if (rejected.length > 0)
      logger.warn({ rejected: rejected.slice(0, 10), count: rejected.length }, 'bot entries rejected');
    logger.debug({ bots: accepted, ...counts }, 'bot list applied');
  });
  const botFeed = config.botsTaxii
    ? createBotFeed(
        { ...config.botsTaxii, stateFile: config.botsTaxii.stateFile || join(dataDir, 'bot-feed.json') },
        { ...deps, onBots: (addresses) => bots.set('taxii', addresses) },
      )
    : undefined;
  const intelBots = config.botsFromIntel.enabled
    ? followBots(intel, { minConfidence: config.botsFromIntel.minConfidence }, (list) =>
        bots.set('intel', list),
      )
    : undefined;
  const readBotsFile = (botsFile: string) => {
    bots.set('file', loadBotList(botsFile).entries);
    if (!config.detect.watchBotsFile) return;
    stopWatching = watchBotList(
      botsFile,
      (list) => {
        bots.set('file', list.entries);
        logger.info({ file: botsFile, entries: list.entries.length }, 'bot list file reloaded');
      },
      (error) =>
        logger.warn({ err: error, file: botsFile }, 'bot list file unreadable; keeping the last one'),
    );
  };

  const botSources: Component = {
    name: 'detect-inputs',
    async start() {
      if (config.detect.botsFile) readBotsFile(config.detect.botsFile);
      else bots.applyNow();
      await intelBots?.start();
      // Wall-time ticks advance only a live-paced stream (see detect/stream.ts): a replayed
      // capture is expired on its own clock, never by today's date.
      timers.push(
        setInterval(() => {
          tickOnStreamClock(detector, clock, Date.now());
          review();
        }, config.tickMs),
      );
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      timers.length = 0;
      stopWatching?.();
      intelBots?.stop();
      // The last scores are announced before the detector saves its state.
      tickOnStreamClock(detector, clock, Date.now());
      review();
      local.saveClock();
      await intake.settled();
    },
  };
  return { botSources, botFeed };
}

/**
 * Live darknet observation when an interface is configured. The analyser classifies hosts in
 * memory and announces nothing: its news is taken every pushIntervalMs (intel, once written,
 * announces it on its change feed).
 */
function darknetInput(config: StackConfig, intel: Intel, deps: { logger: Logger; registry: Registry }) {
  const { logger } = deps;
  const darknetConfig = config.darknet;
  if (darknetConfig.interface && darknetConfig.prefixes.length === 0) {
    throw new UsageError('darknet.interface needs darknet.prefixes: the unused address space it watches');
  }
  const darknet = darknetConfig.interface
    ? createDarknet(darknetConfig, { ...deps, live: { interface: darknetConfig.interface } })
    : undefined;
  const darknetIntake = createDarknetIntake(intel, {
    source: darknetConfig.source,
    confidence: darknetConfig.confidence,
  });
  const pushDarknet = async (): Promise<number> => (darknet ? darknetIntake.push(darknet.indicators()) : 0);
  const pushLogged = () =>
    pushDarknet().catch((error: unknown) => logger.warn({ err: error }, 'darknet sightings failed'));
  let timer: NodeJS.Timeout | undefined;
  const darknetPusher: Component = {
    name: 'darknet-to-intel',
    async start() {
      if (darknet) timer = setInterval(() => void pushLogged(), darknetConfig.pushIntervalMs);
    },
    async stop() {
      clearInterval(timer);
      if (darknet) await pushLogged();
    },
  };
  return { darknet, darknetPusher, pushDarknet };
}

export async function createStack(config: StackConfig, deps: StackDeps): Promise<Stack> {
  const { logger, registry, reporter = silentReporter } = deps;
  const dataDir = resolve(config.data);
  makeDirectories(dataDir, 0o700);
  const health = new HealthBoard();
  // Scaled out, intel's change feed also goes out and comes in on NATS subjects.
  const relay = config.nats.enabled
    ? createNatsRelay({ url: config.nats.url, name: 'intel-feed' }, { logger })
    : undefined;
  const {
    store,
    intel,
    hub,
    console: web,
    web: webRoom,
  } = await openHubStack(
    { ...config, data: dataDir },
    {
      env: deps.env,
      logger,
      registry,
      health: () => health.read(),
      // Read when the page is asked for, after start: the ports actually bound, so a configured
      // port 0 (the demo's) reads as the port a person must capture on or test against.
      runbook: (lang) =>
        buildRunbook(
          runbookInputOf({ ...config, data: dataDir }, deps.env, deps.configFile ?? deps.env.TSUNAGI_CONFIG, {
            flowListen: collector.listeners.map(boundAddress),
            hubUrl: hub.url(),
          }),
          lang,
        ),
      ...(relay ? { relay } : {}),
    },
  );

  const sharer = config.shareTo
    ? createC2Sharer(
        { ...config.shareTo, stateFile: config.shareTo.stateFile || join(dataDir, 'c2-sharer.json') },
        { logger, registry },
      )
    : undefined;
  const intake = createDetectorIntake(intel, { source: config.source, logger });
  const { announcer, counts } = announceCandidates(intake, sharer, logger, reporter);
  const local = localDetector(config, dataDir, announcer, { logger, registry });
  const { detector, clock, ingest } = local;
  const useNats = config.nats.enabled;
  const { publisher, subscriber, candidateIntake } = natsTransport(config, ingest, intel, sharer, {
    logger,
    registry,
  });
  const collector = createFlowCollector(
    {
      ...config.flow,
      templateFile: withinData(dataDir, config.flow.templateFile || 'templates.json'),
    },
    {
      registry,
      logger,
      sink: publisher ? (batch) => void publisher.publish(batch) : ingest,
      // Neither the detector nor the publisher keeps a batch after the sink returns.
      recycleBatches: true,
    },
  );

  const osint = createOsintIntake(config.osint, { store, intel, logger, registry });
  const osintWatched = config.osint.feeds.length > 0 && config.osint.intervalMs > 0;
  // This process's pipeline, read in process; with NATS also every collector's and worker's reports.
  health.addLocal('start', defaultHealthId(), HEALTH_INTERVAL_MS, [
    ...(osintWatched ? [() => osintHealth(osint, config.osint.intervalMs)] : []),
    () => collectorHealth(collector),
    ...(publisher ? [() => publisherHealth(publisher)] : []),
    // With NATS and no local detector (workers own the partitions), the workers report detection.
    ...(subscriber
      ? [() => subscriberHealth(subscriber)]
      : useNats
        ? []
        : [() => detectorHealth(detector, clock)]),
  ]);
  const healthIn = useNats
    ? createHealthSubscriber({ url: config.nats.url }, { onReport: (r) => health.receive(r), logger })
    : undefined;
  const { botSources, botFeed } = detectInputs(config, dataDir, local, intel, intake, { logger, registry });
  const { darknet, darknetPusher, pushDarknet } = darknetInput(config, intel, { logger, registry });
  const certstream = config.web.certstream ? webRoom.certstream() : undefined;
  const certstreamComponent: Component | undefined = certstream && {
    name: 'certstream',
    start: () => certstream.start(),
    stop: () => certstream.stop(),
  };

  const components: Component[] = [
    ...(relay ? [relay] : []),
    intel,
    hub,
    web,
    ...(sharer ? [sharer] : []),
    detector,
    ...(subscriber ? [subscriber] : []),
    ...(candidateIntake ? [candidateIntake] : []),
    ...(publisher ? [publisher] : []),
    botSources,
    ...(botFeed ? [botFeed] : []),
    ...(darknet ? [darknet, darknetPusher] : []),
    ...(certstreamComponent ? [certstreamComponent] : []),
    osint.osint,
    collector,
    ...(healthIn ? [healthIn] : []),
    healthSampler(health),
  ];
  return {
    components,
    collector,
    flowPublisher: publisher,
    detector,
    intel,
    hub,
    console: web,
    darknet,
    certstream,
    osint,
    pushDarknet,
    store,
    dataDir,
    published: () => counts.published + (candidateIntake?.counts.announced ?? 0),
    withdrawn: () => counts.withdrawn + (candidateIntake?.counts.withdrawn ?? 0),
    clock,
    async close() {
      await intake.settled();
      await store.close();
    },
  };
}
