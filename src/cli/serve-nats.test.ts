/**
 * `serve --nats` (issue #23): the hub alone takes the candidates of `detect --nats` workers into
 * intel. Two hub replicas on one PostgreSQL database share the stream's one durable consumer:
 * every message is written once, by one of them, in the order the workers sent it (an
 * announcement, its confidence rise, then its withdrawal end withdrawn, however the replicas
 * split them). Real NATS JetStream and PostgreSQL; skipped without them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig } from '../intel/index.ts';
import { openStore } from '../store/index.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';
import { createCandidatePublisher } from '../transport/index.ts';
import type { CliContext } from './context.ts';
import { runServe } from './commands/serve.ts';
import { ServeConfig } from './hub-stack.ts';
import { main } from './main.ts';
import { scratchDatabase } from './scratch-database.ts';

const databaseUrl = process.env.TSUNAGI_TEST_DATABASE_URL;
const natsUrl = process.env.TSUNAGI_TEST_NATS_URL;

function capture(env: NodeJS.ProcessEnv): { ctx: CliContext; text: () => string } {
  const chunks: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => chunks.push(d.toString()));
  const ctx: CliContext = { stdout: new PassThrough(), stderr: stream, env, interactive: false };
  return { ctx, text: () => chunks.join('') };
}

test('serve: --share-to without --nats is a usage error (exit 2), before anything opens', async () => {
  const { ctx, text } = capture({});
  const code = await main(['serve', '--data', tmpdir(), '--share-to', 'http://127.0.0.1:1/'], ctx);
  assert.equal(code, 2);
  assert.match(text(), /--share-to .* needs --nats/);
});

test('serve --nats: a bad URL is a usage error (2); NATS not there is a runtime error (1), one line each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-serve-nats-bad-'));
  try {
    const data = join(dir, 'hub');
    assert.equal(await main(['org', 'add', 'ISP', '--role', 'isp', '--data', data], capture({}).ctx), 0);
    const bad = capture({});
    assert.equal(await main(['serve', '--data', data, '--nats', 'notaurl'], bad.ctx), 2);
    assert.match(bad.text(), /--nats .*not a URL/);
    const down = capture({});
    const args = ['serve', '--data', data, '--listen', '127.0.0.1:0', '--nats', 'nats://127.0.0.1:1'];
    assert.equal(await main(args, down.ctx), 1);
    assert.match(
      down.text(),
      // The first to connect: the relay of intel's change feed, started before intel.
      /^tsunagi: nats-relay: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/m,
    );
    assert.doesNotMatch(down.text(), /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'serve --nats: two hub replicas on one PostgreSQL split the workers candidates, each written once and in order',
  {
    skip:
      (!databaseUrl && 'TSUNAGI_TEST_DATABASE_URL unset: hub replica intake test skipped') ||
      (!natsUrl && 'TSUNAGI_TEST_NATS_URL unset: hub replica intake test skipped'),
    timeout: 180_000,
  },
  async () => {
    const id = `${process.pid}_${randomBytes(4).toString('hex')}`;
    const database = await scratchDatabase(databaseUrl!, `tsunagi_test_serve_nats_${id}`);
    const candidates = {
      url: natsUrl!,
      name: `TSUNAGI_CAND_SERVE_${id}`,
      subjectPrefix: `tsunagi.candserve${id.replace('_', '')}`,
      durable: `hub-${id}`,
    };
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'tsunagi-serve-nats-')));
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const replicas = dirs.map((data) => {
      const out = capture({ TSUNAGI_DATABASE_URL: database.url });
      const config = ServeConfig.parse({
        data,
        hub: { listen: '127.0.0.1:0' },
        candidates: { ...candidates, enabled: true, source: 'isp-test' },
      });
      let ready!: () => void;
      const up = new Promise<void>((resolve) => (ready = resolve));
      const running = runServe(config, out.ctx, async () => {
        ready();
        await stopped;
      });
      return { out, up, running };
    });
    const workers = ['w1', 'w2'].map((worker) =>
      createCandidatePublisher(candidates, { worker, logger: silentLogger() }),
    );
    const nc = await connect({ servers: natsUrl! });
    try {
      // The first replica creates the schema (migrations); then the second joins.
      await Promise.race([replicas[0]!.up, replicas[0]!.running]);
      await Promise.race([replicas[1]!.up, replicas[1]!.running]);
      for (const w of workers) await w.start();
      for (const r of replicas)
        assert.match(r.out.text(), new RegExp(`worker candidates from .*consumer ${candidates.durable}`));

      // Per worker, 60 servers: all announced at 60, then two thirds rise to 85, then a third of them
      // are withdrawn. In phases, so one server's messages lie far apart in the stream and would land
      // with different replicas if the shared consumer let more than one message out at a time.
      const expected = new Map<string, { announcements: number; confidence: number; withdrawn: boolean }>();
      const servers = workers.flatMap((worker, w) =>
        Array.from({ length: 60 }, (_, i) => ({
          worker,
          c: { ip: `198.51.${100 + w}.${i + 1}`, port: 443, proto: 6, family: 'mirai' },
          rises: i % 3 !== 0,
          withdrawn: i % 3 === 2,
        })),
      );
      for (const s of servers) s.worker.announce({ ...s.c, confidence: 60 });
      for (const s of servers) if (s.rises) s.worker.announce({ ...s.c, confidence: 85 });
      for (const s of servers) if (s.withdrawn) s.worker.withdraw(s.c, 'not seen for an hour');
      let announcements = 0;
      for (const s of servers) {
        announcements += s.rises ? 2 : 1;
        expected.set(s.c.ip, {
          announcements: s.rises ? 2 : 1,
          confidence: s.rises ? 85 : 60,
          withdrawn: s.withdrawn,
        });
      }
      for (const w of workers) await w.flush();

      const jsm = await nc.jetstreamManager();
      const deadline = Date.now() + 120_000;
      for (;;) {
        const info = await jsm.consumers.info(candidates.name, candidates.durable);
        if (info.num_pending === 0 && info.num_ack_pending === 0) break;
        assert.ok(Date.now() < deadline, `hub consumer still has ${info.num_pending} pending`);
        await sleep(100);
      }

      const applied = replicas.map((r) => (r.out.text().match(/announced by a worker/g) ?? []).length);
      assert.equal(applied[0]! + applied[1]!, announcements, 'every announcement written exactly once');
      assert.ok(applied[0]! > 0 && applied[1]! > 0, `both replicas took messages (${applied.join(' / ')})`);

      const store = await openStore({ databaseUrl: database.url }, { migrations: ROOM_MIGRATIONS });
      try {
        const intel = createIntel(IntelConfig.parse({}), {
          store,
          logger: silentLogger(),
          registry: new Registry(),
        });
        const all = await intel.list({ kinds: ['c2'], includeWithdrawn: true, limit: 1000 });
        assert.equal(all.items.length, expected.size);
        for (const indicator of all.items) {
          const want = expected.get(indicator.value)!;
          assert.equal(Boolean(indicator.withdrawnAt), want.withdrawn, `${indicator.value} withdrawn`);
          if (want.withdrawn) continue;
          const sightings = await intel.sightings(indicator.id);
          assert.equal(sightings.length, 1, `${indicator.value}: one source`);
          assert.equal(sightings[0]!.source, 'isp-test');
          assert.equal(sightings[0]!.count, want.announcements, `${indicator.value}: sightings counted once`);
          assert.equal(sightings[0]!.confidence, want.confidence);
        }
      } finally {
        await store.close();
      }
    } finally {
      for (const w of workers) await w.stop();
      stop();
      await Promise.allSettled(replicas.map((r) => r.running));
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(candidates.name).catch(() => undefined);
      await nc.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      await database.drop();
    }
  },
);
