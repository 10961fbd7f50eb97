/**
 * The report room's test door: a real hub store (in-memory SQLite, through share's fixture)
 * holding indicators of every tier and marking, and the report's dependencies over it.
 */
import type { SightingInput } from '../intel/index.ts';
import { publicNoticeDecisions } from '../share/index.ts';
import { startHubFixture, type HubFixture } from '../share/testing.ts';
import type { ReportDeps } from './gather.ts';

/** What a public reader may see (public tier, TLP:CLEAR, not a host). */
export const PUBLIC_ITEMS = { c2: '203.0.113.10', family: 'publicfam', brand: 'brand-public' };
/** Values no public report may hold: council/AMBER, full/RED, hosts, an AMBER phishing brand. */
export const RESTRICTED_ITEMS = {
  councilC2: '198.51.100.20',
  councilFamily: 'councilfam',
  redC2: '198.51.100.30',
  redFamily: 'redfam',
  bot: '192.0.2.55',
  device: '192.0.2.77',
  product: 'Acme Cam 9',
  amberBrand: 'brand-amber',
  amberUrl: 'https://login.amber-brand-phish.test/account',
};

export const SEEDED: SightingInput[] = [
  {
    type: 'c2',
    value: PUBLIC_ITEMS.c2,
    port: 443,
    proto: 'tcp',
    source: 'isp-a',
    confidence: 80,
    family: PUBLIC_ITEMS.family,
    tier: 'public',
    tlp: 'clear',
  },
  {
    type: 'c2',
    value: RESTRICTED_ITEMS.councilC2,
    port: 8080,
    proto: 'tcp',
    source: 'isp-a',
    confidence: 70,
    family: RESTRICTED_ITEMS.councilFamily,
    tier: 'council',
    tlp: 'amber+strict',
  },
  {
    type: 'c2',
    value: RESTRICTED_ITEMS.redC2,
    port: 4444,
    proto: 'tcp',
    source: 'isp-b',
    confidence: 90,
    family: RESTRICTED_ITEMS.redFamily,
    tier: 'full',
    tlp: 'red',
  },
  {
    type: 'bot',
    value: RESTRICTED_ITEMS.bot,
    source: 'darknet-sensor',
    confidence: 80,
    family: 'mirai',
    tier: 'full',
    tlp: 'amber+strict',
    attributes: { ports: '23;2323' },
  },
  {
    type: 'vulnerable-device',
    value: RESTRICTED_ITEMS.device,
    port: 80,
    proto: 'tcp',
    source: 'survey-2026-12',
    confidence: 90,
    tier: 'full',
    tlp: 'amber+strict',
    attributes: { product: RESTRICTED_ITEMS.product, status: 'weak-credential', cve: 'CVE-2024-0001' },
  },
  {
    type: 'url',
    value: RESTRICTED_ITEMS.amberUrl,
    source: 'web-crawler',
    confidence: 75,
    family: RESTRICTED_ITEMS.amberBrand,
    tier: 'council',
    tlp: 'amber',
  },
  {
    type: 'url',
    value: 'https://public-brand-phish.test/signin',
    source: 'web-crawler',
    confidence: 75,
    family: PUBLIC_ITEMS.brand,
    tier: 'public',
    tlp: 'clear',
  },
];

export interface SeededStore {
  fixture: HubFixture;
  deps: ReportDeps;
  /** The UTC day the indicators were created on (YYYY-MM-DD): the day a daily report covers. */
  day: string;
  close(): Promise<void>;
}

export async function seededStore(sightings: readonly SightingInput[] = SEEDED): Promise<SeededStore> {
  const fixture = await startHubFixture();
  const results = await fixture.intel.recordSightings(sightings, 'test');
  // An empty store's day is today's.
  const first = results[0]
    ? (await fixture.intel.byIds([results[0].indicatorId])).get(results[0].indicatorId)!
    : { createdAt: new Date().toISOString() };
  const day = first.createdAt.slice(0, 10);
  const db = fixture.hub.context.store.db;
  return {
    fixture,
    day,
    deps: {
      intel: fixture.intel,
      publicNoticeDecisions: (ids) => publicNoticeDecisions(db, ids),
      organisations: () => fixture.hub.orgs.list(),
    },
    close: () => fixture.close(),
  };
}
