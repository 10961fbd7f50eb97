/**
 * The console's malicious-sites API with a host tied to a campaign by a kit path alone: its name
 * is not malicious, so it has no domain indicator, and it shows only to a reader the hub releases
 * the URL indicator that ties it to (the model's TLP:GREEN verdict: the council, not the public).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startWebConsoleHub, type WebConsoleHub } from './testing.ts';

let webHub: WebConsoleHub;
const BAKERY = 'https://example-bakery.co.uk/jkuos/';

before(async () => {
  webHub = await startWebConsoleHub();
  // A public source lists one kit on two domains; the model then sees its path on a bakery's name.
  await webHub.ingest(
    ['https://vpass-secure.shop/jkuos/', 'https://mercari-verify.shop/jkuos/'],
    'jpcert',
    'clear',
  );
  const proxied = await webHub.ingest([BAKERY], 'model', 'green');
  assert.deepEqual([proxied.verdicts.malicious, proxied.kitPathTies], [1, 1]);
});
after(() => webHub.close());

test("council: the bakery is in the kit's campaign, marked as tied by its kit path alone", async () => {
  const body = await webHub.overview(webHub.hub.tokens.council);
  // Not counted among the malicious hosts: its name is not.
  assert.equal(body.hosts, 2);
  assert.equal(body.campaigns.length, 1);
  const [kit] = body.campaigns;
  assert.deepEqual(kit!.hosts, ['example-bakery.co.uk', 'mercari-verify.shop', 'vpass-secure.shop']);
  assert.deepEqual(kit!.kitPathOnly, ['example-bakery.co.uk']);
  assert.deepEqual(kit!.ties, [
    {
      kind: 'kit-path',
      value: '/jkuos/',
      hosts: ['example-bakery.co.uk', 'mercari-verify.shop', 'vpass-secure.shop'],
    },
  ]);
});

test("public: the kit's campaign without the bakery, whose URL verdict is the model's (TLP:GREEN)", async () => {
  const body = await webHub.overview(webHub.hub.tokens.public);
  assert.equal(body.hosts, 2);
  assert.deepEqual(
    body.campaigns.map((c) => [c.hosts, c.kitPathOnly]),
    [[['mercari-verify.shop', 'vpass-secure.shop'], undefined]],
  );
  assert.doesNotMatch(JSON.stringify(body), /bakery/);
});

test('a withdrawn URL indicator no longer shows the bakery, even to the council', async () => {
  await webHub.hub.ctx.intel.withdraw({ kind: 'url', value: BAKERY }, 'a false tie', 'analyst');
  const body = await webHub.overview(webHub.hub.tokens.council);
  assert.doesNotMatch(JSON.stringify(body), /bakery/);
  assert.deepEqual(body.campaigns[0]!.hosts, ['mercari-verify.shop', 'vpass-secure.shop']);
});

test('a page load asks intel once for every URL that could tie a host by its kit path alone', async () => {
  const teaRoom = 'https://tea-room.example.net/jkuos/';
  const tied = await webHub.ingest([teaRoom], 'model', 'green');
  assert.equal(tied.kitPathTies, 1);
  const intel = webHub.hub.ctx.intel;
  const { byValues, get } = intel;
  const batches: (readonly string[])[] = [];
  let single = 0;
  intel.byValues = (kind, values) => {
    batches.push(values);
    return byValues(kind, values);
  };
  intel.get = (ref) => {
    single++;
    return get(ref);
  };
  try {
    const body = await webHub.overview(webHub.hub.tokens.council);
    assert.deepEqual(batches, [[BAKERY, teaRoom]], 'one lookup, the withdrawn bakery asked about too');
    assert.equal(single, 0, 'no lookup per URL');
    assert.deepEqual(body.campaigns[0]!.kitPathOnly, ['tea-room.example.net']);
  } finally {
    intel.byValues = byValues;
    intel.get = get;
  }
});
