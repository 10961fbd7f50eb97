/** DMARC parsing, and policies with organisational-domain fallback from real records (BIND via Unbound). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLookup, type Lookup } from '../dns/lookup.ts';
import { labClient, labUnavailable, startDnsLab, type DnsLab } from '../testing.ts';
import { checkDmarc, DmarcSyntaxError, parseDmarc, type DmarcPolicy } from './dmarc.ts';
import { parseDkimKey } from './dkim.ts';
import { parseMtaStsPolicy } from './mta-sts.ts';

describe('DMARC records', () => {
  test('tags: p, sp, pct, rua and ruf with size limits', () => {
    const record = parseDmarc(
      'v=DMARC1; p=quarantine; sp=reject; pct=25; rua=mailto:a@example.com!10m, mailto:b@example.net; ruf=mailto:f@example.com',
    );
    assert.deepEqual(record, {
      p: 'quarantine',
      sp: 'reject',
      pct: 25,
      rua: ['mailto:a@example.com', 'mailto:b@example.net'],
      ruf: ['mailto:f@example.com'],
    });
  });
  for (const bad of [
    'v=DMARC1; sp=reject',
    'v=DMARC1; p=maybe',
    'v=DMARC1; p=none; pct=101',
    'v=DMARC1; p=none; rua=https://x.example',
    'p=none; v=DMARC1',
  ])
    test(`"${bad}" is invalid`, () => assert.throws(() => parseDmarc(bad), DmarcSyntaxError));
});

describe('DKIM keys and MTA-STS policies', () => {
  test('DKIM: usable, revoked and broken keys', () => {
    assert.equal(
      parseDkimKey('v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=').status,
      'ok',
    );
    assert.equal(parseDkimKey('v=DKIM1; p=').status, 'revoked');
    assert.equal(parseDkimKey('v=DKIM1; k=rsa; p=bm90IGEga2V5').status, 'invalid');
    assert.equal(parseDkimKey('v=DKIM1; k=dsa; p=AAAA').status, 'invalid');
    assert.equal(parseDkimKey('k=rsa; v=DKIM1; p=AAAA').reason, 'v= is not the first tag');
  });
  test('MTA-STS: a policy, and what makes one invalid', () => {
    assert.deepEqual(
      parseMtaStsPolicy(
        'version: STSv1\r\nmode: enforce\r\nmx: mx1.example\r\nmx: *.example\r\nmax_age: 86400\r\n',
      ),
      {
        mode: 'enforce',
        mx: ['mx1.example', '*.example'],
        maxAge: 86400,
      },
    );
    assert.throws(() => parseMtaStsPolicy('version: STSv1\nmode: enforce\nmax_age: 86400\n'), /no mx/);
    assert.throws(() => parseMtaStsPolicy('version: STSv2\nmode: none\nmax_age: 1\n'), /STSv1/);
    assert.throws(() => parseMtaStsPolicy('version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n'), /mode/);
  });
});

const unavailable = labUnavailable();
describe('DMARC against BIND and Unbound', { skip: unavailable }, () => {
  let lab: DnsLab;
  let lookup: Lookup;
  before(async () => {
    lab = await startDnsLab();
    lookup = createLookup(labClient(lab));
  });
  after(() => lab?.stop());

  const policies: [string, DmarcPolicy, RegExp][] = [
    ['strict.mail.test', 'reject', /^_dmarc\.strict\.mail\.test: reject$/],
    ['soft.mail.test', 'quarantine', /quarantine on 50% of failing mail/],
    ['neutral.mail.test', 'none', /none/],
    ['permissive.mail.test', 'invalid', /p=whatever/],
    ['twodmarc.mail.test', 'invalid', /2 DMARC records/],
    // No record of its own: the organisational domain's sp=quarantine applies (RFC 7489 §6.6.3).
    ['noall.mail.test', 'quarantine', /inherited from the organisational domain, _dmarc\.mail\.test/],
    ['mail.test', 'reject', /^_dmarc\.mail\.test: reject$/],
    ['unsigned.test', 'missing', /no DMARC record at _dmarc\.unsigned\.test$/],
  ];
  for (const [domain, policy, reason] of policies)
    test(`${domain}: ${policy}`, async () => {
      const result = await checkDmarc(lookup, domain);
      assert.equal(result.policy, policy, result.reason);
      assert.match(result.reason, reason);
    });

  test('rua and ruf are kept', async () => {
    const result = await checkDmarc(lookup, 'strict.mail.test');
    assert.deepEqual(result.record?.rua, ['mailto:agg@mail.test', 'mailto:x@example.test']);
    assert.deepEqual(result.record?.ruf, ['mailto:forensic@mail.test']);
  });
});
