/**
 * Test and bench helper: a hub assembled in-process (store, audit, organisations, intel,
 * publisher, TAXII routes and the console) listening on loopback, with an organisation and a
 * token per tier. `tsunagi serve` wires the same parts; this lets the console's tests run alone.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/logger.ts';
import { createIntel, IntelConfig } from '../intel/index.ts';
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
