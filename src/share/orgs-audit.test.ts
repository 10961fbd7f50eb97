/** Organisations, tokens, consent and the audit chain, on both store engines. */
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../store/testing.ts';
import { HUB_MIGRATIONS } from './testing.ts';
import { createAuditLog, verifyExport } from './audit.ts';
import { createOrganisations, roleTier } from './orgs.ts';

test('roles map to tiers', () => {
  assert.deepEqual(
    ['analysis', 'government', 'council', 'isp', 'vendor', 'public'].map((r) => roleTier(r as never)),
    ['full', 'full', 'council', 'council', 'public', 'public'],
  );
});

for (const engine of testEngines(HUB_MIGRATIONS)) {
  describe(`organisations and audit on ${engine.name}`, { skip: engine.skip }, () => {
    test('tokens are shown once, stored hashed, scoped and revocable; consent lifts a council org', async () => {
      const store = await engine.open();
      try {
        const audit = createAuditLog({ store });
        const orgs = createOrganisations({ store, audit });
        const isp = await orgs.add(
          { name: 'ISP A', role: 'isp', prefixes: ['192.0.2.0/24', '2001:db8::/32'], asns: [64500] },
          'admin',
        );
        assert.equal(isp.tier, 'public', 'no council data before consent');
        await assert.rejects(orgs.add({ name: 'ISP A', role: 'isp' }, 'admin'), /exists/);
        await assert.rejects(
          orgs.add({ name: 'bad', role: 'isp', prefixes: ['nope'] }, 'admin'),
          /bad prefix/,
        );
        await assert.rejects(orgs.add({ name: 'x', role: 'king' as never }, 'admin'), /role/);
        const consented = await orgs.recordConsent('ISP A', 'council-confidentiality-v1', 'ISP A');
        assert.equal(consented.tier, 'council');
        assert.ok(orgs.prefixSet(consented).hasText('192.0.2.77'));

        const { id, token } = await orgs.createToken('ISP A', { scopes: ['read'] }, 'admin');
        assert.match(token, /^tsg_/);
        const stored = await store.db.selectFrom('tokens').selectAll().execute();
        assert.equal(stored.length, 1);
        assert.ok(!JSON.stringify(stored).includes(token.slice(4)), 'the token itself is not stored');
        const principal = (await orgs.authenticate(token))!;
        assert.equal(principal.org.name, 'ISP A');
        assert.deepEqual(principal.scopes, ['read']);
        assert.equal(
          await orgs.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')),
          undefined,
        );
        assert.equal(await orgs.authenticate('garbage'), undefined);
        await orgs.revokeToken(id, 'admin');
        assert.equal(await orgs.authenticate(token), undefined);
        await assert.rejects(orgs.revokeToken(id, 'admin'), /no active token/);

        const log = await audit.list(0, 100);
        assert.deepEqual(
          log.map((r) => r.action),
          ['org.add', 'org.consent', 'token.create', 'token.revoke'],
        );
        assert.equal((await audit.verify()).ok, true);
      } finally {
        await store.close();
      }
    });

    test('the chain detects an edited, a deleted and a cut-off record', async () => {
      const store = await engine.open();
      const dir = mkdtempSync(join(tmpdir(), 'tsunagi-audit-'));
      try {
        const audit = createAuditLog({ store });
        for (let i = 0; i < 5; i++)
          await audit.record({
            actor: `org${i}`,
            action: 'taxii.read',
            target: 'collection:x',
            reason: 'poll',
            detail: { count: i },
          });
        const good = await audit.verify();
        assert.deepEqual([good.ok, good.records], [true, 5]);
        const exported = (await audit.list(0, 100)).map((r) => JSON.stringify(r)).join('\n') + '\n';
        const file = join(dir, 'audit.jsonl');
        writeFileSync(file, exported);
        assert.equal(verifyExport(readFileSync(file, 'utf8'), good.head).ok, true);

        const lines = exported.trim().split('\n');
        const edited = lines.map((l, i) => (i === 2 ? l.replace('"org2"', '"mallory"') : l)).join('\n');
        assert.match(verifyExport(edited).problem!, /record 3 was altered/);
        const deleted = lines.filter((_, i) => i !== 1).join('\n');
        assert.match(verifyExport(deleted).problem!, /record 2 is missing/);
        const cut = lines.slice(0, 4).join('\n');
        assert.equal(verifyExport(cut).ok, true, 'a cut tail alone looks whole...');
        assert.equal(verifyExport(cut, good.head).ok, false, '...unless the head kept elsewhere is checked');
        assert.equal(verifyExport('{oops').ok, false);

        // The database refuses edits; an attacker who drops the triggers still cannot hide them.
        await assert.rejects(
          store.db.updateTable('audit_log').set({ actor: 'mallory' }).where('seq', '=', 2).execute(),
        );
        if (engine.name === 'sqlite') await sql`DROP TRIGGER audit_log_no_update`.execute(store.db);
        else await sql`DROP TRIGGER audit_log_no_change ON audit_log`.execute(store.db);
        await store.db.updateTable('audit_log').set({ actor: 'mallory' }).where('seq', '=', 2).execute();
        const broken = await audit.verify();
        assert.equal(broken.ok, false);
        assert.match(broken.problem!, /record 2 was altered/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await store.close();
      }
    });

    test('concurrent appends keep one linear chain', async () => {
      const store = await engine.open();
      try {
        const audit = createAuditLog({ store });
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => audit.record({ actor: 'a', action: 'w', target: String(i) })),
        );
        const result = await audit.verify();
        assert.deepEqual([result.ok, result.records], [true, 20]);
      } finally {
        await store.close();
      }
    });
  });
}
