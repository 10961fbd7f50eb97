/**
 * The room as others see it: its migrations run with kysely's Migrator on a temporary SQLite
 * file (until the store runs per-room sets), a survey recorded with its scores, the letters,
 * and its metrics.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import { Registry } from 'prom-client';
import { createLogger } from '../core/index.ts';
import { createHygiene, HygieneConfig, hygieneMigrations, type HygieneTables } from './index.ts';
import { surveyRow as row } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-hygiene-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const provider: MigrationProvider = { getMigrations: async () => hygieneMigrations };

const rows = [
  row('bank.example.jp', 'Example Bank', 'finance', {
    dnssec: 'secure',
    spf: 'strict',
    dmarc_policy: 'reject',
    mta_sts: 'enforce',
    tls_rpt: 'ok',
    dane: 'yes',
    ipv6: 'web+mail',
    hsts: 'yes',
  }),
  row('mail.bank.example.jp', 'Example Bank', 'finance', { spf: 'softfail', dmarc_policy: 'none' }),
  row('power.example.jp', 'Example Power', 'energy', {
    dnssec: 'bogus',
    spf: 'permissive',
    https: 'invalid-cert',
    hsts: 'n/a',
  }),
];

describe('hygiene room', () => {
  const registry = new Registry();
  const logger = createLogger({ level: 'silent' }, process.stderr);

  test('scores: a full house is 100, halfway states count half, sectors average organisations', () => {
    assert.equal(rows[0]!.score, 100);
    assert.equal(rows[1]!.score, 19.4); // softfail 0.5 + none 0.25 + https 1 of 9 checks (DKIM unchecked)
    const hygiene = createHygiene(HygieneConfig.parse({}), { logger, registry: new Registry() });
    const { organisations, sectors } = hygiene.scores(rows);
    assert.deepEqual(organisations, [
      { name: 'Example Bank', score: 59.7, domains: 2 },
      { name: 'Example Power', score: 0, domains: 1 },
    ]);
    assert.deepEqual(sectors, [
      { name: 'energy', score: 0, domains: 1 },
      { name: 'finance', score: 59.7, domains: 2 },
    ]);
  });

  test('migrations 0010_hygiene_* run on SQLite; a survey is recorded with its scores', async () => {
    const db = new Kysely<HygieneTables>({
      dialect: new SqliteDialect({ database: new SqliteDatabase(join(dir, 'h.db')) }),
    });
    try {
      const migrated = await new Migrator({ db, provider }).migrateToLatest();
      assert.equal(migrated.error, undefined);
      assert.deepEqual(
        migrated.results?.map((r) => r.migrationName),
        ['0010_hygiene_001_surveys_and_checks'],
      );
      const hygiene = createHygiene(HygieneConfig.parse({}), {
        logger,
        registry,
        db,
        now: () => new Date('2026-12-05T12:00:00Z'),
      });
      await hygiene.record('2026-12', new Date('2026-12-05T11:00:00Z'), rows);
      const checks = await db.selectFrom('hygiene_checks').selectAll().orderBy('domain').execute();
      assert.deepEqual(
        checks.map((c) => [c.domain, c.dnssec, c.score]),
        [
          ['bank.example.jp', 'secure', 100],
          ['mail.bank.example.jp', 'insecure', 19.4],
          ['power.example.jp', 'bogus', 0],
        ],
      );
      const scores = await db
        .selectFrom('hygiene_scores')
        .selectAll()
        .orderBy('level')
        .orderBy('name')
        .execute();
      assert.deepEqual(
        scores.map((s) => [s.level, s.name, s.score]),
        [
          ['organisation', 'Example Bank', 59.7],
          ['organisation', 'Example Power', 0],
          ['sector', 'energy', 0],
          ['sector', 'finance', 59.7],
        ],
      );
      await assert.rejects(
        hygiene.record('2026-12', new Date(), rows),
        /UNIQUE|PRIMARY/i,
        'a survey id is kept once',
      );
      const down = await new Migrator({ db, provider }).migrateDown();
      assert.equal(down.error, undefined);
    } finally {
      await db.destroy();
    }
  });

  test('letters in ja and en name every fix, and nothing for a clean domain', () => {
    const hygiene = createHygiene(HygieneConfig.parse({}), { logger, registry: new Registry() });
    const [bank, power] = hygiene.letters(rows, 'ja', '調査チーム');
    assert.match(bank!.subject, /Example Bank 様.*スコア 59\.7/);
    assert.match(bank!.body, /■ bank\.example\.jp（スコア 100）\n {2}対応が必要な項目はありません。/);
    assert.match(bank!.body, /"~all" です/);
    assert.match(bank!.body, /p=none（監視のみ）/);
    assert.match(power!.body, /bogus/);
    assert.match(power!.body, /"\+all"/);
    assert.match(power!.body, /証明書が検証できません/);
    const [english] = hygiene.letters(rows, 'en', 'the survey team');
    assert.match(english!.body, /^To the administrators of Example Bank/);
    assert.match(english!.body, /tighten it to "-all"/);
    assert.equal(english!.fixes, bank!.fixes);
  });

  test('bad trust anchors and domain lists are counted', async () => {
    const counted = new Registry();
    assert.throws(
      () =>
        createHygiene(HygieneConfig.parse({ trustAnchors: 'example. IN A 192.0.2.1' }), {
          logger,
          registry: counted,
        }),
      /expected a DS or DNSKEY record/,
    );
    const hygiene = createHygiene(HygieneConfig.parse({}), { logger, registry: new Registry() });
    assert.throws(
      () => hygiene.readTargets('example.jp\nnot a domain\n'),
      /line 2: "not a domain" is not a domain name/,
    );
    assert.deepEqual(hygiene.readTargets('domain,organisation,sector\nExample.JP.,Example,finance\n'), [
      { domain: 'example.jp', organisation: 'Example', sector: 'finance' },
    ]);
    assert.match(await counted.metrics(), /tsunagi_hygiene_input_errors_total\{input="trust-anchor"\} 1/);
  });

  test('config: defaults, and a resolver that is not HOST:PORT is refused', () => {
    const config = HygieneConfig.parse({});
    assert.equal(config.resolver, '127.0.0.1:53');
    assert.equal(config.https.port, 443);
    assert.equal(HygieneConfig.safeParse({ resolver: 'localhost' }).success, false);
  });
});
