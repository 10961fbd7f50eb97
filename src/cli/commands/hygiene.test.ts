/**
 * `tsunagi hygiene check` end to end: the CLI against BIND-signed zones through a validating
 * Unbound, with a real HTTPS server on loopback for MTA-STS policies and HSTS; and
 * `tsunagi hygiene rpki` on VRP and route files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { labUnavailable, makeCertificates, startDnsLab, type DnsLab } from '../../hygiene/testing.ts';
import type { Kysely } from 'kysely';
import type { HygieneTables } from '../../hygiene/index.ts';
import { openStore } from '../../store/index.ts';
import { runCli as run } from '../test-cli.ts';
import { ROOM_MIGRATIONS } from '../store-migrations.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-hygiene-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function rowsOf(csv: string): Record<string, Record<string, string>> {
  const [header, ...lines] = csv.trim().split('\n');
  const columns = header!.split(',');
  return Object.fromEntries(
    lines.map((line) => {
      const fields = line.split(',');
      return [fields[0]!, Object.fromEntries(columns.map((c, i) => [c, fields[i]!]))];
    }),
  );
}

const unavailable = labUnavailable();
let lab: DnsLab;
let https: Server;
let httpsPort: number;
const caFile = join(dir, 'ca.pem');
before(async () => {
  // Module-level set-up: nothing to start where the suite that needs it is skipped.
  if (unavailable) return;
  lab = await startDnsLab();
  const certificates = makeCertificates(['strict.mail.test', 'mta-sts.strict.mail.test']);
  writeFileSync(caFile, certificates.ca);
  https = createServer({ key: certificates.key, cert: certificates.cert }, (req, res) => {
    if (req.headers.host?.startsWith('mta-sts.') && req.url === '/.well-known/mta-sts.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('version: STSv1\r\nmode: enforce\r\nmx: mx.strict.mail.test\r\nmax_age: 604800\r\n');
      return;
    }
    res.writeHead(200, { 'strict-transport-security': 'max-age=31536000; includeSubDomains' });
    res.end('hello');
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  httpsPort = (https.address() as AddressInfo).port;
});
after(async () => {
  https?.close();
  await lab?.stop();
});

const common = () => [
  '--resolver',
  lab.resolver,
  '--trust-anchor',
  lab.trustAnchorFile,
  '--https-port',
  String(httpsPort),
  '--ca',
  caFile,
  '--timeout',
  '1',
  '--dkim-selector',
  'sel1',
  'old',
];

describe('tsunagi hygiene check against BIND, Unbound and an HTTPS server', { skip: unavailable }, () => {
  test('one CSV row per domain, every column decided by the real servers', async () => {
    const out = join(dir, 'hygiene.csv');
    const domains = [
      'strict.mail.test',
      'signed.test',
      'broken.test',
      'unsigned.test',
      'sub.signed.test',
      'soft.mail.test',
      'toomany.mail.test',
    ];
    const result = await run(['hygiene', 'check', ...domains, ...common(), '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /7 domains checked, CSV written to/);
    const csv = readFileSync(out, 'utf8');
    assert.equal(
      csv.split('\n')[0],
      'domain,dnssec,spf,dmarc_policy,dkim,mta_sts,tls_rpt,dane,ipv6,https,hsts',
    );
    const rows = rowsOf(csv);
    assert.deepEqual(Object.keys(rows), domains, 'rows in the order given');
    assert.deepEqual(rows['strict.mail.test'], {
      domain: 'strict.mail.test',
      dnssec: 'insecure',
      spf: 'strict',
      dmarc_policy: 'reject',
      dkim: 'ok',
      mta_sts: 'enforce',
      tls_rpt: 'ok',
      dane: 'no',
      ipv6: 'web+mail',
      https: 'ok',
      hsts: 'yes',
    });
    const signed = rows['signed.test']!;
    assert.deepEqual(
      [signed.dnssec, signed.spf, signed.dmarc_policy, signed.dkim, signed.dane, signed.ipv6, signed.https],
      ['secure', 'strict', 'reject', 'missing', 'yes', 'web+mail', 'invalid-cert'],
    );
    // Unbound refuses the bogus zone's data: tsunagi says bogus, and the mail checks cannot run.
    assert.equal(rows['broken.test']!.dnssec, 'bogus');
    assert.equal(rows['broken.test']!.spf, 'temperror');
    assert.equal(rows['unsigned.test']!.dnssec, 'insecure');
    assert.equal(rows['sub.signed.test']!.dnssec, 'insecure');
    assert.equal(rows['sub.signed.test']!.dmarc_policy, 'reject', 'inherited from signed.test (no sp)');
    assert.deepEqual(
      [rows['soft.mail.test']!.spf, rows['soft.mail.test']!.dmarc_policy],
      ['softfail', 'quarantine'],
    );
    assert.equal(rows['soft.mail.test']!.https, 'none', 'nothing listens on 127.0.0.10');
    assert.equal(rows['toomany.mail.test']!.spf, 'invalid');
  });

  test('--file with organisations and sectors, CSV to stdout', async () => {
    const list = join(dir, 'domains.csv');
    writeFileSync(
      list,
      'domain,organisation,sector\n# a comment\nstrict.mail.test,Strict Corp,finance\nrsa.test,RSA Inc,energy\n',
    );
    const letters = join(dir, 'letters');
    const result = await run(['hygiene', 'check', '--file', list, ...common(), '--letters', letters]);
    assert.equal(result.code, 0, result.stderr);
    const rows = rowsOf(result.stdout);
    assert.deepEqual(Object.keys(rows), ['strict.mail.test', 'rsa.test']);
    assert.equal(rows['rsa.test']!.dnssec, 'secure');
    assert.match(result.stderr, /4 letters written/);
    const strict = readFileSync(join(letters, 'Strict_Corp.en.txt'), 'utf8');
    assert.match(strict, /^Internet hygiene survey: the domains of Strict Corp/);
    assert.match(strict, /DNSSEC is not enabled/);
    assert.doesNotMatch(strict, /SPF record|SPF ends/, 'strict SPF needs no fix');
    assert.match(strict, /DANE for the MX hosts is no/);
    assert.match(readFileSync(join(letters, 'RSA_Inc.ja.txt'), 'utf8'), /SPF レコードがありません/);
  });

  test("--record keeps each survey in the data directory's store, to compare over time", async () => {
    const data = join(dir, 'data');
    const argv = ['hygiene', 'check', 'strict.mail.test', 'signed.test', ...common()];
    const owner = ['--org', 'Strict Corp', '--sector', 'finance', '--record', '--data', data];
    const first = await run([...argv, ...owner]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /survey [0-9a-f-]{36} of 2 domains recorded in /);
    const second = await run([...argv, ...owner]);
    assert.equal(second.code, 0, second.stderr);
    const csv = rowsOf(first.stdout);

    const store = await openStore({ dataDir: data }, { migrations: ROOM_MIGRATIONS });
    try {
      const db = store.db as unknown as Kysely<HygieneTables>;
      const surveys = await db.selectFrom('hygiene_surveys').selectAll().orderBy('started_at').execute();
      assert.equal(surveys.length, 2);
      assert.deepEqual(
        surveys.map((s) => s.domains),
        [2, 2],
      );
      const checks = await db
        .selectFrom('hygiene_checks')
        .selectAll()
        .where('survey_id', '=', surveys[0]!.id)
        .orderBy('domain')
        .execute();
      assert.deepEqual(
        checks.map((c) => [c.domain, c.organisation, c.sector, c.dnssec, c.spf, c.https]),
        ['signed.test', 'strict.mail.test'].map((domain) => [
          domain,
          'Strict Corp',
          'finance',
          csv[domain]!.dnssec,
          csv[domain]!.spf,
          csv[domain]!.https,
        ]),
      );
      const scores = await db
        .selectFrom('hygiene_scores')
        .select(['level', 'name', 'domains'])
        .where('survey_id', '=', surveys[1]!.id)
        .orderBy('level')
        .execute();
      assert.deepEqual(scores, [
        { level: 'organisation', name: 'Strict Corp', domains: 2 },
        { level: 'sector', name: 'finance', domains: 2 },
      ]);
    } finally {
      await store.close();
    }
  });

  test('a resolver that does not answer is a runtime error, in one line', async () => {
    const result = await run([
      'hygiene',
      'check',
      'signed.test',
      '--resolver',
      '127.0.0.1:9',
      '--timeout',
      '0.2',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr.trim(), /^tsunagi: resolver 127\.0\.0\.1:9 does not answer$/);
  });
});

describe('tsunagi hygiene rpki', () => {
  test('valid, invalid and not-found with the deciding ROA', async () => {
    const vrps = join(dir, 'vrps.json');
    const routes = join(dir, 'routes.csv');
    writeFileSync(
      vrps,
      JSON.stringify({
        roas: [
          { asn: 'AS64500', prefix: '192.0.2.0/24', maxLength: 24, ta: 'apnic' },
          { asn: 64501, prefix: '2001:db8::/32', maxLength: 40, ta: 'apnic' },
        ],
      }),
    );
    writeFileSync(
      routes,
      'prefix,origin_asn\n192.0.2.0/24,AS64500\n192.0.2.0/25,64500\n2001:db8::/48,64501\n198.51.100.0/24,64500\n',
    );
    const result = await run(['hygiene', 'rpki', '--vrps', vrps, '--routes', routes]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'prefix,origin_asn,state,roa_prefix,roa_max_length,roa_asn,roa_ta,reason',
      '192.0.2.0/24,AS64500,valid,192.0.2.0/24,24,AS64500,apnic,"AS64500 192.0.2.0/24 maxLength 24"',
      '192.0.2.0/25,AS64500,invalid,192.0.2.0/24,24,AS64500,apnic,"/25 is longer than maxLength 24 of 192.0.2.0/24"',
      '2001:db8::/48,AS64501,invalid,2001:db8::/32,40,AS64501,apnic,"/48 is longer than maxLength 40 of 2001:db8::/32"',
      '198.51.100.0/24,AS64500,not-found,,,,,"no VRP covers the prefix"',
    ]);
  });
});
