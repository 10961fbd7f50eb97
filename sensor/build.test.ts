/**
 * The bundle is reproducible and starts no child process: built twice from the same tree into
 * two directories, the bytes (and SBOMs) are the same; SOURCE_DATE_EPOCH sets its one timestamp;
 * and nothing in it can reach child_process or a shell.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'tsunagi-sensor-build-'));
after(() => rmSync(work, { recursive: true, force: true }));

function buildInto(
  dir: string,
  epoch?: string,
): { digest: string; printed: string; bundle: Buffer; sbom: string } {
  const env = { ...process.env };
  if (epoch === undefined) delete env.SOURCE_DATE_EPOCH;
  else env.SOURCE_DATE_EPOCH = epoch;
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-sensor.ts', '--out', dir], {
    cwd: repo,
    env,
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const bundle = readFileSync(join(dir, 'tsunagi-sensor.mjs'));
  return {
    digest: createHash('sha256').update(bundle).digest('hex'),
    printed: run.stdout.split(/\s+/)[0] ?? '',
    bundle,
    sbom: readFileSync(join(dir, 'tsunagi-sensor.cdx.json'), 'utf8'),
  };
}

describe('the sensor bundle', () => {
  const first = buildInto(join(work, 'a'), '1700000000');
  const second = buildInto(join(work, 'b'), '1700000000');

  it('is the same bytes when built twice, and the printed digest is its SHA-256', () => {
    assert.equal(first.digest, second.digest);
    assert.equal(first.printed, first.digest);
    assert.equal(first.sbom, second.sbom);
  });

  it('takes its one timestamp from SOURCE_DATE_EPOCH', () => {
    assert.match(
      first.bundle.toString('utf8', 0, 200),
      /built 2023-11-14T22:13:20\.000Z \(SOURCE_DATE_EPOCH 1700000000\)/,
    );
    const later = buildInto(join(work, 'c'), '1700000001');
    assert.notEqual(later.digest, first.digest);
    assert.equal(JSON.parse(later.sbom).metadata.timestamp, '2023-11-14T22:13:21.000Z');
  });

  it('has an SBOM naming every npm package and first-party file that went in', () => {
    const sbom = JSON.parse(first.sbom);
    assert.equal(sbom.bomFormat, 'CycloneDX');
    assert.equal(sbom.metadata.component.hashes[0].content, first.digest);
    const names = sbom.components.map((c: { name: string }) => c.name);
    const zod = JSON.parse(readFileSync(join(repo, 'node_modules', 'zod', 'package.json'), 'utf8'));
    assert.ok(sbom.components.some((c: { purl?: string }) => c.purl === `pkg:npm/zod@${zod.version}`));
    assert.ok(names.includes('src/sensor/protocol.ts'));
    assert.ok(names.includes('sensor/proc/scan.ts'));
    assert.ok(!names.some((name: string) => name.startsWith('src/') && name !== 'src/sensor/protocol.ts'));
  });

  it('holds no way to a child process or a shell', () => {
    const text = first.bundle.toString('utf8');
    for (const banned of ['child_process', 'execFile', 'spawnSync', '/bin/sh', 'worker_threads']) {
      assert.ok(!text.includes(banned), `the bundle mentions ${banned}`);
    }
  });

  it('runs as a command and reports its own digest', () => {
    const run = spawnSync(process.execPath, [join(work, 'a', 'tsunagi-sensor.mjs'), 'digest'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), first.digest);
    const bad = spawnSync(process.execPath, [join(work, 'a', 'tsunagi-sensor.mjs'), 'status'], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  });
});
