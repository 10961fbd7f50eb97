/**
 * `tsunagi start`'s OSINT intake (issue #20): the stack reads the configured feeds at start and
 * on its interval from a local HTTP server (never the internet), keeps each document with its
 * feed's marking and language, writes `osint:<feed>` sightings into intel, and shows the intake
 * in the metrics and in the pipeline's health as the console reads it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { createRegistry, Lifecycle, silentLogger } from '../core/index.ts';
import type { OsintTables } from '../osint/index.ts';
import { createStack } from './stack.ts';
import { loopbackStackConfig } from './testing.ts';

let base = '';
let feedReads = 0;
let failDocument = true;
// How many reads of the failing document were answered 500: every round before the flip is one.
let failedReads = 0;
const server = createServer((request, response) => {
  if (request.url === '/feed.xml') {
    feedReads++;
    response.writeHead(200, { 'content-type': 'application/rss+xml' });
    return void response.end(
      `<?xml version="1.0"?><rss version="2.0"><channel><title>JP vendor</title>
       <item><title>注意喚起</title><link>${base}/ja.html</link></item>
       <item><title>Advisory</title><link>${base}/en.txt</link></item>
       <item><title>Later</title><link>${base}/later.txt</link></item></channel></rss>`,
    );
  }
  if (request.url === '/ja.html') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return void response.end(
      '<p>攻撃者は通信先として hxxps://update-check[.]net/gate.php を使用し、C2 サーバ 91.234.99[.]12:8443 に接続しました。</p>',
    );
  }
  if (request.url === '/en.txt') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    return void response.end('The loader beacons to cdn-updates[.]org and exploits CVE-2024-3400.');
  }
  // Fails on the first round, answers on the next: an error is a warning, read again later.
  if (request.url === '/later.txt' && !failDocument) {
    response.writeHead(200, { 'content-type': 'text/plain' });
    return void response.end('Second stage at 45.77.3.3 (T1059).');
  }
  if (request.url === '/later.txt') failedReads++;
  response.writeHead(500).end();
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('start reads the configured feeds on its interval: documents, intel sightings, metrics, health', async () => {
  const data = mkdtempSync(join(tmpdir(), 'tsunagi-osint-start-'));
  const logger = silentLogger();
  const registry = createRegistry();
  const config = loopbackStackConfig(data, {
    osint: { feeds: [{ name: 'jp-vendor', url: `${base}/feed.xml`, tlp: 'green' }], intervalMs: 300 },
  });
  const stack = await createStack(config, { env: {}, logger, registry });
  const lifecycle = new Lifecycle(logger);
  try {
    await lifecycle.start(stack.components);
    const { token } = await analysisToken(stack);
    // The first round at start: two documents, one failed (a warning in the health).
    await stack.osint.osint.firstRound();
    assert.ok(stack.osint.osint.stats().rounds >= 1, 'the first round is counted when it ends');
    const first = await componentOf(stack, token);
    assert.equal(first.level, 'warning', 'a document that failed is a warning');
    assert.equal(first.counters.documents, 2);
    assert.equal(first.counters.lastRoundErrors, 1);
    failDocument = false;
    // The interval's next round takes the document that failed; nothing else is new.
    await until('the document that failed, read again', () =>
      stack.osint.osint.stats().documents === 3 ? true : undefined,
    );
    await until('a round without errors', () =>
      stack.osint.osint.stats().lastRound?.errors === 0 ? true : undefined,
    );
    assert.ok(feedReads >= 2);
    const later = await componentOf(stack, token);
    assert.equal(later.level, 'ok');
    assert.ok(later.counters.duplicates! >= 2, 'documents already stored are skipped');
    assert.equal(later.counters.sightings, stack.osint.sightings());

    const db = stack.store.db as unknown as Kysely<OsintTables>;
    const documents = await db
      .selectFrom('osint_documents')
      .select(['title', 'language', 'tlp'])
      .orderBy('title')
      .execute();
    assert.deepEqual(documents, [
      { title: 'Advisory', language: 'en', tlp: 'green' },
      { title: 'Later', language: 'en', tlp: 'green' },
      { title: '注意喚起', language: 'ja', tlp: 'green' },
    ]);
    const inIntel = (await stack.intel.list({ source: 'osint:jp-vendor', limit: 100 })).items;
    assert.deepEqual(inIntel.map((i) => `${i.kind} ${i.value} ${i.port} ${i.tlp}`).sort(), [
      'c2 45.77.3.3 0 green',
      'c2 91.234.99.12 8443 green',
      'domain cdn-updates.org 0 green',
      'url https://update-check.net/gate.php 0 green',
    ]);

    const metrics = await registry.metrics();
    assert.match(metrics, /tsunagi_osint_rounds_total \d+/);
    assert.match(metrics, /tsunagi_osint_documents_total\{outcome="new"\} 3/);
    // Rounds keep their interval while the test reads the health, so the flip may come after
    // more than one failed round; each failed read is counted once.
    assert.ok(failedReads >= 1);
    assert.match(metrics, new RegExp(`tsunagi_osint_documents_total\\{outcome="error"\\} ${failedReads}\\n`));
  } finally {
    await lifecycle.stop();
    await stack.close();
    rmSync(data, { recursive: true, force: true });
  }
});

async function analysisToken(stack: Awaited<ReturnType<typeof createStack>>) {
  await stack.hub.orgs.add({ name: 'Centre', role: 'analysis' }, 'test');
  return stack.hub.orgs.createToken('Centre', { scopes: ['read'] }, 'test');
}

interface ComponentView {
  component: string;
  level: string;
  counters: Record<string, number>;
}

/** The OSINT component as the console's pipeline page reads it (GET /console/api/health). */
async function componentOf(stack: Awaited<ReturnType<typeof createStack>>, token: string) {
  const res = await fetch(`${stack.hub.url()}/console/api/health`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { processes: { components: ComponentView[] }[] };
  const osint = body.processes.flatMap((p) => p.components).find((c) => c.component === 'osint');
  assert.ok(osint, 'the pipeline shows the OSINT intake');
  return osint;
}
