/**
 * The console's malicious-sites API as `tsunagi serve` wires it (the web room's overview over the
 * same store): a public reader sees only hosts released to public notice, the council also the
 * model's TLP:GREEN verdicts; campaigns, counts and takedowns follow the same cut.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import type { WebReportBody } from '../console/index.ts';
import { draftTakedown, type TakedownTables } from '../web/index.ts';
import { startWebConsoleHub, type WebConsoleHub } from './testing.ts';

let webHub: WebConsoleHub;

before(async () => {
  webHub = await startWebConsoleHub();
  const { ingest, store } = webHub;
  await ingest(
    [
      'https://amazon-xqzv.top/signin/',
      'https://smbc-card-verify.xyz/login',
      // One kit's path on two more registered domains: a kit-path tie.
      'https://vpass-secure.shop/jkuos/',
      'https://mercari-verify.shop/jkuos/',
    ],
    'model',
    'green',
  );
  await ingest(['https://amazon-kjhd.top/signin/', 'https://login.amazon-kjhd.top/x'], 'jpcert', 'clear');
  await draftTakedown(
    store.db as unknown as Kysely<TakedownTables>,
    {
      host: 'amazon-xqzv.top',
      brand: 'amazon',
      abuse: { email: 'abuse@r.example', name: 'R', rdapObject: 'amazon-xqzv.top' },
      letters: [],
    },
    new Date('2026-12-01T00:00:00Z'),
  );
});
after(() => webHub.close());

test('council: every recorded host, the amazon and kit-path campaigns with their ties, the takedown', async () => {
  const body = await webHub.overview(webHub.hub.tokens.council);
  assert.equal(body.hosts, 6);
  const amazon = body.campaigns.find((c) => c.brands.includes('amazon'))!;
  assert.deepEqual(amazon.hosts, ['amazon-kjhd.top', 'amazon-xqzv.top', 'login.amazon-kjhd.top']);
  assert.deepEqual(amazon.ties.map((t) => t.kind).sort(), ['registrable-domain', 'template']);
  const kit = body.campaigns.find((c) => c.hosts.includes('vpass-secure.shop'))!;
  assert.deepEqual(kit.ties, [
    { kind: 'kit-path', value: '/jkuos/', hosts: ['mercari-verify.shop', 'vpass-secure.shop'] },
  ]);
  assert.deepEqual(body.byBrand[0], { key: 'amazon', hosts: 3 });
  assert.deepEqual(
    body.takedowns.map((t) => [t.host, t.status]),
    [['amazon-xqzv.top', 'draft']],
  );
});

test('public: only what is public notice; the model-only hosts and their takedown stay out', async () => {
  const body = await webHub.overview(webHub.hub.tokens.public);
  assert.equal(body.hosts, 2);
  const text = JSON.stringify(body);
  assert.ok(!text.includes('amazon-xqzv.top') && !text.includes('smbc-card-verify.xyz'), text);
  assert.deepEqual(body.takedowns, []);
});

test('no token, no answer', async () => {
  const response = await fetch(`${webHub.hub.url}/console/api/web`);
  assert.equal(response.status, 401);
});

const report = (token: string, body: unknown) =>
  fetch(`${webHub.hub.url}/console/api/web/reports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('reports: scored, kept under report:<organisation>, audited; the answer tells only the verdict of what was sent', async () => {
  const response = await report(webHub.hub.tokens.public, [
    { url: 'https://amazon-xqzv.top/signin/', description: 'SMS 2026-12-02', brand: 'amazon' },
    { url: 'ftp://files.example/x' },
    { url: 'hxxps://aeon-card-verify[.]shop/login' },
  ]);
  assert.equal(response.status, 200);
  const body = (await response.json()) as WebReportBody;
  assert.equal(body.source, 'report:Vendor-Kumo');
  assert.deepEqual(
    body.reports.map((r) => (r.ok ? [r.url, r.verdict] : [r.url, 'bad'])),
    [
      ['https://amazon-xqzv.top/signin/', 'malicious'],
      ['ftp://files.example/x', 'bad'],
      ['https://aeon-card-verify.shop/login', 'malicious'],
    ],
  );
  // The grounds are the reasons that pointed to phishing, each in both languages.
  const first = body.reports[0]!;
  assert.ok(first.ok && first.grounds.length > 0);
  if (first.ok)
    for (const g of first.grounds) {
      assert.ok(g.contribution > 0 && g.feature !== 'url_bias', g.feature);
      assert.ok(g.words.ja !== g.feature && g.words.en !== g.feature, g.feature);
    }
  // A URL the hub already held: nothing of its sources or first sighting goes back.
  assert.doesNotMatch(JSON.stringify(body), /firstSeen|model|jpcert|sources/);
  const kept = await webHub.store.db
    .selectFrom('web_sightings' as never)
    .selectAll()
    .where('source' as never, '=', 'report:Vendor-Kumo' as never)
    .execute();
  assert.deepEqual(
    (kept as { url: string; description: string | null }[]).map((k) => [k.url, k.description]).sort(),
    [
      ['https://aeon-card-verify.shop/login', null],
      ['https://amazon-xqzv.top/signin/', 'brand: amazon; SMS 2026-12-02'],
    ],
  );
  const audit = await webHub.hub.ctx.audit.newest(5);
  const entry = audit.find((a) => a.action === 'web.report');
  assert.equal(entry?.actor, 'Vendor Kumo');
  assert.equal(entry?.target, 'report:Vendor-Kumo');
});

test('reports: a body that is not JSON is a 415 naming the content type the API takes', async () => {
  const send = (contentType: string | undefined, body: string) =>
    fetch(`${webHub.hub.url}/console/api/web/reports`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${webHub.hub.tokens.council}`,
        ...(contentType ? { 'content-type': contentType } : {}),
      },
      body,
    });
  const expected = (got: string) =>
    `reports are JSON: send content-type: application/json with {"url": "...", "description"?, "brand"?} or a list of them (got ${got})`;
  // A new user's first try: the URL as plain text, one a line.
  const plain = await send(
    'text/plain',
    'https://amazon-xqzv.top/signin/\nhttps://aeon-card-verify.shop/login\n',
  );
  assert.equal(plain.status, 415);
  assert.deepEqual(await plain.json(), {
    title: 'Unsupported Media Type',
    description: expected('text/plain'),
  });
  const form = await send('application/x-www-form-urlencoded', 'url=https%3A%2F%2Fa.example%2F');
  assert.equal(form.status, 415);
  assert.equal(
    ((await form.json()) as { description: string }).description,
    expected('application/x-www-form-urlencoded'),
  );
  // JSON that is a bare string: said as plainly, a 400.
  const bare = await send('application/json', JSON.stringify('https://a.example/'));
  assert.equal(bare.status, 400);
  assert.equal(
    ((await bare.json()) as { description: string }).description,
    'reports: the body is a string; expected {url, description?, brand?} or a list of up to 500',
  );
  // Nothing of these was kept.
  const kept = await webHub.store.db
    .selectFrom('web_sightings' as never)
    .selectAll()
    .where('source' as never, '=', 'report:ISP-Sakura' as never)
    .execute();
  assert.deepEqual(kept, []);
});

test('reports: a body that is no report is a 400 saying why; a read-only token is refused', async () => {
  const missing = await report(webHub.hub.tokens.council, { description: 'no url' });
  assert.equal(missing.status, 400);
  assert.match(((await missing.json()) as { description: string }).description, /url/);
  const extra = await report(webHub.hub.tokens.council, { url: 'https://a.example/', score: 0 });
  assert.equal(extra.status, 400);
  // Each says what is wrong, not the union's "Invalid input".
  const why = async (response: Response) => ((await response.json()) as { description: string }).description;
  assert.match(await why(extra), /^reports: Unrecognized key: "score"/);
  const many = await report(
    webHub.hub.tokens.council,
    Array.from({ length: 501 }, (_, i) => ({ url: `https://h${i}.example/` })),
  );
  assert.equal(many.status, 400);
  assert.match(await why(many), /^reports: Too big: expected array to have <=500 items/);
  const badItem = await report(webHub.hub.tokens.council, [{ url: 'https://a.example/' }, { url: 5 }]);
  assert.equal(badItem.status, 400);
  assert.match(await why(badItem), /^reports: 1\.url: /);
  const { token } = await webHub.hub.ctx.orgs.createToken(
    'Vendor Kumo',
    { scopes: ['read'], label: 'read only' },
    'test',
  );
  const refused = await report(token, { url: 'https://a.example/' });
  assert.equal(refused.status, 403);
});
