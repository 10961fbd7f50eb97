/**
 * Test helper: a hub with the console (every route the server has), organisations given by the
 * test with a token each, and a request helper over fastify's inject (client address 127.0.0.1).
 */
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { consoleDepsOf, createConsole, type WebBody, type WebConsole } from '../console/index.ts';
import { startTestHub, type TestHub } from '../console/testing.ts';
import { silentLogger, type Logger } from '../core/index.ts';
import type { HygieneReader } from '../hygiene/index.ts';
import { createIntel, IntelConfig, recordWebVerdicts, type Intel } from '../intel/index.ts';
import {
  createAuditLog,
  HubConfig,
  wireHub,
  type AuditLog,
  type Hub,
  type OrganisationInput,
} from '../share/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { createWeb, WebConfig, withWholeHost, type IngestResult, type WebTables } from '../web/index.ts';
import type { z } from 'zod';
import { consoleOsintOf, consoleWebOf, openCliStore } from './hub-stack.ts';
import { StackConfig } from './stack.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';

/** The CLI's room list, for tools (benchmarks) that open stores the CLI may have made. */
export { ROOM_MIGRATIONS } from './store-migrations.ts';

export const TAXII = 'application/taxii+json;version=2.1';

/**
 * A stack's configuration for a test on loopback: its data directory, flows and the hub on ports
 * the kernel picks, no metrics server; `extra` adds the settings the test is about.
 */
export function loopbackStackConfig(
  data: string,
  extra: Omit<z.input<typeof StackConfig>, 'data'> = {},
): StackConfig {
  return StackConfig.parse({
    data,
    metrics: { listen: '' },
    flow: { listen: ['127.0.0.1:0'] },
    hub: { listen: '127.0.0.1:0' },
    ...extra,
  });
}

/** A store in memory with every room's tables, intel over it with an audit log, and their logger and registry. */
export interface RoomsInMemory {
  store: Store;
  intel: Intel;
  logger: Logger;
  registry: Registry;
}

/** Runs `use` with a store in memory holding every room's tables and intel over it; closes the store after. */
export async function withRoomsInMemory<T>(use: (rooms: RoomsInMemory) => Promise<T>): Promise<T> {
  const store = await openStore({ memory: true }, { migrations: ROOM_MIGRATIONS });
  try {
    const logger = silentLogger();
    const registry = new Registry();
    const intel = createIntel(IntelConfig.parse({}), {
      store,
      logger,
      registry,
      audit: createAuditLog({ store }),
    });
    return await use({ store, intel, logger, registry });
  } finally {
    await store.close();
  }
}

/**
 * Runs `use` with intel (default configuration, silent) over the store of the CLI's data
 * directory `data`, as the commands open it; closes the store after.
 */
export async function withCliIntel<T>(
  data: string,
  use: (intel: Intel, store: Store) => Promise<T>,
): Promise<T> {
  const store = await openCliStore(data, {});
  try {
    const intel = createIntel(IntelConfig.parse({}), {
      store,
      logger: silentLogger(),
      registry: new Registry(),
    });
    return await use(intel, store);
  } finally {
    await store.close();
  }
}

export interface ReleaseHub {
  store: Store;
  intel: Intel;
  hub: Hub;
  audit: AuditLog;
  app: FastifyInstance;
  tokens: Record<string, string>;
  orgIds: Record<string, string>;
  /** The listening address (for streams, which inject cannot end). */
  url: string;
  console: WebConsole;
  /** Every route the server answers, as `METHOD url-pattern` (read from fastify's onRoute). */
  routes: string[];
  req(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    org: string | undefined,
    payload?: unknown,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startReleaseHub(
  store: Store,
  orgs: readonly (OrganisationInput & { scopes?: ('read' | 'write' | 'admin')[] })[],
  /** The hygiene room's reader over the same store: its surveys are published and shown. */
  hygiene?: HygieneReader,
): Promise<ReleaseHub> {
  const registry = new Registry();
  const logger = silentLogger();
  const { audit, intel, hub } = wireHub(
    {
      hub: HubConfig.parse({
        listen: '127.0.0.1:0',
        publishIntervalMs: 0,
        rateLimit: { perSecond: 100_000, burst: 100_000 },
      }),
    },
    { store, logger, registry, ...(hygiene ? { hygiene } : {}) },
  );
  const web = createConsole(
    {
      selfCheck: { perMinute: 100_000, burst: 100_000 },
      apiRate: { perSecond: 100_000, burst: 100_000 },
      live: { batchMs: 60_000, heartbeatMs: 300_000, maxClients: 1000 },
    },
    consoleDepsOf(hub.context, {
      registry,
      logger,
      ...(hygiene ? { hygiene } : {}),
      // The web room over the same store: its overview and user reports are walked too.
      web: consoleWebOf(store.db, { logger, registry }),
      // The osint room's documents in the same store (the walk plants them under every marking).
      osint: consoleOsintOf(store.db),
      // A pipeline that lost data: the walk checks only full-tier readers see it.
      health: () => ({
        at: Date.now(),
        loss: true,
        processes: [
          {
            role: 'collector',
            id: 'collector-walk',
            at: Date.now(),
            intervalMs: 5000,
            stale: false,
            components: [{ component: 'collector', level: 'loss', handled: 10, dropped: 1, counters: {} }],
          },
        ],
        history: [],
      }),
    }),
  );
  const tokens: Record<string, string> = {};
  const orgIds: Record<string, string> = {};
  for (const o of orgs) {
    const { scopes, ...input } = o;
    const org = await hub.orgs.add(input, 'test');
    orgIds[o.name] = org.id;
    tokens[o.name] = (
      await hub.orgs.createToken(o.name, { scopes: scopes ?? ['read', 'write', 'admin'] }, 'test')
    ).token;
  }
  hub.use((app) => web.register(app));
  await hub.start();
  await web.start();
  const app = hub.app();
  const routes = routeTable(app);
  return {
    store,
    intel,
    hub,
    audit,
    app,
    tokens,
    orgIds,
    routes,
    url: hub.url(),
    console: web,
    req: (method, url, org, payload) =>
      app.inject({
        method,
        url,
        headers: {
          accept: url.startsWith('/api/') || url.startsWith('/console/') ? '*/*' : TAXII,
          ...(org ? { authorization: `Bearer ${tokens[org]}` } : {}),
          ...(payload !== undefined
            ? { 'content-type': url.startsWith('/console/') ? 'application/json' : TAXII }
            : {}),
        },
        ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
      }),
    async close() {
      await web.stop();
      await hub.stop();
      await store.close();
    },
  };
}

/** A console hub over a store in memory, the web room as `tsunagi serve` wires it (web-console tests). */
export interface WebConsoleHub {
  store: Store;
  hub: TestHub;
  /** Ingests these URLs under `source` and records the verdicts in intel at `tlp`, as `web ingest --record` does. */
  ingest(urls: string[], source: string, tlp: 'green' | 'clear'): Promise<IngestResult>;
  /** GET /console/api/web as the holder of `token` (asserted 200). */
  overview(token: string): Promise<WebBody>;
  close(): Promise<void>;
}

export async function startWebConsoleHub(): Promise<WebConsoleHub> {
  const store = await openStore({ memory: true }, { migrations: ROOM_MIGRATIONS });
  const deps = { logger: silentLogger(), registry: new Registry() };
  const hub = await startTestHub({ store, web: consoleWebOf(store.db, deps) });
  const web = createWeb(WebConfig.parse({}), {
    ...deps,
    registry: new Registry(),
    db: store.db as unknown as Kysely<WebTables>,
  });
  return {
    store,
    hub,
    ingest: (urls, source, tlp) =>
      web.ingest(
        urls.map((url) => ({ url })),
        source,
        async (batch) => void (await recordWebVerdicts(hub.ctx.intel, withWholeHost(batch), source, { tlp })),
      ),
    async overview(token) {
      const response = await fetch(`${hub.url}/console/api/web`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 200);
      return (await response.json()) as WebBody;
    },
    async close() {
      await hub.close();
      await store.close();
    },
  };
}

/** Every `METHOD path` of the app, from fastify's own route tree (HEAD and OPTIONS left out). */
export function routeTable(app: FastifyInstance): string[] {
  const text = app.printRoutes({ commonPrefix: false, includeMeta: false });
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )?(.*?)(?: \(([^)]*)\))?$/.exec(line.replace(/\s+$/, ''));
    if (!m || !m[2]) continue;
    const depth = Math.round([...m[1]!].length / 4);
    stack.length = depth;
    stack[depth] = m[2];
    if (!m[3]) continue;
    for (const method of m[3].split(',').map((x) => x.trim()))
      if (method !== 'HEAD' && method !== 'OPTIONS') out.push(`${method} ${stack.join('')}`);
  }
  return [...new Set(out)].sort();
}
