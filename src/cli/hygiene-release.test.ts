/**
 * Hygiene surveys over TAXII, walked: a survey recorded by the hygiene room into the hub's store
 * is published by the hub's publisher, then every TAXII route and every export (read from
 * fastify's own route table; a route the walk does not know fails the test) is called as readers
 * of every tier. A public reader must not learn any per-organisation result (no organisation's
 * name, domain, report or identity in any answer) yet gets the sector reports; a council reader
 * gets the per-organisation reports in the council collection, by every read route. And the
 * commands end to end: `hygiene check --record` against the BIND lab, then `serve`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createHygiene, createHygieneReader, HygieneConfig, type HygieneTables } from '../hygiene/index.ts';
import {
  COLLECTION_IDS,
  EXPORT_NAMES,
  HYGIENE_EXTENSION_ID,
  hygieneIdentityId,
  hygieneReportId,
  type OrganisationInput,
  type StixObject,
} from '../share/index.ts';
import { labUnavailable, startDnsLab, surveyRow as surveyed, type DnsLab } from '../hygiene/testing.ts';
import { testEngines } from '../store/testing.ts';
import { runServe } from './commands/serve.ts';
import { ServeConfig } from './hub-stack.ts';
import type { CliContext } from './context.ts';
import { runCli as run } from './test-cli.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';
import { startReleaseHub, type ReleaseHub } from './testing.ts';

const SURVEY = '2026-12';

const ROWS = [
  surveyed('bank.hygiene-walk.example', 'Walk Bank', 'finance', { spf: 'strict', dmarc_policy: 'reject' }),
  surveyed('www.bank.hygiene-walk.example', 'Walk Bank', 'finance', { dnssec: 'secure' }),
  surveyed('power.hygiene-walk.example', 'Walk Power', 'energy', { dnssec: 'bogus', spf: 'permissive' }),
  surveyed('gas.hygiene-walk.example', 'Walk Gas', 'energy', { spf: 'softfail' }),
];
const ORGANISATIONS = ['Walk Bank', 'Walk Power', 'Walk Gas'];
const SECTORS = ['finance', 'energy'];

/** What names an organisation's result: its name, its domains, its report's and identity's ids. */
const SECRETS = [
  ...ORGANISATIONS,
  ...ROWS.map((r) => r.domain),
  ...ORGANISATIONS.map((o) => hygieneReportId(SURVEY, 'organisation', o)),
  ...ORGANISATIONS.map((o) => hygieneIdentityId('organisation', o)),
];

const READERS: (OrganisationInput & { tier: 'full' | 'council' | 'public' })[] = [
  { name: 'analysis', role: 'analysis', tier: 'full' },
  { name: 'government', role: 'government', tier: 'full' },
  { name: 'council', role: 'council', consent: true, tier: 'council' },
  { name: 'isp', role: 'isp', consent: true, tier: 'council' },
  { name: 'council-unconsented', role: 'council', tier: 'public' },
  { name: 'vendor', role: 'vendor', tier: 'public' },
  { name: 'public', role: 'public', tier: 'public' },
];

interface Answer {
  url: string;
  status: number;
  body: string;
}

for (const engine of testEngines(ROOM_MIGRATIONS)) {
  describe(`hygiene surveys over TAXII on ${engine.name}`, { skip: engine.skip }, () => {
    test('public readers get sector reports and no organisation; council readers get both', async () => {
      const store = await engine.open();
      const db = store.db as unknown as Kysely<HygieneTables>;
      const hygiene = createHygiene(HygieneConfig.parse({}), {
        logger: silentLogger(),
        registry: new Registry(),
        db,
      });
      await hygiene.record(SURVEY, new Date('2026-12-01T01:00:00Z'), ROWS);
      const h = await startReleaseHub(
        store,
        READERS.map(({ tier: _tier, ...org }) => org),
        createHygieneReader(db),
      );
      try {
        await h.hub.publisher.sync();
        const requests = await walkRequests(h);
        for (const reader of [undefined, ...READERS]) {
          const answers: Answer[] = [];
          for (const url of requests) {
            const res = await h.req('GET', url, reader?.name);
            answers.push({ url, status: res.statusCode, body: res.body });
          }
          const tier = reader?.tier ?? 'public';
          if (tier === 'public') assertNothingOfOrganisations(reader?.name ?? 'anonymous', answers);
          else assertOrganisationsThere(reader!.name, tier, answers);
          if (reader) assertSectorsThere(reader.name, tier, answers);
        }
      } finally {
        await h.close();
      }
    });
  });
}

function assertNothingOfOrganisations(who: string, answers: readonly Answer[]): void {
  for (const a of answers)
    for (const secret of SECRETS)
      assert.ok(!a.body.includes(secret), `${who} learned ${secret} from ${a.url}`);
}

const collectionOf = (tier: 'full' | 'council' | 'public') =>
  tier === 'full'
    ? `/full/collections/${COLLECTION_IDS.full}/`
    : tier === 'council'
      ? `/council/collections/${COLLECTION_IDS.council}/`
      : `/public/collections/${COLLECTION_IDS.public}/`;

const objectsOf = (answers: readonly Answer[], url: string): StixObject[] => {
  const a = answers.find((x) => x.url === url);
  assert.ok(a, url);
  assert.equal(a.status, 200, `${url}: ${a.body}`);
  return ((JSON.parse(a.body) as { objects?: StixObject[] }).objects ?? []) as StixObject[];
};

function assertOrganisationsThere(who: string, tier: 'full' | 'council', answers: readonly Answer[]): void {
  const base = collectionOf(tier);
  const objects = objectsOf(answers, `${base}objects/?limit=10000`);
  for (const o of ORGANISATIONS) {
    const id = hygieneReportId(SURVEY, 'organisation', o);
    const report = objects.find((x) => x.id === id);
    assert.ok(report, `${who} gets ${o}'s report in ${base}`);
    assert.deepEqual(report.object_marking_refs, [
      'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
    ]);
    assert.ok(objects.some((x) => x.id === hygieneIdentityId('organisation', o)));
    // Each read route gives it too: the single object, its versions and the manifest.
    assert.equal(objectsOf(answers, `${base}objects/${id}/`)[0]?.id, id, `${who} reads ${id}`);
    const versions = answers.find((x) => x.url === `${base}objects/${id}/versions/`)!;
    assert.equal(versions.status, 200, `${who} versions of ${id}`);
    const manifest = answers.find((x) => x.url === `${base}manifest/?limit=10000`)!;
    assert.ok(manifest.body.includes(id), `${who} manifest lists ${id}`);
  }
  const bank = objects.find((x) => x.id === hygieneReportId(SURVEY, 'organisation', 'Walk Bank'))!;
  const figures = (bank.extensions as Record<string, Record<string, unknown>>)[HYGIENE_EXTENSION_ID]!;
  assert.equal(figures.domains, 2);
  assert.equal(figures.sector, 'finance');
}

function assertSectorsThere(
  who: string,
  tier: 'full' | 'council' | 'public',
  answers: readonly Answer[],
): void {
  const objects = objectsOf(answers, `${collectionOf(tier)}objects/?limit=10000`);
  for (const sector of SECTORS) {
    const report = objects.find((x) => x.id === hygieneReportId(SURVEY, 'sector', sector));
    assert.ok(report, `${who} gets the ${sector} report`);
    assert.deepEqual(report.object_marking_refs, [
      'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
    ]);
  }
  assert.ok(
    objects.some((x) => x.id === HYGIENE_EXTENSION_ID),
    `${who} can resolve the hygiene extension's definition`,
  );
}

/** Every TAXII route and export, each as concrete URLs; a route of that kind not listed here fails. */
async function walkRequests(h: ReleaseHub): Promise<string[]> {
  const collections = await h.store.db.selectFrom('collections').select(['id', 'api_root']).execute();
  const roots = ['full', 'council', 'public', 'network'];
  // The reports themselves by id (their identities are in the object lists).
  const ids = [
    ...ORGANISATIONS.map((o) => hygieneReportId(SURVEY, 'organisation', o)),
    ...SECTORS.map((s) => hygieneReportId(SURVEY, 'sector', s)),
  ];
  // Each collection under its own root and under one it is not in (which must answer as absent).
  const everyCollection = (suffixes: string[]) =>
    collections.flatMap((c) =>
      [c.api_root, c.api_root === 'public' ? 'council' : 'public'].flatMap((root) =>
        suffixes.map((s) => `/${root}/collections/${c.id}/${s}`),
      ),
    );
  const misp = (await h.req('GET', '/api/export/misp/manifest.json', 'analysis')).json() as Record<
    string,
    unknown
  >;
  const table = new Map<string, string[]>([
    ['GET /taxii2/', ['/taxii2/']],
    ['GET /:root/', roots.map((r) => `/${r}/`)],
    ['GET /:root/status/:id/', roots.map((r) => `/${r}/status/00000000-0000-4000-8000-000000000000/`)],
    ['GET /:root/collections/', roots.map((r) => `/${r}/collections/`)],
    ['GET /:root/collections/:collection/', everyCollection([''])],
    [
      'GET /:root/collections/:collection/objects/',
      everyCollection([
        'objects/?limit=10000',
        'objects/?match[version]=all&match[type]=report,identity&limit=10000',
      ]),
    ],
    ['GET /:root/collections/:collection/manifest/', everyCollection(['manifest/?limit=10000'])],
    [
      'GET /:root/collections/:collection/objects/:object/',
      everyCollection(ids.map((id) => `objects/${id}/`)),
    ],
    [
      'GET /:root/collections/:collection/objects/:object/versions/',
      everyCollection(ids.map((id) => `objects/${id}/versions/`)),
    ],
    ['GET /api/export/:name', EXPORT_NAMES.map((name) => `/api/export/${name}`)],
    [
      'GET /api/export/misp/:file',
      [
        '/api/export/misp/manifest.json',
        '/api/export/misp/hashes.csv',
        ...Object.keys(misp).map((u) => `/api/export/misp/${u}.json`),
      ],
    ],
  ]);
  const taxiiAndExports = h.routes.filter(
    (r) => r.startsWith('GET /taxii2/') || r.startsWith('GET /:root/') || r.startsWith('GET /api/export/'),
  );
  assert.deepEqual(
    taxiiAndExports.filter((r) => !table.has(r)),
    [],
    'TAXII and export routes the walk does not cover',
  );
  return [...table.values()].flat();
}

describe('tsunagi hygiene check --record, then tsunagi serve', { skip: labUnavailable() }, () => {
  let lab: DnsLab;
  let dir: string;
  before(async () => {
    lab = await startDnsLab();
    dir = mkdtempSync(join(tmpdir(), 'tsunagi-hygiene-serve-'));
  });
  after(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const labFlags = () => [
    '--resolver',
    lab.resolver,
    '--trust-anchor',
    lab.trustAnchorFile,
    '--timeout',
    '1',
  ];

  test('`hygiene check --record` then `serve`: the survey reaches TAXII, per organisation only at the council tier', async () => {
    const data = join(dir, 'data');
    const recorded = await run([
      ...['hygiene', 'check', 'strict.mail.test', 'signed.test', ...labFlags()],
      ...['--org', 'Strict Corp', '--sector', 'finance', '--record', '--data', data],
    ]);
    assert.equal(recorded.code, 0, recorded.stderr);
    const surveyId = /survey ([0-9a-f-]{36}) of 2 domains/.exec(recorded.stderr)![1]!;
    const tokens: Record<string, string> = {};
    for (const [name, role, consent] of [
      ['Council Member', 'council', true],
      ['Vendor', 'vendor', false],
    ] as const) {
      const added = await run([
        'org',
        'add',
        name,
        '--role',
        role,
        ...(consent ? ['--consent'] : []),
        '--data',
        data,
      ]);
      assert.equal(added.code, 0, added.stderr);
      const token = await run(['token', 'create', '--org', name, '--scope', 'read', '--data', data]);
      assert.equal(token.code, 0, token.stderr);
      tokens[name] = token.stdout.trim();
    }
    let stderr = '';
    const ctx: CliContext = {
      stdout: new Writable({ write: (_c, _e, done) => done() }),
      stderr: new Writable({
        write(chunk, _encoding, done) {
          stderr += String(chunk);
          done();
        },
      }),
      env: {},
      interactive: false,
    };
    const config = ServeConfig.parse({
      data,
      hub: { listen: '127.0.0.1:0' },
      console: { distDir: join(dir, 'no-console-build') },
    });
    await runServe(config, ctx, async () => {
      const url = /tsunagi hub on (http:\/\/[^ ]+) /.exec(stderr)![1]!;
      const reports = async (token: string, root: string, collection: string) => {
        const res = await fetch(`${url}/${root}/collections/${collection}/objects/?match[type]=report`, {
          headers: { accept: 'application/taxii+json;version=2.1', authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 200);
        const body = (await res.json()) as { objects?: { name: string }[] };
        return (body.objects ?? []).map((o) => o.name).sort();
      };
      assert.deepEqual(await reports(tokens['Vendor']!, 'public', COLLECTION_IDS.public), [
        `Internet hygiene survey ${surveyId}: sector finance`,
      ]);
      assert.deepEqual(await reports(tokens['Council Member']!, 'council', COLLECTION_IDS.council), [
        `Internet hygiene survey ${surveyId}: organisation Strict Corp`,
        `Internet hygiene survey ${surveyId}: sector finance`,
      ]);
    });
  });
});
