/**
 * What a start reads back (the window's listings, the room's own verdicts, the ties) is found
 * through an index, never by scanning every stored URL: a store keeps a proxy log's benign URLs
 * for good, and a start must not slow with them. Every statement a start runs on SQLite is
 * caught as it runs (better-sqlite3's verbose hook gives it with its values) and planned again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import { migratedWebDb, roomAt } from '../testing.ts';

const NOW = new Date('2025-09-03T00:00:00.000Z');

test('a start reads its window of listings and own verdicts through indexes, scanning no table of URLs', async () => {
  const statements: string[] = [];
  let catching = false;
  const sqlite = new SqliteDatabase(':memory:', {
    verbose: (statement) => {
      if (catching) statements.push(String(statement));
    },
  });
  const db = await migratedWebDb(new SqliteDialect({ database: sqlite }));
  try {
    // A judged URL, a listed one and a benign one, so that every read a start makes has rows.
    const room = roomAt(db, NOW);
    await room.ingest(
      [{ url: 'https://qwhrtd.example.com/xqvjkuos/', seenAt: '2025-09-01T02:00:00.000Z' }],
      'jpcert',
    );
    await room.ingest(
      [
        { url: 'https://amazon-co-jp.account-verify-login.top/signin', seenAt: '2025-09-02T02:00:00.000Z' },
        { url: 'https://example-bakery.co.uk/menu', seenAt: '2025-09-02T03:00:00.000Z' },
      ],
      'proxy-log',
    );
    catching = true;
    await roomAt(db, NOW).start();
    catching = false;

    const reads = statements.filter((s) => /^\s*select\b/i.test(s) && /\bweb_(urls|sightings)\b/.test(s));
    assert.ok(
      reads.length >= 4,
      `a start reads listings, verdicts, ties and benign rows (${reads.length} reads)`,
    );
    for (const statement of reads) {
      const plan = sqlite.prepare(`EXPLAIN QUERY PLAN ${statement}`).all() as { detail: string }[];
      const scans = plan.filter((step) => /^SCAN web_(urls|sightings)\b/.test(step.detail));
      assert.deepEqual(
        scans.map((step) => step.detail),
        [],
        `${statement}\nplanned as: ${plan.map((step) => step.detail).join('; ')}`,
      );
    }
  } finally {
    await db.destroy();
  }
});
