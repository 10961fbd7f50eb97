/** The hub CLI end to end on a data directory: orgs, tokens, import, export, audit verify, serve. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { main } from '../main.ts';
import { ServeConfig } from '../hub-stack.ts';
import { runServe } from './serve.ts';
import { captureCli } from '../test-cli.ts';

async function run(args: string[]) {
  const c = captureCli({ USER: 'tester' });
  const code = await main(args, c.ctx);
  return { code, out: c.stdout(), err: c.stderr() };
}

test('org, token, import, export and audit verify through the CLI', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-hubcli-'));
  const data = join(dir, 'data');
  try {
    assert.equal(
      (
        await run([
          'org',
          'add',
          'ISP A',
          '--role',
          'isp',
          '--consent',
          '--prefix',
          '192.0.2.0/24',
          '--asn',
          'AS64500',
          '--data',
          data,
        ])
      ).code,
      0,
    );
    assert.equal((await run(['org', 'add', 'x', '--role', 'emperor', '--data', data])).code, 2);
    const created = await run(['token', 'create', '--org', 'ISP A', '--data', data]);
    assert.equal(created.code, 0);
    assert.match(created.out, /^tsg_[A-Za-z0-9_-]{43}\n$/, 'the token alone on stdout');

    const csv = join(dir, 'c2.csv');
    writeFileSync(
      csv,
      '# from ISP A\ndst_ip,dst_port,proto,confidence,malware\n198.51.100.7,443,tcp,80,mirai\n198.51.100.8,23,tcp,60,\n',
    );
    const imported = await run(['import', csv, '--org', 'ISP A', '--data', data]);
    assert.equal(imported.code, 0, imported.err);
    assert.match(imported.out, /imported 2 sightings from ISP A \(2 new indicators/);
    // A bundle revoking ISP A's report of .8:23 (its only source) withdraws that server.
    const t = '2026-01-01T00:00:00.000Z';
    const revokedBundle = join(dir, 'revoke.json');
    writeFileSync(
      revokedBundle,
      JSON.stringify({
        type: 'bundle',
        id: `bundle--${crypto.randomUUID()}`,
        objects: [
          {
            type: 'indicator',
            spec_version: '2.1',
            id: `indicator--${crypto.randomUUID()}`,
            created: t,
            modified: '2026-01-02T00:00:00.000Z',
            revoked: true,
            pattern: `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.8' AND network-traffic:dst_port = 23 AND network-traffic:protocols[*] = 'tcp']`,
            pattern_type: 'stix',
            valid_from: t,
          },
        ],
      }),
    );
    const revoked = await run(['import', revokedBundle, '--org', 'ISP A', '--data', data]);
    assert.equal(revoked.code, 0, revoked.err);
    assert.match(revoked.out, /revoked 1 reports of ISP A \(1 indicators withdrawn/);
    assert.equal((await run(['export', 'c2', '--format', 'txt', '--data', data])).out, '198.51.100.7:443\n');
    assert.equal((await run(['import', csv, '--org', 'ISP A', '--data', data])).code, 0);

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, '999.1.1.1,80\n');
    assert.equal((await run(['import', bad, '--org', 'ISP A', '--data', data])).code, 2);
    assert.equal((await run(['import', csv, '--org', 'Nobody', '--data', data])).code, 2);

    const exported = await run(['export', 'c2', '--format', 'csv', '--data', data]);
    assert.equal(exported.code, 0, exported.err);
    assert.match(exported.out, /^198\.51\.100\.7,443,tcp,80,mirai$/m);
    assert.equal(
      (await run(['export', 'c2', '--format', 'txt', '--data', data])).out,
      '198.51.100.7:443\n198.51.100.8:23\n',
    );
    const stix = JSON.parse((await run(['export', 'c2', '--format', 'stix', '--data', data])).out) as {
      type: string;
      objects: { type: string }[];
    };
    assert.equal(stix.type, 'bundle');
    assert.equal(stix.objects.filter((o) => o.type === 'indicator').length, 2);
    assert.equal(
      (await run(['export', 'c2', '--format', 'stix', '--tier', 'public', '--data', data])).code,
      0,
    );

    const verified = await run(['audit', 'verify', '--data', data]);
    assert.equal(verified.code, 0);
    assert.equal(
      (await run(['hub', 'audit', 'verify', '--data', data])).out,
      verified.out,
      'also under tsunagi hub',
    );
    const head = /head ([0-9a-f]{64})/.exec(verified.out)![1]!;
    const exportedLog = await run(['audit', 'export', '--data', data]);
    const logFile = join(dir, 'audit.jsonl');
    writeFileSync(logFile, exportedLog.out);
    assert.equal((await run(['audit', 'verify', '--file', logFile, '--head', head])).code, 0);
    writeFileSync(logFile, exportedLog.out.replace('org:ISP A', 'org:ISP Z'));
    assert.equal((await run(['audit', 'verify', '--file', logFile])).code, 1);

    // Tamper with the database behind the hub's back: verify fails with exit code 1.
    const db = new Database(join(data, 'tsunagi.sqlite'));
    db.exec('DROP TRIGGER audit_log_no_update');
    db.prepare("UPDATE audit_log SET actor = 'nobody' WHERE seq = 1").run();
    db.close();
    const broken = await run(['audit', 'verify', '--data', data]);
    assert.equal(broken.code, 1);
    assert.match(broken.err, /record 1 was altered/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve answers TAXII on the address it was given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-serve-'));
  try {
    await run(['org', 'add', 'Citizen', '--role', 'public', '--data', dir]);
    const token = (await run(['token', 'create', '--org', 'Citizen', '--data', dir])).out.trim();
    const c = captureCli({ USER: 'tester' });
    const config = ServeConfig.parse({ data: dir, log: { level: 'silent' }, hub: { listen: '127.0.0.1:0' } });
    let answer: unknown;
    await runServe(config, c.ctx, async () => {
      const url = /tsunagi hub on (http:\/\/[^ ]+) /.exec(c.stderr())![1]!;
      const res = await fetch(`${url}/taxii2/`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/taxii+json;version=2.1' },
      });
      answer = await res.json();
    });
    assert.deepEqual((answer as { api_roots: string[] }).api_roots, ['/public/']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('review list, edit, approve and refuse through the CLI: a public claim waits for the analysis centre', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-review-'));
  const data = join(dir, 'data');
  try {
    assert.equal((await run(['org', 'add', 'ISP A', '--role', 'isp', '--consent', '--data', data])).code, 0);
    const t = '2026-01-01T00:00:00.000Z';
    const indicator = (ip: string, tlp: string) => ({
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${crypto.randomUUID()}`,
      created: t,
      modified: t,
      pattern: `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '${ip}' AND network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']`,
      pattern_type: 'stix',
      valid_from: t,
      object_marking_refs: [
        tlp === 'clear'
          ? 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487'
          : 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
      ],
      extensions: {
        'extension-definition--f66f9732-e8aa-43a1-b50f-35efce09f709': {
          extension_type: 'property-extension',
          tier: 'public',
        },
      },
    });
    const bundle = join(dir, 'b.json');
    writeFileSync(
      bundle,
      JSON.stringify({
        type: 'bundle',
        id: `bundle--${crypto.randomUUID()}`,
        objects: [indicator('198.51.100.1', 'clear'), indicator('198.51.100.2', 'amber')],
      }),
    );
    const imported = await run(['import', bundle, '--org', 'ISP A', '--data', data]);
    assert.equal(imported.code, 0, imported.err);
    assert.match(imported.out, /queued 2 for public-notice review/);
    // Not public notice before a decision.
    assert.equal(
      (await run(['export', 'c2', '--format', 'txt', '--tier', 'public', '--data', data])).out,
      '',
    );
    const listed = await run(['review', 'list', '--data', data]);
    const ids = Object.fromEntries(
      listed.out
        .trim()
        .split('\n')
        .map((line) => [line.split('\t')[2]!.split(' ')[1]!, line.split('\t')[0]!]),
    );
    const clear = ids['198.51.100.1:443/tcp']!;
    const amber = ids['198.51.100.2:443/tcp']!;
    assert.equal((await run(['review', 'edit', clear, '--family', 'mirai', '--data', data])).code, 0);
    const approved = await run(['review', 'approve', clear, '--data', data]);
    assert.equal(approved.code, 0, approved.err);
    assert.match(approved.out, /approved.*family mirai/);
    // The marking binds: an AMBER submission cannot be approved (exit 2, one line).
    const refusedByMarking = await run(['review', 'approve', amber, '--data', data]);
    assert.equal(refusedByMarking.code, 2);
    assert.match(refusedByMarking.err, /the marking binds/);
    assert.equal(
      (await run(['export', 'c2', '--format', 'txt', '--tier', 'public', '--data', data])).out,
      '198.51.100.1:443\n',
    );
    assert.equal((await run(['review', 'refuse', clear, '--note', 'second look', '--data', data])).code, 0);
    assert.equal((await run(['review', 'list', '--status', 'nope', '--data', data])).code, 2);
    const db = new Database(join(data, 'tsunagi.sqlite'), { readonly: true });
    const actions = (db.prepare('select action from audit_log').all() as { action: string }[]).map(
      (r) => r.action,
    );
    db.close();
    for (const a of ['review.queue', 'review.edit', 'review.approve', 'review.refuse'])
      assert.ok(actions.includes(a), a);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
