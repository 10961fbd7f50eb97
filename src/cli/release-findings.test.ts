/**
 * Issue #15, tried as an attacker and as low-tier members would: one test per finding, each
 * through the hub's own HTTP routes, on SQLite and PostgreSQL. Each failed on the code before
 * the release rule (see the commit that added this file), and so did the later findings at the end.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { intelMigrations, recordOsintDocument, type SightingInput } from '../intel/index.ts';
import {
  COLLECTION_IDS,
  hubIdentity,
  TIER_EXTENSION_ID,
  tlpMarkingId,
  type StixObject,
} from '../share/index.ts';
import { ownNetworkCollectionId } from '../share/testing.ts';
import { testEngines } from '../store/testing.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';
import { startReleaseHub, type ReleaseHub } from './testing.ts';

const C = COLLECTION_IDS;
const objectsUrl = (root: string, id: string) => `/${root}/collections/${id}/objects/`;
const T = '2026-01-01T00:00:00.000Z';

const ORGS = [
  { name: 'NISC', role: 'analysis' as const },
  { name: 'Ministry', role: 'government' as const },
  { name: 'ISP A', role: 'isp' as const, consent: true, prefixes: ['192.0.2.0/25'] },
  { name: 'ISP B', role: 'isp' as const, consent: true, asns: [64501] },
  { name: 'ISP Unsigned', role: 'isp' as const, prefixes: ['198.51.100.0/28'] },
  { name: 'Vendor', role: 'vendor' as const, prefixes: ['203.0.113.0/28'] },
  { name: 'Citizen', role: 'public' as const, prefixes: ['203.0.113.16/28'] },
];

function indicatorObject(
  ip: string,
  port: number,
  extra: { tier?: string; tlp?: string; id?: string; modified?: string; createdBy?: string } = {},
): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: extra.id ?? `indicator--${crypto.randomUUID()}`,
    created: T,
    modified: extra.modified ?? T,
    pattern: `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '${ip}' AND network-traffic:dst_port = ${port} AND network-traffic:protocols[*] = 'tcp']`,
    pattern_type: 'stix',
    valid_from: T,
    confidence: 70,
    ...(extra.createdBy ? { created_by_ref: extra.createdBy } : {}),
    ...(extra.tlp ? { object_marking_refs: [tlpMarkingId(extra.tlp as 'red')] } : {}),
    ...(extra.tier
      ? { extensions: { [TIER_EXTENSION_ID]: { extension_type: 'property-extension', tier: extra.tier } } }
      : {}),
  };
}

async function bodyOf(h: ReleaseHub, url: string, org: string | undefined): Promise<string> {
  const res = await h.req('GET', url, org);
  return res.statusCode === 200 ? res.body : '';
}

/** Everything a reader can pull about an address through TAXII (every readable collection) and /api. */
async function everythingSeenBy(h: ReleaseHub, org: string): Promise<string> {
  const parts: string[] = [];
  for (const root of ['full', 'council', 'public', 'network']) {
    const list = await h.req('GET', `/${root}/collections/`, org);
    if (list.statusCode !== 200) continue;
    for (const c of (list.json().collections ?? []) as { id: string }[])
      parts.push(await bodyOf(h, objectsUrl(root, c.id), org));
  }
  for (const url of [
    '/api/indicators?limit=1000',
    '/api/export/c2.csv',
    '/api/export/c2.txt',
    '/api/export/c2.stix.json',
    '/api/export/bots.txt',
    '/api/export/suricata.rules',
    '/console/api/indicators?limit=1000',
  ])
    parts.push(await bodyOf(h, url, org));
  return parts.join('\n');
}

async function record(h: ReleaseHub, ...sightings: SightingInput[]) {
  await h.intel.recordSightings(sightings);
  await h.hub.publisher.sync();
}

for (const engine of testEngines(ROOM_MIGRATIONS)) {
  const withHub = (fn: (h: ReleaseHub) => Promise<void>) => async () => {
    const h = await startReleaseHub(await engine.open(), ORGS);
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };

  describe(`later release findings on ${engine.name}`, { skip: engine.skip }, () => {
    test(
      'an address a TLP:CLEAR advisory merely names is no public notice: council members get it with its confidence',
      withHub(async (h) => {
        // Advisories name victims, sinkholes and vendors' sites too; public notice drops confidence.
        await recordOsintDocument(
          h.intel,
          {
            id: 'b'.repeat(64),
            feed: 'vendor-blog',
            url: 'https://blog.vendor.example/post',
            title: 'Campaign',
            fetchedAt: T,
          },
          [
            { type: 'ipv4', value: '198.51.100.77', port: 8443, context: 'victim at 198.51.100.77' },
            {
              type: 'domain',
              value: 'named-only-in-advisory.example',
              context: 'named-only-in-advisory[.]example',
            },
          ],
          { tlp: 'clear' },
        );
        await h.hub.publisher.sync();
        for (const org of ['Citizen', 'Vendor', 'ISP Unsigned']) {
          const seen = await everythingSeenBy(h, org);
          assert.ok(!seen.includes('198.51.100.77'), `${org} sees an address only an advisory names`);
          assert.ok(!seen.includes('named-only-in-advisory'), `${org} sees a name only an advisory names`);
        }
        const council = await h.req('GET', objectsUrl('council', C.council), 'ISP B');
        const indicators = (council.json().objects as StixObject[]).filter(
          (o) => o.type === 'indicator' && String(o.pattern).includes('198.51.100.77'),
        );
        assert.equal(indicators.length, 1);
        assert.equal(indicators[0]!.confidence, 20, 'the council copy carries the low confidence');
      }),
    );

    test(
      'what an earlier version put in public notice from an advisory alone is revoked there by migration 0014',
      withHub(async (h) => {
        const named = {
          type: 'c2',
          value: '198.51.100.78',
          port: 443,
          tlp: 'clear',
          tier: 'public',
        } as const;
        // As earlier versions recorded a CLEAR feed's address: tier public.
        await record(h, { ...named, source: 'osint:vendor-blog', confidence: 20 });
        await record(h, { ...named, value: '198.51.100.79', source: 'web:jpcert', confidence: 90 });
        const publicCopies = async () =>
          (
            (await h.req('GET', objectsUrl('public', C.public), 'Citizen')).json().objects as StixObject[]
          ).filter((o) => o.type === 'indicator');
        const latest = async (value: string) =>
          (await publicCopies())
            .filter((o) => String(o.pattern).includes(value))
            .sort((a, b) => String(a.modified).localeCompare(String(b.modified)))
            .at(-1);
        assert.ok((await latest('198.51.100.78')) && !(await latest('198.51.100.78'))!.revoked);
        await intelMigrations(engine.name)['0014_intel_001_osint_mentions_below_public_notice']!.up(
          h.store.db,
        );
        await h.hub.publisher.sync();
        assert.equal((await latest('198.51.100.78'))?.revoked, true, 'revoked in public notice');
        assert.ok(!(await latest('198.51.100.79'))!.revoked, 'a published list stays public notice');
        const council = await h.req('GET', objectsUrl('council', C.council), 'ISP B');
        assert.ok(council.body.includes('198.51.100.78'), 'council members still get it');
      }),
    );
  });

  describe(`issue #15 findings on ${engine.name}`, { skip: engine.skip }, () => {
    test(
      '1: a TLP:RED bot never reaches a vendor through bots.txt',
      withHub(async (h) => {
        await record(h, { type: 'bot', value: '203.0.113.5', source: 'darknet', confidence: 90, tlp: 'red' });
        assert.equal((await h.req('GET', '/api/export/bots.txt', 'Vendor')).body, '');
        assert.ok(!(await everythingSeenBy(h, 'Vendor')).includes('203.0.113.5'));
        // Even to a consented ISP holding the address, RED does not leave the full tier.
        await record(h, { type: 'bot', value: '192.0.2.66', source: 'darknet', confidence: 90, tlp: 'red' });
        assert.ok(!(await everythingSeenBy(h, 'ISP A')).includes('192.0.2.66'));
        assert.ok((await everythingSeenBy(h, 'NISC')).includes('192.0.2.66'), 'the full tier has it');
      }),
    );

    test(
      '2: public-role and unconsented organisations get no AMBER+STRICT own-network product',
      withHub(async (h) => {
        await record(
          h,
          { type: 'bot', value: '198.51.100.3', source: 'darknet', confidence: 90 },
          { type: 'bot', value: '203.0.113.20', source: 'darknet', confidence: 90 },
          { type: 'bot', value: '192.0.2.9', source: 'darknet', confidence: 90 },
        );
        for (const [org, address] of [
          ['ISP Unsigned', '198.51.100.3'],
          ['Citizen', '203.0.113.20'],
        ] as const) {
          const own = await h.req('GET', objectsUrl('network', ownNetworkCollectionId(h.orgIds[org]!)), org);
          assert.ok(!own.body.includes(tlpMarkingId('amber+strict')), `${org}: no AMBER+STRICT object`);
          assert.ok(
            !(await everythingSeenBy(h, org)).includes(address),
            `${org} learns nothing of ${address}`,
          );
        }
        // A consented ISP still gets its own product.
        assert.equal((await h.req('GET', '/api/export/bots.txt', 'ISP A')).body, '192.0.2.9\n');
      }),
    );

    test(
      '3: a writer cannot put a RED object claiming the public tier and the hub as creator into public notice',
      withHub(async (h) => {
        const forged = indicatorObject('198.51.100.99', 4444, {
          tier: 'public',
          tlp: 'red',
          createdBy: hubIdentity().id,
        });
        for (const writer of ['NISC', 'Ministry', 'ISP A']) {
          const res = await h.req('POST', objectsUrl('public', C.public), writer, { objects: [forged] });
          assert.ok(
            res.statusCode !== 202 || res.json().success_count === 0,
            `${writer} wrote public notice`,
          );
        }
        for (const reader of ['Citizen', 'Vendor', 'ISP Unsigned'])
          assert.ok(!(await everythingSeenBy(h, reader)).includes('198.51.100.99'));
        // Where a writer may post, the hub names the writer as creator, never the body's claim.
        const res = await h.req('POST', objectsUrl('full', C.full), 'Ministry', { objects: [forged] });
        assert.equal(res.json().success_count, 1);
        const stored = (await h.req('GET', `${objectsUrl('full', C.full)}${forged.id}/`, 'NISC')).json()
          .objects[0] as StixObject;
        assert.notEqual(stored.created_by_ref, hubIdentity().id);
      }),
    );

    test(
      '4: a public-tier indicator under TLP:AMBER is not published to the public (let alone as CLEAR)',
      withHub(async (h) => {
        await record(h, {
          type: 'c2',
          value: '198.51.100.44',
          port: 8443,
          proto: 'tcp',
          source: 'nict',
          confidence: 80,
          tier: 'public',
          tlp: 'amber',
        });
        const pub = await h.req('GET', objectsUrl('public', C.public), 'Citizen');
        assert.ok(!pub.body.includes('198.51.100.44'));
        for (const reader of ['Citizen', 'Vendor'])
          assert.ok(!(await everythingSeenBy(h, reader)).includes('198.51.100.44'));
        // The council gets it, marked no less strictly than its source (AMBER+STRICT here).
        const council = (await h.req('GET', objectsUrl('council', C.council), 'ISP A')).json()
          .objects as StixObject[];
        const copy = council.find(
          (o) => o.type === 'indicator' && String(o.pattern).includes('198.51.100.44'),
        );
        assert.deepEqual(copy?.object_marking_refs, [tlpMarkingId('amber+strict')]);
      }),
    );
  });

  describe(`issue #15 findings on ${engine.name}`, { skip: engine.skip }, () => {
    test(
      "5: ownership: ISP B neither deletes nor versions ISP A's submission; government cannot delete the hub's objects",
      withHub(async (h) => {
        const url = objectsUrl('council', C.submissions);
        const fromA = indicatorObject('198.51.100.55', 443);
        assert.equal((await h.req('POST', url, 'ISP A', { objects: [fromA] })).json().success_count, 1);
        const del = await h.req('DELETE', `${url}${fromA.id}/`, 'ISP B');
        assert.notEqual(del.statusCode, 200, 'ISP B deleted A’s object');
        const newer = indicatorObject('198.51.100.66', 443, {
          id: fromA.id,
          modified: '2026-02-01T00:00:00.000Z',
        });
        const post = (await h.req('POST', url, 'ISP B', { objects: [newer] })).json();
        assert.equal(post.success_count, 0, 'ISP B versioned A’s object');
        const versions = (await h.req('GET', `${url}${fromA.id}/?match[version]=all`, 'NISC')).json()
          .objects as StixObject[];
        assert.deepEqual(
          versions.map((o) => o.pattern),
          [fromA.pattern],
        );
        assert.equal(
          await h.intel.get({ kind: 'c2', value: '198.51.100.66', port: 443, proto: 'tcp' }),
          undefined,
        );
        // The owner may; the analysis centre may, audited.
        assert.equal((await h.req('DELETE', `${url}${fromA.id}/`, 'NISC')).statusCode, 200);
        const audit = await h.audit.list(0, 10_000);
        assert.ok(
          audit.some((r) => r.action === 'taxii.delete' && JSON.stringify(r.detail).includes('forOwner')),
        );

        await record(h, {
          type: 'c2',
          value: '198.51.100.77',
          port: 80,
          proto: 'tcp',
          source: 'nict',
          confidence: 80,
          tier: 'public',
          tlp: 'clear',
        });
        const pub = (await h.req('GET', objectsUrl('public', C.public), 'Ministry')).json()
          .objects as StixObject[];
        const hubObject = pub.find((o) => o.type === 'indicator')!;
        const gone = await h.req('DELETE', `${objectsUrl('public', C.public)}${hubObject.id}/`, 'Ministry');
        assert.notEqual(gone.statusCode, 200, 'a government token deleted the hub’s public object');
        assert.equal(
          (await h.req('GET', `${objectsUrl('public', C.public)}${hubObject.id}/`, 'Citizen')).statusCode,
          200,
        );
      }),
    );

    test(
      '7: the self-check does not tip off a C&C operator about restricted entries for its address',
      withHub(async (h) => {
        await record(h, {
          type: 'c2',
          value: '127.0.0.1',
          port: 4444,
          proto: 'tcp',
          source: 'nict',
          confidence: 95,
          tier: 'full',
          tlp: 'red',
        });
        const answer = (await h.req('GET', '/console/api/self-check', undefined)).json() as {
          address: string;
          listed: boolean;
          findings: unknown[];
        };
        assert.equal(answer.address, '127.0.0.1');
        assert.deepEqual([answer.listed, answer.findings], [false, []]);
      }),
    );

    test(
      '11: a government token reads neither the audit log nor the organisations through the console',
      withHub(async (h) => {
        assert.equal((await h.req('GET', '/api/audit', 'Ministry')).statusCode, 404);
        assert.equal((await h.req('GET', '/api/organisations', 'Ministry')).statusCode, 404);
        assert.notEqual((await h.req('GET', '/console/api/audit', 'Ministry')).statusCode, 200);
        const sharing = (await h.req('GET', '/console/api/sharing', 'Ministry')).json() as {
          organisations: { name: string }[];
        };
        assert.deepEqual(
          sharing.organisations.map((o) => o.name),
          ['Ministry'],
        );
        // The analysis centre does.
        assert.equal((await h.req('GET', '/console/api/audit', 'NISC')).statusCode, 200);
        assert.equal(
          ((await h.req('GET', '/console/api/sharing', 'NISC')).json().organisations as unknown[]).length,
          ORGS.length,
        );
      }),
    );
  });

  describe(`issue #15 findings on ${engine.name}`, { skip: engine.skip }, () => {
    test(
      '12: a submission reaches public notice only by an analysis-centre decision',
      withHub(async (h) => {
        const claim = indicatorObject('198.51.100.88', 9999, { tier: 'public', tlp: 'clear' });
        const url = objectsUrl('council', C.submissions);
        assert.equal((await h.req('POST', url, 'ISP A', { objects: [claim] })).json().success_count, 1);
        await h.hub.publisher.sync();
        for (const reader of ['Citizen', 'Vendor'])
          assert.ok(
            !(await everythingSeenBy(h, reader)).includes('198.51.100.88'),
            `${reader} before review`,
          );
        // Council members see it at once (the submitter's claim narrowed to the council).
        assert.ok((await everythingSeenBy(h, 'ISP B')).includes('198.51.100.88'));

        const queue = (await h.req('GET', '/console/api/review', 'NISC')).json().items as {
          id: string;
          value: string;
          submittedBy: string;
        }[];
        const entry = queue.find((e) => e.value === '198.51.100.88')!;
        assert.equal(entry.submittedBy, 'ISP A');
        assert.notEqual((await h.req('GET', '/console/api/review', 'Ministry')).statusCode, 200);
        assert.equal(
          (await h.req('POST', `/console/api/review/${entry.id}/approve`, 'ISP A', {})).statusCode,
          403,
          'only the analysis centre decides',
        );
        const edited = await h.req('POST', `/console/api/review/${entry.id}/edit`, 'NISC', {
          family: 'mirai',
        });
        assert.equal(edited.statusCode, 200);
        const approved = await h.req('POST', `/console/api/review/${entry.id}/approve`, 'NISC', {});
        assert.equal(approved.statusCode, 200);
        const citizen = await everythingSeenBy(h, 'Citizen');
        assert.ok(citizen.includes('198.51.100.88'), 'public notice after approval');
        assert.ok(citizen.includes('mirai'), 'with the edited family');
        // A refusal takes it back out.
        assert.equal(
          (await h.req('POST', `/console/api/review/${entry.id}/refuse`, 'NISC', {})).statusCode,
          200,
        );
        const pub = (await h.req('GET', objectsUrl('public', C.public), 'Citizen')).json()
          .objects as StixObject[];
        const copy = pub.find((o) => o.type === 'indicator' && String(o.pattern).includes('198.51.100.88'));
        assert.equal(copy?.revoked, true);
        const actions = (await h.audit.list(0, 10_000)).map((r) => r.action);
        for (const a of ['review.queue', 'review.edit', 'review.approve', 'review.refuse'])
          assert.ok(actions.includes(a), `${a} audited`);
      }),
    );
  });
}
