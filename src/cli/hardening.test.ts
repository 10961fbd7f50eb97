/**
 * Issue #15 on both store engines, one test per finding: authentication before any body (6),
 * refusals and restricted reads audited once each (9), fair live-stream slots (10), rule-language
 * allow-lists (12), a failed request records nothing (13), strict tokens and no-store headers (14).
 * Route tests walk every route the hub serves (hubRoutes), not a sample.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { consoleDepsOf, createConsole } from '../console/index.ts';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig, type SightingInput } from '../intel/index.ts';
import { COLLECTION_IDS, createAuditLog, createHub, HubConfig, type AuditLog } from '../share/index.ts';
import { droppedRuleFields, hubRoutes, isPublicRequest, TAXII, taxiiRequests } from '../share/testing.ts';
import type { Store } from '../store/index.ts';
import { testEngines } from '../store/testing.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';

const C = COLLECTION_IDS;
const T = '2026-01-01T00:00:00.000Z';

const ORGS = [
  { name: 'NISC', role: 'analysis' },
  { name: 'ISP A', role: 'isp', consent: true, prefixes: ['192.0.2.0/25'] },
  { name: 'Citizen', role: 'public' },
] as const;
type OrgName = (typeof ORGS)[number]['name'];

async function setup(
  store: Store,
  options: { hub?: Record<string, unknown>; audit?: (real: AuditLog) => AuditLog; listen?: boolean } = {},
) {
  const registry = new Registry();
  const logger = silentLogger();
  const real = createAuditLog({ store });
  const audit = options.audit ? options.audit(real) : real;
  const intel = createIntel(IntelConfig.parse({}), { store, logger, registry, audit });
  const hub = createHub(
    HubConfig.parse({ listen: options.listen ? '127.0.0.1:0' : '', publishIntervalMs: 0, ...options.hub }),
    { store, intel, audit, logger, registry },
  );
  // The console too, as serve and start wire it: its routes are the hub's routes.
  const web = createConsole({}, consoleDepsOf(hub.context, { registry, logger }));
  hub.use((app) => web.register(app));
  await hub.start();
  await web.start();
  const tokens = {} as Record<OrgName, string>;
  for (const o of ORGS) {
    await hub.orgs.add({ ...o, prefixes: 'prefixes' in o ? [...o.prefixes] : [] }, 'test');
    tokens[o.name] = (await hub.orgs.createToken(o.name, {}, 'test')).token;
  }
  const app = hub.app();
  const req = taxiiRequests(app, tokens);
  const records = async () => real.list(0, 1_000_000);
  return {
    hub,
    app,
    intel,
    tokens,
    req,
    records,
    audit: real,
    web,
    close: async () => {
      await web.stop();
      await hub.stop();
    },
  };
}

/** A URL for a route pattern, every parameter filled with a plausible value. */
function concrete(pattern: string): string {
  return pattern
    .replace(':root', 'full')
    .replace(':collection', C.full)
    .replace(':object', 'indicator--00000000-0000-4000-8000-000000000001')
    .replace(':id', '00000000-0000-4000-8000-000000000002')
    .replace(':ref', '00000000-0000-4000-8000-000000000003')
    .replace(':name', 'c2.csv')
    .replace(':file', 'manifest.json');
}

function submission(ip: string, options: { labels?: string[]; nested?: boolean } = {}) {
  return {
    objects: [
      {
        type: 'indicator',
        spec_version: '2.1',
        id: `indicator--${crypto.randomUUID()}`,
        created: T,
        modified: T,
        pattern: `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '${ip}' AND network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']`,
        pattern_type: 'stix',
        valid_from: T,
        confidence: 70,
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.nested ? { x_nested: 'NESTED' } : {}),
      },
    ],
  };
}

/**
 * Sends a request's head and the first part of its body over a raw socket, and waits (at most
 * `ms`) for the answer without sending the rest: the answer's status, and whether the server
 * closed the connection.
 */
function partialUpload(
  base: string,
  head: string,
  first: Buffer,
  ms = 3000,
): Promise<{ status?: number; closed: boolean; text: string }> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      resolve({ ...(status ? { status: Number(status) } : {}), closed, text });
    };
    const timer = setTimeout(finish, ms);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(head);
    socket.write(first);
  });
}

const amberSighting: SightingInput = {
  type: 'c2',
  value: '203.0.113.5',
  port: 443,
  proto: 'tcp',
  source: 'isp-b',
  confidence: 70,
  tier: 'full',
  tlp: 'amber',
};

for (const engine of testEngines(ROOM_MIGRATIONS)) {
  describe(`hub hardening on ${engine.name}`, { skip: engine.skip }, () => {
    test('finding 6: anonymous bodies are refused (401) before they are read; big ones close the connection; each organisation has its own body limit', async () => {
      const store = await engine.open();
      const h = await setup(store, { listen: true });
      try {
        const url = `/council/collections/${C.submissions}/objects/`;
        const huge = 26 * 1024 * 1024;
        const anonymous = await partialUpload(
          h.hub.url(),
          `POST ${url} HTTP/1.1\r\nHost: x\r\nAccept: ${TAXII}\r\nContent-Type: ${TAXII}\r\nContent-Length: ${huge}\r\n\r\n`,
          Buffer.alloc(65_536, 0x20),
        );
        assert.equal(anonymous.status, 401, 'answered before the other 26 MB were sent');
        assert.match(anonymous.text, /connection: close/i);
        assert.equal(anonymous.closed, true, 'and the connection closed rather than the body drained');

        // A whole invalid body: the answer is about the missing token, never about the body.
        const tooMany = { objects: Array.from({ length: 10_001 }, () => ({})) };
        const whole = await h.req('POST', url, undefined, tooMany);
        assert.equal(whole.statusCode, 401);
        assert.doesNotMatch(whole.body, /items/);

        // A signed-in reader with no collection to write to (public role) gets 64 KiB.
        const citizen = await partialUpload(
          h.hub.url(),
          `POST /public/collections/${C.public}/objects/ HTTP/1.1\r\nHost: x\r\nAccept: ${TAXII}\r\nContent-Type: ${TAXII}\r\nAuthorization: Bearer ${h.tokens.Citizen}\r\nContent-Length: 1000000\r\n\r\n`,
          Buffer.alloc(1000, 0x20),
        );
        assert.equal(citizen.status, 413);
        // The same without a length (chunked) stops at the limit too.
        const chunked = await new Promise<number>((resolve, reject) => {
          const request = http.request(`${h.hub.url()}/public/collections/${C.public}/objects/`, {
            method: 'POST',
            headers: { accept: TAXII, 'content-type': TAXII, authorization: `Bearer ${h.tokens.Citizen}` },
          });
          request.on('response', (res) => {
            res.resume();
            resolve(res.statusCode!);
          });
          request.on('error', reject);
          request.write(`{"objects":[${'{},'.repeat(40_000)}{}]}`);
          request.end();
        });
        assert.equal(chunked, 413);
        // An ISP writes submissions well past that.
        const isp = await h.req('POST', url, 'ISP A', submission('198.51.100.20'));
        assert.equal(isp.statusCode, 202);
      } finally {
        await h.close();
        await store.close();
      }
    });

    test('finding 9: every refused request and every restricted read leaves exactly one audit record', async () => {
      const store = await engine.open();
      const h = await setup(store);
      try {
        const protectedRoutes = hubRoutes(h.app).filter((r) => !isPublicRequest(r.method, concrete(r.url)));
        assert.ok(protectedRoutes.length >= 25, `all routes walked (${protectedRoutes.length})`);
        for (const route of protectedRoutes) {
          const before = (await h.records()).length;
          const res = await h.req(
            route.method as 'GET',
            concrete(route.url),
            undefined,
            route.method === 'POST' ? { objects: [] } : undefined,
          );
          assert.equal(res.statusCode, 401, `${route.method} ${route.url}`);
          const added = (await h.records()).slice(before);
          assert.equal(added.length, 1, `${route.method} ${route.url}: one record`);
          assert.equal(added[0]!.action, 'http.refused');
          assert.equal(added[0]!.actor, 'anonymous');
          assert.equal(JSON.parse(added[0]!.detail).status, 401);
        }

        const once = async (
          method: 'GET' | 'DELETE',
          url: string,
          org: OrgName,
          status: number,
          action: string,
        ) => {
          const before = (await h.records()).length;
          const res = await h.req(method, url, org);
          assert.equal(res.statusCode, status, `${url}: ${res.body.slice(0, 200)}`);
          const added = (await h.records()).slice(before);
          assert.deepEqual(
            added.map((r) => [r.action, r.actor]),
            [[action, org]],
            `${method} ${url}: exactly one ${action} record`,
          );
          return res;
        };
        await once('GET', '/full/', 'ISP A', 404, 'http.refused');
        await once('GET', `/council/collections/${C.submissions}/objects/`, 'ISP A', 403, 'http.refused');
        await once('GET', '/api/organisations', 'Citizen', 404, 'http.refused');
        await once('GET', '/api/no-such-thing', 'NISC', 404, 'http.refused');

        // AMBER (not only AMBER+STRICT or RED) data read through every TAXII read and the API.
        await h.intel.recordSightings([amberSighting]);
        await h.hub.publisher.sync();
        const objectsUrl = `/full/collections/${C.full}/objects/`;
        const objects = await once('GET', objectsUrl, 'NISC', 200, 'taxii.read');
        const indicator = (
          JSON.parse(objects.body) as { objects: { type: string; id: string }[] }
        ).objects.find((o) => o.type === 'indicator')!;
        await once('GET', `/full/collections/${C.full}/manifest/`, 'NISC', 200, 'taxii.read');
        await once('GET', `${objectsUrl}${indicator.id}/`, 'NISC', 200, 'taxii.read');
        await once('GET', `${objectsUrl}${indicator.id}/versions/`, 'NISC', 200, 'taxii.read');
        await once('GET', '/api/indicators', 'NISC', 200, 'api.read');
        const [ind] = (await h.intel.list({})).items;
        await once('GET', `/api/indicators/${ind!.id}`, 'NISC', 200, 'api.read');
        for (const name of ['c2.csv', 'c2.txt', 'c2.stix.json', 'suricata.rules'])
          await once('GET', `/api/export/${name}`, 'NISC', 200, 'api.read');
        await once('GET', '/console/api/indicators', 'NISC', 200, 'console.read');
        assert.equal((await h.audit.verify()).ok, true);
      } finally {
        await h.close();
        await store.close();
      }
    });
  });

  describe(`hub hardening on ${engine.name}`, { skip: engine.skip }, () => {
    test("finding 10: one organisation's live streams cannot lock the analysis center out", async () => {
      const store = await engine.open();
      const h = await setup(store, { listen: true });
      const open: http.ClientRequest[] = [];
      const stream = (token: string) =>
        new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
          const request = http.get(`${h.hub.url()}/console/api/live`, {
            agent: false,
            headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
          });
          open.push(request);
          request.on('response', (res) => {
            res.on('data', () => undefined);
            res.on('error', () => undefined);
            resolve({ status: res.statusCode!, headers: res.headers });
          });
          request.on('error', reject);
        });
      try {
        const answers = await Promise.all(Array.from({ length: 200 }, () => stream(h.tokens.Citizen)));
        const accepted = answers.filter((a) => a.status === 200).length;
        assert.equal(accepted, 20, 'one organisation holds at most its share');
        assert.equal(answers.filter((a) => a.status === 503).length, 180);
        const centre = await stream(h.tokens.NISC);
        assert.equal(centre.status, 200, 'the analysis center still gets a stream');
        assert.equal(centre.headers['x-content-type-options'], 'nosniff');
        assert.equal(centre.headers['cache-control'], 'no-store');
        // Streams given back free their slots.
        for (const request of open.splice(0)) request.destroy();
        for (let i = 0; i < 50 && h.web.live!.clients > 0; i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal((await stream(h.tokens.Citizen)).status, 200);
      } finally {
        for (const request of open) request.destroy();
        await h.close();
        await store.close();
      }
    });

    test('finding 12: a submitted label with a newline never reaches suricata.rules or the MISP feed', async () => {
      const store = await engine.open();
      const h = await setup(store);
      try {
        const injected = 'mirai\nalert ip any any -> any any (msg:"owned"; sid:1;)';
        const before = droppedRuleFields().get('suricata:label') ?? 0;
        const post = await h.req(
          'POST',
          `/council/collections/${C.submissions}/objects/`,
          'ISP A',
          submission('198.51.100.30', { labels: [injected] }),
        );
        assert.equal(post.statusCode, 202);
        assert.equal((await h.intel.list({})).items[0]!.family, injected, 'intel keeps what was submitted');
        const rules = await h.req('GET', '/api/export/suricata.rules', 'NISC');
        assert.equal(rules.statusCode, 200);
        const lines = rules.body.trimEnd().split('\n');
        assert.deepEqual(
          lines.map((l) => l.slice(0, 6)),
          ['# tsun', 'alert '],
          'the header and exactly one rule',
        );
        assert.doesNotMatch(rules.body, /owned/);
        assert.match(lines[1]!, /-> 198\.51\.100\.30 443 \(msg:"tsunagi C&C 198\.51\.100\.30:443"/);
        assert.equal(droppedRuleFields().get('suricata:label'), before + 1, 'the drop is counted');
        const manifest = await h.req('GET', '/api/export/misp/manifest.json', 'NISC');
        const [uuid] = Object.keys(JSON.parse(manifest.body) as object);
        const event = await h.req('GET', `/api/export/misp/${uuid}.json`, 'NISC');
        assert.doesNotMatch(event.body, /owned|\\n/);
      } finally {
        await h.close();
        await store.close();
      }
    });

    test('finding 13: a request that fails records nothing (sighting and audit in one transaction)', async () => {
      const store = await engine.open();
      // The audit log fails on the POST's own record, after the sightings would have been written.
      const h = await setup(store, {
        audit: (real) => ({
          ...real,
          async append(trx, entry) {
            if (entry.action === 'taxii.write') throw new Error('audit storage failed');
            return real.append(trx, entry);
          },
        }),
      });
      try {
        const url = `/council/collections/${C.submissions}/objects/`;
        const before = (await h.records()).length;
        const failed = await h.req('POST', url, 'ISP A', submission('198.51.100.40'));
        assert.equal(failed.statusCode, 500);
        assert.deepEqual((await h.intel.list({})).items, [], 'no sighting survives the failed request');
        assert.equal((await h.records()).length, before, 'and no audit record either');

        // Deeply nested JSON: refused as bad input, and nothing recorded.
        const depth = 20_000;
        const nested = JSON.stringify(submission('198.51.100.41', { nested: true })).replace(
          '"NESTED"',
          `${'['.repeat(depth)}1${']'.repeat(depth)}`,
        );
        const deep = await h.req('POST', url, 'ISP A', nested);
        assert.equal(deep.statusCode, 400);
        assert.match(deep.body, /nests deeper/);
        assert.deepEqual((await h.intel.list({})).items, []);
      } finally {
        await h.close();
        await store.close();
      }
    });
  });

  describe(`hub hardening on ${engine.name}`, { skip: engine.skip }, () => {
    test('finding 14: only "Bearer TOKEN" exactly; nosniff and no-store on every TAXII, API and console API answer', async () => {
      const store = await engine.open();
      const h = await setup(store);
      try {
        const token = h.tokens.NISC;
        const me = (authorization: string) =>
          h.app.inject({ url: '/api/me', headers: { authorization } }).then((r) => r.statusCode);
        assert.equal(await me(`Bearer ${token}`), 200);
        assert.equal(await me(`bearer ${token}`), 200, 'the scheme is case-insensitive (RFC 7235)');
        assert.equal(await me(`Basic ${Buffer.from(`nisc:${token}`).toString('base64')}`), 200);
        for (const bad of [
          `Bearer ${token} junk`,
          `Bearer  ${token}`,
          `Bearer ${token},x`,
          `Bearer\t${token}`,
          `Token ${token}`,
          'Bearer',
          `Basic ${Buffer.from(token).toString('base64')}`,
        ])
          assert.equal(await me(bad), 401, JSON.stringify(bad.replace(token, 'TOKEN')));

        for (const route of hubRoutes(h.app)) {
          const url = concrete(route.url);
          if (isPublicRequest(route.method, url) && url !== '/healthz' && !url.startsWith('/console/'))
            continue;
          if (url === '/console/api/live') continue; // a stream: checked over a socket in finding 10
          for (const org of ['NISC', undefined] as const) {
            const res = await h.req(
              route.method as 'GET',
              url,
              org,
              route.method === 'POST' ? { objects: [] } : undefined,
            );
            const where = `${route.method} ${route.url} (${org ?? 'anonymous'}, ${res.statusCode})`;
            assert.equal(res.headers['x-content-type-options'], 'nosniff', where);
            assert.equal(res.headers['cache-control'], 'no-store', where);
          }
        }
      } finally {
        await h.close();
        await store.close();
      }
    });
  });
}
