/**
 * The C&C sharer against a real hub on 127.0.0.1: ISPs POST candidates into the submission
 * collection, a council member reads the merged, sanitised list back over TAXII; withdrawals
 * arrive as revoked versions; a failing hub is retried with back-off.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { COLLECTION_IDS, stixValidator, type StixObject } from '../share/index.ts';
import { startHubFixture, type HubFixture } from '../share/testing.ts';
import { createC2Sharer, createTaxiiClient } from './index.ts';

const validate = stixValidator();
const logger = silentLogger();

let h: HubFixture;
let dir: string;
before(async () => {
  h = await startHubFixture();
  dir = mkdtempSync(join(tmpdir(), 'tsunagi-sharer-'));
});
after(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('C&C sharer against a real hub', () => {
  test('two ISPs share; the council reads one merged C&C per server; nothing but ip, port, proto, confidence, family leaves', async () => {
    const sent: string[] = [];
    // Records every body the sharer sends, then passes it on to the real fetch.
    const recordingFetch: typeof fetch = async (input, init) => {
      if (typeof init?.body === 'string') sent.push(init.body);
      return fetch(input, init);
    };
    const registry = new Registry();
    const common = {
      url: h.url,
      apiRoot: 'council',
      collection: COLLECTION_IDS.submissions,
      batchMs: 10_000,
    };
    const a = createC2Sharer(
      { ...common, token: h.tokens.ispA, stateFile: join(dir, 'a.json') },
      { logger, registry, fetch: recordingFetch },
    );
    // ISP B speaks HTTP Basic with the token as password, as some TAXII clients must.
    const b = createC2Sharer(
      { ...common, username: 'isp-b', password: h.tokens.ispB },
      { logger, fetch: recordingFetch },
    );
    await a.start();
    await b.start();
    const detectorCandidate = {
      ip: '203.0.113.7',
      port: 443,
      proto: 6,
      confidence: 80,
      family: 'Mirai',
      // What a detector candidate also carries: none of it may leave (law rule 2).
      key: '203.0.113.7|443|6',
      evidence: { bots: 4, clients: 0, subscriber: '192.0.2.55' },
      firstSeenMs: 1767225600000,
      lastSeenMs: 1767229200000,
    };
    a.publish(detectorCandidate);
    a.publish({ ip: '2001:db8::c2', port: 8080, proto: 'udp', confidence: 55, family: '' });
    b.publish({ ip: '203.0.113.7', port: 443, proto: 'tcp', confidence: 70, family: 'mirai' });
    assert.equal(a.pending(), 2);
    const ra = await a.flush();
    const rb = await b.flush();
    assert.deepEqual([ra.sent, ra.refused, ra.pending, rb.sent], [2, [], 0, 1]);
    assert.deepEqual(a.shared().sort(), ['2001:db8::c2|8080|udp', '203.0.113.7|443|tcp']);

    // What went over the wire: valid STIX, and no time finer than the day, no evidence, no subscriber.
    const posted = sent.flatMap((body) => (JSON.parse(body) as { objects: StixObject[] }).objects);
    assert.ok(posted.length >= 5);
    for (const o of posted) assert.equal(validate(o), undefined, JSON.stringify(o));
    const wire = sent.join('\n');
    assert.doesNotMatch(wire, /192\.0\.2\.55|evidence|firstSeen|lastSeen|1767225600000/);
    for (const stamp of wire.match(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g) ?? [])
      assert.match(stamp, /T00:00:00\.000Z$/, 'only day-granular times leave the ISP');

    // Intel merged both ISPs' submissions into one indicator with two sightings.
    const merged = (await h.intel.list({ kinds: ['c2'] })).items.find((i) => i.value === '203.0.113.7')!;
    assert.equal(merged.port, 443);
    assert.equal(merged.proto, 'tcp');
    assert.deepEqual((await h.intel.sightings(merged.id)).map((s) => s.source).sort(), ['ISP A', 'ISP B']);
    assert.equal(merged.family?.toLowerCase(), 'mirai');

    // The council member reads the merged list back through TAXII.
    await h.hub.publisher.sync();
    const council = createTaxiiClient({
      url: h.url,
      collection: COLLECTION_IDS.council,
      token: h.tokens.council,
    });
    const { objects } = await council.getObjects({ types: ['indicator'] });
    const patterns = objects.map((o) => o.pattern as string);
    assert.equal(patterns.filter((p) => p.includes("'203.0.113.7'")).length, 1, 'one indicator for two ISPs');
    assert.ok(patterns.some((p) => p.includes("'2001:db8::c2'") && p.includes('dst_port = 8080')));
    const c2 = objects.find((o) => String(o.pattern).includes("'203.0.113.7'"))!;
    assert.ok((c2.confidence as number) >= 80, 'merged confidence is at least the strongest source');

    // A second publish with the same facts sends nothing; a change sends a new version.
    a.publish(detectorCandidate);
    assert.equal((await a.flush()).sent, 0);
    a.publish({ ...detectorCandidate, confidence: 90 });
    assert.equal((await a.flush()).sent, 1);
    await a.stop();
    await b.stop();
    const saved = readFileSync(join(dir, 'a.json'), 'utf8');
    assert.doesNotMatch(saved, /192\.0\.2\.55|evidence|firstSeen/);
  });

  test('a withdrawal is a revoked version of the same indicator, sent after a restart too', async () => {
    const stateFile = join(dir, 'withdraw.json');
    const config = {
      url: h.url,
      apiRoot: '/council/',
      collection: COLLECTION_IDS.submissions,
      token: h.tokens.ispA,
      stateFile,
    };
    const first = createC2Sharer(config, { logger });
    await first.start();
    const candidate = { ip: '198.51.100.99', port: 6667, proto: 'tcp', confidence: 75, family: 'Gafgyt' };
    first.publish(candidate);
    assert.equal((await first.flush()).sent, 1);
    await first.stop();
    const sightingsOf = async () => {
      const indicator = await h.intel.get({ kind: 'c2', value: '198.51.100.99', port: 6667, proto: 'tcp' });
      return (await h.intel.sightings(indicator!.id)).reduce((sum, sighting) => sum + sighting.count, 0);
    };
    const sightingsBefore = await sightingsOf();

    // A restarted sharer still knows which indicator to revoke.
    const second = createC2Sharer(config, { logger });
    await second.start();
    second.withdraw(candidate);
    second.withdraw({ ...candidate, port: 1 }); // never shared: nothing to send
    const result = await second.flush();
    assert.deepEqual([result.sent, result.refused.length], [1, 0]);
    assert.deepEqual(second.shared(), []);
    await second.stop();
    // Not one more sighting: the submitter's report taken back, and it was the only source.
    assert.equal(sightingsBefore, 1);
    assert.equal(await sightingsOf(), 0, "a revoked version removes the submitter's sighting");
    const withdrawn = await h.intel.get({ kind: 'c2', value: '198.51.100.99', port: 6667, proto: 'tcp' });
    assert.notEqual(withdrawn!.withdrawnAt, null);

    const reader = createTaxiiClient({
      url: h.url,
      apiRoot: 'council',
      collection: COLLECTION_IDS.submissions,
      token: h.tokens.analysis,
    });
    const { objects } = await reader.getObjects({ types: ['indicator'] });
    const mine = objects.filter((o) => String(o.pattern).includes("'198.51.100.99'"));
    assert.equal(mine.length, 1, 'the latest version only');
    assert.equal(mine[0]!.revoked, true);
    assert.equal(validate(mine[0]!), undefined);
    assert.ok(mine[0]!.modified! > mine[0]!.created!, 'a later version than the first');
  });
});

describe('C&C sharer against a real hub', () => {
  test('a candidate that is not shareable is refused at the door', () => {
    const s = createC2Sharer(
      { url: h.url, collection: COLLECTION_IDS.submissions, token: h.tokens.ispA },
      { logger },
    );
    assert.throws(() => s.publish({ ip: 'not-an-ip', port: 1, proto: 'tcp', confidence: 50 }), /not an IP/);
    assert.throws(() => s.publish({ ip: '192.0.2.1', port: 70000, proto: 'tcp', confidence: 50 }));
    assert.throws(() => s.publish({ ip: '192.0.2.1', port: 1, proto: 'tcp', confidence: 101 }));
  });

  test('a token without write access is refused by the hub and not retried', async () => {
    const s = createC2Sharer(
      { url: h.url, apiRoot: 'council', collection: COLLECTION_IDS.submissions, token: h.tokens.vendor },
      { logger },
    );
    await s.start();
    s.publish({ ip: '192.0.2.200', port: 80, proto: 'tcp', confidence: 50 });
    const result = await s.flush();
    assert.equal(result.sent, 0);
    assert.equal(result.refused.length, 1);
    assert.equal(result.error?.kind, 'http');
    assert.equal(result.error?.status, 404, 'the vendor may not even see the council root');
    assert.equal(s.pending(), 0);
    await s.stop();
  });
});

describe('C&C sharer retries', () => {
  test('a hub answering 503 is retried with back-off until it takes the envelope', async () => {
    const app = Fastify();
    let calls = 0;
    const times: number[] = [];
    app.addContentTypeParser('application/taxii+json', { parseAs: 'string' }, (_req, body, done) =>
      done(null, JSON.parse(body as string)),
    );
    app.post('/council/collections/sub/objects/', async (request, reply) => {
      calls++;
      times.push(Date.now());
      if (calls <= 2) return reply.code(503).send({ title: 'busy' });
      const objects = (request.body as { objects: { id: string }[] }).objects;
      return reply
        .code(202)
        .header('content-type', 'application/taxii+json;version=2.1')
        .send({
          id: 'status-1',
          status: 'complete',
          total_count: objects.length,
          success_count: objects.length,
          successes: objects.map((o) => ({ id: o.id })),
          failure_count: 0,
          pending_count: 0,
        });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address() as { port: number };
    const registry = new Registry();
    const s = createC2Sharer(
      {
        url: `http://127.0.0.1:${address.port}`,
        apiRoot: 'council',
        collection: 'sub',
        token: 't',
        batchMs: 0,
        retry: { initialMs: 40, maxMs: 1000 },
      },
      { logger, registry },
    );
    try {
      await s.start();
      s.publish({ ip: '192.0.2.9', port: 23, proto: 'tcp', confidence: 60, family: 'Mirai' });
      const deadline = Date.now() + 5000;
      while (s.shared().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(s.shared(), ['192.0.2.9|23|tcp']);
      assert.equal(calls, 3);
      // Back-off doubles: the second wait is longer than the first (jitter is ±25 %).
      const [g1, g2] = [times[1]! - times[0]!, times[2]! - times[1]!];
      assert.ok(g1 >= 25 && g2 > g1, `gaps ${g1} ms then ${g2} ms`);
      const metrics = await registry.metrics();
      assert.match(metrics, /tsunagi_c2_sharer_failed_posts_total 2/);
      assert.match(metrics, /tsunagi_taxii_client_errors_total\{client="share",kind="http"\} 2/);
    } finally {
      await s.stop();
      await app.close();
    }
  });
});
