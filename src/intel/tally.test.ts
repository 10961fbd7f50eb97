/** The indicator tallies kept by intel: equal to a recount after every kind of write, on both engines. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { hourOf, rebuildIndicatorTallies, type Store } from '../store/index.ts';
import { testEngines } from '../store/testing.ts';
import {
  intelMigrations,
  createIntel,
  IntelConfig,
  type Intel,
  type SightingInput,
  type TallyReading,
} from './index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The tally rows intel kept (zero rows dropped), as sorted text. */
async function keptTallies(store: Store): Promise<string[]> {
  const out: string[] = [];
  for (const table of ['indicator_expiry_tally', 'indicator_created_tally'] as const) {
    const rows = await store.db.selectFrom(table).selectAll().where('n', '!=', 0).execute();
    for (const r of rows) out.push(`${table} ${r.hour} ${r.kind} ${r.tier} ${r.tlp} ${Number(r.n)}`);
  }
  return out.sort();
}

/** The same tallies counted afresh from the indicators table, in JS. */
async function recounted(store: Store): Promise<string[]> {
  const rows = await store.db.selectFrom('indicators').selectAll().execute();
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (r.withdrawn_at !== null) continue;
    for (const [table, at] of [
      ['indicator_expiry_tally', r.expires_at],
      ['indicator_created_tally', r.created_at],
    ] as const) {
      const key = `${table} ${hourOf(at)} ${r.kind} ${r.tier} ${r.tlp}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts].map(([k, n]) => `${k} ${n}`).sort();
}

/** What readTallies must answer at `now`, by brute force over every row. */
async function bruteForce(store: Store, now: Date): Promise<Map<string, { active: number; new24h: number }>> {
  const rows = await store.db.selectFrom('indicators').selectAll().execute();
  const nowIso = now.toISOString();
  const since = new Date(now.getTime() - DAY).toISOString();
  const out = new Map<string, { active: number; new24h: number }>();
  for (const r of rows) {
    if (r.withdrawn_at !== null) continue;
    const key = `${r.kind} ${r.tier} ${r.tlp}`;
    const c = out.get(key) ?? { active: 0, new24h: 0 };
    if (r.expires_at > nowIso) c.active++;
    if (r.created_at > since && hourOf(r.created_at) <= hourOf(nowIso)) c.new24h++;
    out.set(key, c);
  }
  for (const [k, c] of out) if (c.active === 0 && c.new24h === 0) out.delete(k);
  return out;
}

function summary(reading: TallyReading): Map<string, { active: number; new24h: number }> {
  return new Map(
    reading.classes.map((c) => [`${c.kind} ${c.tier} ${c.tlp}`, { active: c.active, new24h: c.new24h }]),
  );
}

function bot(n: number, extra: Partial<SightingInput> = {}): SightingInput {
  return {
    type: 'bot',
    value: `198.51.100.${n}`,
    source: 'darknet-a',
    confidence: 70,
    tier: 'full',
    tlp: 'amber',
    ...extra,
  };
}

for (const engine of testEngines([intelMigrations])) {
  describe(`indicator tallies on ${engine.name}`, { skip: engine.skip }, () => {
    async function withIntel(work: (intel: Intel, store: Store) => Promise<void>) {
      const store = await engine.open();
      try {
        const intel = createIntel(IntelConfig.parse({}), {
          store,
          logger: silentLogger(),
          registry: new Registry(),
        });
        await work(intel, store);
      } finally {
        await store.close();
      }
    }

    test('stay equal to a recount through creates, merges, tier and TLP raises, expiry moves, withdrawals and revivals', async () => {
      await withIntel(async (intel, store) => {
        const now = Date.now();
        const check = async (step: string) =>
          assert.deepEqual(await keptTallies(store), await recounted(store), step);
        await intel.recordSightings([
          bot(1),
          bot(2, { tier: 'council', tlp: 'green' }),
          bot(3, { observedAt: new Date(now - 3 * DAY).toISOString() }),
          {
            type: 'c2',
            value: '203.0.113.5',
            port: 443,
            proto: 'tcp',
            source: 'isp',
            confidence: 60,
            tier: 'public',
            tlp: 'clear',
          },
          {
            type: 'domain',
            value: 'bad.example.com',
            source: 'feed',
            confidence: 50,
            tier: 'council',
            tlp: 'red',
          },
        ]);
        await check('created');
        assert.ok((await keptTallies(store)).length > 0);
        // The same indicator twice in one batch, a second source raising tier and TLP.
        await intel.recordSightings([
          bot(2, { source: 'darknet-b', tier: 'full', tlp: 'amber+strict' }),
          bot(2, { source: 'darknet-c' }),
          {
            type: 'c2',
            value: '203.0.113.5',
            port: 443,
            proto: 'tcp',
            source: 'isp-2',
            confidence: 80,
            tier: 'council',
            tlp: 'amber',
          },
        ]);
        await check('merged and raised');
        // A later observation moves the expiry of an old one forward by days.
        await intel.recordSighting(bot(3, { observedAt: new Date(now).toISOString() }));
        await check('expiry moved');
        const withdrawn = await intel.withdraw(
          { kind: 'bot', value: '198.51.100.1' },
          'false positive',
          'analyst',
        );
        await check('withdrawn');
        // An older report does not revive it; a newer one does.
        await intel.recordSighting(bot(1, { observedAt: new Date(now - DAY).toISOString() }));
        await check('older report');
        assert.equal((await intel.get(withdrawn.id))!.withdrawnAt, withdrawn.withdrawnAt);
        await intel.recordSighting(bot(1, { observedAt: new Date(Date.now() + 1000).toISOString() }));
        await check('revived');
        assert.equal((await intel.get(withdrawn.id))!.withdrawnAt, null);
        // A rebuild from the table gives the same rows.
        const kept = await keptTallies(store);
        await rebuildIndicatorTallies(store.db);
        assert.deepEqual(await keptTallies(store), kept);
      });
    });

    test('read active, new-in-24-hours and per-hour counts equal to a brute-force count at any moment', async () => {
      await withIntel(async (intel, store) => {
        const t0 = Date.now();
        const inputs: SightingInput[] = [];
        for (let i = 0; i < 60; i++) {
          // Observations spread over the last 8 days: bots expire after 7, so some are expired,
          // some expire within the hour and some within a few days.
          inputs.push(
            bot(i, {
              observedAt: new Date(t0 - (i * 8 * DAY) / 60 - (i % 5) * 7 * 60_000).toISOString(),
              tier: (['full', 'council', 'public'] as const)[i % 3],
              tlp: i % 4 === 0 ? 'red' : 'amber',
            }),
          );
        }
        inputs.push({
          type: 'c2',
          value: '203.0.113.9',
          port: 80,
          proto: 'tcp',
          source: 'isp',
          confidence: 90,
          tier: 'public',
          tlp: 'clear',
        });
        await intel.recordSightings(inputs);
        await intel.withdraw({ kind: 'bot', value: '198.51.100.2' }, 'cleaned up', 'analyst');
        const rows = await store.db.selectFrom('indicators').select(['expires_at']).execute();
        const moments = [
          t0,
          t0 + 30 * 60_000,
          t0 + DAY - 60_000, // created 24 h ago less a minute: inside the window (the partial hour)
          t0 + DAY + 60_000, // just outside it
          t0 + 3 * DAY,
          ...rows.slice(0, 12).flatMap((r) => [Date.parse(r.expires_at) - 1, Date.parse(r.expires_at)]),
        ];
        for (const ms of moments) {
          const now = new Date(ms);
          const reading = await intel.tallies(now);
          assert.deepEqual(summary(reading), await bruteForce(store, now), `at ${now.toISOString()}`);
          assert.equal(reading.hours.length, 24);
          assert.equal(reading.hours[23], hourOf(now.toISOString()));
          for (const c of reading.classes) {
            const inWindow = c.perHour.reduce((a, b) => a + b, 0);
            // The per-hour buckets hold the window but for the part of the oldest hour outside it.
            assert.ok(inWindow <= c.new24h, 'per-hour sum within new24h');
          }
        }
        const at0 = await intel.tallies(new Date(t0));
        const created = at0.classes.reduce((a, c) => a + c.perHour[23]! + c.perHour[22]!, 0);
        assert.equal(created, 60, 'all but the withdrawn one were recorded in the last hour or two');
        assert.equal(
          (await intel.tallies(new Date(t0 + DAY + 2 * HOUR))).classes.reduce((a, c) => a + c.new24h, 0),
          0,
          'nothing is new a day later',
        );
      });
    });
  });
}
