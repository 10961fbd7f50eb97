/**
 * The certstream intake on loopback with full frames of both servers' formats (testdata/):
 * certificate facts parsed, shown among the reasons and stored with them; the names-only
 * stream without facts; a dropped connection counted as a reconnect and the stream resumed.
 * And the facts as scoring inputs: a model with weights for them moves the score.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/index.ts';
import {
  createWeb,
  FITTED_MODEL,
  parseCertstreamFrame,
  WebConfig,
  withCertificate,
  type Reason,
} from '../index.ts';
import { startCertstreamRun } from '../testing.ts';

const SERVER_FRAME = readFileSync(
  new URL('testdata/certificate_update-server.json', import.meta.url),
  'utf8',
);
const GO_FRAME = readFileSync(new URL('testdata/certificate_update-go.json', import.meta.url), 'utf8');
const NAMES_FRAME = JSON.stringify({ message_type: 'dns_entries', data: ['aeon-card.verify-jp.shop'] });

const certReasons = (reasons: readonly Reason[]) =>
  Object.fromEntries(reasons.filter((r) => r.feature.startsWith('cert_')).map((r) => [r.feature, r.value]));

test('both formats parse to the certificate facts they carry', () => {
  const server = parseCertstreamFrame(SERVER_FRAME);
  assert.equal(server.kind, 'update');
  assert.deepEqual(server.kind === 'update' && server.update.certificate, {
    issuer: "Let's Encrypt", // from the chain: this format's leaf has no issuer
    notBefore: '2025-07-03T00:00:00.000Z',
    notAfter: '2025-09-30T23:59:59.000Z',
    validityDays: 90,
    sanCount: 2,
  });
  const go = parseCertstreamFrame(GO_FRAME);
  assert.equal(go.kind === 'update' && go.update.certificate?.issuer, 'Sectigo Limited');
  assert.equal(go.kind === 'update' && go.update.certificate?.sanCount, 3);
  assert.deepEqual(go.kind === 'update' && go.update.domains, [
    'smbc-card.login-check.xyz',
    'mail.smbc-card.login-check.xyz',
  ]);
  const names = parseCertstreamFrame(NAMES_FRAME);
  assert.equal(names.kind === 'update' && names.update.certificate, null);
});

test('frames of both formats over a dropped connection: facts among the stored reasons, reconnects counted', async () => {
  const run = await startCertstreamRun((socket, connection) => {
    if (connection === 1) {
      socket.send(SERVER_FRAME);
      socket.send(GO_FRAME, () => socket.terminate());
    } else socket.send(NAMES_FRAME);
  });
  const { web, db, intake, handed } = run;
  try {
    await intake.start();
    await run.settleWhen(() => intake.stats.updates >= 3);
    assert.equal(intake.stats.updates, 3);
    assert.equal(intake.stats.names, 5);
    assert.ok(intake.stats.reconnects >= 1, `reconnects ${intake.stats.reconnects}`);
    const byHost = new Map(handed.map((s) => [s.host, s]));
    // What is kept is what scores suspicious or worse; each frame gave at least one.
    for (const host of [
      'amazon-co-jp.signin-verify.top',
      'smbc-card.login-check.xyz',
      'aeon-card.verify-jp.shop',
    ])
      assert.ok(byHost.has(host), `${host} kept`);
    assert.deepEqual(certReasons(byHost.get('amazon-co-jp.signin-verify.top')!.reasons), {
      "cert_issuer(Let's Encrypt)": "Let's Encrypt",
      cert_validity_days: 90,
      cert_san_count: 2,
    });
    assert.deepEqual(certReasons(byHost.get('smbc-card.login-check.xyz')!.reasons), {
      'cert_issuer(Sectigo Limited)': 'Sectigo Limited',
      cert_validity_days: 90,
      cert_san_count: 3,
    });
    assert.deepEqual(certReasons(byHost.get('aeon-card.verify-jp.shop')!.reasons), {});
    // The shipped model has no weights for them: shown, contributing nothing.
    const plain = web.score('https://smbc-card.login-check.xyz/');
    assert.equal(byHost.get('smbc-card.login-check.xyz')!.score, plain.score);
    const stored = await db
      .selectFrom('web_urls')
      .select(['url', 'reasons'])
      .where('host', '=', 'smbc-card.login-check.xyz')
      .executeTakeFirstOrThrow();
    assert.equal(certReasons(JSON.parse(stored.reasons) as Reason[]).cert_san_count, 3);
  } finally {
    await run.close();
  }
});

test('a model with weights for the facts moves the score by weight × value; an official domain stays benign', () => {
  const web = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry() });
  const facts = { issuer: 'X', notBefore: null, notAfter: null, validityDays: 90, sanCount: 3 };
  const weighted = { ...FITTED_MODEL, weights: { ...FITTED_MODEL.weights, cert_san_count: 0.5 } };
  const base = web.score('https://suspicious-login.example.top/');
  const moved = withCertificate(base, facts, weighted, web.thresholds);
  const logit = (p: number) => Math.log(p / (1 - p));
  assert.ok(Math.abs(logit(moved.score) - logit(base.score) - 1.5) < 1e-9);
  assert.equal(moved.reasons.find((r) => r.feature === 'cert_san_count')?.contribution, 1.5);
  const official = withCertificate(web.score('https://www.amazon.co.jp/'), facts, weighted, web.thresholds);
  assert.equal(official.verdict, 'benign');
  assert.equal(official.score, 0);
});
