/**
 * tsunagi's own DNSSEC validation against real signed zones (BIND) through a real validating
 * resolver (Unbound), with Unbound's own verdict (AD bit or SERVFAIL) as the independent check.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { labClient, labUnavailable, startDnsLab, type DnsLab } from '../testing.ts';
import { createDnsClient, DnsTimeoutError, parseResolver, txtStrings, type DnsClient } from './client.ts';
import { canonicalCompare, createValidator, parseTrustAnchors, type Validator } from './dnssec.ts';
import { keyTag } from './signature.ts';
import type { Verdict } from './verdict.ts';

const unavailable = labUnavailable();
if (unavailable) console.log(`# skipping the DNSSEC lab tests: ${unavailable}`);

/** Each lab name's verdict and why, as tsunagi and Unbound must both find. */
const expected: [string, Verdict, RegExp][] = [
  ['test', 'secure', /SOA RRset signed by test/],
  ['signed.test', 'secure', /signed by signed\.test/],
  ['rsa.test', 'secure', /signed by rsa\.test/],
  ['ed.test', 'secure', /signed by ed\.test/],
  ['www.signed.test', 'secure', /absence of SOA proven by NSEC3/],
  ['nothing-here.signed.test', 'secure', /absence of SOA proven by NSEC3/],
  ['nothing-here.rsa.test', 'secure', /absence of SOA proven by NSEC/],
  ['broken.test', 'bogus', /broken\.test SOA: signature does not verify/],
  ['unsigned.test', 'insecure', /insecure delegation: NSEC proves unsigned\.test has no DS/],
  ['sub.signed.test', 'insecure', /insecure delegation: NSEC3 proves sub\.signed\.test has no DS/],
  ['strict.mail.test', 'insecure', /mail\.test has no DS/],
  // RFC 5155 §8.4: the closest encloser (the apex) matched, the next closer name and the wildcard covered.
  ['missing.nx.test', 'secure', /NSEC3 \(closest encloser nx\.test, no wildcard\)/],
  ['deep.missing.nx.test', 'secure', /closest encloser nx\.test, no wildcard/],
  // §8.7: no SOA at a name the wildcard stands for.
  ['anything.wild.nx.test', 'secure', /NSEC3 \(wildcard \*\.wild\.nx\.test without SOA\)/],
  // The apex's NSEC3 is gone: the covering records alone do not prove the name absent.
  ['missing.badnx.test', 'bogus', /no NSEC3 matches an ancestor of missing\.badnx\.test/],
];

describe('DNSSEC validation against BIND and Unbound', { skip: unavailable }, () => {
  let lab: DnsLab;
  let client: DnsClient;
  let validator: Validator;
  before(async () => {
    lab = await startDnsLab();
    client = labClient(lab);
    validator = createValidator({ anchors: parseTrustAnchors(lab.trustAnchor), client });
  });
  after(() => lab?.stop());

  /** Unbound's verdict: SERVFAIL is bogus, AD is secure, a plain answer is insecure. */
  async function unboundSays(name: string): Promise<Verdict> {
    const response = await client.query(name, 'SOA');
    if (response.rcode === 'SERVFAIL') return 'bogus';
    return response.authenticated ? 'secure' : 'insecure';
  }

  for (const [name, verdict, reason] of expected) {
    test(`${name} is ${verdict}, as Unbound also finds`, async () => {
      const result = await validator.validateDomain(name);
      assert.equal(result.verdict, verdict, result.reason);
      assert.match(result.reason, reason);
      assert.equal(await unboundSays(name), verdict, 'Unbound disagrees');
    });
  }

  test('a wildcard expansion validates (RRSIG labels below the owner), as Unbound also finds', async () => {
    const { result, records } = await validator.lookup('anything.wild.rsa.test', 'A');
    assert.equal(records.length, 1);
    assert.equal(result.verdict, 'secure', result.reason);
    const unbound = await client.query('anything.wild.rsa.test', 'A');
    assert.equal(unbound.authenticated, true);
  });

  /** Unbound's verdict on an A lookup: SERVFAIL is bogus, AD is secure, a plain answer insecure. */
  async function unboundSaysA(name: string): Promise<Verdict> {
    const response = await client.query(name, 'A');
    if (response.rcode === 'SERVFAIL') return 'bogus';
    return response.authenticated ? 'secure' : 'insecure';
  }

  test('a wildcard expansion in an NSEC3 zone needs the next closer name covered (§8.8)', async () => {
    const { result, records } = await validator.lookup('anything.wild.nx.test', 'A');
    assert.equal(records.length, 1);
    assert.equal(result.verdict, 'secure', result.reason);
    assert.match(result.reason, /expanded from a wildcard/);
    assert.equal(await unboundSaysA('anything.wild.nx.test'), 'secure');
  });

  test('a CNAME chain through two signed zones is secure link by link', async () => {
    const { result, records } = await validator.lookup('chain.nx.test', 'A');
    assert.equal(result.verdict, 'secure', result.reason);
    assert.deepEqual(
      records.map((r) => [r.name.toLowerCase(), (r as { data: string }).data]),
      [['www.nx.test', '127.0.0.1']],
    );
    assert.equal(await unboundSaysA('chain.nx.test'), 'secure');
  });

  test('a CNAME from a signed zone into an unsigned one is insecure, naming the link', async () => {
    const { result, records } = await validator.lookup('alias.nx.test', 'A');
    assert.equal(result.verdict, 'insecure', result.reason);
    assert.match(
      result.reason,
      /unsigned\.test has no DS \(via CNAME alias\.nx\.test -> www\.unsigned\.test\)/,
    );
    assert.equal(records.length, 1);
    assert.equal(await unboundSaysA('alias.nx.test'), 'insecure');
  });

  test('canonical name order (RFC 4034 §6.1)', () => {
    const sorted = [
      'z.example',
      'example',
      'yljkjljk.a.example',
      'a.example',
      'zabc.a.example',
      'z.a.example',
    ].sort(canonicalCompare);
    assert.deepEqual(sorted, [
      'example',
      'a.example',
      'yljkjljk.a.example',
      'z.a.example',
      'zabc.a.example',
      'z.example',
    ]);
  });

  test('a name no trust anchor covers is indeterminate, not secure', async () => {
    const result = await validator.validateDomain('example.com');
    assert.equal(result.verdict, 'indeterminate');
    assert.match(result.reason, /no trust anchor covers example\.com/);
  });

  test('a wrong trust anchor makes the whole tree bogus', async () => {
    const other = createValidator({
      anchors: parseTrustAnchors('test. IN DS 12345 13 2 ' + '00'.repeat(32)),
      client,
    });
    const result = await other.validateDomain('signed.test');
    assert.equal(result.verdict, 'bogus');
    assert.match(result.reason, /trust anchor: no DNSKEY of test matches its DS/);
  });

  test('expired signatures are bogus: validation at a time after every RRSIG expires', async () => {
    const future = createValidator({
      anchors: parseTrustAnchors(lab.trustAnchor),
      client,
      now: () => new Date(Date.now() + 400 * 86400_000),
    });
    const result = await future.validateDomain('signed.test');
    assert.equal(result.verdict, 'bogus');
    assert.match(result.reason, /signature expired/);
  });

  test('the key tag is the one dnssec-keygen named the key file with', () => {
    const [anchor] = parseTrustAnchors(lab.trustAnchor);
    const tag = keyTag(anchor!.dnskeys[0]!);
    const files = readdirSync(lab.dir).filter((f) => f.startsWith('Ktest.+013+'));
    assert.ok(
      files.some((f) => f === `Ktest.+013+${String(tag).padStart(5, '0')}.key`),
      files.join(' '),
    );
  });

  test('a truncated UDP answer is retried over TCP', async () => {
    const response = await client.query('big.mail.test', 'TXT');
    assert.equal(response.overTcp, true);
    assert.equal(txtStrings(response.answers, 'big.mail.test').length, 12);
  });
});

describe('DNS client without a server', () => {
  test('a resolver that never answers times out after its retries', async () => {
    const { createSocket } = await import('node:dgram');
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const port = silent.address().port;
    const client = createDnsClient({
      resolver: { host: '127.0.0.1', port },
      timeoutMs: 100,
      retries: 2,
      udpPayloadSize: 1232,
    });
    await assert.rejects(client.query('example.test', 'A'), DnsTimeoutError);
    assert.equal(client.sent.udp, 3);
    silent.close();
  });

  test('resolver addresses are HOST:PORT', () => {
    assert.deepEqual(parseResolver('127.0.0.53:5353'), { host: '127.0.0.53', port: 5353 });
    assert.deepEqual(parseResolver('[::1]:53'), { host: '::1', port: 53 });
    assert.throws(() => parseResolver('127.0.0.1'), /HOST:PORT/);
    assert.throws(() => parseResolver('127.0.0.1:70000'), /HOST:PORT/);
  });

  test('trust anchor files: DS and DNSKEY lines, comments, and clear errors', () => {
    const anchors = parseTrustAnchors(
      '; root\n. IN DS 20326 8 2 E06D44B8\nexample. 3600 IN DNSKEY 257 3 13 AAAA\n',
    );
    assert.equal(anchors.length, 2);
    assert.equal(anchors[0]!.zone, '');
    assert.equal(anchors[1]!.dnskeys[0]!.algorithm, 13);
    assert.throws(() => parseTrustAnchors('example. IN A 192.0.2.1'), /line 1: expected a DS or DNSKEY/);
    assert.throws(() => parseTrustAnchors('\n'), /no trust anchor/);
  });
});
