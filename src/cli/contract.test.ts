/**
 * The CLI contract on every command: bad input of each kind (unknown option, bad value, missing
 * file, garbage file, missing data directory) ends with the documented exit code and one line
 * naming the flag or file, never a stack trace. The table must name every command, so a new
 * command fails here until its bad inputs are listed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { allCommands, commandPath } from './contract.ts';
import { buildProgram } from './main.ts';
import { captureCli as capture, runCli as run } from './test-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-contract-'));
const DATA = join(dir, 'data');
const NO_DATA = join(dir, 'no-such-data');
const MISSING = join(dir, 'missing.file');
const GARBAGE = join(dir, 'garbage.bin');
const BINARY = join(dir, 'binary.dat');
const BOTS = join(dir, 'bots.txt');
after(() => rmSync(dir, { recursive: true, force: true }));

/** [arguments, exit code, what the last stderr line must name]. */
type Case = [string[], 1 | 2, RegExp];
const inData = (args: string[]) => [...args, '--data', DATA];
const noData = (args: string[]): Case => [
  [...args, '--data', NO_DATA],
  2,
  /no data directory .*no-such-data/,
];
const missing = /missing\.file/;
const garbage = /garbage\.bin/;

/** Bad inputs of every command (paths as typed, without the `hub` group prefix). */
const CASES: Record<string, Case[]> = {
  start: [
    [['start', '--subscribers', 'banana'], 2, /--subscribers.*banana/],
    [['start', '--hub', '127.0.0.1:99999'], 2, /--hub/],
    [['start', '--config', MISSING], 2, missing],
    [['start', '--config', GARBAGE], 2, garbage],
  ],
  demo: [
    [['demo', '--hours', 'many'], 2, /--hours/],
    [['demo', '--format', 'xml'], 2, /--format/],
  ],
  collect: [
    [['collect', '--listen', '127.0.0.1:notaport'], 2, /--listen/],
    [['collect', '--interval', 'soon'], 2, /--interval/],
    [['collect', '--config', MISSING], 2, missing],
  ],
  'flows decode': [
    [['flows', 'decode', '--format', 'xml', GARBAGE], 2, /--format/],
    [['flows', 'decode', MISSING], 2, missing],
    [['flows', 'decode', GARBAGE], 2, garbage],
  ],
  'darknet analyze': [
    [['darknet', 'analyze', '--prefix', 'banana', GARBAGE], 2, /--prefix/],
    [['darknet', 'analyze', '--prefix', '192.0.2.0/24', MISSING], 2, missing],
    [['darknet', 'analyze', '--prefix', '192.0.2.0/24', GARBAGE], 2, garbage],
  ],
  'darknet watch': [
    [['darknet', 'watch', '--prefix', 'banana', '-i', 'lo'], 2, /--prefix/],
    [['darknet', 'watch', '--prefix', '192.0.2.0/24', '-i', 'lo', '--interval', 'x'], 2, /--interval/],
    [['darknet', 'watch', '--prefix', '192.0.2.0/24', '-i', 'lo', '--config', MISSING], 2, missing],
  ],
  'survey run': [
    [['survey', 'run', '--plan', GARBAGE, '--target', 'banana'], 2, /--target/],
    [['survey', 'run', '--plan', MISSING], 2, missing],
    [['survey', 'run', '--plan', GARBAGE], 2, /survey plan/],
  ],
  'survey report': [
    [['survey', 'report', '--isp', 'x', '-f', GARBAGE, '-r', GARBAGE, '--format', 'xml'], 2, /--format/],
    [['survey', 'report', '--isp', 'x', '-f', GARBAGE, '-r', MISSING], 2, missing],
    [['survey', 'report', '--isp', 'x', '-f', GARBAGE, '-r', GARBAGE], 2, garbage],
  ],
  'survey track': [
    [['survey', 'track', '-f', GARBAGE, '-f', GARBAGE, '--format', 'xml'], 2, /--format/],
    [['survey', 'track', '-f', MISSING, '-f', MISSING], 2, missing],
    [['survey', 'track', '-f', GARBAGE, '-f', GARBAGE], 2, garbage],
  ],
  'notify letters': [
    [['notify', 'letters', '--lang', 'xx', '-f', GARBAGE, '-r', GARBAGE], 2, /--lang/],
    [['notify', 'letters', '--lang', 'ja', '-f', GARBAGE, '-r', MISSING], 2, missing],
    [['notify', 'letters', '--lang', 'ja', '-f', GARBAGE, '-r', GARBAGE], 2, garbage],
  ],
  'hygiene check': [
    [['hygiene', 'check'], 2, /give domains or --file/],
    [['hygiene', 'check', 'not a domain'], 2, /"not a domain" is not a domain name/],
    [['hygiene', 'check', 'example.jp', '--resolver', '127.0.0.1'], 2, /--resolver/],
    [['hygiene', 'check', '--file', MISSING], 2, missing],
    [['hygiene', 'check', '--file', GARBAGE, '--resolver', '127.0.0.1:9'], 2, garbage],
    [['hygiene', 'check', 'example.jp', '--trust-anchor', GARBAGE], 2, garbage],
    [['hygiene', 'check', 'example.jp', '--concurrency', '0'], 2, /--concurrency/],
    [['hygiene', 'check', 'example.jp', '--data', MISSING], 2, /--data needs --record/],
    [
      ['hygiene', 'check', '--file', GARBAGE, '--org', 'X'],
      2,
      /--org and --sector name the DOMAIN arguments/,
    ],
  ],
  'web score': [
    [['web', 'score', MISSING], 2, missing],
    [['web', 'score', GARBAGE], 2, garbage],
    [['web', 'score', '--lang', 'fr', GARBAGE], 2, /--lang must be ja or en/],
    [['web', 'score', '--format', 'xml', GARBAGE], 2, /--format must be one of/],
  ],
  'web ingest': [
    [['web', 'ingest', MISSING, '--source', 'x', '--data', DATA], 2, missing],
    [['web', 'ingest', GARBAGE, '--source', 'x', '--data', DATA], 2, garbage],
    [['web', 'ingest', GARBAGE, '--source', 'x', '--data', NO_DATA], 2, /no data directory/],
    [['web', 'ingest', GARBAGE, '--source', 'a b', '--data', DATA], 2, /--source/],
    [['web', 'ingest', GARBAGE, '--source', 'x', '--format', 'xml', '--data', DATA], 2, /--format/],
    [['web', 'ingest', GARBAGE, '--source', 'x', '--tlp', 'red', '--record', '--data', DATA], 2, /--tlp/],
    [['web', 'ingest', GARBAGE, '--data', DATA], 2, /--source/],
  ],
  'web export': [
    [['web', 'export', '--format', 'bind', '--data', DATA], 2, /--format/],
    [['web', 'export', '--format', 'rpz', '--tier', 'everyone', '--data', DATA], 2, /--tier/],
    [['web', 'export', '--format', 'rpz', '--data', NO_DATA], 2, /no data directory/],
  ],
  'web campaigns': [
    [['web', 'campaigns', '--infra', MISSING, '--data', DATA], 2, missing],
    [['web', 'campaigns', '--infra', GARBAGE, '--data', DATA], 2, /infrastructure/],
    [['web', 'campaigns', '--data', NO_DATA], 2, /no data directory/],
  ],
  'web check': [
    [['web', 'check', GARBAGE], 2, garbage],
    [
      ['web', 'check', 'http://127.0.0.1:9/', '--browser', '--chromium', MISSING],
      2,
      /--chromium: no Chromium at .*missing\.file/,
    ],
    [['web', 'check', 'http://127.0.0.1:9/', '--config', GARBAGE], 2, garbage],
  ],
  'web certstream': [
    [['web', 'certstream', '--url', 'nope'], 2, /--url/],
    [['web', 'certstream', '--url', 'ws://127.0.0.1:9/', '--min-verdict', 'worst'], 2, /--min-verdict/],
    [['web', 'certstream', '--url', 'ws://127.0.0.1:9/', '--every', '0'], 2, /--every/],
  ],
  'web takedown draft': [
    [['web', 'takedown', 'draft', 'x.top', '--rdap', MISSING, '--data', DATA], 2, missing],
    [['web', 'takedown', 'draft', 'x.top', '--rdap', GARBAGE, '--data', DATA], 2, /RDAP/],
  ],
  'web takedown status': [
    [['web', 'takedown', 'status', 'x.top', '--set', 'gone', '--data', DATA], 2, /--set/],
    [['web', 'takedown', 'status', 'x.top', '--data', NO_DATA], 2, /no data directory/],
  ],
  'hygiene rpki': [
    [['hygiene', 'rpki', '--vrps', MISSING, '--routes', GARBAGE], 2, missing],
    [['hygiene', 'rpki', '--vrps', GARBAGE, '--routes', GARBAGE], 2, garbage],
    [['hygiene', 'rpki', '--routes', GARBAGE], 2, /--vrps/],
  ],
  'osint extract': [
    [['osint', 'extract', MISSING], 2, /cannot read .*missing\.file: no such file$/],
    [['osint', 'extract', BINARY], 2, /binary\.dat: not a text, HTML or PDF document/],
    [['osint', 'extract', dir], 2, /a directory, not a file/],
    [['osint', 'extract', GARBAGE, '--format', 'xml'], 2, /--format/],
  ],
  'osint fetch': [
    [inData(['osint', 'fetch', '--config', MISSING]), 2, missing],
    [inData(['osint', 'fetch', '--config', GARBAGE]), 2, garbage],
    // The reason in words, not the system call's (EISDIR: illegal operation on a directory, read).
    [inData(['osint', 'fetch', '--config', dir]), 2, /cannot read config file .*: a directory, not a file$/],
    [inData(['osint', 'fetch']), 2, /no feeds configured/],
    noData(['osint', 'fetch']),
  ],
  'report daily': [
    [['report', 'daily', '--lang', 'fr', '--out', join(dir, 'r.html')], 2, /--lang/],
    [['report', 'daily', '--top', 'many', '--out', join(dir, 'r.html')], 2, /--top/],
    [
      ['report', 'daily', '--summarise', 'not a url', '--model', 'm', '--out', join(dir, 'r.html')],
      2,
      /--summarise/,
    ],
    noData(['report', 'daily', '--out', join(dir, 'r.html')]),
    [
      ['report', 'daily', '--out', join(dir, 'r.html'), '--pdf', join(dir, 'r.pdf'), '--chromium', MISSING],
      2,
      /--chromium: no Chromium at .*missing\.file/,
    ],
  ],
  'report weekly': [
    [
      ['report', 'weekly', '--date', '2026-02-30x', '--out', join(dir, 'r.html'), '--data', DATA],
      2,
      /--date/,
    ],
    noData(['report', 'weekly', '--out', join(dir, 'r.html')]),
    // -d as on every other command that takes a data directory.
    [
      ['report', 'weekly', '--out', join(dir, 'r.html'), '-d', NO_DATA],
      2,
      /no data directory .*no-such-data/,
    ],
  ],
  'report runbook': [
    [['report', 'runbook', '--out', join(dir, 'r.html'), '--config', MISSING], 2, missing],
    [['report', 'runbook', '--out', join(dir, 'r.html'), '--config', GARBAGE], 2, garbage],
    [['report', 'runbook', '--out', join(dir, 'r.html'), '--hub', '127.0.0.1:99999'], 2, /--hub/],
  ],
  detect: [
    [['detect', '--subscribers', '300.0.0.0/8', '--bots', BOTS, '--flows', GARBAGE], 2, /--subscribers/],
    [['detect', '--bots', BOTS, '--flows', MISSING], 2, missing],
    [['detect', '--bots', BOTS, '--flows', GARBAGE], 2, garbage],
    [['detect', '--bots', GARBAGE, '--flows', GARBAGE], 2, garbage],
    [['detect', '--bots', MISSING, '--flows', GARBAGE], 2, missing],
  ],
  'scenario generate': [
    [['scenario', 'generate', '-o', join(dir, 'x.pcap'), '--hours', 'many'], 2, /--hours/],
    [['scenario', 'generate', '-o', join(dir, 'no-such-dir', 'x.pcap'), '--hours', '0.01'], 2, /no-such-dir/],
  ],
  'scenario send': [
    [['scenario', 'send', '--to', '127.0.0.1:99999'], 2, /--to/],
    [['scenario', 'send', '--to', '127.0.0.1:9', '--rate', 'fast'], 2, /--rate/],
  ],
  serve: [
    [['serve', '--listen', '127.0.0.1:99999'], 2, /--listen/],
    [['serve', '--config', MISSING, '--data', DATA], 2, missing],
    noData(['serve']),
  ],
  'sensor invite': [
    [inData(['sensor', 'invite']), 2, /--org/],
    [inData(['sensor', 'invite', '--org', 'mic', '--ttl', '5y']), 2, /--ttl/],
  ],
  'sensor serve': [
    [['sensor', 'serve', '--listen', '127.0.0.1:99999'], 2, /--listen/],
    [inData(['sensor', 'serve', '--listen', '127.0.0.1:0', '--bundle-digest', 'abc']), 2, /--bundle-digest/],
    [inData(['sensor', 'serve', '--listen', '127.0.0.1:0', '--bundle-digests-file', MISSING]), 2, missing],
    [inData(['sensor', 'serve', '--listen', '127.0.0.1:0', '--bundle-digests-file', GARBAGE]), 2, garbage],
  ],
  'sensor list': [noData(['sensor', 'list'])],
  'sensor revoke': [
    [inData(['sensor', 'revoke', 'nobody']), 2, /nobody/],
    noData(['sensor', 'revoke', 'abcdef12']),
  ],
  'sensor ioc add': [
    [inData(['sensor', 'ioc', 'add', '--sha256', 'abc']), 2, /--sha256/],
    noData(['sensor', 'ioc', 'add', '--sha256', 'a'.repeat(64)]),
  ],
  'org add': [
    [inData(['org', 'add', 'X', '--role', 'banana']), 2, /--role/],
    [inData(['org', 'add', 'X', '--role', 'isp', '--prefix', 'banana']), 2, /--prefix/],
  ],
  'org consent': [[inData(['org', 'consent', 'Nobody']), 2, /Nobody/], noData(['org', 'consent', 'ISP'])],
  'org list': [noData(['org', 'list'])],
  'token create': [
    [inData(['token', 'create', '--org', 'Nobody']), 2, /Nobody/],
    [inData(['token', 'create', '--org', 'ISP', '--scope', 'banana']), 2, /banana/],
    noData(['token', 'create', '--org', 'ISP']),
  ],
  'token revoke': [
    [inData(['token', 'revoke', 'no-such-id']), 2, /no-such-id/],
    noData(['token', 'revoke', 'x']),
  ],
  'import-findings': [
    [inData(['import-findings', MISSING, '--source', 's']), 2, missing],
    [inData(['import-findings', GARBAGE, '--source', 's']), 2, garbage],
    noData(['import-findings', GARBAGE, '--source', 's']),
  ],
  import: [
    [inData(['import', GARBAGE, '--org', 'ISP', '--format', 'xml']), 2, /--format/],
    [inData(['import', MISSING, '--org', 'ISP']), 2, missing],
    [inData(['import', GARBAGE, '--org', 'ISP']), 2, garbage],
    noData(['import', GARBAGE, '--org', 'ISP']),
  ],
  export: [
    [inData(['export', 'banana']), 2, /banana/],
    [inData(['export', 'c2', '--format', 'xml']), 2, /--format/],
    [inData(['export', 'c2', '--tier', 'banana']), 2, /--tier/],
    noData(['export', 'c2']),
  ],
  'audit verify': [
    [['audit', 'verify', '--file', MISSING], 2, missing],
    [['audit', 'verify', '--file', GARBAGE], 2, garbage],
    noData(['audit', 'verify']),
  ],
  'audit export': [noData(['audit', 'export'])],
  'audit checkpoints export': [
    [inData(['audit', 'checkpoints', 'export', '--wat']), 2, /--wat/],
    noData(['audit', 'checkpoints', 'export']),
  ],
  'review list': [
    [inData(['review', 'list', '--status', 'banana']), 2, /--status/],
    noData(['review', 'list']),
  ],
  'review approve': [
    [inData(['review', 'approve', 'x', '--wat']), 2, /--wat/],
    noData(['review', 'approve', 'x']),
  ],
  'review refuse': [
    [inData(['review', 'refuse', 'x', '--wat']), 2, /--wat/],
    noData(['review', 'refuse', 'x']),
  ],
  'review edit': [
    [inData(['review', 'edit', 'x', '--wat']), 2, /--wat/],
    [inData(['review', 'edit', 'x']), 2, /--family or --note/],
    noData(['review', 'edit', 'x', '--note', 'n']),
  ],
};

/** Every command that runs (has no subcommands), as typed without `tsunagi` and `hub`. */
function leafCommands(): string[] {
  const program = buildProgram(capture().ctx);
  const names = allCommands(program)
    .filter((c) => c !== program && c.commands.length === 0)
    .map((c) => commandPath(c).replace(/^tsunagi (hub )?/, ''));
  return [...new Set(names)];
}

function assertOneCleanError(result: { stderr: string }, names: RegExp) {
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  const last = result.stderr.trimEnd().split('\n').at(-1) ?? '';
  assert.match(last, /^tsunagi: /);
  assert.match(last, names);
}

describe('CLI contract', () => {
  before(async () => {
    writeFileSync(GARBAGE, 'definitely, not what anyone expects\n');
    writeFileSync(BINARY, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    writeFileSync(BOTS, '198.51.100.1\n');
    mkdirSync(DATA);
    assert.equal((await run(inData(['org', 'add', 'ISP', '--role', 'isp']))).code, 0);
  });

  test('the table names every command', () => {
    const unlisted = leafCommands().filter((name) => !(name in CASES));
    assert.deepEqual(unlisted, [], 'add bad inputs of these commands to CASES');
  });

  for (const name of leafCommands()) {
    test(`${name}: an unknown option is named, in one line, before anything else`, async () => {
      const result = await run([...name.split(' '), '--no-such-option']);
      assert.equal(result.code, 2);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
      assertOneCleanError(result, /unknown option '--no-such-option'.*--help/);
    });
  }

  for (const [name, cases] of Object.entries(CASES)) {
    test(`${name}: bad values, missing and garbage files, a missing data directory`, async () => {
      for (const [args, code, names] of cases) {
        const result = await run(args);
        assert.equal(result.code, code, `${args.join(' ')}\n${result.stderr}`);
        assertOneCleanError(result, names);
        // A refused file leaves stdout empty: no CSV header or half a report piped on as if whole.
        if (args.some((a) => a === MISSING || a === GARBAGE || a === BINARY))
          assert.equal(result.stdout, '', `${args.join(' ')} wrote to stdout before refusing`);
      }
    });
  }

  test('the README names every command', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const unnamed = leafCommands().filter((name) => !readme.includes(name));
    assert.deepEqual(unnamed, [], 'add these commands to the README table');
  });

  test('the same command under `hub` behaves the same', async () => {
    const result = await run(['hub', 'export', 'c2', '--data', NO_DATA]);
    assert.equal(result.code, 2);
    assertOneCleanError(result, /no data directory/);
  });

  test('a runtime failure (a port taken) exits 1 with one line naming the component and address', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const result = await run(['serve', '--data', DATA, '--listen', `127.0.0.1:${port}`]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `tsunagi: hub: cannot listen on 127.0.0.1:${port}: address already in use\n`,
      );
    } finally {
      taken.close();
    }
  });

  test('a group without its subcommand names them in one line', async () => {
    const result = await run(['audit']);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'tsunagi: give a subcommand: verify, checkpoints, export (tsunagi audit --help)\n',
    );
  });

  test('--verbose adds the stack; help and version exit 0', async () => {
    const verbose = await run(['export', 'c2', '--format', 'xml', '--data', DATA, '--verbose']);
    assert.equal(verbose.code, 2);
    assert.match(verbose.stderr, /^tsunagi: --format must be/);
    assert.match(verbose.stderr, /^\s+at /m);
    assert.equal((await run(['--version'])).code, 0);
    assert.equal((await run(['detect', '--help'])).code, 0);
  });

  test('a missing data directory is not created by the command that refused it', async () => {
    for (const args of [['audit', 'verify'], ['export', 'c2'], ['org', 'list'], ['serve']])
      assert.equal((await run([...args, '--data', NO_DATA])).code, 2);
    assert.equal(existsSync(NO_DATA), false);
  });
});
