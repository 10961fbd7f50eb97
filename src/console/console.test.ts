/** The console's server side over real HTTP on loopback: tiers, self-check, CSP, live stream. */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../store/index.ts';
import { HUB_MIGRATIONS } from '../share/testing.ts';
import { INDICATOR_KINDS, TIERS, TLPS, type SightingInput, indicatorFromRow } from '../intel/index.ts';
import { hubIdentity } from '../share/index.ts';
import { clientAddress, trustedProxySet } from './address.ts';
import { startTestHub, type TestHub } from './testing.ts';
import { visibleAt, whereActive, whereVisible } from './view.ts';

test('the SQL visibility filter agrees with share’s sanitisers on every kind, tier and TLP', async () => {
  const store = await openStore({ memory: true }, { migrations: HUB_MIGRATIONS });
  try {
    const { createIntel, IntelConfig } = await import('../intel/index.ts');
    const { Registry } = await import('prom-client');
    const { silentLogger } = await import('../core/index.ts');
    const intel = createIntel(IntelConfig.parse({}), {
      store,
      logger: silentLogger(),
      registry: new Registry(),
    });
    const inputs: SightingInput[] = [];
    let n = 0;
    for (const kind of INDICATOR_KINDS)
      for (const tier of TIERS)
        for (const tlp of TLPS) {
          n++;
          const value =
            kind === 'url'
              ? `http://x${n}.example.com/a`
              : kind === 'domain'
                ? `x${n}.example.com`
                : `192.0.2.${n % 250}`;
          inputs.push({
            type: kind,
            value,
            port: kind === 'c2' || kind === 'vulnerable-device' ? 1000 + n : undefined,
            proto: kind === 'c2' ? 'tcp' : undefined,
            source: 's',
            confidence: 50,
            tier,
            tlp,
          });
        }
    await intel.recordSightings(inputs);
    const rows = await store.db.selectFrom('indicators').selectAll().execute();
    assert.equal(rows.length, inputs.length);
    const hub = hubIdentity();
    for (const reader of TIERS) {
      const expected = rows
        .map(indicatorFromRow)
        .filter((i) => visibleAt(i, reader, hub))
        .map((i) => i.id)
        .sort();
      const got = (await whereVisible(store.db.selectFrom('indicators'), reader).select('id').execute())
        .map((r) => r.id)
        .sort();
      assert.deepEqual(got, expected, `reader ${reader}`);
      if (reader === 'full') assert.equal(got.length, rows.length);
      else assert.ok(got.length > 0 && got.length < rows.length);
    }
  } finally {
    await store.close();
  }
});

test('the client address: X-Forwarded-For counts only from a trusted proxy', () => {
  const none = trustedProxySet([]);
  const proxies = trustedProxySet(['10.0.0.0/8', '127.0.0.1']);
  assert.equal(clientAddress('127.0.0.1', '203.0.113.9', none), '127.0.0.1', 'untrusted header ignored');
  assert.equal(clientAddress('::ffff:127.0.0.1', undefined, none), '127.0.0.1', 'mapped address folded');
  assert.equal(clientAddress('192.0.2.5', '203.0.113.9', proxies), '192.0.2.5', 'peer is not a proxy');
  assert.equal(clientAddress('127.0.0.1', '203.0.113.9', proxies), '203.0.113.9');
  assert.equal(
    clientAddress('127.0.0.1', '198.51.100.1, 203.0.113.9, 10.1.2.3', proxies),
    '203.0.113.9',
    'rightmost untrusted hop',
  );
  assert.equal(clientAddress('127.0.0.1', ['198.51.100.1', '10.1.2.3'], proxies), '198.51.100.1');
  assert.equal(clientAddress('127.0.0.1', '10.1.2.3', proxies), '10.1.2.3', 'all hops trusted: the furthest');
  assert.equal(clientAddress('127.0.0.1', 'nonsense, 203.0.113.9', proxies), '203.0.113.9');
  assert.equal(
    clientAddress('127.0.0.1', '203.0.113.9, nonsense', proxies),
    undefined,
    'a bad hop before any untrusted one',
  );
  assert.equal(clientAddress(undefined, undefined, none), undefined);
  assert.throws(() => trustedProxySet(['not-a-prefix']), /trustedProxies/);
});

let hub: TestHub;
let dist: string;
const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
  fetch(`${hub.url}${path}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });

before(async () => {
  dist = mkdtempSync(join(tmpdir(), 'tsunagi-console-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(
    join(dist, 'index.html'),
    '<!doctype html><script type="module" src="/assets/app.js"></script>',
  );
  writeFileSync(join(dist, 'assets', 'app.js'), 'console.log(1)');
  hub = await startTestHub({
    console: {
      distDir: dist,
      selfCheck: { perMinute: 1, burst: 2 },
      live: { batchMs: 60_000, heartbeatMs: 60_000, maxClients: 5 },
    },
  });
  await hub.ctx.intel.recordSightings([
    {
      type: 'c2',
      value: '203.0.113.10',
      port: 4444,
      proto: 'tcp',
      family: 'mirai',
      source: 'isp-a',
      confidence: 80,
      tier: 'public',
      tlp: 'clear',
      attributes: { score: '0.93' },
    },
    {
      type: 'c2',
      value: '203.0.113.11',
      port: 6667,
      proto: 'tcp',
      family: 'gafgyt',
      source: 'isp-a',
      confidence: 70,
      tier: 'council',
      tlp: 'amber',
    },
    {
      type: 'c2',
      value: '203.0.113.12',
      port: 23,
      proto: 'tcp',
      family: 'secret',
      source: 'nict',
      confidence: 90,
      tier: 'full',
      tlp: 'amber+strict',
    },
    {
      type: 'bot',
      value: '198.18.0.7',
      source: 'darknet',
      confidence: 90,
      family: 'mirai',
      attributes: { ports: '23;2323', country: 'JP' },
      c2: { value: '203.0.113.10', port: 4444, proto: 'tcp' },
    },
    // Released by the analysis centre for notice to its holder (public tier, TLP:CLEAR): the
    // self-check tells only what public notice says.
    {
      type: 'bot',
      value: '127.0.0.1',
      source: 'darknet',
      confidence: 90,
      family: 'mirai',
      tier: 'public',
      tlp: 'clear',
    },
  ]);
});
after(async () => {
  await hub.close();
  rmSync(dist, { recursive: true, force: true });
});

describe('console over HTTP', () => {
  test('the SPA is served with a strict CSP and no inline script', async () => {
    for (const path of ['/', '/check']) {
      const r = await get(path);
      assert.equal(r.status, 200);
      const csp = r.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    }
    const js = await get('/assets/app.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await get('/assets/..%2Fsecret')).status, 400);
    assert.equal((await get('/assets/missing.js')).status, 404);
  });

  test('no token, a bad token, or a token in the URL is refused', async () => {
    assert.equal((await get('/console/api/overview')).status, 401);
    assert.equal((await get('/console/api/overview', 'tsg_' + 'x'.repeat(43))).status, 401);
    assert.equal((await get(`/console/api/indicators?token=${hub.tokens.full}`)).status, 401);
    const me = (await (await get('/console/api/me', hub.tokens.council)).json()) as {
      tier: string;
      org: string;
    };
    assert.deepEqual([me.tier, me.org], ['council', 'ISP Sakura']);
  });

  test('each tier sees only what share would publish to it, in the shape it may see', async () => {
    const list = async (token: string, q = '') =>
      (await (await get(`/console/api/indicators?kind=c2${q}`, token)).json()) as {
        items: { value: string; ref: string; confidence?: number; lastSeen?: string }[];
        total: number;
      };
    const full = await list(hub.tokens.full);
    const council = await list(hub.tokens.council);
    const pub = await list(hub.tokens.public);
    assert.deepEqual(full.items.map((i) => i.value).sort(), ['203.0.113.10', '203.0.113.11', '203.0.113.12']);
    assert.deepEqual(council.items.map((i) => i.value).sort(), ['203.0.113.10', '203.0.113.11']);
    assert.deepEqual(
      pub.items.map((i) => i.value),
      ['203.0.113.10'],
    );
    assert.equal(pub.items[0]!.confidence, undefined, 'no confidence at public notice');
    assert.equal(council.items[0]!.lastSeen, undefined, 'no observation times below full');
    assert.ok(full.items[0]!.lastSeen);
    // Detail: the full-tier-only server is "not found" for the council, same as a made-up one.
    const secret = full.items.find((i) => i.value === '203.0.113.12')!;
    assert.equal((await get(`/console/api/indicators/${secret.ref}`, hub.tokens.council)).status, 404);
    assert.equal((await get(`/console/api/indicators/AAAA`, hub.tokens.council)).status, 404);
    const open = full.items.find((i) => i.value === '203.0.113.10')!;
    const councilDetail = (await (
      await get(`/console/api/indicators/${open.ref}`, hub.tokens.council)
    ).json()) as Record<string, unknown>;
    assert.equal(councilDetail.sightings, undefined, 'no sources below full');
    const fullDetail = (await (await get(`/console/api/indicators/${open.ref}`, hub.tokens.full)).json()) as {
      evidence: Record<string, unknown>;
      network: { asn: number | null };
      sightings: { source: string }[];
      relationships: unknown[];
      sharedWith: { tier: string }[];
    };
    assert.deepEqual(
      fullDetail.sightings.map((s) => s.source),
      ['isp-a'],
    );
    assert.equal(fullDetail.relationships.length, 1, 'the bot talking to it');
    assert.deepEqual(fullDetail.evidence, { score: '0.93' });
    assert.equal(fullDetail.network.asn, null, 'a documentation address is in no AS');
    assert.deepEqual(
      fullDetail.sharedWith.map((s) => s.tier),
      ['full', 'council', 'public'],
    );
    // Bots name subscribers: never below the full tier.
    const bots = (await (await get('/console/api/indicators?kind=bot', hub.tokens.council)).json()) as {
      total: number;
    };
    assert.equal(bots.total, 0);
    for (const path of ['hosts', 'darknet', 'survey', 'audit'])
      assert.equal((await get(`/console/api/${path}`, hub.tokens.council)).status, 403, path);
    assert.equal(
      (await get('/console/api/indicators?kind=c2&sort=lastSeen', hub.tokens.council)).status,
      403,
    );
    assert.equal(
      (await get('/console/api/indicators?kind=c2&sort=confidence', hub.tokens.public)).status,
      403,
    );
    // The overview counts what the reader may see (recounted when the live feed sees changes).
    await hub.console.live!.flush();
    const overview = (await (await get('/console/api/overview', hub.tokens.public)).json()) as {
      active: Record<string, number>;
      newestC2: unknown[];
    };
    assert.deepEqual(overview.active, { c2: 1 });
    type Graph = {
      nodes: { id: string; kind: string; family: string; count?: number }[];
      edges: { from: string; to: string; type: string; count?: number }[];
    };
    const graph = (await (await get('/console/api/graph', hub.tokens.council)).json()) as Graph;
    assert.ok(
      graph.nodes.every((n) => n.kind !== 'bots'),
      'no infected hosts below full',
    );
    assert.ok(graph.nodes.some((n) => n.kind === 'family' && n.family === 'mirai'));
    const fullGraph = (await (await get('/console/api/graph', hub.tokens.full)).json()) as Graph;
    // Both mirai bots form one group joined to its family and to the C&C server one talked to.
    const group = fullGraph.nodes.find((n) => n.id === 'bots:mirai');
    assert.equal(group?.count, 2);
    assert.ok(fullGraph.edges.some((e) => e.from === 'bots:mirai' && e.to === 'family:mirai'));
    assert.ok(
      fullGraph.edges.some((e) => e.from === 'bots:mirai' && e.to === open.ref && e.count === 1),
      'the bot that talks to 203.0.113.10',
    );
    assert.ok(fullGraph.edges.some((e) => e.from === open.ref && e.to === 'family:mirai'));
  });
});

describe('console over HTTP', () => {
  test('filters, sorting, pagination and bad parameters', async () => {
    const r = (await (
      await get('/console/api/indicators?kind=c2&q=203.0.113.1&sort=port&dir=asc&limit=2', hub.tokens.full)
    ).json()) as { items: { port: number }[]; total: number };
    assert.equal(r.total, 3);
    assert.deepEqual(
      r.items.map((i) => i.port),
      [23, 4444],
    );
    const page2 = (await (
      await get('/console/api/indicators?kind=c2&sort=port&dir=asc&limit=2&offset=2', hub.tokens.full)
    ).json()) as { items: { port: number }[] };
    assert.deepEqual(
      page2.items.map((i) => i.port),
      [6667],
    );
    const fam = (await (await get('/console/api/indicators?family=GAFGYT', hub.tokens.full)).json()) as {
      items: { value: string }[];
    };
    assert.deepEqual(
      fam.items.map((i) => i.value),
      ['203.0.113.11'],
    );
    const like = (await (await get('/console/api/indicators?q=%25', hub.tokens.full)).json()) as {
      total: number;
    };
    assert.equal(like.total, 0, 'a % is a literal, not a wildcard');
    for (const bad of ['kind=nope', 'limit=0', 'offset=-1', 'sort=id', 'minConfidence=101']) {
      const res = await get(`/console/api/indicators?${bad}`, hub.tokens.full);
      assert.equal(res.status, 400, bad);
      assert.ok(((await res.json()) as { description: string }).description);
    }
    const hosts = (await (await get('/console/api/hosts', hub.tokens.full)).json()) as {
      totals: Record<string, number>;
      byCountry: { country: string }[];
      byAsn: { kind: string; asn: number | null; count: number }[];
    };
    assert.equal(hosts.totals.bot, 2);
    assert.deepEqual(
      hosts.byAsn.filter((r) => r.kind === 'bot'),
      [{ kind: 'bot', asn: null, count: 2 }],
      'bots reported without an AS and in none of the database',
    );
    assert.ok(hosts.byCountry.some((c) => c.country === 'JP'));
    const darknet = (await (await get('/console/api/darknet', hub.tokens.full)).json()) as {
      scanners: number;
      topPorts: { port: number }[];
    };
    assert.equal(darknet.scanners, 2);
    assert.deepEqual(darknet.topPorts.map((p) => p.port).sort(), [23, 2323]);
  });

  test('keyset cursors walk exactly the rows offset pages give, for every sort and direction', async () => {
    type Page = { items: { ref: string }[]; next?: string; total?: number };
    const list = async (query: string) => {
      const r = await get(`/console/api/indicators?${query}`, hub.tokens.full);
      assert.equal(r.status, 200, query);
      return (await r.json()) as Page;
    };
    for (const sort of ['created', 'value', 'port', 'family', 'confidence', 'lastSeen'])
      for (const dir of ['asc', 'desc']) {
        const all = (await list(`sort=${sort}&dir=${dir}&limit=100`)).items.map((i) => i.ref);
        assert.ok(all.length >= 5);
        const walked: string[] = [];
        let page = await list(`sort=${sort}&dir=${dir}&limit=2`);
        assert.equal(page.total, all.length);
        for (;;) {
          walked.push(...page.items.map((i) => i.ref));
          if (!page.next) break;
          page = await list(`sort=${sort}&dir=${dir}&limit=2&count=false&after=${page.next}`);
          assert.equal(page.total, undefined, 'count=false skips the count');
        }
        assert.deepEqual(walked, all, `${sort} ${dir}`);
      }
    const first = await list('sort=port&dir=asc&limit=1');
    for (const bad of [
      `sort=value&dir=asc&after=${first.next}`, // another sort's cursor
      `sort=port&dir=desc&after=${first.next}`, // another direction's
      `sort=port&dir=asc&after=${first.next}&offset=1`,
      'sort=port&dir=asc&after=bm9wZQ',
      `sort=port&dir=asc&after=${Buffer.from('["port","asc","x","id"]').toString('base64url')}`,
      'after=a.b',
    ]) {
      const res = await get(`/console/api/indicators?${bad}`, hub.tokens.full);
      assert.equal(res.status, 400, bad);
    }
  });

  test('the overview counters agree with the counted tables, at every tier', async () => {
    await hub.console.live!.flush();
    for (const tier of ['full', 'council', 'public'] as const) {
      const token = hub.tokens[tier];
      const overview = (await (await get('/console/api/overview', token)).json()) as {
        active: Record<string, number>;
        new24h: Record<string, number>;
        hours: string[];
        trend: Record<string, number[]>;
      };
      assert.equal(overview.hours.length, 24);
      assert.equal(overview.hours[23], new Date().toISOString().slice(0, 13));
      for (const kind of INDICATOR_KINDS) {
        const counted = await whereVisible(
          whereActive(hub.ctx.store.db.selectFrom('indicators'), new Date()),
          tier,
        )
          .where('kind', '=', kind)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        const total = Number(counted.n);
        // The table's total for a bare kind comes from the same tallies; a filter that matches
        // everything (minConfidence=0) is counted row by row: both must give the true count.
        for (const query of [`kind=${kind}`, `kind=${kind}&minConfidence=0`]) {
          const page = (await (await get(`/console/api/indicators?${query}`, token)).json()) as {
            total?: number;
          };
          if (tier === 'public' && query.includes('minConfidence')) continue; // refused at public
          assert.equal(page.total, total, `${tier} ${query} total`);
        }
        assert.equal(overview.active[kind] ?? 0, total, `${tier} ${kind} active`);
        // Everything here was recorded during this run and nothing was withdrawn.
        assert.equal(overview.new24h[kind] ?? 0, total, `${tier} ${kind} new`);
        const trend = overview.trend[kind] ?? [];
        assert.equal(
          trend.reduce((a, b) => a + b, 0),
          total,
          `${tier} ${kind} trend`,
        );
      }
    }
  });
});

describe('console over HTTP', () => {
  test('the audit page verifies the chain and console reads of restricted detail are audited', async () => {
    const audit = (await (await get('/console/api/audit', hub.tokens.full)).json()) as {
      verification: { ok: boolean; records: number };
      records: { action: string }[];
    };
    assert.equal(audit.verification.ok, true);
    assert.ok(audit.records.some((r) => r.action === 'console.read'));
    const sharing = (await (await get('/console/api/sharing', hub.tokens.public)).json()) as {
      organisations: { name: string }[];
      tokens: unknown[];
    };
    assert.deepEqual(
      sharing.organisations.map((o) => o.name),
      ['Vendor Kumo'],
      'a vendor sees only itself',
    );
  });

  test('self-check answers only about the caller, refuses parameters, and is rate-limited', async () => {
    const listed = (await (await get('/console/api/self-check')).json()) as {
      address: string;
      listed: boolean;
      findings: { category: string; family?: string }[];
    };
    assert.equal(listed.address, '127.0.0.1');
    assert.equal(listed.listed, true);
    assert.deepEqual(
      listed.findings.map((f) => [f.category, f.family]),
      [['infected', 'mirai']],
    );
    // No proxy is trusted: a forged header is ignored, the answer is still about 127.0.0.1.
    const forged = (await (
      await get('/console/api/self-check', undefined, { 'x-forwarded-for': '198.18.0.7' })
    ).json()) as { address: string };
    assert.equal(forged.address, '127.0.0.1');
    const withParam = await get('/console/api/self-check?address=198.18.0.7');
    assert.equal(withParam.status, 400);
    const limited = await get('/console/api/self-check');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const metrics = await hub.registry.getSingleMetricAsString('tsunagi_console_selfcheck_total');
    assert.match(metrics, /outcome="listed"} 2/);
    assert.match(metrics, /outcome="limited"} 1/);
    assert.match(metrics, /outcome="refused"} 1/);
  });

  test('live stream: a new indicator reaches the readers allowed to see it, and only them', async () => {
    const open = async (token: string) => {
      const controller = new AbortController();
      const r = await fetch(`${hub.url}/console/api/live`, {
        // As the console's own fetch asks for it (the hub's TAXII Accept rule must not apply).
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      return {
        async until(pattern: RegExp, ms = 3000): Promise<string> {
          const end = Date.now() + ms;
          while (!pattern.test(text)) {
            if (Date.now() > end) return text;
            const next = await Promise.race([
              reader.read(),
              new Promise<null>((res) => setTimeout(() => res(null), end - Date.now())),
            ]);
            if (next && !next.done) text += next.value;
          }
          return text;
        },
        close: () => controller.abort(),
      };
    };
    assert.equal((await fetch(`${hub.url}/console/api/live`)).status, 401);
    await hub.console.live!.flush(); // the setup's own changes
    const full = await open(hub.tokens.full);
    const council = await open(hub.tokens.council);
    await full.until(/event: hello/);
    await council.until(/event: hello/);
    await hub.ctx.intel.recordSightings([
      {
        type: 'c2',
        value: '203.0.113.99',
        port: 8080,
        proto: 'tcp',
        family: 'mozi',
        source: 'isp-b',
        confidence: 75,
        tier: 'full',
      },
      {
        type: 'c2',
        value: '203.0.113.98',
        port: 8081,
        proto: 'tcp',
        family: 'mozi',
        source: 'isp-b',
        confidence: 75,
        tier: 'council',
        tlp: 'green',
      },
    ]);
    assert.equal(await hub.console.live!.flush(), 2);
    const fullText = await full.until(
      /203\.0\.113\.98[\s\S]*event: changed|event: changed[\s\S]*203\.0\.113\.98/,
    );
    const councilText = await council.until(/event: changed/);
    assert.match(fullText, /203\.0\.113\.99/);
    assert.match(fullText, /"change":"created"/);
    assert.match(councilText, /203\.0\.113\.98/);
    assert.doesNotMatch(councilText, /203\.0\.113\.99/, 'a full-tier server never reaches a council stream');
    assert.doesNotMatch(councilText, /isp-b/, 'no sources in the council view');
    full.close();
    council.close();
  });
});

test('the detector’s evidence is unpacked into flat keys for the detail view', async () => {
  const { evidenceOf } = await import('./api/index.ts');
  const evidence = JSON.stringify({
    bots: 4,
    scanPort: false,
    sub: { bots: 0.5, periodicity: 0.9 },
    list: [1, 2],
  });
  assert.deepEqual(evidenceOf({ evidence, country: 'JP' }), {
    bots: 4,
    scanPort: false,
    'sub.bots': 0.5,
    'sub.periodicity': 0.9,
    list: '1, 2',
    country: 'JP',
  });
  assert.deepEqual(evidenceOf({ evidence: '{"bots": 4, "cut' }), { evidence: '{"bots": 4, "cut' });
});
