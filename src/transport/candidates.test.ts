/**
 * The hub's candidate consumer shared by replicas (real NATS JetStream): two consumers on one
 * durable, one of them slow (a hub whose database answers late). Every message is applied once,
 * and each server's messages in the order its worker sent them, although they land on different
 * replicas: the shared consumer lets one message out at a time. A malformed message is refused
 * (terminated and counted), not retried.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import { silentLogger } from '../core/index.ts';
import { createCandidateConsumer, createCandidatePublisher, type CandidateMessage } from './index.ts';

const natsUrl = process.env.TSUNAGI_TEST_NATS_URL;

test(
  'candidate consumer: replicas sharing the durable apply every message once, in order per server',
  { skip: !natsUrl && 'TSUNAGI_TEST_NATS_URL unset: candidate replica test skipped', timeout: 120_000 },
  async () => {
    const id = `${process.pid}_${randomBytes(4).toString('hex')}`;
    const config = {
      url: natsUrl!,
      name: `TSUNAGI_CAND_REPL_${id}`,
      subjectPrefix: `tsunagi.candrepl${id.replace('_', '')}`,
      durable: `hub-${id}`,
    };
    const applied: { replica: number; m: CandidateMessage }[] = [];
    const replicas = [15, 0].map((delayMs, replica) =>
      createCandidateConsumer(config, {
        logger: silentLogger(),
        apply: async (m) => {
          if (delayMs) await sleep(delayMs);
          applied.push({ replica, m });
        },
      }),
    );
    const worker = createCandidatePublisher(config, { worker: 'w1', logger: silentLogger() });
    const nc = await connect({ servers: natsUrl! });
    try {
      for (const r of replicas) await r.start();
      await worker.start();
      // All announcements first, then all withdrawals: one server's two messages lie 80 apart.
      const servers = Array.from({ length: 80 }, (_, i) => ({
        ip: `203.0.113.${i + 1}`,
        port: 8080,
        proto: 6,
      }));
      for (const s of servers) worker.announce({ ...s, confidence: 70, family: '' });
      for (const s of servers) worker.withdraw(s, 'gone');
      await worker.flush();
      await nc.publish(`${config.subjectPrefix}.w1`, new TextEncoder().encode('{"not":"a candidate"}'));

      const deadline = Date.now() + 90_000;
      while (
        applied.length < 2 * servers.length ||
        replicas[0]!.stats.invalid + replicas[1]!.stats.invalid < 1
      ) {
        assert.ok(Date.now() < deadline, `only ${applied.length} of ${2 * servers.length} applied`);
        await sleep(50);
      }
      await sleep(300); // anything applied twice would show up now
      assert.equal(applied.length, 2 * servers.length, 'each message applied once');
      assert.ok(
        applied.some((a) => a.replica === 0) && applied.some((a) => a.replica === 1),
        'both replicas took messages',
      );
      for (const s of servers) {
        const ops = applied.filter((a) => a.m.ip === s.ip).map((a) => a.m.op);
        assert.deepEqual(ops, ['announce', 'withdraw'], `${s.ip}: in the order sent`);
      }
      assert.equal(replicas[0]!.stats.invalid + replicas[1]!.stats.invalid, 1);
    } finally {
      await worker.stop();
      for (const r of replicas) await r.stop();
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(config.name).catch(() => undefined);
      await nc.close();
    }
  },
);
