/** Killing the hub with SIGKILL in the middle of POSTs loses no acknowledged object. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig } from '../intel/index.ts';
import { COLLECTION_IDS, createAuditLog, createOrganisations } from '../share/index.ts';
import { openStore } from '../store/index.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';

const TAXII = 'application/taxii+json;version=2.1';

function envelope(batch: number, size: number) {
  const t = '2026-01-01T00:00:00.000Z';
  return {
    objects: Array.from({ length: size }, (_, i) => {
      const n = batch * size + i;
      return {
        type: 'indicator',
        spec_version: '2.1',
        id: `indicator--${crypto.randomUUID()}`,
        created: t,
        modified: t,
        pattern: `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}' AND network-traffic:dst_port = 443]`,
        pattern_type: 'stix',
        valid_from: t,
        confidence: 50,
      };
    }),
  };
}

test('SIGKILL during POSTs loses no acknowledged object', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-crash-'));
  try {
    let store = await openStore({ dataDir: dir }, { migrations: ROOM_MIGRATIONS });
    const audit = createAuditLog({ store });
    const orgs = createOrganisations({ store, audit });
    await orgs.add({ name: 'ISP A', role: 'isp', consent: true }, 'test');
    const { token } = await orgs.createToken('ISP A', {}, 'test');
    await store.close();

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'testdata', 'serve-child.ts'), dir],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stderr.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /tsunagi hub on (http:\/\/[^ ]+) /.exec(text);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code}: ${text}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));

    const acknowledged: string[] = [];
    let batch = 0;
    let killed = false;
    const post = async () => {
      while (!killed) {
        const body = envelope(batch++, 100);
        try {
          const res = await fetch(`${url}/council/collections/${COLLECTION_IDS.submissions}/objects/`, {
            method: 'POST',
            headers: { accept: TAXII, 'content-type': TAXII, authorization: `Bearer ${token}` },
            body: JSON.stringify(body),
          });
          if (res.status !== 202) throw new Error(`status ${res.status}`);
          const status = (await res.json()) as { successes: { id: string }[] };
          acknowledged.push(...status.successes.map((s) => s.id));
        } catch {
          return; // the connection died with the server: this one was never acknowledged
        }
      }
    };
    const writers = [post(), post()];
    // Let some POSTs complete, then kill while others are in flight.
    while (acknowledged.length < 600) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    await exited;

    store = await openStore({ dataDir: dir }, { migrations: ROOM_MIGRATIONS });
    try {
      const stored = new Set(
        (
          await store.db
            .selectFrom('stix_objects')
            .select('object_id')
            .where('collection_id', '=', COLLECTION_IDS.submissions)
            .execute()
        ).map((r) => r.object_id),
      );
      const lost = acknowledged.filter((id) => !stored.has(id));
      assert.equal(lost.length, 0, `${lost.length} of ${acknowledged.length} acknowledged objects lost`);
      const intel = createIntel(IntelConfig.parse({}), {
        store,
        logger: silentLogger(),
        registry: new Registry(),
      });
      const sightings = await store.db
        .selectFrom('sightings')
        .select('id')
        .where('source', '=', 'ISP A')
        .execute();
      assert.ok(sightings.length >= acknowledged.length, 'every acknowledged indicator became a sighting');
      assert.ok((await intel.list({ limit: 1 })).items.length === 1);
      assert.equal((await createAuditLog({ store }).verify()).ok, true, 'the audit chain survives the crash');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
