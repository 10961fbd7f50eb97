/** Intel over both store engines: merging, confidence, expiry, withdrawal, relationships, audit hook. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { testEngines } from '../store/testing.ts';
import { IntelConfig } from './config.ts';
import { intelMigrations, combineConfidence, createIntel, type AuditEntry, type AuditSink } from './index.ts';

test('combineConfidence treats sources as independent evidence', () => {
  assert.equal(combineConfidence([50, 50]), 75);
  assert.equal(combineConfidence([80]), 80);
  assert.equal(combineConfidence([]), 0);
  assert.equal(combineConfidence([100, 10]), 100);
});

for (const engine of testEngines([intelMigrations])) {
  async function setup() {
    const store = await engine.open();
    const entries: AuditEntry[] = [];
    const audit: AuditSink = {
      lockKey: 1,
      async append(_trx, entry) {
        entries.push(entry);
      },
    };
    const registry = new Registry();
    const intel = createIntel(IntelConfig.parse({}), { store, logger: silentLogger(), registry, audit });
    return { store, intel, entries, registry };
  }

  describe(`intel on ${engine.name}`, { skip: engine.skip }, () => {
    test('three ISPs reporting one server make one indicator with three sightings', async () => {
      const { store, intel, entries, registry } = await setup();
      try {
        const base = {
          type: 'c2' as const,
          value: '198.51.100.7',
          port: 443,
          proto: 'TCP',
          confidence: 50,
          family: 'Mirai',
          tier: 'council' as const,
          tlp: 'amber' as const,
        };
        const a = await intel.recordSighting(
          { ...base, source: 'isp-a', observedAt: '2026-01-02T00:00:00Z' },
          'isp-a',
        );
        const b = await intel.recordSighting({
          ...base,
          source: 'isp-b',
          observedAt: '2026-01-01T00:00:00Z',
        });
        // An IPv4-mapped IPv6 form of the same address is the same server.
        const c = await intel.recordSighting({
          ...base,
          value: '::ffff:198.51.100.7',
          proto: 'tcp',
          source: 'isp-c',
          observedAt: '2026-01-03T00:00:00Z',
          tier: 'full',
          tlp: 'red',
        });
        await intel.recordSighting({
          ...base,
          source: 'isp-a',
          confidence: 90,
          observedAt: '2026-01-04T00:00:00Z',
        });
        assert.equal(a.created, true);
        assert.equal(b.created, false);
        assert.equal(a.indicatorId, b.indicatorId);
        assert.equal(a.indicatorId, c.indicatorId);
        const got = (await intel.get(a.indicatorId))!;
        assert.equal(got.value, '198.51.100.7');
        assert.equal(got.proto, 'tcp');
        assert.equal(got.family, 'mirai');
        assert.equal(got.firstSeen, '2026-01-01T00:00:00.000Z');
        assert.equal(got.lastSeen, '2026-01-04T00:00:00.000Z');
        assert.equal(got.expiresAt, '2026-02-03T00:00:00.000Z');
        assert.equal(got.confidence, combineConfidence([90, 50, 50]));
        assert.equal(got.tier, 'full', 'the most careful classification wins');
        assert.equal(got.tlp, 'red');
        const sightings = await intel.sightings(a.indicatorId);
        assert.deepEqual(
          sightings.map((s) => [s.source, s.count, s.confidence]),
          [
            ['isp-a', 2, 90],
            ['isp-b', 1, 50],
            ['isp-c', 1, 50],
          ],
        );
        assert.equal(entries.length, 4);
        assert.deepEqual(
          { actor: entries[0]!.actor, action: entries[0]!.action },
          { actor: 'isp-a', action: 'intel.record' },
        );
        // Another port is another C&C service.
        const other = await intel.recordSighting({ ...base, port: 8080, source: 'isp-a' });
        assert.notEqual(other.indicatorId, a.indicatorId);
        assert.match(await registry.metrics(), /tsunagi_intel_sightings_total\{outcome="created"\} 2/);
      } finally {
        await store.close();
      }
    });

    test('bad input is refused with a clear error, counted, and nothing is half-written', async () => {
      const { store, intel, registry } = await setup();
      try {
        const good = { type: 'bot' as const, value: '203.0.113.9', source: 's', confidence: 10 };
        await assert.rejects(intel.recordSighting({ ...good, value: '300.1.1.1' }), /not an IP address/);
        await assert.rejects(intel.recordSighting({ ...good, confidence: 101 }), /confidence/);
        await assert.rejects(
          intel.recordSighting({ ...good, type: 'domain', value: 'not a domain' }),
          /not a domain/,
        );
        await assert.rejects(
          intel.recordSighting({ ...good, type: 'url', value: 'javascript:alert(1)' }),
          /scheme/,
        );
        await assert.rejects(intel.recordSightings([good, { ...good, value: 'x' }]), /not an IP/);
        assert.equal((await intel.list()).items.length, 0);
        assert.match(await registry.metrics(), /outcome="rejected"\} 5/);
      } finally {
        await store.close();
      }
    });
  });

  describe(`intel on ${engine.name}`, { skip: engine.skip }, () => {
    test('withdrawal and expiry hide an indicator from lists; a later sighting revives it', async () => {
      const { store, intel } = await setup();
      try {
        const now = new Date();
        const { indicatorId } = await intel.recordSighting({
          type: 'domain',
          value: 'Evil.Example.COM.',
          source: 'feed',
          confidence: 70,
          tier: 'public',
          tlp: 'clear',
        });
        await intel.recordSighting({
          type: 'bot',
          value: '192.0.2.50',
          source: 'darknet',
          confidence: 60,
          observedAt: new Date(now.getTime() - 30 * 86_400_000).toISOString(),
        });
        assert.deepEqual(
          (await intel.list()).items.map((i) => i.value),
          ['evil.example.com'],
        );
        assert.equal((await intel.list({ includeExpired: true })).items.length, 2);
        const before = (await intel.get(indicatorId))!;
        const withdrawn = await intel.withdraw(
          { kind: 'domain', value: 'evil.example.com' },
          'false positive',
          'analyst',
        );
        assert.ok(withdrawn.withdrawnAt);
        assert.ok(withdrawn.modifiedAt > before.modifiedAt);
        assert.equal((await intel.list()).items.length, 0);
        await assert.rejects(intel.withdraw('nope', 'x', 'a'), /no such indicator/);
        await intel.recordSighting({
          type: 'domain',
          value: 'evil.example.com',
          source: 'feed',
          confidence: 70,
          observedAt: new Date(Date.now() + 1000).toISOString(),
        });
        assert.equal((await intel.list()).items.length, 1);
      } finally {
        await store.close();
      }
    });

    test('a source takes its report back: the indicator stays while another source reports it', async () => {
      const { store, intel, entries, registry } = await setup();
      try {
        const ref = { kind: 'c2' as const, value: '198.51.100.30', port: 443, proto: 'tcp' };
        const base = {
          type: 'c2' as const,
          value: ref.value,
          port: 443,
          proto: 'tcp',
          tier: 'council' as const,
        };
        await intel.recordSighting({ ...base, source: 'isp-a', confidence: 50 });
        const { indicatorId } = await intel.recordSighting({ ...base, source: 'isp-b', confidence: 50 });
        const active = async () => (await intel.tallies()).classes.reduce((n, c) => n + c.active, 0);
        assert.equal((await intel.get(indicatorId))!.confidence, 75);
        assert.equal(await active(), 1);

        await assert.rejects(intel.withdrawSource(ref, 'isp-a', ' ', 'isp-a'), /needs a reason/);
        const first = await intel.withdrawSource(ref, 'isp-a', 'revoked', 'isp-a');
        assert.equal(first.outcome, 'source-removed');
        assert.equal(first.indicator!.withdrawnAt, null);
        assert.equal(first.indicator!.confidence, 50);
        assert.deepEqual(
          (await intel.sightings(indicatorId)).map((s) => s.source),
          ['isp-b'],
        );
        assert.equal(await active(), 1);
        // Nothing left to take back, and no such indicator: nothing changes.
        assert.equal((await intel.withdrawSource(ref, 'isp-a', 'revoked', 'isp-a')).outcome, 'unknown');
        assert.equal(
          (await intel.withdrawSource({ ...ref, value: '198.51.100.31' }, 'isp-a', 'revoked', 'isp-a'))
            .outcome,
          'unknown',
        );

        const last = await intel.withdrawSource(ref, 'isp-b', 'revoked', 'isp-b');
        assert.equal(last.outcome, 'withdrawn');
        assert.ok(last.indicator!.withdrawnAt);
        assert.equal(last.indicator!.withdrawnReason, 'revoked');
        assert.equal(await active(), 0);
        assert.deepEqual(await intel.sightings(indicatorId), []);
        const audited = entries.filter((e) => e.action === 'intel.withdraw-source');
        assert.deepEqual(
          audited.map((e) => [e.target, (e.detail as { source: string; outcome: string }).outcome]),
          [
            [`indicator:${indicatorId}`, 'source-removed'],
            [`indicator:${indicatorId}`, 'withdrawn'],
          ],
        );
        const metric = await registry.getSingleMetric('tsunagi_intel_withdrawn_total')!.get();
        assert.equal(metric.values[0]!.value, 1);
        // The source reporting it again later brings it back.
        await intel.recordSighting({
          ...base,
          source: 'isp-b',
          confidence: 50,
          observedAt: new Date(Date.now() + 1000).toISOString(),
        });
        assert.equal((await intel.get(indicatorId))!.withdrawnAt, null);
      } finally {
        await store.close();
      }
    });
  });

  describe(`intel on ${engine.name}`, { skip: engine.skip }, () => {
    test('relationships: bot to C&C from a sighting, and explicit ones', async () => {
      const { store, intel } = await setup();
      try {
        const c2 = await intel.recordSighting({
          type: 'c2',
          value: '2001:db8::1',
          port: 23,
          proto: 'tcp',
          source: 'isp-a',
          confidence: 80,
        });
        const bot = await intel.recordSighting({
          type: 'bot',
          value: '192.0.2.9',
          source: 'isp-a',
          confidence: 60,
          c2: { value: '2001:0db8:0::1', port: 23, proto: 'tcp' },
        });
        const rels = await intel.relationships(c2.indicatorId);
        assert.equal(rels.length, 1);
        assert.deepEqual(
          [rels[0]!.fromId, rels[0]!.toId, rels[0]!.type],
          [bot.indicatorId, c2.indicatorId, 'communicates-with'],
        );
        await assert.rejects(intel.relate(bot.indicatorId, 'missing', 'uses', 'x'), /known indicators/);
      } finally {
        await store.close();
      }
    });

    test('list filters by tier, kind and source, and pages with a cursor', async () => {
      const { store, intel } = await setup();
      try {
        const tiers = ['full', 'council', 'public'] as const;
        for (let i = 0; i < 9; i++) {
          await intel.recordSighting({
            type: 'c2',
            value: `192.0.2.${i + 1}`,
            port: 80,
            proto: 'tcp',
            source: i % 2 ? 'odd' : 'even',
            confidence: 10 * i,
            tier: tiers[i % 3],
          });
        }
        assert.equal((await intel.list({ releasableTo: 'full' })).items.length, 9);
        assert.equal((await intel.list({ releasableTo: 'council' })).items.length, 6);
        assert.ok((await intel.list({ releasableTo: 'public' })).items.every((i) => i.tier === 'public'));
        assert.equal((await intel.list({ source: 'odd' })).items.length, 4);
        assert.equal((await intel.list({ minConfidence: 50 })).items.length, 4);
        assert.equal((await intel.list({ kinds: ['bot'] })).items.length, 0);
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await intel.list({ limit: 4, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items.map((i) => i.id));
          cursor = page.next;
        } while (cursor);
        assert.equal(new Set(seen).size, 9);
        const changed = await intel.changedSince(undefined, 5);
        const rest = await intel.changedSince(
          { modifiedAt: changed[4]!.modifiedAt, id: changed[4]!.id },
          100,
        );
        assert.equal(changed.length + rest.length, 9);
      } finally {
        await store.close();
      }
    });

    test('byValues finds what get finds (withdrawn too), keyed by the value as asked, past one batch', async () => {
      const { store, intel } = await setup();
      try {
        const url = (n: number) => `https://kit-${n}.example.net/jkuos/`;
        await intel.recordSightings(
          [0, 1, 2].map((n) => ({
            type: 'url' as const,
            value: url(n),
            source: 'web:model',
            confidence: 60,
          })),
        );
        await intel.recordSighting({
          type: 'domain',
          value: 'kit-0.example.net',
          source: 'feed',
          confidence: 60,
        });
        await intel.withdraw({ kind: 'url', value: url(1) }, 'a false tie', 'analyst');
        // The known values come after a first batch (500) of unknown ones; a fragment is no part
        // of a URL indicator, and a value that is no URL is left out rather than failing the rest.
        const unknown = Array.from({ length: 600 }, (_, i) => `https://unknown-${i}.example.org/`);
        const withFragment = `${url(2)}#top`;
        const found = await intel.byValues('url', [...unknown, url(0), url(1), withFragment, 'not a url']);
        assert.deepEqual([...found.keys()].sort(), [url(0), url(1), withFragment].sort());
        for (const value of [url(0), url(1), withFragment])
          assert.deepEqual(found.get(value), await intel.get({ kind: 'url', value }), value);
        assert.ok(found.get(url(1))!.withdrawnAt);
        assert.deepEqual(
          [...(await intel.byValues('domain', ['KIT-0.example.net.', 'kit-1.example.net'])).keys()],
          ['KIT-0.example.net.'],
        );
        assert.equal((await intel.byValues('url', [])).size, 0);
      } finally {
        await store.close();
      }
    });
  });
}
