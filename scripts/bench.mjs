// Runs every benchmark (bench/*/run.ts) one after the other through its own `npm run bench:NAME`,
// the command its BENCHMARKS.md section names (with that script's node flags, e.g. detect's
// --expose-gc); each prints its own section with the ratio against its peer measured in the same
// run. `npm run bench -- flow taxii` runs only those; options are passed to every benchmark, so
// `npm run bench -- --write BENCHMARKS.md` rewrites every section.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const only = args.filter((arg) => !arg.startsWith('-'));
const options = args.filter((arg) => arg.startsWith('-'));
const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts ?? {};
const benches = readdirSync('bench', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join('bench', d.name, 'run.ts')))
  .map((d) => d.name)
  .sort();
for (const name of only) {
  if (!benches.includes(name)) {
    console.error(`bench: no benchmark "${name}" (have ${benches.join(', ')})`);
    process.exit(2);
  }
}
let failed = 0;
for (const name of benches.filter((b) => only.length === 0 || only.includes(b))) {
  console.log(`\n== npm run bench:${name} ==`);
  if (!scripts[`bench:${name}`]) {
    console.error(`bench: bench/${name}/run.ts has no "bench:${name}" script in package.json`);
    failed++;
    continue;
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', `bench:${name}`, ...(options.length ? ['--', ...options] : [])], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error(`bench: bench:${name} failed (exit ${result.status ?? result.signal})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
