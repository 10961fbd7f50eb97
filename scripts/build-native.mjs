#!/usr/bin/env node
// Builds tsunagi's native addons with node-gyp: the recvmmsg UDP receiver (src/flow/input/udp/native) and
// the darknet hot loop (src/darknet/native), then checks that the optional live-capture binding
// `cap` loads. Without a compiler (or off Linux) each part falls back to its TypeScript path and
// says so in its log.
// Usage: node scripts/build-native.mjs [--strict] [--verbose]
//   --strict (what `npm install` runs): exit 1 when an addon fails to build or `cap` does not
//   load, so a checkout or CI whose tests would silently skip the C paths fails instead. A machine
//   that knowingly goes without sets TSUNAGI_NATIVE_OPTIONAL=1.
//   --verbose: node-gyp's own output (~50 lines per addon); without it one line per addon, and
//   the end of node-gyp's output when a build fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict') && process.env.TSUNAGI_NATIVE_OPTIONAL !== '1';
const verbose = process.argv.includes('--verbose');
const ADDONS = [
  { dir: 'src/flow/input/udp/native', fallback: 'the flow collector will use node dgram (slower)' },
  { dir: 'src/darknet/native', fallback: 'darknet analysis will run in TypeScript only (slower)' },
];

function nodeGyp() {
  // npm sets npm_config_node_gyp for scripts; else npm's bundled copy next to this node.
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  for (const candidate of candidates)
    if (candidate && existsSync(candidate)) return [process.execPath, candidate];
  return ['node-gyp'];
}

if (process.platform !== 'linux') {
  console.warn(
    `tsunagi: native addons not built (Linux only; ${process.platform}); using the TypeScript paths`,
  );
  process.exit(0);
}
const [command, ...prefix] = nodeGyp();
// Headers installed beside this node (distribution packages) spare node-gyp a download.
const prefixDir = join(dirname(process.execPath), '..');
const nodedir =
  !process.env.npm_config_nodedir && existsSync(join(prefixDir, 'include/node/node_api.h'))
    ? [`--nodedir=${prefixDir}`]
    : [];
let failed = false;
for (const addon of ADDONS) {
  const args = [...prefix, 'rebuild', '--directory', join(root, addon.dir), ...nodedir];
  // node-gyp's ~50 lines per addon are shown only with --verbose or when the build fails, so
  // `npm ci` prints one line per addon.
  const result = spawnSync(command, args, { stdio: verbose ? 'inherit' : 'pipe', encoding: 'utf8' });
  if (result.status !== 0) {
    if (!verbose) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().split('\n');
      console.warn(output.slice(-15).join('\n'));
    }
    console.warn(`tsunagi: ${addon.dir} failed to build; ${addon.fallback}`);
    failed = true;
  } else if (!verbose) console.log(`tsunagi: built ${addon.dir}`);
}
// npm removes an optional dependency whose install script failed, so a `cap` that did not
// build shows up here as a module that cannot be found.
try {
  createRequire(join(root, 'package.json'))('cap');
} catch (error) {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  console.warn(
    `tsunagi: the live-capture binding cap does not load (${reason}); live capture and its tests ` +
      'need it: install libpcap-dev, a C++ compiler and python3 (scripts/install-test-tools.sh), then npm ci (npm drops an optional dependency that failed to build)',
  );
  failed = true;
}
if (failed && strict) {
  console.error(
    'tsunagi: native build failed (--strict); set TSUNAGI_NATIVE_OPTIONAL=1 to install without it',
  );
}
process.exit(failed && strict ? 1 : 0);
