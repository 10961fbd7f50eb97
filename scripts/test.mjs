// Runs every *.test.ts under src/, bench/ and sensor/ with node's built-in test runner (through tsx).
// Node 20 has no glob for --test, so the files are found here. Extra arguments narrow the run:
// `npm test -- flow` runs only test files whose path contains "flow".
//
// The whole run (no filter) first checks what no test would: types (the checked tree, the
// shipped build and the console, each with its own config), lint (room boundaries included) and
// formatting; a failure there fails the run. `--no-static` leaves them out.
//
// Every skipped test is listed at the end with its reason. Under CI (CI=true) or with
// --no-skips, a skip fails the run unless its reason is in ALLOWED_SKIPS: CI installs every tool
// and starts every service the tests need (scripts/install-test-tools.sh, .ci/run), so a skip
// there means a test that should have run did not.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Skips that are right even on CI, each with why. A reason matches when it contains the text.
 * Keep this short: every entry is a test CI does not run.
 */
const ALLOWED_SKIPS = [
  // JPCERT/CC's phishing list is never committed (its repository carries no licence) and CI has
  // no network to fetch it; bench/web/real-day.test.ts runs where TSUNAGI_WEB_DATA names a checkout.
  'TSUNAGI_WEB_DATA unset',
];

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

/** Skipped tests and suites from a TAP stream: `ok N - name # SKIP reason`. */
function skipsFromTap(tap) {
  const skips = [];
  for (const line of tap.split('\n')) {
    const match = /^\s*ok \d+ - (.*?) # SKIP\b ?(.*)$/.exec(line);
    if (match) skips.push({ name: match[1].trim(), reason: match[2].trim() || '(no reason given)' });
  }
  return skips;
}

const args = process.argv.slice(2);
const strictSkips = args.includes('--no-skips') || process.env.CI === 'true';
const filters = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-') && a !== '--no-skips' && a !== '--no-static');
const staticChecks = filters.length === 0 && !args.includes('--no-static');
const files = ['src', 'bench', 'sensor']
  .flatMap((dir) => findTests(dir))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
/** The checks no test makes, each a tool of the repository's own devDependencies. */
const STATIC_CHECKS = [
  ['types', 'tsc', ['-p', 'tsconfig.json', '--noEmit']],
  ['types of the build', 'tsc', ['-p', 'tsconfig.build.json', '--noEmit']],
  ['types of the console', 'tsc', ['-p', 'console', '--noEmit']],
  ['lint', 'eslint', ['.']],
  ['formatting', 'prettier', ['--check', '--log-level', 'warn', '.']],
];
if (staticChecks) {
  const failed = [];
  for (const [what, tool, toolArgs] of STATIC_CHECKS) {
    const started = Date.now();
    const run = spawnSync(join('node_modules', '.bin', tool), toolArgs, { stdio: 'inherit' });
    const ok = run.status === 0;
    console.log(
      `static check: ${what} (${tool}) ${ok ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    if (!ok) failed.push(what);
  }
  if (failed.length > 0) {
    console.error(`test.mjs: static checks failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}
const tapDir = mkdtempSync(join(tmpdir(), 'tsunagi-test-'));
const tapFile = join(tapDir, 'results.tap');
let status;
let skips;
try {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...flags,
      ...files,
    ],
    { stdio: 'inherit' },
  );
  status = result.status ?? 1;
  skips = skipsFromTap(readFileSync(tapFile, 'utf8'));
} finally {
  rmSync(tapDir, { recursive: true, force: true });
}

const notAllowed = skips.filter((s) => !ALLOWED_SKIPS.some((allowed) => s.reason.includes(allowed)));
if (skips.length > 0) {
  console.log(`\nskipped (${skips.length}):`);
  for (const s of skips) console.log(`  ${s.name}: ${s.reason}`);
}
if (strictSkips && notAllowed.length > 0) {
  console.error(
    `\ntest.mjs: ${notAllowed.length} test(s) skipped that must run here ` +
      `(${process.env.CI === 'true' ? 'CI=true' : '--no-skips'}); install what they name ` +
      `(scripts/install-test-tools.sh, npm run build:native) or add the reason to ALLOWED_SKIPS with why`,
  );
  process.exit(status === 0 ? 1 : status);
}
process.exit(status);
