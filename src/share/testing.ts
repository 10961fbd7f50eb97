/** Test helper: a real tsunagi hub on 127.0.0.1 (in-memory SQLite) with an analysis center, a council member and two ISPs. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { intelMigrations, type Intel } from '../intel/index.ts';
import { openStore, type RoomMigrations, type Store } from '../store/index.ts';
import { HubConfig } from './config.ts';
import { shareMigrations, wireHub, type Hub, type WiredHub } from './index.ts';

/** The hub's tables (intel's, then share's): what a store behind a hub is opened with. */
export const HUB_MIGRATIONS: readonly RoomMigrations[] = [intelMigrations, shareMigrations];

// Internals that the tests of the served hub (src/cli/hardening.test.ts, release-*.test.ts) check.
export { addObjects, ensureCollections, ownNetworkCollectionId } from './collections.ts';
export { droppedRuleFields } from './exports.ts';
export { isPublicRequest } from './http.ts';
export { hubRoutes } from './server.ts';

export const TAXII = 'application/taxii+json;version=2.1';

/**
 * A TAXII request helper over fastify's inject: as ORG (its bearer token) or anonymous, a payload
 * sent as TAXII JSON (a string as it is, to send malformed bodies), extra headers last.
 */
export function taxiiRequests<Org extends string>(
  app: FastifyInstance,
  tokens: Readonly<Record<Org, string>>,
) {
  return (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    org: Org | undefined,
    payload?: unknown,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> =>
    app.inject({
      method,
      url,
      headers: {
        accept: TAXII,
        ...(org ? { authorization: `Bearer ${tokens[org]}` } : {}),
        ...(payload !== undefined ? { 'content-type': TAXII } : {}),
        ...headers,
      },
      ...(payload !== undefined
        ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }
        : {}),
    });
}

export interface HubFixture {
  url: string;
  hub: Hub;
  intel: Intel;
  tokens: { analysis: string; council: string; ispA: string; ispB: string; vendor: string };
  close(): Promise<void>;
}

/**
 * A hub over this store, wired but not started: on 127.0.0.1 (a free port), publishing only when
 * told (`hub.publisher.sync()`), with this rate limit, logging nothing.
 */
export function wireLocalHub(store: Store, rateLimit: { perSecond: number; burst: number }): WiredHub {
  return wireHub(
    { hub: HubConfig.parse({ listen: '127.0.0.1:0', publishIntervalMs: 0, rateLimit }) },
    { store, logger: silentLogger(), registry: new Registry() },
  );
}

export async function startHubFixture(): Promise<HubFixture> {
  const store = await openStore({ memory: true }, { migrations: HUB_MIGRATIONS });
  const { intel, hub } = wireLocalHub(store, { perSecond: 10_000, burst: 10_000 });
  await hub.start();
  const seeds = {
    analysis: { name: 'NICT analysis', role: 'analysis' },
    council: { name: 'Council Member', role: 'council', consent: true },
    ispA: { name: 'ISP A', role: 'isp', consent: true, prefixes: ['192.0.2.0/24'] },
    ispB: { name: 'ISP B', role: 'isp', consent: true, prefixes: ['198.18.0.0/15'] },
    vendor: { name: 'Vendor', role: 'vendor' },
  } as const;
  const tokens = { analysis: '', council: '', ispA: '', ispB: '', vendor: '' };
  for (const [key, org] of Object.entries(seeds) as [
    keyof typeof tokens,
    (typeof seeds)[keyof typeof seeds],
  ][]) {
    await hub.orgs.add({ ...org, prefixes: 'prefixes' in org ? [...org.prefixes] : [] }, 'test');
    tokens[key] = (await hub.orgs.createToken(org.name, {}, 'test')).token;
  }
  return {
    url: hub.url(),
    hub,
    intel,
    tokens,
    async close() {
      await hub.stop();
      await store.close();
    },
  };
}
