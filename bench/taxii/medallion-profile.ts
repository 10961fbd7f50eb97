/**
 * Why medallion's first GET page is slow (not a benchmark row): fills tsunagi's store with the
 * benchmark's first N indicators, writes the same objects medallion gets in run.ts into its
 * memory backend's data file, and runs medallion-profile.py, which asks the backend for the first
 * page under cProfile with nothing else running in that process.
 *
 * Run: MEDALLION_DIR=... node --import tsx bench/taxii/medallion-profile.ts [INDICATORS=1000] [PAGE=50]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateMedallion, MEDALLION_API_ROOT, MEDALLION_COLLECTION, medallionData } from './medallion.ts';
import { prepareStore } from './tsunagi.ts';

const INDICATORS = Number(process.argv[2] ?? 1000);
const PAGE = Number(process.argv[3] ?? 50);
const where = locateMedallion();
if ('skip' in where) {
  process.stderr.write(`medallion-profile: ${where.skip}\n`);
  process.exit(2);
}
const prepared = await prepareStore(INDICATORS, { dump: true, budgetMs: Infinity });
const work = mkdtempSync(join(tmpdir(), 'medallion-profile-'));
try {
  // As run.ts: medallion 3.0.0 fails on an extension-definition's `version` property.
  const objects = prepared.dump!.filter((o) => o.object.type !== 'extension-definition');
  const dataFile = join(work, 'data.json');
  writeFileSync(dataFile, JSON.stringify(medallionData(objects, 'http://127.0.0.1:1')));
  const script = join(dirname(fileURLToPath(import.meta.url)), 'medallion-profile.py');
  const run = spawnSync(
    where.python,
    [script, dataFile, MEDALLION_API_ROOT, MEDALLION_COLLECTION, String(PAGE)],
    { cwd: where.dir, env: { ...process.env, PYTHONPATH: where.dir }, stdio: 'inherit' },
  );
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(work, { recursive: true, force: true });
  await prepared.remove(false);
}
