/**
 * TAXII throughput measurement (not a test): loads N C&C indicators through intel, publishes them
 * as tiered STIX, then times GET objects?limit=1000 pages and POST envelopes of 1000 objects over
 * a real socket. Run: `node --import tsx src/share/bench-taxii.ts [N] [postgres-url]`.
 * The medallion side-by-side the issue asks for is not here yet (see the share README).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/logger.ts';
import { createIntel, IntelConfig } from '../intel/index.ts';
import { openStore } from '../store/index.ts';
import { createAuditLog } from './audit.ts';
import { COLLECTION_IDS } from './collections.ts';
import { HubConfig } from './config.ts';
import { createHub } from './index.ts';

const N = Number(process.argv[2] ?? 20000);
const url = process.argv[3];
const store = url
  ? await openStore({ databaseUrl: url, schema: `bench_${process.pid}` })
  : await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'hubbench-')) });
const logger = silentLogger();
const registry = new Registry();
const audit = createAuditLog({ store });
const intel = createIntel(IntelConfig.parse({}), { store, logger, registry, audit });
const hub = createHub(
  HubConfig.parse({ listen: '127.0.0.1:0', publishIntervalMs: 0, rateLimit: { perSecond: 1e6, burst: 1e6 } }),
  { store, intel, audit, logger, registry },
);
await hub.start();
await hub.orgs.add({ name: 'NISC', role: 'analysis' }, 'b');
const { token } = await hub.orgs.createToken('NISC', {}, 'b');
let t = performance.now();
for (let b = 0; b < N; b += 5000) {
  await intel.recordSightings(
    Array.from({ length: Math.min(5000, N - b) }, (_, i) => {
      const n = b + i;
      return {
        type: 'c2' as const,
        value: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
        port: 443,
        proto: 'tcp',
        source: 'isp',
        confidence: 50,
        tier: 'public' as const,
        tlp: 'clear' as const,
      };
    }),
  );
}
console.log(
  `intel record: ${N} in ${((performance.now() - t) / 1000).toFixed(1)} s = ${(N / ((performance.now() - t) / 1000)).toFixed(0)}/s`,
);
t = performance.now();
await hub.publisher.sync();
console.log(
  `publish: ${((performance.now() - t) / 1000).toFixed(1)} s = ${(N / ((performance.now() - t) / 1000)).toFixed(0)} indicators/s`,
);
const count = await store.db
  .selectFrom('stix_objects')
  .select((eb) => eb.fn.countAll().as('n'))
  .executeTakeFirstOrThrow();
console.log(`stix_objects rows: ${count.n}`);
const headers = { accept: 'application/taxii+json;version=2.1', authorization: `Bearer ${token}` };
const base = hub.url();
const lat: number[] = [];
let objects = 0;
let next: string | undefined;
t = performance.now();
for (let i = 0; i < 50; i++) {
  const s = performance.now();
  const res = await fetch(
    `${base}/full/collections/${COLLECTION_IDS.full}/objects/?limit=1000${next ? `&next=${next}` : ''}`,
    { headers },
  );
  const body = (await res.json()) as { objects?: unknown[]; next?: string; more: boolean };
  lat.push(performance.now() - s);
  objects += body.objects?.length ?? 0;
  next = body.more ? body.next : undefined;
  if (!next) break;
}
lat.sort((a, b) => a - b);
const el = (performance.now() - t) / 1000;
console.log(
  `GET pages limit=1000: ${lat.length} pages, ${(lat.length / el).toFixed(1)} req/s, ${(objects / el).toFixed(0)} objects/s, p50 ${lat[Math.floor(lat.length / 2)]!.toFixed(1)} ms, p99 ${lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]!.toFixed(1)} ms`,
);
const plat: number[] = [];
t = performance.now();
for (let i = 0; i < 10; i++) {
  const tt = '2026-01-01T00:00:00.000Z';
  const env = {
    objects: Array.from({ length: 1000 }, (_, j) => ({
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${crypto.randomUUID()}`,
      created: tt,
      modified: tt,
      pattern: `[ipv4-addr:value = '172.16.${i}.${j % 256}']`,
      pattern_type: 'stix',
      valid_from: tt,
    })),
  };
  const s = performance.now();
  const res = await fetch(`${base}/full/collections/${COLLECTION_IDS.full}/objects/`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/taxii+json;version=2.1' },
    body: JSON.stringify(env),
  });
  await res.json();
  plat.push(performance.now() - s);
}
plat.sort((a, b) => a - b);
const pel = (performance.now() - t) / 1000;
console.log(
  `POST envelopes of 1000: ${(10 / pel).toFixed(1)} req/s, ${(10000 / pel).toFixed(0)} objects/s, p50 ${plat[5]!.toFixed(1)} ms, max ${plat[9]!.toFixed(1)} ms`,
);
await hub.stop();
if (url) {
  const { sql } = await import('kysely');
  await sql`DROP SCHEMA ${sql.id(`bench_${process.pid}`)} CASCADE`.execute(store.db);
}
await store.close();
