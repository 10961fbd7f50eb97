/**
 * Test and bench helper: a hub assembled in-process (store, audit, organisations, intel,
 * publisher, TAXII routes and the console) listening on loopback, with an organisation and a
 * token per tier. `tsunagi serve` wires the same parts; this lets the console's tests run alone.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/logger.ts';
import { createIntel, IntelConfig, type SightingInput } from '../intel/index.ts';
import { generateScenario } from '../scenario/index.ts';
import { createAuditLog } from '../share/audit.ts';
import { HubConfig } from '../share/config.ts';
import { tokenFrom, type HubContext } from '../share/http.ts';
import { createOrganisations, type OrganisationInput } from '../share/orgs.ts';
import { createPublisher } from '../share/publisher.ts';
import { hubIdentity } from '../share/stix.ts';
import { registerTaxii } from '../share/taxii.ts';
import { openStore, type Store } from '../store/index.ts';
import type { ConsoleConfig } from './config.ts';
import { createConsole, type WebConsole } from './index.ts';

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
  options: { store?: Store; console?: Partial<ConsoleConfig>; host?: string; publish?: boolean } = {},
): Promise<TestHub> {
  const store = options.store ?? (await openStore({ memory: true }));
  const logger = silentLogger();
  const registry = new Registry();
  const audit = createAuditLog({ store });
  const orgs = createOrganisations({ store, audit });
  const intel = createIntel(IntelConfig.parse({}), { store, logger, registry, audit });
  const hub = hubIdentity();
  const config = HubConfig.parse({});
  const publisher = createPublisher({ intervalMs: 0 }, { store, intel, hub, logger, registry });
  const ctx: HubContext = { config, store, intel, orgs, audit, publisher, hub, logger };
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (request) => {
    const token = tokenFrom(request.headers.authorization);
    if (token) request.principal = await orgs.authenticate(token);
  });
  registerTaxii(app, ctx);
  const web = createConsole(options.console ?? {}, { hub: ctx, registry, logger });
  await web.register(app);
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
  await web.start();
  if (options.publish) await publisher.start();
  await app.listen({ host: options.host ?? '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    app,
    ctx,
    console: web,
    registry,
    tokens,
    async close() {
      await web.stop();
      await publisher.stop();
      await app.close();
      await store.close();
    },
  };
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
      asn: 64_496 + (i % 3),
      observedAt: at(c.firstContactMs || c.fromMs),
      attributes: {
        bots: String(c.bots),
        period_s: String(Math.round(c.periodMs / 1000)),
        rule: 'periodic-beacon',
      },
    }),
  );
  const countries = ['JP', 'JP', 'JP', 'US', 'CN', 'KR', 'TW', 'VN', 'BR', 'IN'];
  const ports = ['23;2323', '23', '5555', '37215;52869', '8080;23'];
  [...truth.botList, ...truth.unknownBots].forEach((ip, i) => {
    const c2 = truth.c2.length ? truth.c2[i % truth.c2.length]! : undefined;
    out.push({
      type: 'bot',
      value: ip,
      source: 'darknet-nicter',
      confidence: 85,
      family: c2?.family ?? 'mirai',
      asn: 64_500 + (i % 4),
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
      asn: 64_500 + (i % 4),
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
