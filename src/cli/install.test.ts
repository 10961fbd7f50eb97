/**
 * What `npm ci` runs after the packages: scripts/build-native.mjs --strict builds the native
 * addons and says so in one line each (node-gyp's own ~50 lines per addon only with --verbose
 * or on failure). Run on a copy of the addons' sources, so the checkout's builds stay untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const compiler = spawnSync('sh', ['-c', 'command -v make && command -v cc && command -v python3'], {
  stdio: 'ignore',
});

test(
  'install builds the addons quietly: one line each',
  { skip: compiler.status !== 0 && 'make, cc or python3 not on PATH (scripts/install-test-tools.sh)' },
  () => {
    const root = mkdtempSync(join(tmpdir(), 'tsunagi-install-'));
    try {
      mkdirSync(join(root, 'scripts'));
      cpSync(join(ROOT, 'scripts/build-native.mjs'), join(root, 'scripts/build-native.mjs'));
      cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
      for (const dir of ['src/flow/input/udp/native', 'src/darknet/native'])
        cpSync(join(ROOT, dir), join(root, dir), {
          recursive: true,
          filter: (from) => !from.endsWith('/build'),
        });
      const run = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs'), '--strict'], {
        encoding: 'utf8',
        timeout: 300_000,
        env: { ...process.env, TSUNAGI_NATIVE_OPTIONAL: '' },
      });
      assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
      assert.equal(
        run.stdout,
        'tsunagi: built src/flow/input/udp/native\ntsunagi: built src/darknet/native\n',
      );
      assert.doesNotMatch(run.stderr, /gyp info/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
