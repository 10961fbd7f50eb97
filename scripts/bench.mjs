// Runs every benchmark (bench/*/run.ts) one after the other; each prints its own table with the
// ratio against its peer measured in the same run. `npm run bench -- flow` runs only bench/flow.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
const benches = readdirSync('bench', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join('bench', d.name, 'run.ts')))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();
let failed = 0;
for (const name of benches) {
  console.log(`\n== bench/${name} ==`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join('bench', name, 'run.ts')], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
