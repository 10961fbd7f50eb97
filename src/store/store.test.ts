/** The store suite, run against SQLite and PostgreSQL alike. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { sql, type Migration } from 'kysely';
import { openStore, sqliteStatements, type RoomMigrations } from './index.ts';
import { testEngines } from './testing.ts';

for (const engine of testEngines([])) {
  describe(`store on ${engine.name}`, { skip: engine.skip }, () => {
    test('migrates with only its own bookkeeping when handed no rooms, and records it', async () => {
      const store = await engine.open();
      try {
        assert.equal((await store.db.selectFrom('kv').selectAll().execute()).length, 0);
        const applied = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(store.db);
        assert.deepEqual(
          applied.rows.map((r) => r.name),
          ['0001_initial'],
        );
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
    const first = await openStore({ dataDir: join(dir, 'data') }, { migrations: [] });
    await first.db.insertInto('kv').values({ key: 'k', value: 'kept' }).execute();
    await first.close();
    const second = await openStore({ dataDir: join(dir, 'data') }, { migrations: [] });
    assert.equal((await second.db.selectFrom('kv').selectAll().executeTakeFirstOrThrow()).value, 'kept');
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a SQLite transaction that reads first still writes when another process commits meanwhile', async () => {
  // `web ingest` beside a running hub: its transaction reads, the hub commits, then it writes.
  // Begun deferred, that write failed at once with "database is locked" (a stale snapshot that
  // no busy wait can mend); begun IMMEDIATE, the other process waits for the transaction instead.
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-store-'));
  const store = await openStore({ dataDir: join(dir, 'data') }, { migrations: [] });
  try {
    let other: Promise<number> | undefined;
    await store.db.transaction().execute(async (trx) => {
      await trx.selectFrom('kv').selectAll().execute();
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import D from 'better-sqlite3'; const db = new D(process.argv[1]); db.pragma('busy_timeout = 5000');
           db.prepare("insert into kv (key, value) values ('other', 'x')").run(); db.close();`,
          join(dir, 'data', 'tsunagi.sqlite'),
        ],
        { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'inherit' },
      );
      other = new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
      // Long enough for the other process to commit if it can; it must not be able to.
      await Promise.race([other, new Promise((resolve) => setTimeout(resolve, 1500))]);
      await trx.insertInto('kv').values({ key: 'mine', value: 'y' }).execute();
    });
    assert.equal(await other, 0);
    const keys = (await store.db.selectFrom('kv').select('key').orderBy('key').execute()).map((r) => r.key);
    assert.deepEqual(keys, ['mine', 'other']);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker checkpoints the SQLite WAL while the writer does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-store-'));
  try {
    const store = await openStore({ dataDir: dir }, { migrations: [] });
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
    const reopened = await openStore({ dataDir: dir }, { migrations: [] });
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

/** Two rooms' parts of migrations; `log` records the order the parts ran in. */
function testRooms(log: string[]): RoomMigrations[] {
  const part = (name: string, table?: string): Migration => ({
    async up(db) {
      log.push(name);
      if (table) await db.schema.createTable(table).addColumn('id', 'text').execute();
    },
  });
  return [
    () => ({ '0001_initial': part('a:0001', 'room_a'), '0003_later': part('a:0003') }),
    (engine) => ({ '0001_initial': part(`b:0001:${engine}`, 'room_b'), '0002_b_only': part('b:0002') }),
  ];
}

test("the parts of one migration name run as one migration, in the rooms' order, the store's own last", async () => {
  const log: string[] = [];
  const store = await openStore({ memory: true }, { migrations: testRooms(log) });
  try {
    assert.deepEqual(log, ['a:0001', 'b:0001:sqlite', 'b:0002', 'a:0003']);
    const applied = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(
      store.db,
    );
    assert.deepEqual(
      applied.rows.map((r) => r.name),
      ['0001_initial', '0002_b_only', '0003_later'],
    );
    // The store's own table comes after the rooms' in the one migration.
    const order = await sql<{
      name: string;
    }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('room_a', 'room_b', 'kv') ORDER BY rowid`.execute(
      store.db,
    );
    assert.deepEqual(
      order.rows.map((r) => r.name),
      ['room_a', 'room_b', 'kv'],
    );
  } finally {
    await store.close();
  }
});

test('reopening runs no migration again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-store-'));
  try {
    const log: string[] = [];
    await (await openStore({ dataDir: dir }, { migrations: testRooms(log) })).close();
    await (await openStore({ dataDir: dir }, { migrations: testRooms(log) })).close();
    assert.equal(log.length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
