/**
 * Issue #15 finding 8: a consistent rewrite of the audit chain (one record changed and every later
 * hash recomputed) or a cut tail verified as ok. Signed checkpoints, in the store and exported,
 * must catch both, on both store engines. The attacker here holds the database (drops the
 * append-only triggers) but not the signing key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Store } from '../store/index.ts';
import { testEngines } from '../store/testing.ts';
import { HUB_MIGRATIONS } from './testing.ts';
import { auditHash, createAuditLog, GENESIS_HASH, verifyRecords, type AuditRecord } from './audit.ts';
import { checkpointFile, loadSigner, parseCheckpointFile } from './audit-checkpoints.ts';

async function dropAppendOnly(store: Store) {
  if (store.engine === 'sqlite') {
    await sql`DROP TRIGGER audit_log_no_update`.execute(store.db);
    await sql`DROP TRIGGER audit_log_no_delete`.execute(store.db);
  } else {
    await sql`DROP TRIGGER audit_log_no_change ON audit_log`.execute(store.db);
  }
}

/** Rewrites record `seq`'s actor and recomputes every hash after it: a chain that still links. */
async function rewriteConsistently(store: Store, seq: number) {
  const rows = await store.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
  let prev = GENESIS_HASH;
  for (const row of rows) {
    const r = { ...row, seq: Number(row.seq) };
    if (r.seq === seq) r.actor = 'mallory';
    const hash = auditHash(prev, r);
    if (r.seq >= seq)
      await store.db
        .updateTable('audit_log')
        .set({ actor: r.actor, prev_hash: prev, hash })
        .where('seq', '=', r.seq)
        .execute();
    prev = hash;
  }
}

for (const engine of testEngines(HUB_MIGRATIONS)) {
  describe(`signed audit checkpoints on ${engine.name}`, { skip: engine.skip }, () => {
    test('a consistent rewrite fails verification against the signed checkpoints', async () => {
      const store = await engine.open();
      try {
        const audit = createAuditLog({ store, checkpointEvery: 5 });
        for (let i = 0; i < 12; i++) await audit.record({ actor: 'a', action: 'w', target: String(i) });
        assert.deepEqual(
          (await audit.checkpoints()).map((c) => c.seq),
          [5, 10],
          'one checkpoint every 5 records, in the record own transaction',
        );
        const good = await audit.verify();
        assert.deepEqual([good.ok, good.records, good.checkpoints], [true, 12, 2]);
        const exported = parseCheckpointFile(checkpointFile(await audit.checkpoints()));

        await dropAppendOnly(store);
        await rewriteConsistently(store, 3);
        const records = (await audit.list(0, 100)) as AuditRecord[];
        assert.equal(
          verifyRecords(records).ok,
          true,
          'the rewritten chain links: a hash chain alone misses it',
        );
        const stored = await audit.verify();
        assert.equal(stored.ok, false);
        assert.match(stored.problem!, /record 5 differs from its signed checkpoint/);
        const offline = verifyRecords(records, { checkpoints: exported });
        assert.equal(offline.ok, false, 'the exported checkpoints catch it offline too');
      } finally {
        await store.close();
      }
    });

    test('a cut tail fails verification; deleting the stored checkpoints too is caught by the exported file', async () => {
      const store = await engine.open();
      try {
        const audit = createAuditLog({ store, checkpointEvery: 5 });
        for (let i = 0; i < 12; i++) await audit.record({ actor: 'a', action: 'w', target: String(i) });
        // Shutdown signs the head: records 11 and 12 are covered too.
        assert.equal((await audit.checkpoint())?.seq, 12);
        assert.equal(await audit.checkpoint(), undefined, 'a signed head is not signed twice');
        const kept = parseCheckpointFile(checkpointFile(await audit.checkpoints()));

        await dropAppendOnly(store);
        await store.db.deleteFrom('audit_log').where('seq', '>', 11).execute();
        const cut = await audit.verify();
        assert.equal(cut.ok, false);
        assert.match(
          cut.problem!,
          /ends at record 11 but a signed checkpoint covers record 12: records were cut/,
        );

        // Someone who can also drop the checkpoints' triggers and delete them leaves a log that
        // looks whole to the store alone; the council's exported copy still catches it.
        if (store.engine === 'sqlite') await sql`DROP TRIGGER audit_checkpoints_no_delete`.execute(store.db);
        else await sql`DROP TRIGGER audit_checkpoints_no_change ON audit_checkpoints`.execute(store.db);
        await store.db.deleteFrom('audit_checkpoints').where('seq', '>', 10).execute();
        assert.equal((await audit.verify()).ok, true);
        const against = await audit.verify({ checkpoints: kept });
        assert.equal(against.ok, false);
        assert.match(against.problem!, /records were cut/);
      } finally {
        await store.close();
      }
    });

    test('checkpoints by an unknown key or with a bad signature are refused', async () => {
      const store = await engine.open();
      try {
        const audit = createAuditLog({ store, checkpointEvery: 2 });
        for (let i = 0; i < 4; i++) await audit.record({ actor: 'a', action: 'w', target: String(i) });
        // Another key (another process that made its own) is not this log's key.
        assert.match((await createAuditLog({ store }).verify()).problem!, /unknown key/);
        const [first] = await audit.checkpoints();
        const forged = { ...first!, head: 'f'.repeat(64) };
        assert.match(
          verifyRecords(await audit.list(0, 10), { checkpoints: [forged] }).problem!,
          /bad signature/,
        );
      } finally {
        await store.close();
      }
    });
  });
}

test('the signing key lives in the data directory, readable by its owner only, and is reused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-audit-key-'));
  try {
    const first = loadSigner(dir);
    assert.equal(statSync(join(dir, 'audit-signing-key.pem')).mode & 0o777, 0o600);
    assert.equal(loadSigner(dir).key, first.key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
