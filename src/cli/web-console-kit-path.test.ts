/**
 * The console's malicious-sites API with a host tied to a campaign by a kit path alone: its name
 * is not malicious, so it has no domain indicator, and it shows only to a reader the hub releases
 * the URL indicator that ties it to (the model's TLP:GREEN verdict: the council, not the public).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import type { WebBody } from '../console/index.ts';
import { startTestHub, type TestHub } from '../console/testing.ts';
import { recordWebVerdicts } from '../intel/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { createWeb, WebConfig, type WebTables, withWholeHost } from '../web/index.ts';
import { consoleWebOf } from './hub-stack.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';

let store: Store;
let hub: TestHub;
const BAKERY = 'https://example-bakery.co.uk/jkuos/';

before(async () => {
  store = await openStore({ memory: true }, { migrations: ROOM_MIGRATIONS });
  const deps = { logger: silentLogger(), registry: new Registry() };
  hub = await startTestHub({ store, web: consoleWebOf(store.db, deps) });
  const web = createWeb(WebConfig.parse({}), {
    ...deps,
    registry: new Registry(),
    db: store.db as unknown as Kysely<WebTables>,
  });
  const ingest = async (urls: string[], source: string, tlp: 'green' | 'clear') =>
    web.ingest(
      urls.map((url) => ({ url })),
      source,
      async (batch) => void (await recordWebVerdicts(hub.ctx.intel, withWholeHost(batch), source, { tlp })),
    );
  // A public source lists one kit on two domains; the model then sees its path on a bakery's name.
  await ingest(['https://vpass-secure.shop/jkuos/', 'https://mercari-verify.shop/jkuos/'], 'jpcert', 'clear');
  const proxied = await ingest([BAKERY], 'model', 'green');
  assert.deepEqual([proxied.verdicts.malicious, proxied.kitPathTies], [1, 1]);
});
after(async () => {
  await hub.close();
  await store.close();
});

const get = async (token: string) => {
  const response = await fetch(`${hub.url}/console/api/web`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200);
  return (await response.json()) as WebBody;
};

test("council: the bakery is in the kit's campaign, marked as tied by its kit path alone", async () => {
  const body = await get(hub.tokens.council);
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
  const body = await get(hub.tokens.public);
  assert.equal(body.hosts, 2);
  assert.deepEqual(
    body.campaigns.map((c) => [c.hosts, c.kitPathOnly]),
    [[['mercari-verify.shop', 'vpass-secure.shop'], undefined]],
  );
  assert.doesNotMatch(JSON.stringify(body), /bakery/);
});

test('a withdrawn URL indicator no longer shows the bakery, even to the council', async () => {
  await hub.ctx.intel.withdraw({ kind: 'url', value: BAKERY }, 'a false tie', 'analyst');
  const body = await get(hub.tokens.council);
  assert.doesNotMatch(JSON.stringify(body), /bakery/);
  assert.deepEqual(body.campaigns[0]!.hosts, ['mercari-verify.shop', 'vpass-secure.shop']);
});
