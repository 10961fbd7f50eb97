/**
 * What the publisher stores, pinned: a fixed history (tiers, TLP markings, merges inside a batch,
 * re-sightings, a source taking its report back, a withdrawal and a revival, bot-to-C&C
 * relationships, a public-notice decision, own networks by prefix and by AS number, one added
 * late and back-filled) is recorded and published in small pages under a frozen clock and
 * counted ids, and every stored version (id, version, latest flag, label, date added, body) is
 * digested per collection and tier. The digests in testdata/publisher-golden.json were taken
 * from the publisher before its speed work; a change to what is published changes them (rerun
 * with TSUNAGI_WRITE_GOLDEN=1 to rewrite the file, and say why in the commit).
 */
import assert from 'node:assert/strict';
import crypto, { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig, type Intel, type SightingInput } from '../intel/index.ts';
import type { Store } from '../store/index.ts';
import { testEngines } from '../store/testing.ts';
import { COLLECTION_IDS, ownNetworkCollectionId } from './collections.ts';
import { createPublisher, type Publisher } from './publisher.ts';
import { hubIdentity } from './stix.ts';
import { HUB_MIGRATIONS } from './testing.ts';

const GOLDEN = new URL('./testdata/publisher-golden.json', import.meta.url);
const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const HOUR = 3_600_000;

/** Counted UUIDs in call order: the same history gets the same ids on every run. */
function countedUuids(): () => `${string}-${string}-${string}-${string}-${string}` {
  let n = 0;
  return () => {
    const hex = (++n).toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${hex}`;
  };
}

const ORGS = [
  { id: 'org-isp-a', name: 'ISP A', prefixes: ['192.0.2.0/24'], asns: [] as number[] },
  { id: 'org-isp-b', name: 'ISP B', prefixes: [] as string[], asns: [64500] },
];
const LATE_ORG = { id: 'org-isp-c', name: 'ISP C', prefixes: ['198.18.0.0/15'], asns: [] as number[] };

async function addOrg(store: Store, org: (typeof ORGS)[number]): Promise<void> {
  await store.db
    .insertInto('organisations')
    .values({
      id: org.id,
      name: org.name,
      role: 'isp',
      consent_at: null,
      consent_terms: null,
      prefixes: JSON.stringify(org.prefixes),
      asns: JSON.stringify(org.asns),
      created_at: new Date().toISOString(),
    })
    .execute();
}

const c2 = (value: string, over: Partial<SightingInput> = {}): SightingInput => ({
  type: 'c2',
  value,
  port: 443,
  proto: 'tcp',
  source: 'isp-a',
  confidence: 60,
  tier: 'public',
  tlp: 'clear',
  ...over,
});

/** The first batch: every kind, tier and TLP, and two reports of one C&C merged in the batch. */
function firstBatch(): SightingInput[] {
  const tlps = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
  const tiers = ['public', 'council', 'full'] as const;
  const out: SightingInput[] = [];
  for (let i = 0; i < 15; i++)
    out.push(
      c2(`203.0.113.${i + 1}`, {
        tier: tiers[i % 3],
        tlp: tlps[i % 5],
        source: `isp-${'abc'[i % 3]}`,
        confidence: 40 + i * 3,
        ...(i % 4 === 0 ? { family: 'mirai' } : {}),
      }),
    );
  out.push(
    c2('203.0.113.1', { source: 'isp-b', confidence: 70, tier: 'council', tlp: 'green' }),
    c2('203.0.113.30', { family: 'emotet' }),
    c2('203.0.113.31', { tlp: 'green', source: 'isp-b' }),
    c2('203.0.113.32', { port: 8443, source: 'isp-c' }),
  );
  for (let i = 0; i < 6; i++)
    out.push({
      type: 'bot',
      value: i < 3 ? `192.0.2.${10 + i}` : `100.64.0.${i}`,
      source: 'sensor-1',
      confidence: 80,
      tier: i % 2 ? 'council' : 'public',
      tlp: 'amber',
      ...(i >= 3 ? { asn: 64500 } : {}),
      c2: { value: `203.0.113.${i + 1}`, port: 443, proto: 'tcp' },
    });
  out.push(
    {
      type: 'vulnerable-device',
      value: '192.0.2.50',
      port: 8080,
      proto: 'tcp',
      source: 'scanner',
      confidence: 90,
      tier: 'council',
      tlp: 'amber',
      attributes: { product: 'router-x', cve: 'CVE-2024-0001' },
    },
    { type: 'bot', value: '198.18.0.7', source: 'sensor-1', confidence: 75, tier: 'public', tlp: 'green' },
    {
      type: 'url',
      value: 'http://bad.example/payload',
      source: 'feed',
      confidence: 55,
      tier: 'public',
      tlp: 'clear',
    },
    { type: 'domain', value: 'evil.example', source: 'feed', confidence: 65, tier: 'council', tlp: 'amber' },
  );
  return out;
}

async function approve(store: Store, intel: Intel, value: string): Promise<void> {
  const indicator = await intel.get({ kind: 'c2', value, port: 443, proto: 'tcp' });
  await store.db
    .insertInto('share_reviews')
    .values({
      id: `review-${value}`,
      indicator_id: indicator!.id,
      kind: 'c2',
      value,
      port: 443,
      proto: 'tcp',
      submitted_by: 'org-isp-a',
      claimed_tier: 'public',
      status: 'approved',
      family: value.endsWith('.4') ? 'emotet' : '',
      note: '',
      created_at: new Date().toISOString(),
      decided_at: new Date().toISOString(),
      decided_by: 'analyst',
    })
    .execute();
}

/** Records the history, publishing after each step in pages of 7. */
async function history(store: Store, intel: Intel, publisher: Publisher): Promise<void> {
  for (const org of ORGS) await addOrg(store, org);
  const batch = firstBatch();
  await intel.recordSightings(batch.slice(0, 12));
  await intel.recordSightings(batch.slice(12));
  // Public notice comes from the analysis centre's decisions: three approved, one later escalated.
  for (const value of ['203.0.113.4', '203.0.113.10', '203.0.113.13']) await approve(store, intel, value);
  await publisher.sync();

  mock.timers.setTime(T0 + HOUR);
  await intel.recordSightings([
    c2('203.0.113.1', { confidence: 65 }),
    c2('203.0.113.3', { source: 'isp-z', tier: 'full', tlp: 'amber' }),
    c2('203.0.113.5', { tlp: 'red' }),
    c2('203.0.113.13', { source: 'isp-b', tier: 'full' }),
    c2('203.0.113.31', { source: 'isp-c', tlp: 'amber' }),
    c2('203.0.113.32', { port: 8443, source: 'isp-c', confidence: 99 }),
    c2('203.0.113.20', { source: 'isp-b', family: 'qakbot' }),
    { type: 'bot', value: '192.0.2.11', source: 'sensor-2', confidence: 50, tier: 'full', tlp: 'amber' },
  ]);
  await intel.withdrawSource(
    { kind: 'c2', value: '203.0.113.1', port: 443, proto: 'tcp' },
    'isp-a',
    'cleaned',
    'isp-a',
  );
  await intel.withdraw(
    { kind: 'c2', value: '203.0.113.7', port: 443, proto: 'tcp' },
    'false positive',
    'analyst',
  );
  await publisher.sync();

  mock.timers.setTime(T0 + 2 * HOUR);
  await addOrg(store, LATE_ORG);
  await intel.recordSightings([
    c2('203.0.113.7', { source: 'isp-b' }),
    c2('203.0.113.2', { source: 'isp-b', tier: 'public', tlp: 'clear' }),
    { type: 'bot', value: '198.18.1.9', source: 'sensor-1', confidence: 70, tier: 'public', tlp: 'clear' },
  ]);
  await publisher.sync();
}

/** Per collection and tier: how many versions, and a digest of them in a fixed order. */
async function digests(store: Store): Promise<Record<string, { versions: number; sha256: string }>> {
  const names = new Map<string, string>([
    [COLLECTION_IDS.full, 'full'],
    [COLLECTION_IDS.council, 'council'],
    [COLLECTION_IDS.public, 'public'],
    ...[...ORGS, LATE_ORG].map((o) => [ownNetworkCollectionId(o.id), `network:${o.name}`] as const),
  ]);
  const rows = await store.db
    .selectFrom('stix_objects')
    .select([
      'collection_id',
      'object_id',
      'version',
      'is_latest',
      'tier',
      'tlp',
      'object_type',
      'spec_version',
      'date_added',
      'body',
    ])
    .execute();
  const groups = new Map<string, string[]>();
  for (const r of rows) {
    const group = `${names.get(r.collection_id) ?? r.collection_id}/${r.tier}`;
    const line = [
      r.object_id,
      r.version,
      r.is_latest,
      r.tlp,
      r.object_type,
      r.spec_version,
      r.date_added,
      r.body,
    ].join('\t');
    let list = groups.get(group);
    if (!list) groups.set(group, (list = []));
    list.push(line);
  }
  const out: Record<string, { versions: number; sha256: string }> = {};
  for (const group of [...groups.keys()].sort()) {
    const lines = groups.get(group)!.sort();
    out[group] = {
      versions: lines.length,
      sha256: createHash('sha256').update(lines.join('\n')).digest('hex'),
    };
  }
  return out;
}

for (const engine of testEngines(HUB_MIGRATIONS)) {
  describe(`published objects on ${engine.name}`, { skip: engine.skip }, () => {
    beforeEach(() => {
      mock.timers.enable({ apis: ['Date'], now: T0 });
      mock.method(crypto, 'randomUUID', countedUuids());
      syncBuiltinESMExports();
    });
    afterEach(() => {
      mock.restoreAll();
      mock.timers.reset();
      syncBuiltinESMExports();
    });

    test('every stored version per collection and tier matches the pinned digests', async () => {
      const store = await engine.open();
      try {
        const registry = new Registry();
        const intel = createIntel(IntelConfig.parse({}), { store, logger: silentLogger(), registry });
        const publisher = createPublisher(
          { intervalMs: 0, pageSize: 7 },
          { store, intel, hub: hubIdentity(), logger: silentLogger(), registry },
        );
        await publisher.start();
        await history(store, intel, publisher);
        const got = await digests(store);
        if (process.env.TSUNAGI_WRITE_GOLDEN === '1')
          writeFileSync(GOLDEN, `${JSON.stringify(got, null, 2)}\n`);
        const want = JSON.parse(readFileSync(GOLDEN, 'utf8')) as typeof got;
        assert.deepEqual(got, want);
        await publisher.stop();
      } finally {
        await store.close();
      }
    });
  });
}
