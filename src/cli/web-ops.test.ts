/**
 * `tsunagi web campaigns` and `tsunagi web takedown draft|status` end to end through the CLI on
 * a real SQLite store: campaigns with their ties, a draft from an RDAP file, the status walk and
 * its refusals (exit 2, one line), and sent requests teaching the kit-path memory.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli as run } from './test-cli.ts';
import { campaignsText } from './web-ops.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-web-ops-'));
const data = join(dir, 'data');
const RDAP = fileURLToPath(new URL('../web/takedown/testdata/rdap-domain.json', import.meta.url));
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  mkdirSync(data);
  writeFileSync(
    join(dir, 'list.txt'),
    [
      'https://amazon-xqzv.top/signin/',
      'https://amazon-kjhd.top/signin/',
      'https://login.amazon-kjhd.top/ap/signin',
      'https://smbc-card-verify.xyz/login',
      'https://vpass-secure.shop/',
      'https://www.amazon.co.jp/',
    ].join('\n') + '\n',
  );
  const ingest = await run(['web', 'ingest', join(dir, 'list.txt'), '--source', 'test', '-d', data]);
  assert.equal(ingest.code, 0, ingest.stderr);
});

test('campaigns: template, registrable domain and the operator-given IP tie hosts; statistics follow', async () => {
  const infra = join(dir, 'infra.json');
  writeFileSync(
    infra,
    JSON.stringify([
      { host: 'smbc-card-verify.xyz', ip: '203.0.113.5', country: 'US' },
      { host: 'vpass-secure.shop', ip: '203.0.113.5', asn: 64500, country: 'US' },
    ]),
  );
  const text = await run(['web', 'campaigns', '--infra', infra, '-d', data]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^5 malicious hosts, 2 campaigns$/m);
  assert.match(
    text.stdout,
    /tie template amazon \{brand\}-\[a-z\]\{4\}\.top: amazon-kjhd\.top amazon-xqzv\.top/,
  );
  assert.match(text.stdout, /tie ip 203\.0\.113\.5: smbc-card-verify\.xyz vpass-secure\.shop/);
  assert.match(text.stdout, /by country: unknown 3, US 2/);
  const json = JSON.parse((await run(['web', 'campaigns', '--json', '-d', data])).stdout) as {
    campaigns: { hosts: string[] }[];
  };
  assert.deepEqual(json.campaigns[0]!.hosts, ['amazon-kjhd.top', 'amazon-xqzv.top', 'login.amazon-kjhd.top']);
  writeFileSync(infra, '[{"host":"x.top","ip":"999.1.1.1"}]');
  const bad = await run(['web', 'campaigns', '--infra', infra, '-d', data]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /infrastructure: 0\.ip/);
});

test('campaigns: hosts whose stored URLs share a kit path on other registered domains are one campaign', async () => {
  const kitData = join(dir, 'kit-data');
  mkdirSync(kitData);
  // JPCERT/CC's list as published: one kit under /jkuos/ on three domains of two brands; two
  // malicious hosts on the plain-words path /login.php, which ties no one.
  writeFileSync(
    join(dir, 'jpcert.csv'),
    [
      'date,URL,description',
      '2025/09/01 10:00:00,https://vpass-secure.shop/jkuos/,SMBC',
      '2025/09/02 10:00:00,https://mercari-verify.shop/jkuos/,Mercari',
      '2025/09/02 11:00:00,https://smbc-card-verify.xyz/login,SMBC',
      '2025/09/02 11:30:00,https://smbc-card-verify.xyz/jkuos/,SMBC',
      '2025/09/03 10:00:00,https://amazon-xqzv.top/login.php,Amazon',
      '2025/09/03 11:00:00,https://rakuten-card-login.top/login.php,Rakuten',
    ].join('\n') + '\n',
  );
  const ingest = await run(['web', 'ingest', join(dir, 'jpcert.csv'), '--source', 'jpcert', '-d', kitData]);
  assert.equal(ingest.code, 0, ingest.stderr);
  const text = await run(['web', 'campaigns', '-d', kitData]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^5 malicious hosts, 1 campaign$/m);
  // smbc-card-verify.xyz is malicious for its /login page; its other stored URL, on the kit path, ties it.
  assert.match(
    text.stdout,
    /^ {2}tie kit-path \/jkuos\/: mercari-verify\.shop smbc-card-verify\.xyz vpass-secure\.shop$/m,
  );
  assert.doesNotMatch(text.stdout, /login\.php|amazon-xqzv|rakuten-card-login/);
  const json = JSON.parse((await run(['web', 'campaigns', '--json', '-d', kitData])).stdout) as {
    campaigns: { hosts: string[]; ties: { kind: string; value: string; hosts: string[] }[] }[];
  };
  assert.deepEqual(
    json.campaigns.map((c) => c.ties),
    [
      [
        {
          kind: 'kit-path',
          value: '/jkuos/',
          hosts: ['mercari-verify.shop', 'smbc-card-verify.xyz', 'vpass-secure.shop'],
        },
      ],
    ],
  );
});

test("campaigns: a host made malicious by a kit path alone joins the kit's campaign, and stays out of the host exports", async () => {
  const kitData = join(dir, 'kit-only-data');
  mkdirSync(kitData);
  // A confirmed source lists one kit on two domains; a day later a proxy log sees the same path on
  // a bakery's name, which is not malicious on its own.
  writeFileSync(
    join(dir, 'kit-jpcert.csv'),
    [
      'date,URL,description',
      '2025/09/01 10:00:00,https://vpass-secure.shop/jkuos/,SMBC',
      '2025/09/02 10:00:00,https://mercari-verify.shop/jkuos/,Mercari',
    ].join('\n') + '\n',
  );
  writeFileSync(
    join(dir, 'kit-proxy.csv'),
    ['date,URL,description', '2025/09/03 10:00:00,https://example-bakery.co.uk/jkuos/,'].join('\n') + '\n',
  );
  const ingest = (file: string, source: string) =>
    run(['web', 'ingest', join(dir, file), '--source', source, '--record', '-d', kitData]);
  const listed = await ingest('kit-jpcert.csv', 'jpcert');
  assert.equal(listed.code, 0, listed.stderr);
  const proxied = await ingest('kit-proxy.csv', 'proxy-log');
  assert.equal(proxied.code, 0, proxied.stderr);

  const text = await run(['web', 'campaigns', '-d', kitData]);
  assert.equal(text.code, 0, text.stderr);
  // Counted among the malicious hosts it is not: its name is not.
  assert.match(text.stdout, /^2 malicious hosts, 1 campaign$/m);
  assert.match(
    text.stdout,
    /^ {2}tie kit-path \/jkuos\/: example-bakery\.co\.uk mercari-verify\.shop vpass-secure\.shop$/m,
  );
  assert.match(text.stdout, /^ {2}by its URLs alone \(host name not malicious\): example-bakery\.co\.uk$/m);
  const json = JSON.parse((await run(['web', 'campaigns', '--json', '-d', kitData])).stdout) as {
    campaigns: { hosts: string[]; kitPathOnly?: string[] }[];
  };
  assert.deepEqual(
    json.campaigns.map((c) => [c.hosts, c.kitPathOnly]),
    [[['example-bakery.co.uk', 'mercari-verify.shop', 'vpass-secure.shop'], ['example-bakery.co.uk']]],
  );

  // The host lists name the hosts malicious by name only; the URL list carries the kit's URL.
  const rpz = await run(['web', 'export', '--format', 'rpz', '--tier', 'council', '-d', kitData]);
  assert.equal(rpz.code, 0, rpz.stderr);
  assert.match(rpz.stdout, /^vpass-secure\.shop /m);
  assert.match(rpz.stdout, /^mercari-verify\.shop /m);
  assert.doesNotMatch(rpz.stdout, /bakery/);
  const urls = await run(['web', 'export', '--format', 'urls', '--tier', 'council', '-d', kitData]);
  assert.equal(urls.code, 0, urls.stderr);
  assert.match(urls.stdout, /example-bakery\.co\.uk\/jkuos\//);
});

test('takedown: draft from RDAP, letters in ja and en, then the status walk', async () => {
  const draft = await run([
    'web',
    'takedown',
    'draft',
    'amazon-xqzv.top',
    '--rdap',
    RDAP,
    '--from',
    'JP council',
    '-d',
    data,
  ]);
  assert.equal(draft.code, 0, draft.stderr);
  assert.match(draft.stdout, /^To: abuse@registrar\.example$/m);
  assert.match(draft.stdout, /Content-Language: ja[\s\S]*Content-Language: en/);
  assert.match(draft.stdout, /Example Registrar Co\., Ltd\. ご担当者様/);
  // The grounds are words an abuse desk reads, in each letter's language; never feature keys.
  // Among the four shown, a brand ground: the name itself or where it stands (which of the two
  // the refit ranks higher varies).
  assert.match(
    draft.stdout,
    /判定の根拠:\n(?: {2}・.+\n)* {2}・(登録ドメイン名にブランド名「amazon」|ブランド名の位置: ドメイン名の一部.*)\n/,
  );
  assert.match(
    draft.stdout,
    /Why we consider it phishing:\n(?: {2}- .+\n)* {2}- (the brand name "amazon" in the registered domain name|where the brand name stands: part of the domain label.*)\n/,
  );
  assert.doesNotMatch(draft.stdout, /\b[a-z]+_[a-z_]+\(|\bentropy\b|tld_risk/);
  assert.match(draft.stderr, /is draft: to abuse@registrar\.example \(registrar Example Registrar/);
  for (const status of ['sent', 'acknowledged', 'taken-down']) {
    const step = await run(['web', 'takedown', 'status', 'amazon-xqzv.top', '--set', status, '-d', data]);
    assert.equal(step.code, 0, step.stderr);
    assert.match(
      step.stdout,
      new RegExp(
        `^amazon-xqzv\\.top: ${status} \\(abuse contact abuse@registrar\\.example\\), last change 20`,
      ),
    );
  }
  const shown = await run(['web', 'takedown', 'status', 'amazon-xqzv.top', '-d', data]);
  assert.deepEqual(
    shown.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(' ')[1]),
    ['draft', 'sent', 'acknowledged', 'taken-down'],
  );
  const final = await run(['web', 'takedown', 'status', 'amazon-xqzv.top', '--set', 'refused', '-d', data]);
  assert.equal(final.code, 2);
  assert.match(final.stderr, /cannot go from taken-down to refused/);
  const redraft = await run(['web', 'takedown', 'draft', 'amazon-xqzv.top', '--rdap', RDAP, '-d', data]);
  assert.equal(redraft.code, 2);
});

test('takedown: two hosts sent make a third on their kit path malicious at the next ingest; drafts do not', async () => {
  // A store of its own, so the other tests' campaigns stay as they are.
  const store = join(dir, 'kit');
  mkdirSync(store);
  const kitHosts = ['amazon-qwzt.top', 'amazon-pldk.top'];
  writeFileSync(join(dir, 'kit.txt'), kitHosts.map((host) => `https://${host}/xqvjkuos/`).join('\n') + '\n');
  const stored = await run(['web', 'ingest', join(dir, 'kit.txt'), '--source', 'soc', '-d', store]);
  assert.equal(stored.code, 0, stored.stderr);
  const rdap = readFileSync(RDAP, 'utf8');
  for (const host of kitHosts) {
    const file = join(dir, `${host}.rdap.json`);
    writeFileSync(file, rdap.replace('AMAZON-XQZV.TOP', host.toUpperCase()));
    const draft = await run(['web', 'takedown', 'draft', host, '--rdap', file, '-d', store]);
    assert.equal(draft.code, 0, draft.stderr);
  }
  writeFileSync(join(dir, 'candidate.txt'), 'https://example-bakery.co.uk/xqvjkuos/\n');
  const ingestCandidate = () =>
    run(['web', 'ingest', join(dir, 'candidate.txt'), '--source', 'proxy-log', '-d', store]);
  const drafted = await ingestCandidate();
  assert.equal(drafted.code, 0, drafted.stderr);
  assert.match(drafted.stderr, /: malicious 0,/, 'drafts confirm nothing');
  for (const host of kitHosts) {
    const sent = await run(['web', 'takedown', 'status', host, '--set', 'sent', '-d', store]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stderr, new RegExp(`${host.replace('.', '\\.')} is confirmed phishing`));
  }
  const tied = await ingestCandidate();
  assert.equal(tied.code, 0, tied.stderr);
  assert.match(tied.stderr, /: malicious 1 \(1 on a kit path other domains were listed with\)/);
  // Refused after it was sent: one host is left, and one domain ties nothing.
  const refused = await run(['web', 'takedown', 'status', kitHosts[0]!, '--set', 'refused', '-d', store]);
  assert.equal(refused.code, 0, refused.stderr);
  assert.doesNotMatch(refused.stderr, /confirmed phishing/);
  assert.match((await ingestCandidate()).stderr, /: malicious 0,/);
});

test("ingest: the room's own verdicts on two domains lift a suspicious URL on their kit path, and the line says so", async () => {
  const store = join(dir, 'judged');
  mkdirSync(store);
  writeFileSync(
    join(dir, 'judged.txt'),
    'https://www.amazon.co.jp.zqvmk.cn/zqvmkits/\nhttps://smbc-card-verify.top/zqvmkits/\n',
  );
  const seen = await run(['web', 'ingest', join(dir, 'judged.txt'), '--source', 'proxy-log', '-d', store]);
  assert.equal(seen.code, 0, seen.stderr);
  assert.match(seen.stderr, /: malicious 1, suspicious 1, benign 0;/, 'the scorer alone');
  writeFileSync(
    join(dir, 'judged-next.txt'),
    'https://amazon-co-jp-login.xyz/zqvmkits/\nhttps://example-bakery.co.uk/zqvmkits/\n',
  );
  const next = await run([
    'web',
    'ingest',
    join(dir, 'judged-next.txt'),
    '--source',
    'proxy-log',
    '-d',
    store,
  ]);
  assert.equal(next.code, 0, next.stderr);
  assert.match(
    next.stderr,
    /: malicious 1 \(1 on a kit path other domains were listed with, 1 of them near suspicious and on a path this room itself judged on other domains\), suspicious 0, benign 1;/,
    'the suspicious URL is lifted, the benign-looking one is not',
  );
  // Another host of a registered domain the room judged on two hosts: the near-suspicious one is lifted.
  writeFileSync(
    join(dir, 'judged-host.txt'),
    'https://amazon-co-jp.hostingco.co.uk/\nhttps://smbc-card-jp.hostingco.co.uk/\n',
  );
  const judgedHost = await run([
    'web',
    'ingest',
    join(dir, 'judged-host.txt'),
    '--source',
    'proxy-log',
    '-d',
    store,
  ]);
  assert.equal(judgedHost.code, 0, judgedHost.stderr);
  writeFileSync(
    join(dir, 'sibling.txt'),
    'https://jp-account.hostingco.co.uk/\nhttps://bakery1.hostingco.co.uk/\n',
  );
  const sibling = await run([
    'web',
    'ingest',
    join(dir, 'sibling.txt'),
    '--source',
    'proxy-log',
    '-d',
    store,
  ]);
  assert.equal(sibling.code, 0, sibling.stderr);
  assert.match(
    sibling.stderr,
    /: malicious 1 \(1 near suspicious under a registered domain whose other hosts this room itself judged\), suspicious 0, benign 1;/,
  );
});

test('--config: a source the web section names confirms kit paths for web ingest and web score; takedowns can be turned off', async () => {
  const store = join(dir, 'configured');
  mkdirSync(store);
  const config = join(dir, 'soc.yaml');
  writeFileSync(config, 'web:\n  kitPaths:\n    sources: [soc-confirmed]\n    takedowns: false\n');
  writeFileSync(
    join(dir, 'confirmed.txt'),
    ['https://amazon-mvbq.top/zqplkuos/', 'https://amazon-trwe.top/zqplkuos/'].join('\n') + '\n',
  );
  writeFileSync(join(dir, 'later.txt'), 'https://example-florist.co.uk/zqplkuos/\n');
  const teach = (config?: string) =>
    run([
      'web',
      'ingest',
      join(dir, 'confirmed.txt'),
      '--source',
      'soc-confirmed',
      '-d',
      store,
      ...(config ? ['--config', config] : []),
    ]);
  const candidate = (config?: string) =>
    run([
      'web',
      'ingest',
      join(dir, 'later.txt'),
      '--source',
      'proxy-log',
      '-d',
      store,
      ...(config ? ['--config', config] : []),
    ]);
  assert.equal((await teach()).code, 0);
  // Without the file, soc-confirmed is an ordinary source: it confirms nothing.
  assert.match((await candidate()).stderr, /: malicious 0,/);
  const tied = await candidate(config);
  assert.equal(tied.code, 0, tied.stderr);
  assert.match(tied.stderr, /: malicious 1 \(1 on a kit path other domains were listed with\)/);
  // web score reads the section too: asking for three other domains, two tie nothing.
  const known = ['web', 'score', join(dir, 'later.txt'), '--known', join(dir, 'confirmed.txt')];
  assert.match((await run(known)).stdout, /example-florist\.co\.uk,[0-9.]+,malicious,/);
  const strict = join(dir, 'three.yaml');
  writeFileSync(strict, 'web:\n  kitPaths:\n    minDomains: 3\n');
  assert.doesNotMatch((await run([...known, '--config', strict])).stdout, /,malicious,/);
  // With takedowns off in the file, a sent request is not announced as teaching the memory.
  const host = 'amazon-mvbq.top';
  const rdap = join(dir, `${host}.configured.rdap.json`);
  writeFileSync(rdap, readFileSync(RDAP, 'utf8').replace('AMAZON-XQZV.TOP', host.toUpperCase()));
  assert.equal((await run(['web', 'takedown', 'draft', host, '--rdap', rdap, '-d', store])).code, 0);
  const sent = await run([
    'web',
    'takedown',
    'status',
    host,
    '--set',
    'sent',
    '-d',
    store,
    '--config',
    config,
  ]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.doesNotMatch(sent.stderr, /confirmed phishing/);
  const bad = await run(['web', 'score', join(dir, 'later.txt'), '--config', join(dir, 'missing.yaml')]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});

test("takedown: another domain's RDAP is refused, so no letter goes to a registrar unrelated to the host", async () => {
  for (const host of ['amazon-kjhd.top', 'login.amazon-kjhd.top']) {
    const wrong = await run(['web', 'takedown', 'draft', host, '--rdap', RDAP, '-d', data]);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.equal(wrong.stdout, '');
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
    assert.match(
      wrong.stderr,
      new RegExp(
        `the RDAP data is for the domain amazon-xqzv\\.top, not for ${host.replaceAll('.', '\\.')} \\(fetch the RDAP data of amazon-kjhd\\.top\\)`,
      ),
    );
    const none = await run(['web', 'takedown', 'status', host, '-d', data]);
    assert.match(none.stderr, /no takedown request/);
  }
});

test('takedown: refusals are one line and exit 2', async () => {
  const benign = await run(['web', 'takedown', 'draft', 'www.amazon.co.jp', '--rdap', RDAP, '-d', data]);
  assert.equal(benign.code, 2);
  assert.match(benign.stderr, /not a malicious or suspicious host/);
  const skip = await run(['web', 'takedown', 'status', 'amazon-kjhd.top', '--set', 'taken-down', '-d', data]);
  assert.equal(skip.code, 2);
  const badStatus = await run(['web', 'takedown', 'status', 'amazon-kjhd.top', '--set', 'gone', '-d', data]);
  assert.equal(badStatus.code, 2);
  writeFileSync(join(dir, 'bad.json'), '{"not":"rdap"}');
  const badRdap = await run([
    'web',
    'takedown',
    'draft',
    'amazon-kjhd.top',
    '--rdap',
    join(dir, 'bad.json'),
    '-d',
    data,
  ]);
  assert.equal(badRdap.code, 2);
  for (const r of [benign, skip, badStatus, badRdap])
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('campaigns text: a tie of many hosts shows the first ten and says how many more', () => {
  const hosts = Array.from({ length: 25 }, (_, i) => `h${i}.example.top`);
  const text = campaignsText(
    [
      {
        id: 'c1',
        hosts,
        brands: [],
        tlds: ['top'],
        platforms: [],
        countries: [],
        firstSeen: '2026-11-01T00:00:00.000Z',
        lastSeen: '2026-11-02T00:00:00.000Z',
        ties: [{ kind: 'template', value: 'h{n}.example.top', hosts }],
      },
    ],
    { hosts: 25, campaigns: 1, byBrand: [], byTld: [], byPlatform: [], byCountry: [] },
  );
  const tie = text.split('\n').find((line) => line.startsWith('  tie '))!;
  assert.match(tie, /: h0\.example\.top .* h9\.example\.top … and 15 more \(--json lists every host\)$/);
  assert.doesNotMatch(tie, /h10\./);
});
