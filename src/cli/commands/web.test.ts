/**
 * `tsunagi web score` and `tsunagi web ingest` end to end through the CLI: CSV out, every list
 * format in, first-seen kept in a real SQLite store, bad input counted, unreadable input exit 2,
 * and `--record` putting the malicious verdicts into intel as url and domain indicators.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/index.ts';
import { createIntel, IntelConfig } from '../../intel/index.ts';
import { openStore } from '../../store/index.ts';
import { createWeb, WebConfig, type WebTables } from '../../web/index.ts';
import { runCli as run } from '../test-cli.ts';
import { ROOM_MIGRATIONS } from '../store-migrations.ts';

const BIN = fileURLToPath(new URL('../../../bin/tsunagi', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tsunagi-web-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const reference = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry() });
/** A host the shipped model calls malicious (an IP host: its fitted weight alone clears the threshold). */
const MALICIOUS = 'http://47.238.159.31/login/';

test('score: one CSV row per URL, reasons included; bad lines counted on stderr', async () => {
  const list = join(dir, 'urls.txt');
  writeFileSync(
    list,
    `# a feed\nhttps://www.amazon.co.jp/\n${MALICIOUS}\nnot a url ::\nhttps://mercari-jp.duckdns.org/login\n`,
  );
  const result = await run(['web', 'score', list]);
  assert.equal(result.code, 0, result.stderr);
  const [header, ...rows] = result.stdout.trim().split('\n');
  assert.equal(header, 'url,host,score,verdict,brand,reasons');
  assert.equal(rows.length, 3);
  assert.match(
    rows[0]!,
    /^https:\/\/www\.amazon\.co\.jp\/,www\.amazon\.co\.jp,0\.0000,benign,amazon,official_domain=0$/,
  );
  const ip = rows[1]!.split(',');
  assert.deepEqual(ip.slice(0, 2), [MALICIOUS, '47.238.159.31']);
  assert.equal(ip[3], reference.score(MALICIOUS).verdict);
  // Among the reasons, wherever the refit ranks it (the path's words may weigh more).
  assert.match(ip.slice(5).join(','), /(^|;|")ip_host=/);
  const mercari = rows[2]!.split(',');
  assert.equal(mercari[4], 'mercari');
  // The reasons column is quoted when a reason key holds a comma (brand_place(label~:exact,tld++)).
  assert.match(mercari.slice(5).join(','), /brand_exact\(mercari@domain\)=/);
  assert.equal(
    result.stderr.trim(),
    `tsunagi: 1 entry of ${list} skipped: not an http(s) URL, or a row without its URL or date`,
  );
  // --lang: the same rows, the reasons in words with their contributions.
  for (const [lang, words] of [
    ['ja', /登録ドメイン名にブランド名「mercari」 \(\+[\d.]+\)/],
    ['en', /the brand name ""mercari"" in the registered domain name \(\+[\d.]+\)/],
  ] as const) {
    const worded = await run(['web', 'score', '--lang', lang, list]);
    assert.equal(worded.code, 0, worded.stderr);
    const lines = worded.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[3]!, words);
    assert.doesNotMatch(lines[3]!, /brand_exact|=/);
  }
});

test("score: JPCERT/CC's monthly CSV as published, and JSON, read as ingest reads them", async () => {
  const csv = join(dir, '202510.csv');
  writeFileSync(
    csv,
    'date,URL,description\n' +
      `2025/10/01 10:25:00,${MALICIOUS},三井住友カード\n` +
      '2025/10/01 10:26:00,https://mercari-jp.duckdns.org/login,メルカリ\n' +
      '2025/10/01 10:27:00,not a url,x\n',
  );
  const result = await run(['web', 'score', csv]);
  assert.equal(result.code, 0, result.stderr);
  const rows = result.stdout.trim().split('\n');
  assert.equal(rows[0], 'url,host,score,verdict,brand,reasons');
  assert.deepEqual(
    rows.slice(1).map((r) => r.split(',')[0]),
    [MALICIOUS, 'https://mercari-jp.duckdns.org/login'],
  );
  assert.equal(rows[1]!.split(',')[3], reference.score(MALICIOUS).verdict);
  assert.equal(
    result.stderr.trim(),
    `tsunagi: 1 entry of ${csv} skipped: not an http(s) URL, or a row without its URL or date`,
  );
  const json = join(dir, 'list.json');
  writeFileSync(json, JSON.stringify([MALICIOUS, { url: 'https://mercari-jp.duckdns.org/login' }]));
  const fromJson = await run(['web', 'score', json]);
  assert.equal(fromJson.code, 0, fromJson.stderr);
  assert.equal(fromJson.stdout.trim().split('\n').length, 3);
  const wrong = await run(['web', 'score', '--format', 'xml', json]);
  assert.equal(wrong.code, 2);
});

test('ingest - and score -: the list read from stdin (a pipe), first-seen kept per source', async () => {
  const data = join(dir, 'data-stdin');
  mkdirSync(data);
  const piped = (args: string[], input: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(input);
    });
  const list = `date,URL,description\n2025/07/02 10:00:00,${MALICIOUS},x\n`;
  const ingest = await piped(['web', 'ingest', '-', '--source', 'piped', '--data', data], list);
  assert.equal(ingest.code, 0, ingest.stderr);
  assert.match(ingest.stderr, /1 URL from piped \(1 new to the store, 0 bad entries\)/);
  const score = await piped(['web', 'score', '-'], list);
  assert.equal(score.code, 0, score.stderr);
  assert.equal(score.stdout.trim().split('\n')[1]!.split(',')[0], MALICIOUS);
});

test('score and ingest: unreadable input is exit 2 in one line', async () => {
  const missing = await run(['web', 'score', join(dir, 'nope.txt')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr.trim(), /^tsunagi: cannot read .*nope\.txt: ENOENT/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '\n# only a comment\n');
  const none = await run(['web', 'score', empty]);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, 'url,host,score,verdict,brand,reasons\n');
  assert.equal(none.stderr, `tsunagi: ${empty} holds no URL\n`);
  const junk = join(dir, 'junk.txt');
  writeFileSync(junk, 'ftp://x/\nhttp://\n');
  assert.equal((await run(['web', 'score', junk])).code, 2);
  const data = join(dir, 'data-bad');
  mkdirSync(data);
  const notJson = join(dir, 'bad.json');
  writeFileSync(notJson, '[{"url": ');
  const bad = await run(['web', 'ingest', notJson, '--source', 'x', '--data', data]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr.trim(), /^tsunagi: .*bad\.json: not JSON/);
  const badSource = await run(['web', 'ingest', notJson, '--source', 'a b', '--data', data]);
  assert.equal(badSource.code, 2);
});

test('ingest: JPCERT/CC CSV, NDJSON and JSON kept with first-seen per source; --record into intel', async () => {
  const data = join(dir, 'data');
  mkdirSync(data);
  const csv = join(dir, '202507.csv');
  writeFileSync(
    csv,
    'date,URL,description\n' +
      `2025/07/02 10:00:00,${MALICIOUS},三井住友カード\n` +
      '2025/07/01 09:00:00,https://mercari-jp.duckdns.org/login,メルカリ\n' +
      'bad date,https://x.example/,JCB\n',
  );
  const first = await run([
    'web',
    'ingest',
    csv,
    '--source',
    'jpcert',
    '--data',
    data,
    '--record',
    '--tlp',
    'clear',
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stderr,
    /^tsunagi: 2 URLs from jpcert \(2 new to the store, 1 bad entry\): malicious \d, suspicious \d, benign \d; stored in /,
  );
  assert.match(
    first.stderr,
    /sightings of malicious URLs and hosts recorded in intel as web:jpcert \(\d+ new indicators, TLP:CLEAR\)/,
  );

  const ndjson = join(dir, 'reports.ndjson');
  writeFileSync(ndjson, `{"url":"${MALICIOUS}","seenAt":"2025-06-30T00:00:00Z"}\n{"nope":true}\n`);
  const second = await run(['web', 'ingest', ndjson, '--source', 'user-report', '--data', data]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /^tsunagi: 1 URL from user-report \(0 new to the store, 1 bad entry\)/);
  const json = join(dir, 'list.json');
  writeFileSync(json, JSON.stringify(['https://www.wikipedia.org/']));
  assert.equal((await run(['web', 'ingest', json, '--source', 'top', '--data', data])).code, 0);

  const store = await openStore({ dataDir: data }, { migrations: ROOM_MIGRATIONS });
  try {
    const db = store.db as unknown as Kysely<WebTables>;
    const sightings = await db
      .selectFrom('web_sightings')
      .selectAll()
      .orderBy('source')
      .orderBy('url')
      .execute();
    assert.deepEqual(
      sightings.map((s) => [s.source, s.url, s.first_seen, s.description]),
      [
        ['jpcert', MALICIOUS, '2025-07-02T01:00:00.000Z', '三井住友カード'],
        ['jpcert', 'https://mercari-jp.duckdns.org/login', '2025-07-01T00:00:00.000Z', 'メルカリ'],
        ['top', 'https://www.wikipedia.org/', sightings[2]!.first_seen, null],
        ['user-report', MALICIOUS, '2025-06-30T00:00:00.000Z', null],
      ],
    );
    const url = await db
      .selectFrom('web_urls')
      .selectAll()
      .where('url', '=', MALICIOUS)
      .executeTakeFirstOrThrow();
    assert.equal(url.first_seen, '2025-06-30T00:00:00.000Z');
    assert.equal(url.verdict, reference.score(MALICIOUS).verdict);

    const intel = createIntel(IntelConfig.parse({}), {
      store,
      logger: silentLogger(),
      registry: new Registry(),
    });
    const indicators = (await intel.list({ kinds: ['url', 'domain'] })).items;
    const malicious = [MALICIOUS, 'https://mercari-jp.duckdns.org/login'].filter(
      (u) => reference.score(u).verdict === 'malicious',
    );
    assert.deepEqual(
      indicators
        .filter((i) => i.kind === 'url')
        .map((i) => i.value)
        .sort(),
      malicious.sort(),
      'every malicious URL, and nothing else, is in intel',
    );
    for (const indicator of indicators) {
      assert.equal(indicator.tier, 'public');
      assert.equal(indicator.tlp, 'clear');
    }
  } finally {
    await store.close();
  }
});

test('score --known: a kit path the confirmed list names on two other domains makes a URL malicious, said in words', async () => {
  const known = join(dir, 'known.csv');
  writeFileSync(
    known,
    'date,URL,description\n' +
      '2025/09/01 11:10:00,https://qwhrtd.example.com/xqvjkuos/,JCB\n' +
      '2025/09/02 11:10:00,https://mbnzcv.example.net/xqvjkuos/,JCB\n',
  );
  const candidates = join(dir, 'candidates.csv');
  writeFileSync(
    candidates,
    'date,URL,description\n2025/09/03 10:00:00,https://example-bakery.co.uk/xqvjkuos/,\n' +
      '2025/09/03 10:00:00,https://example-bakery.co.uk/menu,\n',
  );
  const plain = await run(['web', 'score', candidates]);
  assert.equal(plain.stdout.trim().split('\n')[1]!.split(',')[3], 'benign', 'without --known');
  const result = await run(['web', 'score', candidates, '--known', known, '--lang', 'en']);
  assert.equal(result.code, 0, result.stderr);
  const [, kit, menu] = result.stdout.trim().split('\n');
  assert.equal(kit!.split(',')[3], 'malicious');
  assert.match(
    kit!,
    /the path ""\/xqvjkuos\/"" a phishing kit used on other domains confirmed as phishing \(\+[\d.]+\)/,
  );
  assert.equal(menu!.split(',')[3], 'benign');
  assert.equal(result.stderr.trim(), `tsunagi: 2 known URLs from ${known}, 1 kit path to tie others to`);
  // Two months later the listings no longer count.
  writeFileSync(
    candidates,
    'date,URL,description\n2025/11/03 10:00:00,https://example-bakery.co.uk/xqvjkuos/,\n',
  );
  const later = await run(['web', 'score', candidates, '--known', known]);
  assert.equal(later.stdout.trim().split('\n')[1]!.split(',')[3], 'benign');
  const missing = await run(['web', 'score', candidates, '--known', join(dir, 'nope.csv')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^tsunagi: cannot read .*nope\.csv/);
  const stdin = await run(['web', 'score', candidates, '--known', '-']);
  assert.equal(stdin.code, 2);
  assert.match(stdin.stderr, /--known needs a file/);
});
