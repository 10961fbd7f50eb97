#!/usr/bin/env node
// Builds the recvmmsg UDP receiver addon with node-gyp. Never fails the install: without a
// compiler (or off Linux) the collector falls back to node's dgram and says so in its log.
// Usage: node src/flow/native/build.mjs [--strict]   (--strict: exit 1 when the build fails)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');

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
  console.warn(`tsunagi: recvmmsg receiver not built (Linux only; ${process.platform}); using node dgram`);
  process.exit(0);
}
const [command, ...prefix] = nodeGyp();
const args = [...prefix, 'rebuild', '--directory', here];
// Headers installed beside this node (distribution packages) spare node-gyp a download.
const prefixDir = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefixDir, 'include/node/node_api.h')))
  args.push(`--nodedir=${prefixDir}`);
const result = spawnSync(command, args, { stdio: 'inherit' });
if (result.status !== 0) {
  console.warn('tsunagi: recvmmsg receiver failed to build; the flow collector will use node dgram (slower)');
  process.exit(strict ? 1 : 0);
}
