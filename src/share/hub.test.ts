/**
 * The hub end to end over both store engines: ISPs POST C&C lists over TAXII, they merge in intel,
 * the publisher writes tiered STIX, and a matrix proves each role reads exactly what its tier allows.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig } from '../intel/index.ts';
import { testEngines } from '../store/testing.ts';
import { HUB_MIGRATIONS, TAXII, taxiiRequests } from './testing.ts';
import { createAuditLog } from './audit.ts';
import { COLLECTION_IDS } from './collections.ts';
import { HubConfig } from './config.ts';
import { createHub } from './index.ts';
import { stixValidator } from './stix-schemas.ts';
import { TIER_EXTENSION_ID, tierOf, type StixObject } from './stix.ts';

const validate = stixValidator();

function c2Envelope(ip: string, port: number, family: string, tier?: string) {
  const ind = `indicator--${crypto.randomUUID()}`;
  const mal = `malware--${crypto.randomUUID()}`;
  const t = '2026-01-01T00:00:00.000Z';
  const ext = tier
    ? { extensions: { [TIER_EXTENSION_ID]: { extension_type: 'property-extension', tier } } }
    : {};
  return {
    objects: [
      {
        type: 'indicator',
        spec_version: '2.1',
        id: ind,
        created: t,
        modified: t,
        pattern: `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '${ip}' AND network-traffic:dst_port = ${port} AND network-traffic:protocols[*] = 'tcp']`,
        pattern_type: 'stix',
        valid_from: t,
        confidence: 60,
        ...ext,
      },
      {
        type: 'malware',
        spec_version: '2.1',
        id: mal,
        created: t,
        modified: t,
        name: family,
        is_family: true,
        ...ext,
      },
      {
        type: 'relationship',
        spec_version: '2.1',
        id: `relationship--${crypto.randomUUID()}`,
        created: t,
        modified: t,
        relationship_type: 'indicates',
        source_ref: ind,
        target_ref: mal,
        ...ext,
      },
    ],
  };
}

async function setup(
  open: () => ReturnType<ReturnType<typeof testEngines>[number]['open']>,
  overrides: Record<string, unknown> = {},
) {
  const store = await open();
  const registry = new Registry();
  const logger = silentLogger();
  const audit = createAuditLog({ store });
  const intel = createIntel(IntelConfig.parse({}), { store, logger, registry, audit });
  const hub = createHub(HubConfig.parse({ listen: '', publishIntervalMs: 0, ...overrides }), {
    store,
    intel,
    audit,
    logger,
    registry,
  });
  await hub.start();
  const tokens: Record<string, string> = {};
  const orgs = [
    { name: 'NISC', role: 'analysis' },
    { name: 'Ministry', role: 'government' },
    { name: 'Council Member', role: 'council', consent: true },
    { name: 'ISP A', role: 'isp', consent: true, prefixes: ['192.0.2.0/25'] },
    { name: 'ISP B', role: 'isp', consent: true, asns: [64501] },
    { name: 'ISP Unsigned', role: 'isp' },
    { name: 'Vendor', role: 'vendor' },
    { name: 'Citizen', role: 'public' },
  ] as const;
  for (const o of orgs) {
    await hub.orgs.add(
      { ...o, prefixes: 'prefixes' in o ? [...o.prefixes] : [], asns: 'asns' in o ? [...o.asns] : [] },
      'test',
    );
    tokens[o.name] = (await hub.orgs.createToken(o.name, {}, 'test')).token;
  }
  const app = hub.app();
  const req = taxiiRequests(app, tokens);
  return {
    store,
    intel,
    hub,
    app,
    tokens,
    req,
    audit,
    registry,
    close: async () => {
      await hub.stop();
      await store.close();
    },
  };
}

const C = COLLECTION_IDS;
const objectsUrl = (root: string, id: string) => `/${root}/collections/${id}/objects/`;

type Engine = ReturnType<typeof testEngines>[number];
type Harness = Awaited<ReturnType<typeof setup>>;

/** curl exports: the council gets address, port, protocol, confidence, family; no times. Bots go to their own ISP only. */
async function assertExports(h: Harness): Promise<void> {
  const csv = await h.app.inject({
    url: '/api/export/c2.csv',
    headers: { authorization: `Bearer ${h.tokens['ISP B']}` },
  });
  assert.equal(csv.statusCode, 200);
  assert.match(csv.body, /^198\.51\.100\.7,443,tcp,\d+,mirai$/m);
  assert.ok(!/\d{4}-\d{2}-\d{2}/.test(csv.body), 'no timestamps');
  const basic = Buffer.from(`anyone:${h.tokens['Citizen']}`).toString('base64');
  const txt = await h.app.inject({
    url: '/api/export/c2.txt',
    headers: { authorization: `Basic ${basic}` },
  });
  assert.equal(txt.body, '203.0.113.5:8080\n');
  const botsA = await h.app.inject({
    url: '/api/export/bots.txt',
    headers: { authorization: `Bearer ${h.tokens['ISP A']}` },
  });
  assert.equal(botsA.body, '192.0.2.10\n');
  const botsB = await h.app.inject({
    url: '/api/export/bots.txt',
    headers: { authorization: `Bearer ${h.tokens['ISP B']}` },
  });
  assert.equal(botsB.body, '192.0.2.200\n');
  const botsVendor = await h.app.inject({
    url: '/api/export/bots.txt',
    headers: { authorization: `Bearer ${h.tokens['Vendor']}` },
  });
  assert.equal(botsVendor.body, '');
  const bundle = await h.app.inject({
    url: '/api/export/c2.stix.json',
    headers: { authorization: `Bearer ${h.tokens['Council Member']}` },
  });
  for (const o of bundle.json().objects as StixObject[]) assert.equal(validate(o), undefined);

  const manifest = await h.app.inject({
    url: '/api/export/misp/manifest.json',
    headers: { authorization: `Bearer ${h.tokens['ISP B']}` },
  });
  const [eventUuid] = Object.keys(manifest.json() as object);
  const event = await h.app.inject({
    url: `/api/export/misp/${eventUuid}.json`,
    headers: { authorization: `Bearer ${h.tokens['ISP B']}` },
  });
  const values = (event.json().Event.Attribute as { value: string }[]).map((a) => a.value).sort();
  assert.deepEqual(values, ['198.51.100.7|443', '203.0.113.5|8080']);
  assert.equal(
    (
      await h.app.inject({
        url: '/api/export/misp/nope.json',
        headers: { authorization: `Bearer ${h.tokens['ISP B']}` },
      })
    ).statusCode,
    400,
  );
}

/** Bad requests get TAXII error bodies. */
async function assertTaxiiErrors(h: Harness, url: string): Promise<void> {
  const unauth = await h.req('GET', '/taxii2/', undefined);
  assert.equal(unauth.statusCode, 401);
  assert.ok(unauth.headers['www-authenticate']);
  assert.equal(
    (await h.app.inject({ url: '/taxii2/', headers: { authorization: 'Bearer tsg_nope' } })).statusCode,
    401,
  );
  assert.equal((await h.req('GET', '/taxii2/', 'NISC', undefined, { accept: 'text/html' })).statusCode, 406);
  assert.equal((await h.req('GET', `${url}?next=garbage`, 'NISC')).statusCode, 400);
  assert.equal((await h.req('GET', `${url}?added_after=yesterday`, 'NISC')).statusCode, 400);
  assert.equal((await h.req('GET', `${url}?limit=0`, 'NISC')).statusCode, 400);
  const notJson = await h.app.inject({
    method: 'POST',
    url: objectsUrl('council', C.submissions),
    headers: { authorization: `Bearer ${h.tokens['ISP A']}`, 'content-type': TAXII },
    payload: '{oops',
  });
  assert.equal(notJson.statusCode, 400);
  assert.equal(notJson.json().http_status, '400');
  assert.equal(
    (await h.req('POST', objectsUrl('council', C.submissions), 'ISP A', { objects: 'no' })).statusCode,
    400,
  );
  const mixed = await h.req('POST', objectsUrl('council', C.submissions), 'ISP A', {
    objects: [
      { type: 'indicator', id: 'indicator--bad' },
      {
        type: 'indicator',
        spec_version: '2.1',
        id: `indicator--${crypto.randomUUID()}`,
        created: '2026-01-01T00:00:00Z',
        modified: '2026-01-01T00:00:00Z',
        pattern: "[file:name = 'x']",
        pattern_type: 'stix',
        valid_from: '2026-01-01T00:00:00Z',
      },
      ...c2Envelope('300.1.1.1', 1, 'x').objects.slice(0, 1),
    ],
  });
  assert.deepEqual([mixed.statusCode, mixed.json().success_count, mixed.json().failure_count], [202, 0, 3]);
}

function submissionRevocationTest(engine: Engine): void {
  test("a revoked submission takes back only its submitter's report; the last one withdraws the indicator", async () => {
    const h = await setup(engine.open);
    try {
      const url = objectsUrl('council', C.submissions);
      const post = async (org: string, objects: unknown[]) => {
        const res = await h.req('POST', url, org, { objects });
        assert.equal(res.statusCode, 202);
        return res.json() as { success_count: number; failures: unknown[] };
      };
      const revoked = (object: Record<string, unknown>) => ({
        ...object,
        modified: '2026-01-02T00:00:00.000Z',
        revoked: true,
      });
      const fromA = c2Envelope('198.51.100.20', 443, 'Mirai').objects[0]!;
      const fromB = c2Envelope('198.51.100.20', 443, 'Mirai').objects[0]!;
      const onlyA = c2Envelope('198.51.100.21', 443, 'Mirai').objects[0]!;
      await post('ISP A', [fromA, onlyA]);
      await post('ISP B', [fromB]);
      const shared = { kind: 'c2' as const, value: '198.51.100.20', port: 443, proto: 'tcp' };
      const single = { ...shared, value: '198.51.100.21' };
      const sources = async (ref: typeof shared) =>
        (await h.intel.sightings((await h.intel.get(ref))!.id)).map((s) => s.source).sort();
      assert.deepEqual(await sources(shared), ['ISP A', 'ISP B']);

      const status = await post('ISP A', [revoked(fromA), revoked(onlyA)]);
      assert.deepEqual([status.success_count, status.failures], [2, []]);
      // ISP B still reports the shared server: it stays, now on ISP B's word alone.
      assert.equal((await h.intel.get(shared))!.withdrawnAt, null);
      assert.deepEqual(await sources(shared), ['ISP B']);
      assert.equal((await h.intel.get(shared))!.confidence, 60);
      // ISP A was the only source of the other one: it is withdrawn.
      assert.notEqual((await h.intel.get(single))!.withdrawnAt, null);
      assert.deepEqual(await sources(single), []);

      // Revoking again changes nothing; ISP B taking its report back withdraws the shared one.
      await post('ISP A', [revoked(fromA)]);
      assert.equal((await h.intel.get(shared))!.withdrawnAt, null);
      await post('ISP B', [revoked(fromB)]);
      assert.notEqual((await h.intel.get(shared))!.withdrawnAt, null);
    } finally {
      await h.close();
    }
  });
}

function mergeAndSanitiseTest(engine: Engine): void {
  test('ISPs post C&C lists; they merge; the council reads the merged, sanitised list; the public sees only sanitised objects', async () => {
    const h = await setup(engine.open);
    try {
      const postA = await h.req(
        'POST',
        objectsUrl('council', C.submissions),
        'ISP A',
        c2Envelope('198.51.100.7', 443, 'Mirai'),
      );
      assert.equal(postA.statusCode, 202);
      assert.match(postA.headers['content-type'] as string, /application\/taxii\+json;version=2.1/);
      const status = postA.json();
      assert.deepEqual(
        [status.status, status.success_count, status.failure_count, status.total_count],
        ['complete', 3, 0, 3],
      );
      const postB = await h.req(
        'POST',
        objectsUrl('council', C.submissions),
        'ISP B',
        c2Envelope('198.51.100.7', 443, 'mirai'),
      );
      assert.equal(postB.json().success_count, 3);
      // A public-tier C&C from the analysis center's own intel, and a bot behind ISP A.
      await h.intel.recordSighting({
        type: 'c2',
        value: '203.0.113.5',
        port: 8080,
        proto: 'tcp',
        source: 'darknet',
        confidence: 90,
        family: 'gafgyt',
        tier: 'public',
        tlp: 'clear',
      });
      await h.intel.recordSighting({ type: 'bot', value: '192.0.2.10', source: 'darknet', confidence: 70 });
      await h.intel.recordSighting({
        type: 'bot',
        value: '192.0.2.200',
        source: 'darknet',
        confidence: 70,
        asn: 64501,
      });

      const merged = (await h.intel.list({ kinds: ['c2'] })).items.find((i) => i.value === '198.51.100.7')!;
      assert.deepEqual(
        (await h.intel.sightings(merged.id)).map((s) => s.source),
        ['ISP A', 'ISP B'],
      );
      await h.hub.publisher.sync();

      // Status is readable by its poster only.
      assert.equal((await h.req('GET', `/council/status/${status.id}/`, 'ISP A')).json().success_count, 3);
      assert.equal((await h.req('GET', `/council/status/${status.id}/`, 'ISP B')).statusCode, 404);

      const council = await h.req(
        'GET',
        `${objectsUrl('council', C.council)}?match[type]=indicator`,
        'Council Member',
      );
      assert.equal(council.statusCode, 200);
      assert.ok(council.headers['x-taxii-date-added-first']);
      const indicators = council.json().objects as StixObject[];
      assert.deepEqual(indicators.map((o) => String(o.pattern).match(/'(\d+\.\d+\.\d+\.\d+)'/)![1]).sort(), [
        '198.51.100.7',
        '203.0.113.5',
      ]);
      const councilAll = (await h.req('GET', objectsUrl('council', C.council), 'ISP B')).body;
      assert.ok(
        !councilAll.includes('ISP A') && !councilAll.includes('192.0.2.10'),
        'no sources and no bots at the council tier',
      );

      const pub = (await h.req('GET', `${objectsUrl('public', C.public)}?limit=1000`, 'Citizen')).json()
        .objects as StixObject[];
      const pubIndicators = pub.filter((o) => o.type === 'indicator');
      assert.equal(pubIndicators.length, 1);
      assert.match(String(pubIndicators[0]!.pattern), /203\.0\.113\.5/);
      for (const o of pub) {
        assert.equal(validate(o), undefined);
        if (o.type !== 'marking-definition' && o.type !== 'extension-definition')
          assert.equal(tierOf(o), 'public');
        assert.ok(!('confidence' in o));
      }
      const full = (await h.req('GET', `${objectsUrl('full', C.full)}?match[type]=sighting`, 'NISC')).json()
        .objects as StixObject[];
      assert.ok(full.length >= 4);
      for (const o of full) assert.equal(validate(o), undefined);

      await assertExports(h);

      const verify = await h.audit.verify();
      assert.equal(verify.ok, true);
      const actions = (await h.audit.list(0, 1000)).map((r) => `${r.action} ${r.actor}`);
      assert.ok(actions.includes('taxii.write ISP A'));
      assert.ok(actions.includes('taxii.read Council Member'), 'council reads are AMBER+STRICT and audited');
      assert.ok(!actions.includes('taxii.read Citizen'), 'public CLEAR reads are not');
      assert.ok(actions.includes('api.read ISP A'), 'a bot list read is audited');
      // These posts share no object key, so the hub refused no version for a key collision.
      assert.match(await h.registry.metrics(), /^tsunagi_hub_refused_versions_total 0$/m);
    } finally {
      await h.close();
    }
  });
}

function tierReadTest(engine: Engine): void {
  test('every role reads exactly what its tier allows', async () => {
    const h = await setup(engine.open);
    try {
      await h.intel.recordSighting({
        type: 'c2',
        value: '198.51.100.9',
        port: 80,
        proto: 'tcp',
        source: 'x',
        confidence: 50,
        tier: 'public',
        tlp: 'clear',
      });
      await h.hub.publisher.sync();
      const cols = {
        full: ['full', C.full],
        council: ['council', C.council],
        submissions: ['council', C.submissions],
        public: ['public', C.public],
      } as const;
      // read status per collection; 404 = not even visible.
      const expected: Record<string, { roots: string[]; read: Record<keyof typeof cols, number> }> = {
        NISC: {
          roots: ['/full/', '/council/', '/public/'],
          read: { full: 200, council: 200, submissions: 200, public: 200 },
        },
        Ministry: {
          roots: ['/full/', '/council/', '/public/'],
          read: { full: 200, council: 200, submissions: 200, public: 200 },
        },
        'Council Member': {
          roots: ['/council/', '/public/'],
          read: { full: 404, council: 200, submissions: 403, public: 200 },
        },
        'ISP A': {
          // ISP A names its prefixes, so it also has its own-network collection.
          roots: ['/council/', '/public/', '/network/'],
          read: { full: 404, council: 200, submissions: 403, public: 200 },
        },
        'ISP Unsigned': {
          roots: ['/public/'],
          read: { full: 404, council: 404, submissions: 404, public: 200 },
        },
        Vendor: { roots: ['/public/'], read: { full: 404, council: 404, submissions: 404, public: 200 } },
        Citizen: { roots: ['/public/'], read: { full: 404, council: 404, submissions: 404, public: 200 } },
      };
      for (const [org, want] of Object.entries(expected)) {
        const discovery = await h.req('GET', '/taxii2/', org);
        assert.deepEqual(discovery.json().api_roots, want.roots, org);
        for (const [name, [root, id]] of Object.entries(cols)) {
          const res = await h.req('GET', objectsUrl(root, id), org);
          assert.equal(res.statusCode, want.read[name as keyof typeof cols], `${org} reading ${name}`);
          if (res.statusCode !== 200) {
            const body = res.json();
            assert.equal(body.http_status, String(res.statusCode));
            assert.ok(!JSON.stringify(body).includes(id), 'errors name nothing');
          }
          for (const path of ['', 'manifest/']) {
            const r = await h.req('GET', `/${root}/collections/${id}/${path}`, org);
            assert.equal(
              r.statusCode === 404,
              want.read[name as keyof typeof cols] === 404,
              `${org} ${name} ${path}`,
            );
          }
        }
        const list = await h.req('GET', '/council/collections/', org);
        if (want.roots.includes('/council/')) {
          const titles = (list.json().collections as { id: string; can_read: boolean; can_write: boolean }[])
            .map((c) => `${c.id}:${c.can_read}:${c.can_write}`)
            .sort();
          const full = org === 'NISC' || org === 'Ministry';
          assert.deepEqual(titles, [`${C.council}:true:false`, `${C.submissions}:${full}:true`].sort(), org);
        } else assert.equal(list.statusCode, 404);
      }
      // The JSON API follows the same tiers.
      const apiFor = async (org: string) =>
        (
          await h.app.inject({
            url: '/api/indicators?kind=c2',
            headers: { authorization: `Bearer ${h.tokens[org]}` },
          })
        ).json().items as Record<string, unknown>[];
      assert.ok('firstSeen' in (await apiFor('NISC'))[0]!);
      assert.deepEqual(
        Object.keys((await apiFor('ISP A'))[0]!).sort(),
        ['confidence', 'family', 'id', 'kind', 'port', 'proto', 'tlp', 'value']
          .filter((k) => k !== 'family')
          .sort(),
      );
      assert.ok(!('confidence' in (await apiFor('Citizen'))[0]!));
      assert.equal(
        (
          await h.app.inject({
            url: '/api/audit',
            headers: { authorization: `Bearer ${h.tokens['Ministry']}` },
          })
        ).statusCode,
        404,
      );
      assert.equal(
        (
          await h.app.inject({
            url: '/api/audit',
            headers: { authorization: `Bearer ${h.tokens['NISC']}` },
          })
        ).statusCode,
        200,
      );
    } finally {
      await h.close();
    }
  });
}

function taxiiProtocolTest(engine: Engine): void {
  test('TAXII filters, pagination, versions, manifest, single objects, delete, ceilings and errors', async () => {
    const h = await setup(engine.open);
    try {
      for (let i = 1; i <= 5; i++)
        await h.intel.recordSighting({
          type: 'domain',
          value: `bad${i}.example`,
          source: 'feed',
          confidence: 50,
          tier: 'public',
          tlp: 'clear',
        });
      await h.hub.publisher.sync();
      // A second version of one indicator.
      const first = (await h.intel.list({ kinds: ['domain'] })).items[0]!;
      await h.intel.recordSighting({
        type: 'domain',
        value: first.value,
        source: 'feed2',
        confidence: 90,
        tier: 'public',
        tlp: 'clear',
      });
      await h.hub.publisher.sync();

      const url = objectsUrl('full', C.full);
      const all = (await h.req('GET', `${url}?match[type]=indicator&match[version]=all`, 'NISC')).json()
        .objects as StixObject[];
      assert.equal(all.length, 6);
      const latest = (await h.req('GET', `${url}?match[type]=indicator`, 'NISC')).json()
        .objects as StixObject[];
      assert.equal(latest.length, 5);
      const firsts = (await h.req('GET', `${url}?match[type]=indicator&match[version]=first`, 'NISC')).json()
        .objects as StixObject[];
      assert.equal(firsts.length, 5);
      const twice = all.find((o) => all.filter((x) => x.id === o.id).length === 2)!;
      assert.ok(
        String(latest.find((o) => o.id === twice.id)!.modified) >
          String(firsts.find((o) => o.id === twice.id)!.modified),
      );

      // Cursor pages cover everything exactly once.
      const seen: string[] = [];
      let next: string | undefined;
      let pages = 0;
      do {
        const res = await h.req('GET', `${url}?limit=3${next ? `&next=${next}` : ''}`, 'NISC');
        const body = res.json();
        seen.push(...(body.objects ?? []).map((o: StixObject) => `${o.id}@${o.modified ?? ''}`));
        next = body.more ? body.next : undefined;
        pages++;
      } while (next && pages < 100);
      const everything = (await h.req('GET', `${url}?limit=10000`, 'NISC')).json().objects as StixObject[];
      assert.equal(seen.length, everything.length);
      assert.equal(new Set(seen).size, seen.length);

      const addedLast = (await h.req('GET', `${url}?limit=10000`, 'NISC')).headers[
        'x-taxii-date-added-last'
      ] as string;
      const afterLast = await h.req('GET', `${url}?added_after=${encodeURIComponent(addedLast)}`, 'NISC');
      assert.deepEqual(afterLast.json(), { more: false });

      const one = await h.req('GET', `${url}${twice.id}/?match[version]=all`, 'NISC');
      assert.equal(one.json().objects.length, 2);
      const versions = await h.req('GET', `${url}${twice.id}/versions/`, 'NISC');
      assert.equal(versions.json().versions.length, 2);
      const manifest = await h.req(
        'GET',
        `/full/collections/${C.full}/manifest/?match[id]=${twice.id}`,
        'NISC',
      );
      assert.deepEqual(Object.keys(manifest.json().objects[0]).sort(), [
        'date_added',
        'id',
        'media_type',
        'version',
      ]);
      assert.equal(
        (await h.req('GET', `${url}indicator--00000000-0000-4000-8000-000000000000/`, 'NISC')).statusCode,
        404,
      );

      // Delete the latest version: the earlier one becomes the latest again.
      assert.equal((await h.req('DELETE', `${url}${twice.id}/?match[version]=last`, 'NISC')).statusCode, 200);
      const after = (await h.req('GET', `${url}${twice.id}/`, 'NISC')).json().objects as StixObject[];
      assert.equal(after.length, 1);
      assert.equal(after[0]!.modified, firsts.find((o) => o.id === twice.id)!.modified);
      assert.equal(
        (await h.req('DELETE', `${objectsUrl('council', C.council)}${twice.id}/`, 'NISC')).statusCode,
        403,
      );

      // Public notice comes only from the analysis centre's review decisions: nobody posts there.
      const pubUrl = objectsUrl('public', C.public);
      for (const org of ['NISC', 'Ministry', 'Citizen'])
        assert.equal(
          (await h.req('POST', pubUrl, org, c2Envelope('198.51.100.22', 80, 'x', 'public'))).statusCode,
          403,
        );

      await assertTaxiiErrors(h, url);
      assert.equal((await h.audit.verify()).ok, true);
    } finally {
      await h.close();
    }
  });
}

function exportFloorTest(engine: Engine): void {
  test('an address an advisory merely names stays out of every block list until another source confirms it', async () => {
    const h = await setup(engine.open);
    try {
      const named = { type: 'c2', value: '198.51.100.23', port: 8443, proto: 'tcp', tlp: 'clear' } as const;
      await h.intel.recordSighting({ ...named, source: 'osint:vendor-blog', confidence: 20 });
      await h.intel.recordSighting({
        type: 'domain',
        value: 'named-in-advisory.example',
        source: 'osint:vendor-blog',
        confidence: 20,
        tlp: 'clear',
      });
      const read = async (name: string) => {
        const res = await h.app.inject({
          url: `/api/export/${name}`,
          headers: { authorization: `Bearer ${h.tokens['NISC']}` },
        });
        assert.equal(res.statusCode, 200, res.body);
        return res.body;
      };
      const blockLists = [
        'c2.csv',
        'c2.feodo.csv',
        'c2.txt',
        'c2.stix.json',
        'domains.rpz',
        'suricata.rules',
      ];
      for (const name of blockLists) {
        const body = await read(name);
        assert.ok(!body.includes('198.51.100.23'), `${name} names an address only an advisory names`);
        assert.ok(!body.includes('named-in-advisory'), `${name} names a domain only an advisory names`);
      }
      // Intel still holds them, with their low confidence, for analysts to weigh.
      const held = await h.intel.list({ kinds: ['c2'], limit: 10 });
      assert.deepEqual(
        held.items.map((i) => [i.value, i.confidence]),
        [['198.51.100.23', 20]],
      );
      // The detector's evidence raises it over the floor: now every C&C list names it.
      await h.intel.recordSighting({ ...named, source: 'isp-detector', confidence: 62 });
      for (const name of ['c2.csv', 'c2.txt', 'domains.rpz'])
        assert.ok((await read(name)).includes('198.51.100.23'), `${name} leaves out a confirmed server`);
      // The floor is the hub's setting, one place for every export.
      assert.equal(HubConfig.parse({}).exportMinConfidence, 40);
    } finally {
      await h.close();
    }
  });
}

for (const engine of testEngines(HUB_MIGRATIONS)) {
  describe(`hub on ${engine.name}`, { skip: engine.skip }, () => {
    exportFloorTest(engine);
    submissionRevocationTest(engine);
    mergeAndSanitiseTest(engine);
    tierReadTest(engine);
    taxiiProtocolTest(engine);
  });
}

describe('hub limits and a real socket', () => {
  const sqlite = testEngines(HUB_MIGRATIONS)[0]!;

  test('rate limit per token, body size limit', async () => {
    const h = await setup(sqlite.open, { rateLimit: { perSecond: 0.001, burst: 5 }, bodyLimitBytes: 2000 });
    try {
      const codes = [];
      for (let i = 0; i < 7; i++) codes.push((await h.req('GET', '/taxii2/', 'Citizen')).statusCode);
      assert.deepEqual(codes, [200, 200, 200, 200, 200, 429, 429]);
      assert.equal(
        (await h.req('GET', '/taxii2/', 'Vendor')).statusCode,
        200,
        'another token has its own bucket',
      );
      const guesses = [];
      for (let i = 0; i < 7; i++) {
        const fake = `tsg_${String(i).padStart(43, 'x')}`;
        guesses.push(
          (
            await h.app.inject({
              url: '/taxii2/',
              headers: { accept: TAXII, authorization: `Bearer ${fake}` },
            })
          ).statusCode,
        );
      }
      assert.deepEqual(
        guesses,
        [401, 401, 401, 401, 401, 429, 429],
        'guessing tokens is limited per address',
      );
      const big = await h.req('POST', objectsUrl('council', C.submissions), 'ISP A', {
        objects: Array.from({ length: 50 }, () => c2Envelope('198.51.100.1', 1, 'x').objects[0]),
      });
      assert.equal(big.statusCode, 413);
    } finally {
      await h.close();
    }
  });

  test('listens on 127.0.0.1 and answers fetch with Bearer and Basic', async () => {
    const h = await setup(sqlite.open, { listen: '127.0.0.1:0' });
    try {
      const base = h.hub.url();
      assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${base}/taxii2/`, {
        headers: { accept: TAXII, authorization: `Bearer ${h.tokens['ISP A']}` },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), TAXII);
      assert.deepEqual(((await res.json()) as { api_roots: string[] }).api_roots, ['/council/', '/public/']);
      const post = await fetch(`${base}${objectsUrl('council', C.submissions)}`, {
        method: 'POST',
        headers: {
          accept: TAXII,
          'content-type': TAXII,
          authorization: `Basic ${Buffer.from(`isp-a:${h.tokens['ISP A']}`).toString('base64')}`,
        },
        body: JSON.stringify(c2Envelope('198.51.100.77', 23, 'mirai')),
      });
      assert.equal(post.status, 202);
      await h.hub.publisher.sync();
      const csv = await (
        await fetch(`${base}/api/export/c2.csv`, {
          headers: { authorization: `Bearer ${h.tokens['Council Member']}` },
        })
      ).text();
      assert.match(csv, /^198\.51\.100\.77,23,tcp,60,mirai$/m);
    } finally {
      await h.close();
    }
  });
});
