/**
 * The kit tie's basis kept in `web_urls.kit_tie` (SQLite here; PostgreSQL when
 * TSUNAGI_TEST_DATABASE_URL is set): a store migrated from before the column gets it filled from
 * each row's reasons by kitPathTieBasis, a page at a time; the tie readers select on the column,
 * so a reasons JSON whose keys are spelt in another order is still a tie (listed as one, never
 * taught as the room's own verdict); and the upsert rewrites it with the reasons.
 */
import assert from 'node:assert/strict';
import { Kysely, Migrator, type Dialect } from 'kysely';
import { webMigrations, webTakedownMigrations } from '../index.ts';
import { readKitPathTies } from '../read.ts';
import { urlRowOf, writeSightings } from '../store.ts';
import { roomAt, withWebDb, onBothEngines } from '../testing.ts';
import type { Reason, ScoredUrl, WebTables } from '../types.ts';
import { withKitPath, type KitPathBasis } from './kit-paths.ts';

const DAY3 = new Date('2025-09-03T00:00:00.000Z');
const SEEN = '2025-09-02T00:00:00.000Z';
/** The scorer's own verdicts under one kit's path: malicious and suspicious (kit-path-verdicts.test.ts). */
const JUDGED = ['https://www.amazon.co.jp.zqvmk.cn/zqvmkits/', 'https://smbc-card-verify.top/zqvmkits/'];
/** A suspicious name under the same path, for a new process to tie. */
const CANDIDATE = 'https://amazon-co-jp-login.xyz/zqvmkits/';
/** Benign-looking names a kit path made malicious, before the column was kept. */
const CONFIRMED_TIE = 'https://example-bakery.co.uk/zqvmkits/';
const JUDGED_TIE = 'https://tea-room.example.net/zqvmkits/';
/** A tie whose reasons' JSON spells `feature` last (the old LIKE pattern needed it first). */
const REORDERED_TIE = 'https://quiet-garden.example.org/zqvmkits/';
const BENIGN = 'https://example-bakery.co.uk/menu/';
/** More malicious non-ties than one backfill page (1000), sorting before the ties. */
const FILLERS = Array.from(
  { length: 1200 },
  (_, i) => `https://a-filler-${String(i).padStart(4, '0')}.amazon-co-jp-login.top/`,
);

const scorer = roomAt(undefined, DAY3);
const tied = (url: string, basis: KitPathBasis): ScoredUrl =>
  withKitPath(scorer.score(url), { template: '/zqvmkits/', domains: 2, basis }, scorer.thresholds.malicious);
/** The same reasons with their keys in another order. */
const reordered = (reasons: readonly Reason[]) =>
  JSON.stringify(reasons.map(({ feature, value, contribution }) => ({ value, contribution, feature })));

/** A row as the store wrote it before 0016_web_003_kit_tie. */
function oldRow(scored: ScoredUrl, reasons = JSON.stringify(scored.reasons)) {
  // Without kit_tie: the column the old store lacked.
  const { kit_tie: _lacked, ...row } = urlRowOf(scored, 'old', SEEN, SEEN);
  return { ...row, reasons } as WebTables['web_urls'];
}

async function migratedOldStore(dialect: Dialect, schema?: string) {
  const db = new Kysely<WebTables>({ dialect });
  try {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => ({ ...webMigrations, ...webTakedownMigrations }) },
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
    assert.equal((await migrator.migrateTo('0011_web_101_takedowns')).error, undefined);
    const confirmedTie = tied(CONFIRMED_TIE, 'confirmed');
    const rows = [
      ...JUDGED.map((url) => oldRow(scorer.score(url))),
      oldRow(confirmedTie),
      oldRow(tied(JUDGED_TIE, 'judged')),
      oldRow(tied(REORDERED_TIE, 'confirmed'), reordered(confirmedTie.reasons)),
      oldRow(scorer.score(BENIGN)),
      ...FILLERS.map((url) => oldRow({ ...scorer.score(url), verdict: 'malicious' })),
    ];
    assert.deepEqual(
      rows.slice(0, 2).map((r) => r.verdict),
      ['malicious', 'suspicious'],
      'the judged rows are judged',
    );
    for (let i = 0; i < rows.length; i += 200)
      await db
        .insertInto('web_urls')
        .values(rows.slice(i, i + 200))
        .execute();
    assert.equal((await migrator.migrateToLatest()).error, undefined);

    const marked = await db
      .selectFrom('web_urls')
      .select(['url', 'kit_tie'])
      .where('kit_tie', 'is not', null)
      .orderBy('url')
      .execute();
    assert.deepEqual(marked, [
      { url: CONFIRMED_TIE, kit_tie: 'confirmed' },
      { url: REORDERED_TIE, kit_tie: 'confirmed' },
      { url: JUDGED_TIE, kit_tie: 'judged' },
    ]);
    const unmarked = await db
      .selectFrom('web_urls')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kit_tie', 'is', null)
      .executeTakeFirstOrThrow();
    assert.equal(Number(unmarked.n), rows.length - 3, 'the judged rows, the benign one and every filler');

    const ties = [];
    for await (const row of readKitPathTies(db, { pageSize: 2 })) ties.push(row.url);
    assert.deepEqual(ties, [CONFIRMED_TIE, REORDERED_TIE, JUDGED_TIE]);

    // A new process learns the judged rows only: no tie, whatever its JSON's key order, teaches.
    const fresh = roomAt(db, DAY3);
    await fresh.start();
    const candidate = fresh.score(CANDIDATE);
    assert.equal(candidate.reasons[0]?.feature, 'kit_path_judged(/zqvmkits/)');
    assert.equal(candidate.reasons[0]?.value, 2, 'the two judged domains, none of the three tied ones');
  } finally {
    await db.destroy();
  }
}

onBothEngines(
  'a store from before kit_tie gets it filled from the reasons, past one page',
  'kit_tie',
  migratedOldStore,
);

async function upsertKeepsKitTie(dialect: Dialect, schema?: string) {
  await withWebDb(
    dialect,
    async (db) => {
      const kitTie = async () =>
        (await db.selectFrom('web_urls').select('kit_tie').executeTakeFirstOrThrow()).kit_tie;
      const write = (scored: ScoredUrl) =>
        writeSightings(db, [{ scored, source: 'test', seenAt: SEEN, description: null }], 'test');
      await write(scorer.score(CONFIRMED_TIE));
      assert.equal(await kitTie(), null);
      await write(tied(CONFIRMED_TIE, 'judged'));
      assert.equal(await kitTie(), 'judged');
      await write(tied(CONFIRMED_TIE, 'confirmed'));
      assert.equal(await kitTie(), 'confirmed');
      await write(scorer.score(CONFIRMED_TIE));
      assert.equal(await kitTie(), null, 'rescored without a tie: no longer one');
    },
    schema,
  );
}

onBothEngines('the upsert rewrites kit_tie with the reasons', 'kit_tie_upsert', upsertKeepsKitTie);
