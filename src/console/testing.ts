/**
 * Test and bench helper: a hub assembled in-process (store, audit, organisations, intel,
 * publisher, TAXII routes and the console) listening on loopback, with an organisation and a
 * token per tier. `tsunagi serve` wires the same parts; this lets the console's tests run alone.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { silentLogger, type PipelineHealth } from '../core/index.ts';
import { createIntel, IntelConfig, type SightingInput } from '../intel/index.ts';
import { generateScenario } from '../scenario/index.ts';
import {
  createAuditLog,
  HubConfig,
  type HubContext,
  createHub,
  type OrganisationInput,
} from '../share/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { HUB_MIGRATIONS } from '../share/testing.ts';
import type { ConsoleConfigInput } from './config.ts';
import {
  consoleDepsOf,
  createConsole,
  type ConsoleDeps,
  type ConsoleHygiene,
  type ConsoleOsint,
  type ConsoleSensor,
  type ConsoleWeb,
  type WebConsole,
} from './index.ts';

// The browser helpers, for other rooms' console tests (the CLI's end-to-end alert test).
export {
  CHROMIUM,
  chromiumSuite,
  DIST,
  ensureConsoleBuilt,
  launchChromium,
  newConsolePage,
  openPage,
  signIn,
} from './e2e-support.ts';

export interface TestHub {
  url: string;
  app: FastifyInstance;
  ctx: HubContext;
  console: WebConsole;
  registry: Registry;
  /** Tokens of an analysis center (full), a consenting ISP (council) and a vendor (public). */
  tokens: { full: string; council: string; public: string };
  close(): Promise<void>;
}

export async function startTestHub(
  options: {
    store?: Store;
    console?: ConsoleConfigInput;
    host?: string;
    publish?: boolean;
    /** The pipeline health the console shows (as `start` and `serve --nats` pass it). */
    health?: () => PipelineHealth;
    /** The hygiene room's reader (its own tables); without it the hygiene page is empty. */
    hygiene?: ConsoleHygiene;
    /** The sensor room's reader (its own tables); without it the sensors page is empty. */
    sensor?: ConsoleSensor;
    /** The runbook writer (the CLI passes the report room's); without it the runbook page is empty. */
    runbook?: ConsoleDeps['runbook'];
    /** The web room's overview; without it the malicious-sites page is empty. */
    web?: ConsoleWeb;
    /** The osint room's read; without it the OSINT page says none is stored. */
    osint?: ConsoleOsint;
  } = {},
): Promise<TestHub> {
  const store = options.store ?? (await openStore({ memory: true }, { migrations: HUB_MIGRATIONS }));
  const logger = silentLogger();
  const registry = new Registry();
  const audit = createAuditLog({ store });
  const intel = createIntel(IntelConfig.parse({}), { store, logger, registry, audit });
  // The hub exactly as `tsunagi serve` and `tsunagi start` build it, with the console as its
  // plugin: the console's tests see the same hooks (authentication, Accept, rate limits).
  const host = options.host ?? '127.0.0.1';
  const hub = createHub(
    HubConfig.parse({
      listen: `${host.includes(':') ? `[${host}]` : host}:0`,
      publishIntervalMs: options.publish ? 2000 : 0,
      // Tests and the bench drive many requests per token in a burst.
      rateLimit: { perSecond: 10_000, burst: 10_000 },
    }),
    { store, intel, audit, logger, registry },
  );
  const web = createConsole(
    options.console ?? {},
    consoleDepsOf(hub.context, {
      registry,
      logger,
      health: options.health,
      ...(options.hygiene ? { hygiene: options.hygiene } : {}),
      ...(options.sensor ? { sensor: options.sensor } : {}),
      ...(options.runbook ? { runbook: options.runbook } : {}),
      ...(options.web ? { web: options.web } : {}),
      ...(options.osint ? { osint: options.osint } : {}),
    }),
  );
  hub.use((app) => web.register(app));
  const orgs = hub.orgs;
  const tokens = { full: '', council: '', public: '' };
  const seeds: [keyof typeof tokens, OrganisationInput][] = [
    ['full', { name: 'NICT analysis', role: 'analysis' }],
    ['council', { name: 'ISP Sakura', role: 'isp', consent: true, prefixes: ['198.18.0.0/15'] }],
    ['public', { name: 'Vendor Kumo', role: 'vendor' }],
  ];
  for (const [tier, org] of seeds) {
    if (!(await orgs.get(org.name))) await orgs.add(org, 'test');
    tokens[tier] = (
      await orgs.createToken(org.name, { scopes: ['read', 'write', 'admin'], label: 'console test' }, 'test')
    ).token;
  }
  await hub.start();
  await web.start();
  return {
    url: hub.url(),
    app: hub.app(),
    ctx: hub.context,
    console: web,
    registry,
    tokens,
    async close() {
      await web.stop();
      await hub.stop();
      await store.close();
    },
  };
}

/**
 * The dataset `tsunagi demo` produces, in a form a test can set up in a second: the scenario's
 * C&C servers with detector evidence, bots linked to them, survey findings, and 127.0.0.1 (the
 * browser) listed as an infected host so the self-check has something to say.
 */
export async function fillDemo(hub: TestHub): Promise<void> {
  const sightings = scenarioSightings();
  for (let i = 0; i < sightings.length; i += 500)
    await hub.ctx.intel.recordSightings(sightings.slice(i, i + 500), 'scenario');
  await hub.ctx.intel.recordSighting({
    type: 'bot',
    value: '127.0.0.1',
    source: 'darknet-nicter',
    confidence: 90,
    family: 'mirai',
    attributes: { country: 'JP' },
  });
}

/**
 * Sightings for a console demo or test from a generated scenario: its C&C servers (alternating
 * public, council and full tier), its bots (as darknet scanners linked to a C&C of their family),
 * and vulnerable devices with survey attributes and a notification state.
 */
export function scenarioSightings(
  options: { hours?: number; subscribers?: number; seed?: number } = {},
): SightingInput[] {
  const scenario = generateScenario({
    hours: options.hours ?? 12,
    subscribers: options.subscribers ?? 600,
    seed: options.seed ?? 7,
  });
  for (const _batch of scenario.batches()) {
    // The truth (C&C contacts) fills while the flows are generated.
  }
  const truth = scenario.truth;
  const tiers = ['public', 'council', 'full'] as const;
  const out: SightingInput[] = [];
  const at = (ms: number) => new Date(Date.now() - Math.max(0, truth.endMs - ms) / 4).toISOString();
  truth.c2.forEach((c, i) =>
    out.push({
      type: 'c2',
      value: c.ip,
      port: c.port,
      proto: c.proto,
      family: c.family,
      source: 'isp-sakura-detector',
      confidence: 60 + (i % 4) * 10,
      tier: tiers[i % 3],
      tlp: i % 3 === 0 ? 'clear' : 'amber',
      observedAt: at(c.firstContactMs || c.fromMs),
      // The detector's evidence, as sightingsFromCandidates stores it (detect's Evidence shape).
      attributes: { evidence: JSON.stringify(evidenceLike(c.bots, c.periodMs, i)) },
    }),
  );
  const countries = ['JP', 'JP', 'JP', 'US', 'CN', 'KR', 'TW', 'VN', 'BR', 'IN'];
  // Japanese access networks (their names come from the console's bundled AS database).
  const accessAsns = [4713, 2516, 17676, 2527];
  const ports = ['23;2323', '23', '5555', '37215;52869', '8080;23'];
  [...truth.botList, ...truth.unknownBots].forEach((ip, i) => {
    const c2 = truth.c2.length ? truth.c2[i % truth.c2.length]! : undefined;
    out.push({
      type: 'bot',
      value: ip,
      source: 'darknet-nicter',
      confidence: 85,
      family: c2?.family ?? 'mirai',
      asn: accessAsns[i % accessAsns.length],
      observedAt: new Date(Date.now() - (i % 48) * 3_600_000).toISOString(),
      attributes: {
        country: countries[i % countries.length]!,
        ports: ports[i % ports.length]!,
        fingerprint: i % 3 ? 'mirai' : 'zmap',
      },
      ...(c2 ? { c2: { value: c2.ip, port: c2.port, proto: c2.proto } } : {}),
    });
  });
  const products = [
    ['hikvision camera', 'telnet', 23],
    ['mikrotik router', 'http', 80],
    ['dvr generic', 'telnet', 2323],
    ['nas web ui', 'http', 8080],
  ] as const;
  const states = ['sent', 'remediated', 'not-sent', 'sent', 'pending'];
  for (let i = 0; i < 40; i++) {
    const [product, service, port] = products[i % products.length]!;
    out.push({
      type: 'vulnerable-device',
      value: `198.19.${(i * 7) % 250}.${((i * 13) % 250) + 1}`,
      port,
      proto: 'tcp',
      source: 'notice-survey',
      confidence: 95,
      asn: accessAsns[i % accessAsns.length],
      attributes: {
        product,
        service,
        check: 'weak-credential',
        notification: states[i % states.length]!,
        country: 'JP',
      },
    });
  }
  return out;
}

/**
 * Counts and sub-scores shaped like the C&C detector's evidence (detect's Evidence: per-bot
 * returning contacts, the population test, sampling) for a server `bots` bots beacon to.
 */
function evidenceLike(bots: number, periodMs: number, i: number) {
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  const contactsPerBot = 40 + (i % 7) * 5;
  const flows = Math.max(1, bots) * contactsPerBot;
  return {
    bots,
    returningBots: bots,
    returningShare: 1,
    contactsPerBot,
    periodicBots: Math.max(0, bots - (i % 2)),
    periodicity: round3(0.9 + (i % 5) * 0.01),
    meanGapS: round3(periodMs / 1000),
    gapCv: round3(0.05 + (i % 5) * 0.01),
    heldSessions: 0,
    clients: i % 3,
    suspectClients: i % 2,
    botHomes: 60,
    cleanHomes: 540,
    enrichment: round3(30 + i * 2.5),
    z: round3(8 + (i % 6) * 0.7),
    familyShare: 1,
    p2pShare: 0,
    ports: 1,
    samplingRate: 1,
    flows,
    botFlows: flows - (i % 3),
    meanBytesPerFlow: 180 + (i % 5) * 12,
    sdBytesPerFlow: 6 + (i % 4),
    windowsSeen: 6 + (i % 6),
    scanPort: false,
    sub: { bots: round3(Math.min(1, bots / 3)), exclusivity: 0.97, persistence: 1, repeat: 0.95 },
  };
}
export * from './e2e-support.ts';
