#!/usr/bin/env node
// Builds tsunagi's native addons with node-gyp: the recvmmsg UDP receiver (src/flow/native) and
// the darknet hot loop (src/darknet/native). Never fails the install: without a compiler (or
// off Linux) each part falls back to its TypeScript path and says so in its log.
// Usage: node scripts/build-native.mjs [--strict]   (--strict: exit 1 when a build fails)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
const ADDONS = [
  { dir: 'src/flow/native', fallback: 'the flow collector will use node dgram (slower)' },
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
  // node-gyp's ~50 lines per addon are shown only with --strict (npm run build:native) or when
  // the build fails; `npm install` prints one line per addon.
  const result = spawnSync(command, args, { stdio: strict ? 'inherit' : 'pipe', encoding: 'utf8' });
  if (result.status !== 0) {
    if (!strict) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().split('\n');
      console.warn(output.slice(-15).join('\n'));
    }
    console.warn(`tsunagi: ${addon.dir} failed to build; ${addon.fallback}`);
    failed = true;
  } else if (!strict) console.log(`tsunagi: built ${addon.dir}`);
}
process.exit(failed && strict ? 1 : 0);
