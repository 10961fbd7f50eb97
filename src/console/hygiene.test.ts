/** The console's hygiene routes over HTTP: what the release rule lets each tier read, drill-down, empty state. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HygieneBody, HygieneOrganisationBody } from './api/types.ts';
import { demoHygiene } from './e2e-support.ts';
import { startTestHub, type TestHub } from './testing.ts';

describe('console hygiene API', () => {
  let hub: TestHub;
  let empty: TestHub;
  let store: Awaited<ReturnType<typeof demoHygiene>>;
  before(async () => {
    store = await demoHygiene();
    [hub, empty] = await Promise.all([startTestHub({ hygiene: store.reader }), startTestHub()]);
  });
  after(async () => {
    await hub.close();
    await empty.close();
    await store.close();
  });
  const get = (base: TestHub, path: string, token: string) =>
    fetch(`${base.url}/console/api/${path}`, { headers: { authorization: `Bearer ${token}` } });

  test('full and council readers get sector adoption over time and the scores per organisation', async () => {
    for (const tier of ['full', 'council'] as const) {
      const response = await get(hub, 'hygiene', hub.tokens[tier]);
      assert.equal(response.status, 200);
      const body = (await response.json()) as HygieneBody;
      assert.deepEqual(
        body.surveys.map((s) => s.id),
        ['2026-11', '2026-12'],
      );
      assert.deepEqual(
        body.sectors.map((s) => s.sector),
        ['energy', 'finance', 'government'],
      );
      const finance = body.sectors.find((s) => s.sector === 'finance')!;
      assert.deepEqual(finance.adoption.spf, [0, 50], 'one of two finance domains at -all in December');
      assert.deepEqual(body.sectorMarking, { tier: 'public', tlp: 'clear' });
      assert.deepEqual(body.organisationMarking, { tier: 'council', tlp: 'amber' });
      const bank = body.organisations?.find((o) => o.organisation === 'Example Bank');
      assert.equal(bank?.sector, 'finance');
      assert.ok(bank && bank.previous !== null && bank.score > bank.previous, 'the bank improved');
    }
  });

  test('a public reader gets sector aggregates only; the drill-down is refused', async () => {
    const body = (await (await get(hub, 'hygiene', hub.tokens.public)).json()) as HygieneBody;
    assert.equal(body.sectors.length, 3);
    assert.equal(body.organisations, null);
    assert.equal(body.organisationMarking, null);
    const refused = await get(
      hub,
      `hygiene/organisations/${encodeURIComponent('Example Bank')}`,
      hub.tokens.public,
    );
    assert.equal(refused.status, 403);
  });

  test('drill-down: the latest survey’s domains with what to fix, audited', async () => {
    const response = await get(
      hub,
      `hygiene/organisations/${encodeURIComponent('Example Shinkin')}`,
      hub.tokens.council,
    );
    assert.equal(response.status, 200);
    const body = (await response.json()) as HygieneOrganisationBody;
    assert.equal(body.surveyId, '2026-12');
    assert.deepEqual(body.marking, { tier: 'council', tlp: 'amber' });
    assert.equal(body.history.length, 2);
    const [domain] = body.domains;
    assert.equal(domain?.checks.spf, 'softfail');
    assert.ok(domain?.fixes.some((f) => f.en.includes('~all') && f.ja.includes('~all')));
    assert.equal((await get(hub, 'hygiene/organisations/Nobody', hub.tokens.full)).status, 404);
    const audited = await hub.ctx.audit.newest(20);
    assert.ok(
      audited.some((r) => JSON.stringify(r).includes('hygiene:Example Shinkin')),
      'the drill-down read is in the audit log',
    );
  });

  test('a hub without hygiene surveys answers an empty body (the page shows its empty state)', async () => {
    const body = (await (await get(empty, 'hygiene', empty.tokens.full)).json()) as HygieneBody;
    assert.deepEqual(body.surveys, []);
    assert.deepEqual(body.sectors, []);
    assert.deepEqual(body.organisations, []);
    assert.equal((await get(empty, 'hygiene/organisations/Example%20Bank', empty.tokens.full)).status, 404);
    assert.equal((await fetch(`${empty.url}/console/api/hygiene`)).status, 401);
  });
});
