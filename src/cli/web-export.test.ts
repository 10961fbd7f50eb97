/**
 * `tsunagi web export` end to end: lists ingested and recorded through the CLI into a real SQLite
 * store, exported per tier through the hub's release decision, and the RPZ zone and the Unbound
 * config loaded into Debian's Unbound on 127.0.0.1, which must answer NXDOMAIN for a listed host
 * and the real address for an unlisted one.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { withIntel } from '../intel/testing.ts';
import { release, tierReader } from '../share/index.ts';
import { urlListMatches, type UrlList } from '../web/index.ts';
import {
  MISSING_RESOLVER_TOOLS,
  queryA,
  startUnbound as startLab,
  type LabResolver,
} from '../web/testing.ts';
import { runCli as run } from './test-cli.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-web-export-'));
const data = join(dir, 'data');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A model's verdicts (TLP:GREEN: the council's) and a public source's (TLP:CLEAR: public notice). */
const MODEL_ONLY = [
  'https://amazon-xqzv.top/signin/',
  'https://smbc-card-verify.xyz/login',
  'https://mercari-jp.duckdns.org/login',
  // An IP host with a kit's path: the URL verdict flags it (the benign URL data has IP-hosted
  // pages, so an IP alone is weak evidence there); the host lists never carry an IP.
  'http://47.238.159.31/smbc/login',
];
const PUBLISHED = ['https://amazon-kjhd.top/signin/', 'https://apple-id-verify.top/verify?id=1'];
const BENIGN = ['https://www.amazon.co.jp/', 'https://sites.google.com/view/amazon-login'];

before(async () => {
  mkdirSync(data);
  writeFileSync(join(dir, 'model.txt'), [...MODEL_ONLY, ...BENIGN].join('\n') + '\n');
  writeFileSync(join(dir, 'published.txt'), PUBLISHED.join('\n') + '\n');
  const model = await run([
    'web',
    'ingest',
    join(dir, 'model.txt'),
    '--source',
    'model',
    '--record',
    '-d',
    data,
  ]);
  assert.equal(model.code, 0, model.stderr);
  const pub = await run([
    'web',
    'ingest',
    join(dir, 'published.txt'),
    '--source',
    'jpcert',
    '--record',
    '--tlp',
    'clear',
    '-d',
    data,
  ]);
  assert.equal(pub.code, 0, pub.stderr);
});

const listed = (hostsText: string) =>
  hostsText
    .split('\n')
    .filter((l) => l.startsWith('0.0.0.0 '))
    .map((l) => l.slice(8));

test('hosts: public gets only public notice; council also the model verdicts; never an IP, a platform or an official domain', async () => {
  const pub = await run(['web', 'export', '--format', 'hosts', '--tier', 'public', '-d', data]);
  assert.equal(pub.code, 0, pub.stderr);
  assert.deepEqual(listed(pub.stdout), ['amazon-kjhd.top', 'apple-id-verify.top']);
  // The model's four (TLP:GREEN) hosts, the IP host among them, are counted as left out, so an
  // empty public list is explained.
  assert.match(pub.stderr, /left out: .*not-recorded-or-not-for-this-tier 4\b/);
  const council = await run(['web', 'export', '--format', 'hosts', '--tier', 'council', '-d', data]);
  assert.deepEqual(listed(council.stdout), [
    'amazon-kjhd.top',
    'amazon-xqzv.top',
    'apple-id-verify.top',
    'mercari-jp.duckdns.org',
    'smbc-card-verify.xyz',
  ]);
  assert.match(council.stderr, /5 hosts/);
});

test('every export says in its header the marking it goes out under: the most restrictive of its entries', async () => {
  for (const format of ['hosts', 'unbound', 'rpz'] as const) {
    const comment = format === 'rpz' ? ';' : '#';
    const pub = await run(['web', 'export', '--format', format, '--tier', 'public', '-d', data]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stdout, new RegExp(`^\\${comment} TLP:CLEAR \\(`, 'm'));
    assert.match(pub.stderr, /tier public, TLP:CLEAR:/);
    // The council's file holds the model's TLP:GREEN hosts beside the public ones: all of it is GREEN.
    const council = await run(['web', 'export', '--format', format, '--tier', 'council', '-d', data]);
    assert.match(council.stdout, new RegExp(`^\\${comment} TLP:GREEN \\(`, 'm'));
    assert.doesNotMatch(council.stdout, /TLP:CLEAR/);
    assert.match(council.stderr, /tier council, TLP:GREEN:/);
  }
  const urls = (tier: string) => run(['web', 'export', '--format', 'urls', '--tier', tier, '-d', data]);
  assert.equal((JSON.parse((await urls('public')).stdout) as UrlList).tlp, 'clear');
  assert.equal((JSON.parse((await urls('council')).stdout) as UrlList).tlp, 'green');
});

test('a public export never holds what the release decision keeps from public', async () => {
  await withIntel(
    async (intel) => {
      const { items } = await intel.list({ kinds: ['domain', 'url'], limit: 1000 });
      const denied = items.filter(
        (i) => release({ type: 'indicator', indicator: i }, tierReader('public')).outcome === 'deny',
      );
      assert.ok(denied.length >= 4, 'the model-only verdicts are TLP:GREEN, not public');
      const exports = await Promise.all(
        (['hosts', 'unbound', 'rpz', 'urls'] as const).map((f) =>
          run(['web', 'export', '--format', f, '--tier', 'public', '-d', data]),
        ),
      );
      for (const e of exports) {
        assert.equal(e.code, 0, e.stderr);
        for (const d of denied) assert.ok(!e.stdout.includes(d.value), `${d.value} leaked to public`);
      }
    },
    { store: { dataDir: data }, migrations: ROOM_MIGRATIONS },
  );
});

test('urls: hash prefixes a Safe Browsing-style client matches, plain JSON beside them', async () => {
  const out = join(dir, 'urls.json');
  const council = await run([
    'web',
    'export',
    '--format',
    'urls',
    '--tier',
    'council',
    '--out',
    out,
    '-d',
    data,
  ]);
  assert.equal(council.code, 0, council.stderr);
  const list = JSON.parse(readFileSync(out, 'utf8')) as UrlList;
  assert.equal(list.tier, 'council');
  assert.ok(list.urls.some((u) => u.url === 'http://47.238.159.31/smbc/login'));
  assert.ok(list.hashPrefixes.every((p) => /^[0-9a-f]{8}$/.test(p)));
  assert.ok(urlListMatches(list, 'https://apple-id-verify.top/verify?id=1'));
  assert.ok(urlListMatches(list, 'http://47.238.159.31/smbc/login#x'));
  assert.ok(!urlListMatches(list, 'https://apple-id-verify.top/other'));
  assert.ok(!urlListMatches(list, 'https://www.amazon.co.jp/'));
  const pub = JSON.parse(
    (await run(['web', 'export', '--format', 'urls', '--tier', 'public', '-d', data])).stdout,
  ) as UrlList;
  assert.deepEqual(
    pub.urls.map((u) => u.tlp),
    ['clear', 'clear'],
  );
});

test('rpz: the serial grows with every export', async () => {
  const serialOf = (zone: string) => Number(/ SOA \S+ \S+ (\d+) /.exec(zone)![1]);
  const first = await run(['web', 'export', '--format', 'rpz', '--tier', 'council', '-d', data]);
  const second = await run(['web', 'export', '--format', 'rpz', '--tier', 'council', '-d', data]);
  assert.ok(serialOf(second.stdout) > serialOf(first.stdout));
  assert.match(first.stdout, /^amazon-xqzv\.top CNAME \.$/m);
  assert.match(first.stdout, /^\*\.amazon-xqzv\.top CNAME \.$/m);
});

test('rpz: a zone that could not be written leaves the serial where it was', async () => {
  const state = join(data, 'web', 'rpz-serial');
  await run(['web', 'export', '--format', 'rpz', '--tier', 'council', '-d', data]);
  const kept = readFileSync(state, 'utf8');
  // A path under a regular file cannot be written.
  const blocked = join(data, 'web', 'rpz-serial', 'zone.rpz');
  const failed = await run([
    'web',
    'export',
    '--format',
    'rpz',
    '--tier',
    'council',
    '-d',
    data,
    '--out',
    blocked,
  ]);
  assert.notEqual(failed.code, 0);
  assert.equal(failed.stderr.trim().split('\n').length, 1, failed.stderr);
  assert.equal(readFileSync(state, 'utf8'), kept);
});

test('bad usage exits 2 with one line', async () => {
  const bad = await run(['web', 'export', '--format', 'bind', '-d', data]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const tier = await run(['web', 'export', '--format', 'rpz', '--tier', 'everyone', '-d', data]);
  assert.equal(tier.code, 2);
});

const MISSING = MISSING_RESOLVER_TOOLS;

/** Unbound on 127.0.0.1 answering `top.` from a local zone file, plus `extra` config. */
function startUnbound(lab: string, extra: string): Promise<LabResolver> {
  const top = {
    origin: 'top.',
    records: [
      'amazon-xqzv IN A 192.0.2.10',
      'www.amazon-xqzv IN A 192.0.2.11',
      'benign-shop IN A 192.0.2.20',
    ],
  };
  return startLab(lab, extra, [top], 'benign-shop.top');
}

test('Unbound loads the RPZ zone and enforces it: listed hosts NXDOMAIN, an unlisted host answers', async (t) => {
  if (MISSING.length > 0) return t.skip(`needs ${MISSING.join(', ')} (scripts/install-test-tools.sh)`);
  const lab = mkdtempSync(join(dir, 'rpz-'));
  const zone = join(lab, 'rpz.zone');
  const exported = await run([
    'web',
    'export',
    '--format',
    'rpz',
    '--tier',
    'council',
    '--out',
    zone,
    '-d',
    data,
  ]);
  assert.equal(exported.code, 0, exported.stderr);
  const unbound = await startUnbound(lab, `rpz:\n  name: "rpz.tsunagi."\n  zonefile: "${zone}"\n`);
  try {
    assert.equal(queryA(unbound.port, 'amazon-xqzv.top').status, 'NXDOMAIN');
    assert.equal(queryA(unbound.port, 'www.amazon-xqzv.top').status, 'NXDOMAIN');
    const benign = queryA(unbound.port, 'benign-shop.top');
    assert.equal(benign.status, 'NOERROR');
    assert.match(benign.answer, /192\.0\.2\.20/);
  } finally {
    await unbound.stop();
  }
});

test('Unbound loads the local-zone config: listed hosts NXDOMAIN, an unlisted host answers', async (t) => {
  if (MISSING.length > 0) return t.skip(`needs ${MISSING.join(', ')} (scripts/install-test-tools.sh)`);
  const lab = mkdtempSync(join(dir, 'local-zone-'));
  const conf = join(lab, 'blocked.conf');
  const exported = await run([
    'web',
    'export',
    '--format',
    'unbound',
    '--tier',
    'council',
    '--out',
    conf,
    '-d',
    data,
  ]);
  assert.equal(exported.code, 0, exported.stderr);
  const control = await startUnbound(mkdtempSync(join(dir, 'control-')), '');
  try {
    // Without the list the zone data answers: the NXDOMAIN below is the list's doing.
    assert.equal(queryA(control.port, 'amazon-xqzv.top').status, 'NOERROR');
  } finally {
    await control.stop();
  }
  const unbound = await startUnbound(lab, `include: "${conf}"\n`);
  try {
    assert.equal(queryA(unbound.port, 'amazon-xqzv.top').status, 'NXDOMAIN');
    assert.equal(queryA(unbound.port, 'benign-shop.top').status, 'NOERROR');
  } finally {
    await unbound.stop();
  }
});

test('an export left empty because nothing reached the tier says how hosts get there', async () => {
  const fresh = join(dir, 'fresh');
  mkdirSync(fresh);
  const list = join(dir, 'fresh.txt');
  writeFileSync(list, MODEL_ONLY.join('\n') + '\n');
  assert.equal((await run(['web', 'ingest', list, '--source', 'x', '-d', fresh])).code, 0);
  const pub = await run(['web', 'export', '--format', 'rpz', '-d', fresh]);
  assert.equal(pub.code, 0, pub.stderr);
  assert.match(pub.stderr, /: 0 hosts, .*left out: not-recorded-or-not-for-this-tier \d+\n/);
  assert.match(
    pub.stderr,
    /public tier gets what was recorded in intel as TLP:CLEAR \(web ingest --record --tlp clear/,
  );
  const council = await run(['web', 'export', '--format', 'hosts', '--tier', 'council', '-d', fresh]);
  assert.match(
    council.stderr,
    /hosts reach the council tier once recorded in intel \(web ingest --record\)\n$/,
  );
});
