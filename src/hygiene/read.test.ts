/**
 * The read side on a temporary SQLite store running the room's migrations: two surveys recorded
 * through `record`, then the latest scores, adoption per sector over time and a drill-down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { Registry } from 'prom-client';
import { createLogger } from '../core/index.ts';
import {
  createHygiene,
  createHygieneReader,
  HygieneConfig,
  hygieneMigrations,
  type HygieneReader,
  type HygieneTables,
} from './index.ts';
import { surveyRow as row } from './testing.ts';

const november = [
  row('bank.example.jp', 'Example Bank', 'finance', { spf: 'strict', dmarc_policy: 'none' }),
  row('mail.bank.example.jp', 'Example Bank', 'finance', {}),
  row('power.example.jp', 'Example Power', 'energy', { dnssec: 'bogus' }),
];
const december = [
  row('bank.example.jp', 'Example Bank', 'finance', {
    dnssec: 'secure',
    spf: 'strict',
    dmarc_policy: 'reject',
  }),
  row('mail.bank.example.jp', 'Example Bank', 'finance', { spf: 'strict' }),
  row('shinkin.example.jp', 'Example Shinkin', 'finance', {}),
  row('lone.example.jp', undefined, undefined, { hsts: 'yes' }),
];

describe('hygiene read API', () => {
  let db: Kysely<HygieneTables>;
  let reader: HygieneReader;
  before(async () => {
    db = new Kysely<HygieneTables>({
      dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }),
    });
    const migrated = await new Migrator({
      db,
      provider: { getMigrations: async () => hygieneMigrations },
    }).migrateToLatest();
    assert.equal(migrated.error, undefined);
    reader = createHygieneReader(db);
  });
  after(() => db.destroy());

  test('an empty store has no surveys, scores or sectors', async () => {
    assert.deepEqual(await reader.surveys(), []);
    assert.deepEqual(await reader.organisationScores(), []);
    assert.deepEqual(await reader.adoption(), { surveys: [], sectors: [] });
    assert.equal(await reader.organisation('Example Bank'), undefined);
  });

  test('two surveys: latest score per organisation with the one before', async () => {
    const hygiene = createHygiene(HygieneConfig.parse({}), {
      logger: createLogger({ level: 'silent' }, process.stderr),
      registry: new Registry(),
      db,
    });
    // Recorded out of order: the reader orders by start time, not by insertion.
    await hygiene.record('2026-12', new Date('2026-12-01T00:00:00Z'), december);
    await hygiene.record('2026-11', new Date('2026-11-01T00:00:00Z'), november);
    assert.deepEqual(
      (await reader.surveys()).map((s) => [s.id, s.domains]),
      [
        ['2026-11', 3],
        ['2026-12', 4],
      ],
    );
    const scores = await reader.organisationScores();
    assert.deepEqual(
      scores.map((s) => [s.organisation, s.sector, s.score, s.previous, s.surveyId]),
      [
        ['Example Power', 'energy', 11.1, null, '2026-11'],
        ['Example Shinkin', 'finance', 11.1, null, '2026-12'],
        ['lone.example.jp', null, 22.2, null, '2026-12'],
        ['Example Bank', 'finance', 33.3, 18.1, '2026-12'],
      ],
    );
  });

  test('adoption per check per sector over time, as percentages of the sector’s domains', async () => {
    const { surveys, sectors } = await reader.adoption();
    assert.deepEqual(
      surveys.map((s) => s.id),
      ['2026-11', '2026-12'],
    );
    assert.deepEqual(
      sectors.map((s) => s.sector),
      ['energy', 'finance'],
    );
    const finance = sectors[1]!;
    assert.deepEqual(finance.adoption.spf, [50, 66.7]); // 1 of 2, then 2 of 3 at -all
    assert.deepEqual(finance.adoption.dmarc_policy, [0, 33.3]); // p=none is not adoption
    assert.deepEqual(finance.adoption.dnssec, [0, 33.3]);
    assert.deepEqual(finance.adoption.https, [100, 100]);
    assert.deepEqual(finance.domains, [2, 3]);
    assert.deepEqual(finance.score, [18.1, 22.2]); // mean of organisations: (33.3 + 11.1) / 2
    const energy = sectors[0]!;
    assert.deepEqual(energy.adoption.dnssec, [0, null], 'not surveyed in December');
    assert.deepEqual(energy.score, [11.1, null]);
  });

  test('one survey per sector and per organisation, with each organisation’s domains (what the hub shares)', async () => {
    assert.equal(await reader.surveyResults('no-such-survey'), undefined);
    const results = (await reader.surveyResults('2026-12'))!;
    assert.equal(results.survey.id, '2026-12');
    assert.equal(results.survey.domains, 4);
    assert.ok(results.survey.finishedAt, 'recorded with its end');
    assert.deepEqual(
      results.sectors.map((s) => [s.sector, s.score, s.domains, s.organisations, s.adoption.spf]),
      [['finance', 22.2, 3, 2, 66.7]],
    );
    assert.deepEqual(
      results.organisations.map((o) => [o.organisation, o.sector, o.score, o.domains, o.adoption.dnssec]),
      [
        ['Example Bank', 'finance', 33.3, 2, 50],
        ['Example Shinkin', 'finance', 11.1, 1, 0],
        ['lone.example.jp', null, 22.2, 1, 0],
      ],
    );
    const bank = results.organisations[0]!;
    assert.deepEqual(
      bank.results.map((r) => [r.domain, r.checks.dnssec, r.checks.spf, r.checks.dmarc_policy]),
      [
        ['bank.example.jp', 'secure', 'strict', 'reject'],
        ['mail.bank.example.jp', 'insecure', 'strict', 'missing'],
      ],
    );
    // November: the energy sector, surveyed then only.
    const november = (await reader.surveyResults('2026-11'))!;
    assert.deepEqual(
      november.sectors.map((s) => s.sector),
      ['energy', 'finance'],
    );
  });

  test('drill-down: the latest survey’s domains, worst first, with reasons and fixes in both languages', async () => {
    const bank = await reader.organisation('Example Bank');
    assert.ok(bank);
    assert.equal(bank.surveyId, '2026-12');
    assert.equal(bank.sector, 'finance');
    assert.deepEqual(
      bank.history.map((h) => [h.surveyId, h.score]),
      [
        ['2026-11', 18.1],
        ['2026-12', 33.3],
      ],
    );
    assert.deepEqual(
      bank.domains.map((d) => [d.domain, d.score, d.checks.dnssec]),
      [
        ['mail.bank.example.jp', 22.2, 'insecure'],
        ['bank.example.jp', 44.4, 'secure'],
      ],
    );
    const mail = bank.domains[0]!;
    assert.equal(mail.reasons.dnssec, 'no DS record at the parent');
    assert.ok(
      mail.fixes.some((f) => /DNSSEC is not enabled/.test(f.en) && /DNSSEC が有効ではありません/.test(f.ja)),
    );
    assert.ok(mail.fixes.some((f) => /DMARC/.test(f.en)));
    assert.ok(!bank.domains[1]!.fixes.some((f) => /DNSSEC/.test(f.en)), 'a secure zone needs no DNSSEC fix');
    const lone = await reader.organisation('lone.example.jp');
    assert.deepEqual(
      lone?.domains.map((d) => d.domain),
      ['lone.example.jp'],
      'a domain without an organisation stands for itself',
    );
    assert.equal(await reader.organisation('Nobody'), undefined);
  });
});
