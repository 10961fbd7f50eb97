import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { abuseContacts, RdapInputError, rdapMismatch } from './rdap.ts';
import { renderLetter } from './letters.ts';

const RDAP = readFileSync(new URL('./testdata/rdap-domain.json', import.meta.url), 'utf8');

test('RDAP: the abuse role vCard email, nested under its registrar; the registrant is no abuse contact', () => {
  assert.deepEqual(abuseContacts(RDAP), [
    {
      email: 'abuse@registrar.example',
      name: 'Abuse Desk',
      of: { role: 'registrar', name: 'Example Registrar Co., Ltd.' },
      object: 'amazon-xqzv.top',
    },
  ]);
});

test('RDAP: an IP network with the abuse entity at the top, mailto: and duplicates folded', () => {
  const network = {
    objectClassName: 'ip network',
    handle: 'NET-203-0-113-0-1',
    entities: [
      { roles: ['abuse'], vcardArray: ['vcard', [['email', {}, 'text', 'mailto:noc@host.example']]] },
      { roles: ['abuse', 'technical'], vcardArray: ['vcard', [['email', {}, 'text', 'NOC@host.example']]] },
      { roles: ['abuse'], vcardArray: ['vcard', [['email', {}, 'text', 'not an email']]] },
    ],
  };
  const contacts = abuseContacts(JSON.stringify(network));
  assert.deepEqual(
    contacts.map((c) => c.email),
    ['noc@host.example'],
  );
  assert.equal(contacts[0]!.object, 'net-203-0-113-0-1');
});

test('RDAP: not RDAP is RdapInputError; random bytes throw nothing else (seeded)', () => {
  assert.throws(() => abuseContacts('{'), RdapInputError);
  assert.throws(() => abuseContacts('[]'), RdapInputError);
  assert.deepEqual(abuseContacts('{"objectClassName":"domain","entities":[1,null,{"roles":"abuse"}]}'), []);
  let seed = 9083;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 2000; i++) {
    const bytes = RDAP.split('');
    for (let k = 0; k < 1 + Math.floor(random() * 8); k++)
      bytes[Math.floor(random() * bytes.length)] = String.fromCharCode(Math.floor(random() * 128));
    try {
      abuseContacts(bytes.join(''));
    } catch (error) {
      assert.ok(error instanceof RdapInputError, String(error));
    }
  }
});

test('letters: ja and en from the templates, every placeholder filled', () => {
  const facts = {
    host: 'amazon-xqzv.top',
    urls: ['https://amazon-xqzv.top/signin/'],
    brandName: { ja: 'Amazon', en: 'Amazon' },
    official: ['amazon.co.jp'],
    reasons: ['brand_exact(amazon@domain)', 'tld_risk(top)'],
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-02T00:00:00.000Z',
    abuse: { email: 'abuse@registrar.example', name: 'Example Registrar' },
    sender: 'JP phishing council',
  };
  const ja = renderLetter('ja', facts);
  const en = renderLetter('en', facts);
  assert.equal(ja.to, 'abuse@registrar.example');
  assert.match(ja.subject, /不正サイト停止のお願い.*amazon-xqzv\.top.*Amazonを装った/);
  assert.match(ja.body, /https:\/\/amazon-xqzv\.top\/signin\//);
  assert.match(en.body, /The genuine site: https:\/\/amazon\.co\.jp\//);
  for (const letter of [ja, en]) assert.doesNotMatch(letter.subject + letter.body, /\{\{|\}\}/);
  // Times as the reader reads them: Japan time in Japanese, UTC said in English; no ISO string.
  assert.match(
    ja.body,
    /初回確認日時: 2026-11-01 09:00（日本時間）\n最終確認日時: 2026-11-02 09:00（日本時間）\n/,
  );
  assert.match(en.body, /First seen: 2026-11-01 00:00 UTC\nLast seen: 2026-11-02 00:00 UTC\n/);
  for (const letter of [ja, en]) assert.doesNotMatch(letter.body, /T00:00|\.000Z/);
  // The grounds in words, one a line, in the letter's language.
  assert.match(
    ja.body,
    /判定の根拠:\n {2}・登録ドメイン名にブランド名「amazon」\n {2}・トップレベルドメイン \.top（/,
  );
  assert.match(
    en.body,
    /phishing:\n {2}- the brand name "amazon" in the registered domain name\n {2}- the top-level domain \.top \(/,
  );
  assert.match(renderLetter('ja', { ...facts, reasons: [] }).body, /判定の根拠:\n {2}（不明）\n/);
  const unbranded = { ...facts, brandName: null, official: [] };
  assert.match(renderLetter('en', unbranded).body, /imitating a real company/);
  // No genuine site to name: the line is left out, not filled with '(unknown)'.
  assert.doesNotMatch(renderLetter('en', unbranded).body, /genuine site/);
  assert.doesNotMatch(renderLetter('ja', unbranded).body, /正規のサイト/);
  assert.match(renderLetter('ja', facts).body, /正規のサイト: https:\/\/amazon\.co\.jp\/\n/);
  assert.match(renderLetter('en', facts).body, /The genuine site: https:\/\/amazon\.co\.jp\/\n/);
});

test('RDAP: a domain object is for its own name and the hosts under it; a network for the addresses it holds', () => {
  assert.equal(rdapMismatch(RDAP, 'amazon-xqzv.top', 'domain'), null);
  assert.equal(rdapMismatch(RDAP, 'login.amazon-xqzv.top', 'domain'), null);
  assert.equal(
    rdapMismatch(RDAP, 'amazon-kjhd.top', 'domain'),
    'the RDAP data is for the domain amazon-xqzv.top, not for amazon-kjhd.top',
  );
  // A name that merely ends in the same letters is another domain.
  assert.match(rdapMismatch(RDAP, 'xamazon-xqzv.top', 'domain') ?? '', /not for xamazon-xqzv\.top/);
  assert.match(rdapMismatch(RDAP, '192.0.2.1', 'ipv4') ?? '', /not for the address/);
  const network = (start: string, end: string) =>
    JSON.stringify({ objectClassName: 'ip network', startAddress: start, endAddress: end });
  const v4 = network('203.0.113.0', '203.0.113.255');
  assert.equal(rdapMismatch(v4, '203.0.113.77', 'ipv4'), null);
  assert.match(rdapMismatch(v4, '203.0.114.1', 'ipv4') ?? '', /does not hold 203\.0\.114\.1/);
  // The hosting network of a name cannot be checked without DNS: taken as the operator gives it.
  assert.equal(rdapMismatch(v4, 'evil.example', 'domain'), null);
  const v6 = network('2001:db8::', '2001:db8::ffff:ffff');
  assert.equal(rdapMismatch(v6, '2001:db8::1:2', 'ipv6'), null);
  assert.match(rdapMismatch(v6, '2001:db9::1', 'ipv6') ?? '', /does not hold/);
  assert.match(rdapMismatch(v6, '203.0.113.77', 'ipv4') ?? '', /does not hold/);
  assert.throws(() => rdapMismatch('{', 'a.example', 'domain'), RdapInputError);
});
