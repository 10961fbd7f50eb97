/** The normaliser's keys, and a seeded fuzz: any text either normalises or throws UrlInputError. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../core/index.ts';
import { normaliseUrl, UrlInputError } from './index.ts';
import { normaliseUrlByWhatwg } from './normalise.ts';

test('keys by URL, host and registrable domain, with private suffixes', () => {
  const tenant = normaliseUrl('HTTPS://Evil.Pages.Dev./Login?x=1#frag');
  assert.equal(tenant.url, 'https://evil.pages.dev/Login?x=1');
  assert.equal(tenant.host, 'evil.pages.dev');
  assert.equal(tenant.registrableDomain, 'evil.pages.dev', 'a platform tenant is its own domain');
  assert.equal(tenant.publicSuffix, 'pages.dev');
  assert.equal(tenant.privateSuffix, true);

  const nested = normaliseUrl('hxxp://smbc-card.com.verify[.]example.co.jp/a');
  assert.equal(nested.host, 'smbc-card.com.verify.example.co.jp', 'defanged forms are undone');
  assert.equal(nested.registrableDomain, 'example.co.jp');
  assert.equal(nested.subdomain, 'smbc-card.com.verify');
  assert.equal(nested.privateSuffix, false);

  const idn = normaliseUrl('http://аррӏе.com/');
  assert.equal(idn.host, 'xn--80ak6aa92e.com', 'IDNA to punycode');
  assert.equal(idn.unicodeHost, 'аррӏе.com');
  const japanese = normaliseUrl('例え.テスト/パス');
  assert.equal(japanese.host, 'xn--r8jz45g.xn--zckzah');
  assert.equal(japanese.url, 'http://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9', 'no scheme means http');

  const ip = normaliseUrl('http://0x7f.1:8080/x');
  assert.deepEqual([ip.host, ip.hostKind, ip.registrableDomain], ['127.0.0.1', 'ipv4', null]);
  const v6 = normaliseUrl('https://[2001:DB8::1]/');
  assert.deepEqual([v6.host, v6.hostKind], ['2001:db8::1', 'ipv6']);
  assert.equal(
    normaliseUrl('http://user:secret@example.com/').url,
    'http://example.com/',
    'credentials dropped',
  );
});

test('what is not an http(s) URL is an InputError', () => {
  for (const text of [
    '',
    '   ',
    'javascript:alert(1)',
    'ftp://example.com/',
    'http://a..b/',
    'http://exa mple.com/',
    'http://',
  ])
    assert.throws(
      () => normaliseUrl(text),
      (e) => e instanceof UrlInputError && e instanceof InputError,
      text,
    );
  assert.throws(() => normaliseUrl(`http://example.com/${'a'.repeat(100)}`, 64), UrlInputError);
});

/** Mulberry32: a small seeded generator, so a failing case can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: seeded random text never throws anything but UrlInputError', () => {
  const next = random(0x5eed);
  const pieces = [
    'http://',
    'https://',
    'xn--',
    '.',
    '..',
    '/',
    '[',
    ']',
    ':',
    '@',
    '%',
    '%zz',
    '#',
    '?',
    '-',
    'a',
    '0',
    'ｅ',
    'é',
    '例',
    '\u0000',
    '\uD800',
    ' ',
    '[.]',
    'hxxp://',
    '::1',
    '255.255.255.256',
    'com',
    'pages.dev',
    // Two of these in one label pass DNS's 63 characters.
    'x'.repeat(40),
  ];
  let ok = 0;
  for (let i = 0; i < 20_000; i++) {
    let text = '';
    const length = Math.floor(next() * 12);
    for (let j = 0; j < length; j++)
      text +=
        next() < 0.6
          ? pieces[Math.floor(next() * pieces.length)]!
          : String.fromCharCode(Math.floor(next() * 0x3000));
    try {
      const url = normaliseUrl(text);
      assert.ok(url.host.length > 0);
      assert.equal(normaliseUrl(url.url).url, url.url, `normalising is idempotent: ${JSON.stringify(text)}`);
      ok++;
    } catch (error) {
      if (!(error instanceof UrlInputError)) {
        assert.fail(`${JSON.stringify(text)} threw ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
  }
  assert.ok(ok > 1000, `some inputs normalise (${ok})`);
});

function outcome(normalise: (text: string) => unknown, text: string): string {
  try {
    return JSON.stringify(normalise(text));
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

test('fuzz: the hand-read plain URLs give what the WHATWG parser gives', () => {
  const next = random(0xfa57);
  const schemes = [
    'http://',
    'https://',
    'HTTPS://',
    'hTTp://',
    'httpS://',
    'hxxps://',
    '',
    'http:/',
    'http:///',
  ];
  // URL-shaped pieces, so most texts reach the hand-read path and its edge cases.
  const hostPieces = [
    'a',
    'Ex',
    'smbc',
    '0',
    '12',
    '0x1f',
    'xn--80ak6aa92e',
    'xN--',
    '-',
    '_',
    '.',
    '..',
    'é',
    'co.jp',
    'com',
    'pages.dev',
    // Two of these in one label pass DNS's 63 characters.
    'x'.repeat(40),
  ];
  const rest = [
    '/',
    '/a',
    '/./',
    '/../',
    '/.x',
    '/%2e',
    '/%2E%2e/',
    '%zz',
    '?',
    '?q=1',
    "?'",
    "/'",
    '#',
    '#f g',
    ':80',
    ':443',
    ':8080',
    ':0',
    ':',
    ':65536',
    ':080',
    '@',
    'u:p@',
    ' ',
    '\t',
    '\\',
    '^',
    '|',
    '`',
    '{',
    '"',
    '<',
    '[',
    '~',
    ';',
    '=',
    '&',
    '*',
    'é',
    '例',
    // What normaliseUrl's read-as-given path must leave to trimming and undefanging.
    '(.)',
    '.)',
    ')',
    '#x.]',
    '#x.}',
    '\u00a0',
  ];
  const pick = (list: readonly string[]) => list[Math.floor(next() * list.length)]!;
  let plain = 0;
  for (let i = 0; i < 20_000; i++) {
    let text = pick(schemes);
    for (let j = Math.floor(next() * 4); j >= 0; j--) text += pick(hostPieces) + (next() < 0.5 ? '.' : '');
    for (let j = Math.floor(next() * 5); j > 0; j--) text += pick(rest);
    const fast = outcome(normaliseUrl, text);
    assert.equal(fast, outcome(normaliseUrlByWhatwg, text), JSON.stringify(text));
    if (fast.startsWith('{')) plain++;
  }
  assert.ok(plain > 5000, `many texts normalise (${plain})`);
});
