/** The store suite, run against SQLite and PostgreSQL alike. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { openStore, sqliteStatements, type Database } from './index.ts';
import { migrationProvider } from './migrations.ts';
import { testEngines } from './testing.ts';

for (const engine of testEngines()) {
  describe(`store on ${engine.name}`, { skip: engine.skip }, () => {
    test('migrates to the latest schema and records the migration', async () => {
      const store = await engine.open();
      try {
        const tables = [
          'indicators',
          'sightings',
          'relationships',
          'organisations',
          'tokens',
          'audit_log',
          'collections',
          'stix_objects',
          'taxii_status',
          'kv',
          'indicator_expiry_tally',
          'indicator_created_tally',
        ] as const;
        for (const table of tables) {
          const rows = await store.db
            .selectFrom(table)
            .select(sql<number>`count(*)`.as('n'))
            .execute();
          assert.equal(Number(rows[0]!.n), 0, table);
        }
        const applied = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(store.db);
        const names = Object.keys(await migrationProvider(engine.name).getMigrations()).sort();
        assert.deepEqual(applied.rows.map((r) => r.name).sort(), names);
        assert.deepEqual(names.slice(0, 2), ['0001_initial', '0002_indicator_tallies']);
      } finally {
        await store.close();
      }
    });

    test('prepared statements only inside a SQLite store transaction, prepared once', async () => {
      const store = await engine.open();
      try {
        assert.equal(sqliteStatements(store.db), undefined);
        await store.transaction(async (trx) => {
          const fast = sqliteStatements(trx);
          if (engine.name === 'postgres') return assert.equal(fast, undefined);
          assert.ok(fast);
          const text = 'insert into kv (key, value) values (?, ?)';
          assert.equal(fast.prepare(text), fast.prepare(text));
          fast.prepare(text).run(['k', 'v']);
        });
        if (engine.name === 'sqlite')
          assert.deepEqual(await store.db.selectFrom('kv').selectAll().execute(), [{ key: 'k', value: 'v' }]);
      } finally {
        await store.close();
      }
    });

    test('enforces the indicator key and cascades sightings', async () => {
      const store = await engine.open();
      try {
        const row = {
          id: 'i1',
          kind: 'c2',
          value: '192.0.2.1',
          port: 443,
          proto: 'tcp',
          family: 'mirai',
          confidence: 80,
          tier: 'council',
          tlp: 'amber',
          asn: 64500,
          attributes: '{}',
          first_seen: '2026-01-01T00:00:00.000Z',
          last_seen: '2026-01-01T00:00:00.000Z',
          expires_at: '2026-02-01T00:00:00.000Z',
          withdrawn_at: null,
          withdrawn_reason: null,
          created_at: '2026-01-01T00:00:00.000Z',
          modified_at: '2026-01-01T00:00:00.000Z',
        };
        await store.db.insertInto('indicators').values(row).execute();
        await assert.rejects(
          store.db
            .insertInto('indicators')
            .values({ ...row, id: 'i2' })
            .execute(),
        );
        await store.db
          .insertInto('sightings')
          .values({
            id: 's1',
            indicator_id: 'i1',
            source: 'isp-a',
            confidence: 80,
            count: 1,
            first_seen: row.first_seen,
            last_seen: row.last_seen,
          })
          .execute();
        const got = await store.db.selectFrom('indicators').selectAll().executeTakeFirstOrThrow();
        assert.equal(got.asn, 64500);
        assert.equal(typeof got.asn, 'number');
        await store.db.deleteFrom('indicators').where('id', '=', 'i1').execute();
        assert.equal((await store.db.selectFrom('sightings').selectAll().execute()).length, 0);
      } finally {
        await store.close();
      }
    });

    test('the audit table refuses updates and deletes', async () => {
      const store = await engine.open();
      try {
        await store.db
          .insertInto('audit_log')
          .values({
            at: 'x',
            actor: 'a',
            action: 'b',
            target: 'c',
            reason: '',
            detail: '{}',
            prev_hash: '0',
            hash: '1',
          })
          .execute();
        const row = await store.db.selectFrom('audit_log').selectAll().executeTakeFirstOrThrow();
        assert.equal(typeof row.seq, 'number');
        await assert.rejects(
          store.db.updateTable('audit_log').set({ actor: 'mallory' }).execute(),
          /append-only/,
        );
        await assert.rejects(store.db.deleteFrom('audit_log').execute(), /append-only/);
      } finally {
        await store.close();
      }
    });

    test('transactions roll back on error', async () => {
      const store = await engine.open();
      try {
        await assert.rejects(
          store.transaction(async (trx) => {
            await trx.insertInto('kv').values({ key: 'k', value: 'v' }).execute();
            throw new Error('boom');
          }, 1),
          /boom/,
        );
        assert.equal((await store.db.selectFrom('kv').selectAll().execute()).length, 0);
        await store.transaction((trx) => trx.insertInto('kv').values({ key: 'k', value: 'v' }).execute(), 1);
        assert.equal((await store.db.selectFrom('kv').selectAll().execute()).length, 1);
      } finally {
        await store.close();
      }
    });
  });
}

test('a data directory store keeps its data across reopening', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-store-'));
  try {
    const first = await openStore({ dataDir: join(dir, 'data') });
    await first.db.insertInto('kv').values({ key: 'k', value: 'kept' }).execute();
    await first.close();
    const second = await openStore({ dataDir: join(dir, 'data') });
    assert.equal((await second.db.selectFrom('kv').selectAll().executeTakeFirstOrThrow()).value, 'kept');
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the tallies migration backfills counts from indicators already stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-store-'));
  try {
    const file = join(dir, 'old.sqlite');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(file) }) });
    const migrator = new Migrator({ db, provider: migrationProvider('sqlite') });
    assert.equal((await migrator.migrateTo('0001_initial')).error, undefined);
    const base = {
      port: 0,
      proto: '',
      family: '',
      confidence: 50,
      tlp: 'amber',
      asn: null,
      attributes: '{}',
      first_seen: '2026-01-01T00:00:00.000Z',
      last_seen: '2026-01-01T00:00:00.000Z',
      withdrawn_reason: null,
      modified_at: '2026-01-01T05:00:00.000Z',
    };
    await db
      .insertInto('indicators')
      .values([
        {
          ...base,
          id: 'a',
          kind: 'bot',
          value: '192.0.2.1',
          tier: 'full',
          withdrawn_at: null,
          created_at: '2026-01-01T05:10:00.000Z',
          expires_at: '2026-01-08T00:00:00.000Z',
        },
        {
          ...base,
          id: 'b',
          kind: 'bot',
          value: '192.0.2.2',
          tier: 'full',
          withdrawn_at: null,
          created_at: '2026-01-01T05:50:00.000Z',
          expires_at: '2026-01-08T00:30:00.000Z',
        },
        {
          ...base,
          id: 'c',
          kind: 'c2',
          value: '192.0.2.3',
          tier: 'public',
          withdrawn_at: null,
          created_at: '2026-01-01T06:00:00.000Z',
          expires_at: '2026-01-31T00:00:00.000Z',
        },
        {
          ...base,
          id: 'd',
          kind: 'c2',
          value: '192.0.2.4',
          tier: 'public',
          withdrawn_at: '2026-01-02T00:00:00.000Z',
          created_at: '2026-01-01T06:00:00.000Z',
          expires_at: '2026-01-31T00:00:00.000Z',
        },
      ])
      .execute();
    await db.destroy();
    const reopened = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new SqliteDatabase(file) }),
    });
    try {
      assert.equal(
        (await new Migrator({ db: reopened, provider: migrationProvider('sqlite') }).migrateToLatest()).error,
        undefined,
      );
      const rows = (table: 'indicator_expiry_tally' | 'indicator_created_tally') =>
        reopened
          .selectFrom(table)
          .select(['hour', 'kind', 'tier', 'n'])
          .orderBy('hour')
          .orderBy('kind')
          .execute();
      assert.deepEqual(await rows('indicator_created_tally'), [
        { hour: '2026-01-01T05', kind: 'bot', tier: 'full', n: 2 },
        { hour: '2026-01-01T06', kind: 'c2', tier: 'public', n: 1 },
      ]);
      assert.deepEqual(await rows('indicator_expiry_tally'), [
        { hour: '2026-01-08T00', kind: 'bot', tier: 'full', n: 2 },
        { hour: '2026-01-31T00', kind: 'c2', tier: 'public', n: 1 },
      ]);
    } finally {
      await reopened.destroy();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker checkpoints the SQLite WAL while the writer does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-store-'));
  try {
    const store = await openStore({ dataDir: dir });
    try {
      assert.ok(store.checkpointer);
      const file = join(dir, 'tsunagi.sqlite');
      const before = statSync(file).size;
      // ~2 MB: far below the writer's own checkpoint threshold, so only the worker moves it.
      await store.transaction(async (trx) => {
        for (let i = 0; i < 2000; i++)
          await trx
            .insertInto('kv')
            .values({ key: `k${i}`, value: 'x'.repeat(1000) })
            .execute();
      });
      const deadline = Date.now() + 20_000;
      while (statSync(file).size < before + 2_000_000 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(statSync(file).size >= before + 2_000_000, 'the database file never received the WAL');
      assert.equal(store.checkpointer.failures, 0);
    } finally {
      await store.close();
    }
    const reopened = await openStore({ dataDir: dir });
    try {
      const n = await reopened.db
        .selectFrom('kv')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 2000);
    } finally {
      await reopened.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
