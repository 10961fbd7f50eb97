/**
 * Hygiene surveys as STIX: the reports validate against the OASIS schemas, each collection gets
 * what the release rule allows its tier, and the publisher publishes a survey once (also across
 * two publishers on one store).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig } from '../intel/index.ts';
import { testEngines } from '../store/testing.ts';
import { COLLECTION_IDS } from './collections.ts';
import {
  HYGIENE_EXTENSION_ID,
  hygieneProducts,
  type HygieneSurveyResults,
  type HygieneSurveySource,
} from './hygiene.ts';
import { createPublisher } from './publisher.ts';
import { HYGIENE_MARKINGS } from './release/index.ts';
import { stixValidator } from './stix-schemas.ts';
import { hubIdentity, isStixCommon, tierOf, tlpMarkingId, type StixObject } from './stix.ts';
import { HUB_MIGRATIONS } from './testing.ts';

const hub = hubIdentity();
const validate = stixValidator();
const checks = (dnssec: string, spf: string) => ({
  dnssec,
  spf,
  dmarc_policy: 'reject',
  dkim: 'ok',
  mta_sts: 'missing',
  tls_rpt: 'missing',
  dane: 'no',
  ipv6: 'web',
  https: 'ok',
  hsts: 'missing',
});

function survey(id: string): HygieneSurveyResults {
  return {
    survey: { id, startedAt: '2026-12-01T01:00:00.000Z', finishedAt: '2026-12-01T01:05:00.000Z', domains: 3 },
    sectors: [
      {
        sector: 'finance',
        score: 55,
        domains: 3,
        organisations: 2,
        adoption: { dnssec: 33.3, spf: 66.7, dmarc_policy: 100 },
      },
    ],
    organisations: [
      {
        organisation: 'Example Bank',
        sector: 'finance',
        score: 60,
        domains: 2,
        adoption: { dnssec: 50, spf: 100, dmarc_policy: 100 },
        results: [
          { domain: 'bank.example', score: 70, checks: checks('secure', 'strict') },
          { domain: 'www-bank.example', score: 50, checks: checks('insecure', 'strict') },
        ],
      },
      {
        organisation: 'Example Card',
        sector: 'finance',
        score: 50,
        domains: 1,
        adoption: { dnssec: 0, spf: 0, dmarc_policy: 100 },
        results: [{ domain: 'card.example', score: 50, checks: checks('bogus', 'missing') }],
      },
    ],
  };
}

const reports = (objects: readonly StixObject[], level: string) =>
  objects.filter(
    (o) =>
      o.type === 'report' &&
      (o.extensions as Record<string, { level?: string }>)[HYGIENE_EXTENSION_ID]?.level === level,
  );

test('every object validates against the OASIS STIX 2.1 schemas and carries tier and TLP', () => {
  const products = hygieneProducts(survey('2026-12'), hub);
  let seen = 0;
  for (const objects of products.values())
    for (const o of objects) {
      assert.equal(validate(o), undefined, `${o.id} validates`);
      assert.ok(isStixCommon(o), `${o.id} passes the hub's own check`);
      assert.ok(tierOf(o), `${o.id} has a tier`);
      assert.equal((o.object_marking_refs as string[]).length, 1);
      seen++;
    }
  assert.ok(seen >= 12);
});

test('the public collection gets sector reports under TLP:CLEAR only; council and full get both', () => {
  const products = hygieneProducts(survey('2026-12'), hub);
  const pub = products.get(COLLECTION_IDS.public)!;
  assert.equal(reports(pub, 'sector').length, 1);
  assert.equal(reports(pub, 'organisation').length, 0);
  const text = JSON.stringify(pub);
  for (const secret of ['Example Bank', 'Example Card', 'bank.example', 'card.example'])
    assert.ok(!text.includes(secret), `public products name ${secret}`);
  for (const o of pub) {
    assert.equal(tierOf(o), 'public');
    assert.deepEqual(o.object_marking_refs, [tlpMarkingId('clear')]);
  }
  for (const collection of [COLLECTION_IDS.council, COLLECTION_IDS.full]) {
    const objects = products.get(collection)!;
    const org = reports(objects, 'organisation');
    assert.equal(org.length, 2);
    for (const o of org) {
      assert.equal(tierOf(o), HYGIENE_MARKINGS.organisation.tier);
      assert.deepEqual(o.object_marking_refs, [tlpMarkingId(HYGIENE_MARKINGS.organisation.tlp)]);
    }
    const bank = org.find((o) => String(o.name).endsWith('Example Bank'))!;
    const ext = (bank.extensions as Record<string, Record<string, unknown>>)[HYGIENE_EXTENSION_ID]!;
    assert.equal(ext.score, 60);
    assert.deepEqual(
      (ext.results as { domain: string; dnssec: string }[]).map((r) => [r.domain, r.dnssec]),
      [
        ['bank.example', 'secure'],
        ['www-bank.example', 'insecure'],
      ],
    );
    // A council report's references resolve in its collection.
    const ids = new Set(objects.map((o) => o.id));
    for (const ref of org.flatMap((o) => o.object_refs as string[])) assert.ok(ids.has(ref), ref);
  }
  const sector = reports(pub, 'sector')[0]!;
  const ext = (sector.extensions as Record<string, Record<string, unknown>>)[HYGIENE_EXTENSION_ID]!;
  assert.deepEqual(ext.adoption, { dnssec: 33.3, spf: 66.7, dmarc_policy: 100 });
  assert.equal(sector.published, '2026-12-01T01:05:00.000Z');
  assert.match(String(sector.description), /mean score 55 of 2 organisations \(3 domains\)/);
});

for (const engine of testEngines(HUB_MIGRATIONS)) {
  describe(`hygiene publishing on ${engine.name}`, { skip: engine.skip }, () => {
    test('each recorded survey is published once, by whichever publisher gets there first', async () => {
      const store = await engine.open();
      try {
        const recorded: HygieneSurveyResults[] = [survey('2026-11')];
        const source: HygieneSurveySource = {
          surveys: async () => recorded.map((r) => ({ id: r.survey.id })),
          surveyResults: async (id) => recorded.find((r) => r.survey.id === id),
        };
        const registry = new Registry();
        const intel = createIntel(IntelConfig.parse({}), { store, logger: silentLogger(), registry });
        const publisher = (r: Registry) =>
          createPublisher(
            { intervalMs: 0 },
            { store, intel, hub, logger: silentLogger(), registry: r, hygiene: source },
          );
        const [a, b] = [publisher(registry), publisher(new Registry())];
        await a.sync();
        await b.sync();
        const count = async (collection: string) =>
          (
            await store.db
              .selectFrom('stix_objects')
              .select(['object_id'])
              .where('collection_id', '=', collection)
              .where('object_type', '=', 'report')
              .execute()
          ).length;
        assert.equal(await count(COLLECTION_IDS.public), 1);
        assert.equal(await count(COLLECTION_IDS.council), 3);
        assert.equal(await count(COLLECTION_IDS.full), 3);

        recorded.push(survey('2026-12'));
        await Promise.all([a.sync(), b.sync()]);
        assert.equal(await count(COLLECTION_IDS.public), 2);
        assert.equal(await count(COLLECTION_IDS.council), 6);
        const metrics = await registry.getSingleMetricAsString(
          'tsunagi_share_published_hygiene_surveys_total',
        );
        assert.match(metrics, /total [12]$/m);
      } finally {
        await store.close();
      }
    });
  });
}
