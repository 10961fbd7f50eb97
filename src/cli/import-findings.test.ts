import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));

function run(args: string[]) {
  return spawnSync(BIN, args, { encoding: 'utf8', timeout: 60_000 });
}

test('survey findings are imported into intel through the CLI; a missing file or a bad line exits 2', () => {
  const data = mkdtempSync(join(tmpdir(), 'tsunagi-findings-'));
  const findings = join(data, 'findings.jsonl');
  const finding = (ip: string, port: number) =>
    JSON.stringify({
      survey: 'plan-2026-11',
      time: '2026-11-20T01:02:03.000Z',
      ip,
      port,
      service: 'telnet',
      banner: 'DVR login:',
      vendor: 'Acme',
      model: 'DVR-100',
      firmware: '1.0.2',
      fingerprints: ['telnet.acme.dvr'],
      weakCredential: { accepted: true, rule: 'acme-default-1' },
      cves: [],
      severity: 'high',
      status: 'weak-credential',
    });
  writeFileSync(findings, `${finding('198.18.5.7', 23)}\n${finding('203.0.113.9', 2323)}\n`);
  assert.equal(
    run(['org', 'add', 'ISP Alpha', '--role', 'isp', '--prefix', '198.18.0.0/15', '--data', data]).status,
    0,
  );
  const imported = run(['import-findings', findings, '--source', 'plan-2026-11', '--data', data]);
  assert.equal(imported.status, 0, imported.stderr);
  assert.match(imported.stdout, /imported 2 findings from plan-2026-11 \(2 new indicators\)/);
  // A second import of the same findings adds sightings, not indicators.
  const again = run(['import-findings', findings, '--source', 'plan-2026-11', '--data', data]);
  assert.match(again.stdout, /imported 2 findings from plan-2026-11 \(0 new indicators\)/);
  const bad = run(['import-findings', join(data, 'missing.jsonl'), '--source', 'x', '--data', data]);
  assert.equal(bad.status, 2);
  writeFileSync(join(data, 'bad.jsonl'), '{"ip": 1}\n');
  const badLine = run(['import-findings', join(data, 'bad.jsonl'), '--source', 'x', '--data', data]);
  assert.equal(badLine.status, 2);
  assert.match(badLine.stderr, /line 1/);
});
