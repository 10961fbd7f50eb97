/**
 * `tsunagi report daily|weekly|runbook` end to end on a data directory's store: a public report
 * holds only public notice, bad flags exit 2 with one line, and the runbook follows the
 * configuration it is generated from.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/index.ts';
import { withIntel } from '../../intel/testing.ts';
import { SEEDED, PUBLIC_ITEMS, RESTRICTED_ITEMS } from '../../report/testing.ts';
import { runCli as run } from '../test-cli.ts';
import { buildRunbook } from '../../report/index.ts';
import { runbookInputOf } from '../runbook-input.ts';
import { StackConfig } from '../stack.ts';
import { openHubStack, ServeConfig } from '../hub-stack.ts';
import { ROOM_MIGRATIONS } from '../store-migrations.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-report-cli-'));
const data = join(dir, 'data');
let day = '';
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  assert.equal(
    (await run(['org', 'add', 'ISP A', '--role', 'isp', '--prefix', '192.0.2.0/24', '--data', data])).code,
    0,
  );
  day = await withIntel(
    async (intel) => {
      const [first] = await intel.recordSightings(SEEDED, 'test');
      return (await intel.byIds([first!.indicatorId])).get(first!.indicatorId)!.createdAt.slice(0, 10);
    },
    { store: { dataDir: data }, migrations: ROOM_MIGRATIONS },
  );
});

describe('tsunagi report daily|weekly', () => {
  test('a public report from the store holds public notice only, written readable by all', async () => {
    const out = join(dir, 'public.html');
    const r = await run([
      'report',
      'daily',
      '--lang',
      'en',
      '--tier',
      'public',
      '--date',
      day,
      '--out',
      out,
      '--data',
      data,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /daily threat report .*\(public, TLP:CLEAR\): \d+ figures in /);
    const page = readFileSync(out, 'utf8');
    assert.ok(page.includes(PUBLIC_ITEMS.c2));
    for (const value of Object.values(RESTRICTED_ITEMS)) assert.ok(!page.includes(value), value);
    assert.equal(statSync(out).mode & 0o777, 0o644);
  });

  test('a full weekly report in Japanese names the ISP and is readable by its owner alone', async () => {
    const out = join(dir, 'full.html');
    const r = await run(['report', 'weekly', '--lang', 'ja', '--date', day, '--out', out, '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    const page = readFileSync(out, 'utf8');
    assert.ok(page.includes('週次脅威レポート'));
    assert.ok(page.includes('ISP A'));
    assert.ok(page.includes(RESTRICTED_ITEMS.redC2));
    assert.equal(statSync(out).mode & 0o777, 0o600);
    // A report of restricted data is a read of it: the audit log records who made it, for which tier.
    const audit = await run(['audit', 'export', '--data', data]);
    assert.equal(audit.code, 0, audit.stderr);
    const reports = audit.stdout.split('\n').filter((line) => line.includes('"cli.report"'));
    assert.ok(
      reports.length > 0 && reports.every((line) => line.includes('"actor":"cli:operator"')),
      audit.stdout,
    );
    assert.ok(
      reports.some((line) => line.includes('\\"tier\\":\\"full\\"') && line.includes('report:weekly')),
      audit.stdout,
    );
    assert.ok(
      !reports.some((line) => line.includes('\\"tier\\":\\"public\\"')),
      'a public report is no restricted read',
    );
  });

  test('a summariser nobody answers: the report is written and stderr says why the summaries are missing', async () => {
    // A port that was just free: nothing listens on it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const out = join(dir, 'summarised.html');
    const r = await run([
      'report',
      'daily',
      '--lang',
      'en',
      '--date',
      day,
      '--summarise',
      `http://127.0.0.1:${port}`,
      '--model',
      'm',
      '--out',
      out,
      '--data',
      data,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /; AI summaries 0 written, \d+ omitted \(the request failed \(connection refused\)\)\n$/,
    );
    assert.ok(readFileSync(out, 'utf8').includes('id="appendix"'));
  });

  test('bad flags: exit 2 and one line naming the flag', async () => {
    const out = join(dir, 'x.html');
    const cases: [string[], RegExp][] = [
      [['report', 'daily', '--lang', 'fr', '--out', out, '--data', data], /--lang must be ja or en/],
      [['report', 'daily', '--tier', 'secret', '--out', out, '--data', data], /--tier/],
      [['report', 'daily', '--date', '2026-13-45', '--out', out, '--data', data], /--date/],
      [
        ['report', 'weekly', '--summarise', 'http://127.0.0.1:9', '--out', out, '--data', data],
        /--summarise needs --model/,
      ],
      [['report', 'daily', '--top', 'many', '--out', out, '--data', data], /--top/],
      [['report', 'daily', '--out', out, '--data', join(dir, 'nothing')], /no data directory/],
      [
        ['report', 'daily', '--out', dir, '--data', data],
        /^tsunagi: option '-o, --out <file>' argument .* is invalid\. .* is a directory; name the file to write\./m,
      ],
      [
        ['report', 'daily', '--out', out, '--pdf', dir, '--data', data],
        /^tsunagi: option '--pdf <file>' argument .* is a directory/m,
      ],
      [
        ['report', 'runbook', '--out', dir],
        /^tsunagi: option '-o, --out <file>' argument .* is a directory/m,
      ],
      [['report', 'daily', '--out', out, '--pdf', '-', '--data', data], /^tsunagi: --pdf: name the file/m],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});

describe('tsunagi report runbook', () => {
  test('--out - writes the HTML on stdout (a report too), never a file named -', () => {
    const bin = fileURLToPath(new URL('../../../bin/tsunagi', import.meta.url));
    const cwd = mkdtempSync(join(tmpdir(), 'tsunagi-out-'));
    try {
      const runbook = spawnSync(bin, ['report', 'runbook', '--lang', 'en', '--out', '-'], {
        cwd,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, TSUNAGI_DATA: '' },
      });
      assert.equal(runbook.status, 0, runbook.stderr);
      assert.match(runbook.stdout, /^<!doctype html>/i);
      assert.match(runbook.stderr, /^tsunagi: runbook of \d+ procedures on stdout\n$/);
      const daily = spawnSync(bin, ['report', 'daily', '--out', '-', '--tier', 'public', '--data', data], {
        cwd,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(daily.status, 0, daily.stderr);
      assert.match(daily.stdout, /^<!doctype html>/i);
      assert.match(daily.stderr, / figures on stdout\n$/);
      assert.deepEqual(readdirSync(cwd), []);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test('the runbook follows the configuration: ports, hub, darknet interface, bot list, data directory', async () => {
    const first = join(dir, 'first.yaml');
    const second = join(dir, 'second.yaml');
    writeFileSync(
      first,
      `data: ${join(dir, 'a')}\nflow:\n  listen: ['0.0.0.0:2055']\nhub:\n  listen: 127.0.0.1:8470\n`,
    );
    writeFileSync(
      second,
      [
        `data: ${join(dir, 'b')}`,
        "flow:\n  listen: ['0.0.0.0:9995', '0.0.0.0:4739']",
        'hub:\n  listen: 10.0.0.5:9000',
        "darknet:\n  interface: eth7\n  prefixes: ['203.0.113.0/24']",
        'detect:\n  botsFile: bots-of-isp-b.csv',
        'osint:\n  intervalMs: 1800000\n  feeds:\n    - name: jpcert\n      url: https://www.jpcert.or.jp/rss/jpcert.rdf',
        '',
      ].join('\n'),
    );
    const runbook = async (config: string, lang: string) => {
      const out = join(dir, `runbook-${lang}.html`);
      const r = await run(['report', 'runbook', '--lang', lang, '--config', config, '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      return readFileSync(out, 'utf8');
    };
    const a = await runbook(first, 'en');
    assert.ok(a.includes('udp port 2055'));
    assert.ok(a.includes('http://127.0.0.1:8470/council/collections/'));
    assert.ok(a.includes(join(dir, 'a')));
    assert.ok(a.includes('darknet.interface is not configured'));
    assert.ok(!a.includes('eth7'));
    assert.ok(a.includes('osint.feeds is not configured'));

    const b = await runbook(second, 'en');
    assert.ok(b.includes('udp port 9995 or udp port 4739'));
    assert.ok(!b.includes('udp port 2055'));
    assert.ok(b.includes('http://10.0.0.5:9000/council/collections/'));
    assert.ok(b.includes('tcpdump -i eth7'));
    assert.ok(b.includes('--prefix 203.0.113.0/24'));
    assert.ok(b.includes('--bots bots-of-isp-b.csv'));
    assert.ok(b.includes(join(dir, 'b')));
    // The OSINT intake start runs: its feeds, interval and the command that reads them by hand.
    assert.ok(b.includes('Published threat information (OSINT): jpcert'));
    assert.ok(b.includes('The round every 30 min stopped'));
    assert.ok(b.includes(`osint fetch --config ${second}`));
    assert.ok(b.includes('https://www.jpcert.or.jp/rss/jpcert.rdf'));

    // The configuration table names the feeds and the interval the procedure is written from.
    assert.match(b, /<th><code>osint\.feeds<\/code><\/th><td><code>jpcert<\/code><\/td>/);
    assert.match(b, /<th><code>osint\.intervalMs<\/code><\/th><td><code>1800000<\/code><\/td>/);

    // Feeds that start does not read (intervalMs 0): the by-hand round is the only one, and the
    // runbook says so instead of calling the feeds unconfigured.
    const third = join(dir, 'third.yaml');
    writeFileSync(
      third,
      `data: ${join(dir, 'c')}\nosint:\n  intervalMs: 0\n  feeds:\n    - name: jpcert\n      url: https://www.jpcert.or.jp/rss/jpcert.rdf\n`,
    );
    const c = await runbook(third, 'en');
    assert.ok(!c.includes('is not configured: there is no automated OSINT step'));
    assert.ok(c.includes('Published threat information (OSINT): jpcert'));
    assert.ok(c.includes('osint.intervalMs is 0: tsunagi start does not read these feeds'));
    assert.ok(c.includes(`osint fetch --config ${third}`));
    assert.match(c, /<th><code>osint\.intervalMs<\/code><\/th><td><code>\(off\)<\/code><\/td>/);
    assert.ok((await runbook(third, 'ja')).includes('osint.intervalMs が 0 のため'));

    const ja = await runbook(second, 'ja');
    assert.ok(ja.includes('手作業'));
    assert.ok(ja.includes('tcpdump -i eth7'));
    assert.ok(ja.includes('公開情報（OSINT）: jpcert'));
    // The configuration table speaks the page's language: no "(none)" or "(off)" on a Japanese page.
    assert.ok(ja.includes('設定ファイル'));
    assert.ok(ja.includes('（なし）') && ja.includes('（無効）'));
    assert.ok(!/\((none|off)\b|config file/.test(ja), 'English in the Japanese configuration table');
    assert.ok(a.includes('(none)') && a.includes('(off)'));
  });

  test('the console serves the runbook of the configuration the process runs with', async () => {
    const config = StackConfig.parse({
      data,
      flow: { listen: ['0.0.0.0:9996'] },
      hub: { listen: '127.0.0.1:0' },
    });
    const parts = await openHubStack(
      ServeConfig.parse({ data, hub: { listen: '127.0.0.1:0', publishIntervalMs: 0 } }),
      {
        env: {},
        logger: silentLogger(),
        registry: new Registry(),
        runbook: (lang) => buildRunbook(runbookInputOf(config, {}), lang),
      },
    );
    try {
      for (const c of [parts.intel, parts.hub, parts.console]) await c.start();
      await parts.hub.orgs.add({ name: 'Runbook Centre', role: 'analysis' }, 'test');
      const { token } = await parts.hub.orgs.createToken('Runbook Centre', { scopes: ['read'] }, 'test');
      const response = await fetch(`${parts.hub.url()}/console/api/runbook?lang=en`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as {
        available: boolean;
        procedures: { steps: { command?: string }[] }[];
      };
      assert.ok(body.available);
      const commands = body.procedures.flatMap((p) => p.steps.map((s) => s.command ?? ''));
      assert.ok(
        commands.some((c) => c.includes('udp port 9996')),
        commands.join('\n'),
      );
    } finally {
      for (const c of [parts.console, parts.hub, parts.intel]) await c.stop();
      await parts.store.close();
    }
  });
});

describe('the runbook of a started stack', () => {
  test('tsunagi start --config F: the runbook the console shows names F and reads the feeds with it', async () => {
    const file = join(dir, 'start.yaml');
    writeFileSync(
      file,
      [
        `data: ${join(dir, 'started')}`,
        "flow:\n  listen: ['127.0.0.1:0']",
        'hub:\n  listen: 127.0.0.1:0',
        "metrics:\n  listen: ''",
        // intervalMs 0: start reads no feed, so nothing leaves this machine.
        'osint:\n  intervalMs: 0\n  feeds:\n    - name: jpcert\n      url: https://www.jpcert.or.jp/rss/jpcert.rdf',
        '',
      ].join('\n'),
    );
    const bin = fileURLToPath(new URL('../../../bin/tsunagi', import.meta.url));
    const child = spawn(bin, ['start', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const ready = new Promise<{ url: string; token: string }>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const url = /console +(http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr)?.[1];
        const token = /^ +(tsg_\S+)$/m.exec(stderr)?.[1];
        if (url && token && /more tokens:/.test(stderr)) resolve({ url, token });
      });
      void exited.then(() => reject(new Error(stderr)));
    });
    try {
      const { url, token } = await ready;
      const response = await fetch(`${url}/console/api/runbook?lang=en`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as {
        configuration: { name: string; value: string }[];
        procedures: { id: string; steps: { command?: string }[] }[];
      };
      assert.equal(body.configuration.find((c) => c.name === 'configuration file')?.value, file);
      const osint = body.procedures.find((p) => p.id === 'intake-osint')!;
      assert.ok(
        osint.steps.some((step) => step.command?.includes(`osint fetch --config ${file}`)),
        JSON.stringify(osint),
      );
    } finally {
      child.kill('SIGINT');
      await exited;
    }
  });
});
