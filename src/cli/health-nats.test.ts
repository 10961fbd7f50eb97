/**
 * The scaled-out health path (issue #23): `collect --nats`, a separate process, publishes its
 * health every few seconds on `tsunagi.health.collect.<id>`, and `serve --nats` shows it on its
 * console API: the collector's decoder errors (from datagrams that are not flows) and the
 * publisher beside it. Real NATS; skipped without it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import type { HealthBody } from '../console/index.ts';
import { freeUdpPort as freePort } from '../flow/testing.ts';
import { runServe } from './commands/serve.ts';
import { ServeConfig } from './hub-stack.ts';
import { main } from './main.ts';
import { captureCli } from './test-cli.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const NATS = process.env.TSUNAGI_TEST_NATS_URL;

test(
  "serve --nats shows a collect --nats process's health on its console",
  { skip: !NATS && 'TSUNAGI_TEST_NATS_URL unset: NATS health test skipped', timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsunagi-health-nats-'));
    const id = `${process.pid}_${Date.now().toString(36)}`;
    const data = join(dir, 'hub');
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let child: ReturnType<typeof spawn> | undefined;
    let running: Promise<void> | undefined;
    try {
      assert.equal(
        await main(['org', 'add', 'Centre', '--role', 'analysis', '--data', data], captureCli().ctx),
        0,
      );
      const tokenOut = captureCli();
      assert.equal(
        await main(['token', 'create', '--org', 'Centre', '--scope', 'read', '--data', data], tokenOut.ctx),
        0,
      );
      const token = /tsg_[A-Za-z0-9_-]+/.exec(tokenOut.stdout() + tokenOut.stderr())?.[0];
      assert.ok(token, 'a token was printed');

      const hubOut = captureCli();
      let ready!: () => void;
      const up = new Promise<void>((resolve) => (ready = resolve));
      running = runServe(
        ServeConfig.parse({
          data,
          hub: { listen: '127.0.0.1:0' },
          candidates: {
            enabled: true,
            url: NATS,
            name: `TSUNAGI_CAND_HEALTH_${id}`,
            subjectPrefix: `tsunagi.candhealth${id.replace('_', '')}`,
            durable: `hub-health-${id}`,
          },
        }),
        hubOut.ctx,
        async () => {
          ready();
          await stopped;
        },
      );
      await Promise.race([up, running]);
      const hubUrl = /tsunagi hub on (http:\/\/[^ ]+) /.exec(hubOut.stderr())?.[1];
      assert.ok(hubUrl, hubOut.stderr());

      const port = await freePort();
      child = spawn(BIN, ['collect', '--nats', NATS!, '-l', `127.0.0.1:${port}`, '--interval', '1'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          TSUNAGI_NATS__STREAM__NAME: `TSUNAGI_TEST_HEALTH_${id}`,
          TSUNAGI_NATS__STREAM__SUBJECT_PREFIX: `tsunagi.test.health.${id}`,
        },
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      for (let i = 0; i < 300 && !/listening on/.test(stderr); i++) await sleep(100);
      assert.match(stderr, /listening on/);
      // Datagrams that are not flows: the collector counts decoder errors, a warning.
      const socket = createSocket('udp4');
      for (let i = 0; i < 5; i++)
        await new Promise<void>((resolve) =>
          socket.send(Buffer.from('not a flow export'), port, '127.0.0.1', () => resolve()),
        );
      socket.close();

      const collectId = `${hostname()}-${child.pid}`;
      let report: HealthBody['processes'][number] | undefined;
      for (let i = 0; i < 150; i++) {
        const response: Response = await fetch(`${hubUrl}/console/api/health`, {
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        });
        assert.equal(response.status, 200);
        const body = (await response.json()) as HealthBody;
        assert.equal(body.watched, true);
        report = body.processes.find((p) => p.role === 'collect' && p.id === collectId);
        if ((report?.components[0]?.counters.decodeErrors ?? 0) >= 5) break;
        await sleep(200);
      }
      assert.ok(report, `the collector's report reached the hub (${collectId})`);
      assert.equal(report.stale, false);
      assert.deepEqual(
        report.components.map((c) => c.component),
        ['collector', 'publisher'],
      );
      const collector = report.components[0]!;
      assert.equal(collector.counters.decodeErrors, 5);
      assert.equal(collector.level, 'warning');
      assert.equal(report.components[1]!.dropped, 0);
    } finally {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      stop();
      await running?.catch(() => {});
      // This test's streams go with it.
      const nc = await connect({ servers: NATS! });
      const jsm = await nc.jetstreamManager();
      for (const name of [`TSUNAGI_TEST_HEALTH_${id}`, `TSUNAGI_CAND_HEALTH_${id}`])
        await jsm.streams.delete(name).catch(() => false);
      await nc.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
