/** The extractor on written forms of each type, on the distractors it must leave, and under fuzz. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractIndicators } from './extract.ts';
import { refang } from './refang.ts';
import type { ExtractedIndicator } from './types.ts';

const pairs = (hits: ExtractedIndicator[]) =>
  hits.map((h) => `${h.type} ${h.value}${h.port ? `:${h.port}` : ''}`);
const found = (text: string) => pairs(extractIndicators(text));

describe('indicators as written', () => {
  const cases: [string, string[]][] = [
    ['C2 at 45.77.12.3 and 45.77.12.4:8443.', ['ipv4 45.77.12.3', 'ipv4 45.77.12.4:8443']],
    [
      'fallback [2606:4700::6810:84e5]:443, also 2a01:4f8:c17:1::5',
      ['ipv6 2606:4700::6810:84e5:443', 'ipv6 2a01:4f8:c17:1::5'],
    ],
    ['beacons to update-check.net every hour', ['domain update-check.net']],
    [
      'payload from https://cdn.evil-host.xyz/a/b.php?id=1#frag.',
      ['url https://cdn.evil-host.xyz/a/b.php?id=1'],
    ],
    ['see (http://bad.example.jp/x) for', []],
    ['(http://bad-host.jp/x)', ['url http://bad-host.jp/x']],
    ['md5 D41D8CD98F00B204E9800998ECF8427E', ['md5 d41d8cd98f00b204e9800998ecf8427e']],
    ['sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709', ['sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709']],
    [
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ['sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ],
    ['exploits cve-2021-44228 and CVE‑2024‑3400', ['cve CVE-2021-44228', 'cve CVE-2024-3400']],
    ['techniques T1059.001, T1566 and T1071', ['attack T1059.001', 'attack T1566', 'attack T1071']],
    [
      'the onion site abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion',
      ['domain abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion'],
    ],
  ];
  for (const [text, expected] of cases) test(text, () => assert.deepEqual(found(text), expected));
});

describe('links of the markup and citations are references, not indicators', () => {
  const none: string[] = [
    'AsciiDoc link https://blog.vendor-news.com/post[the post]',
    'AsciiDoc link:https://blog.vendor-news.com/post[the post]',
    'see [the report](https://blog.vendor-news.com/post) and ![fig](https://i.imgur-cdn.com/a.png)',
    '<a href="https://t.co/LzFpUgLei3">https://t.co/LzFpUgLei3</a> <script src="https://platform.twitter.com/widgets.js">',
    '<a href="https://t.co/70TuWLtw5j">pic.twitter.com/70TuWLtw5j</a>',
    '# Source: https://github.com/InQuest/python-iocextract/blob/master/iocextract.py',
    '（出典：https://www.antiphishing.jp/news/pdf/apcseminar2018apc.pdf）',
    'The full report is available on WeLiveSecurity at https://www.welivesecurity.com/2019/10/17/ghost/',
    ' - [https://feeds.vendor-news.com/list.csv](https://feeds.vendor-news.com/list.csv)',
    '- **URL**\nhttps://www.vendor-news.com/news/security/flaw-exploited/\n',
    '参考：\n\n  https://www.vendor-news.com/2026/05/post.html',
  ];
  for (const text of none) test(text, () => assert.deepEqual(found(text), []));

  test('a defanged URL is an indicator even as a link target; a plain URL in prose is one too', () => {
    assert.deepEqual(found('[gate](hxxp://evil-gate[.]com/a.php)'), ['url http://evil-gate.com/a.php']);
    assert.deepEqual(found('downloads from https://cdn.evil-host.xyz/p.bin'), [
      'url https://cdn.evil-host.xyz/p.bin',
    ]);
  });

  test('a label above counts only when it stands alone on its line and the URL heads the next one', () => {
    assert.deepEqual(found('- **URL**\nhxxps://evil-gate[.]com/a.php'), ['url https://evil-gate.com/a.php']);
    assert.deepEqual(found('URL of the gate\nhttps://cdn.evil-host.xyz/p.bin'), [
      'url https://cdn.evil-host.xyz/p.bin',
    ]);
    assert.deepEqual(found('- **URL**\nfetched from https://cdn.evil-host.xyz/p.bin'), [
      'url https://cdn.evil-host.xyz/p.bin',
    ]);
  });
});

describe('references written again, reference sites, lists of examples', () => {
  test('a page the document links is a reference wherever it is written again, and so is a file under it', () => {
    const text =
      'フィードは下記です。\n\n - [https://feeds.vendor-news.com/list.csv](https://feeds.vendor-news.com/list.csv)\n\n' +
      '```python\nurl = "https://feeds.vendor-news.com/list.csv"\n```\n' +
      '「[Spray](https://github.com/someone/Spray)」を使います。\n' +
      'Invoke-WebRequest -URI "https://github.com/someone/Spray/archive/master.zip"\n';
    assert.deepEqual(found(text), []);
  });
  test('what a cited page does not cover is still an indicator', () => {
    // Another path on the cited host, a site root cited (covers nothing under it), a defanged form of a cited page.
    const text =
      'see [the post](https://github.com/someone/Spray) and [home](https://cdn.evil-host.xyz/)\n' +
      'payload at https://github.com/other/loader/raw/main/a.exe and https://cdn.evil-host.xyz/p.bin\n' +
      'gate hxxps://github[.]com/someone/Spray\n';
    assert.deepEqual(found(text), [
      'url https://github.com/other/loader/raw/main/a.exe',
      'url https://cdn.evil-host.xyz/p.bin',
      'url https://github.com/someone/Spray',
    ]);
  });
  test('a section of links or references, a tweet, a citation whose words end the line above', () => {
    const none = [
      '## Links <a name="Links"></a>\n\n* Original tweet: https://twitter.com/someone/status/1157458188792262656\n* https://blog.vendor-news.com/p\n',
      '## 参考\n- https://www.vendor-news.com/2026/05/post.html\n',
      '== References\n\nhttps://blog.vendor-news.com/p and https://cdn.vendor-news.com/q\n',
      'The blogpost is available on WeLiveSecurity at \nhttps://www.welivesecurity.com/2020/12/17/operation-x.\n',
      'see https://x.com/someone/status/1234567890',
      '<SendClientInfo xmlns="http://tempuri.org/">',
    ];
    for (const text of none) assert.deepEqual(found(text), [], text);
    // Another section after the references, a defanged URL among them, a tweet-like path elsewhere.
    const text =
      '## References\n- https://blog.vendor-news.com/p\n- hxxp://evil-gate[.]com/a.php\n' +
      '## Network\nhttps://cdn.evil-host.xyz/p.bin and https://evil-host.xyz/someone/status/12\n';
    assert.deepEqual(found(text), [
      'url http://evil-gate.com/a.php',
      'url https://cdn.evil-host.xyz/p.bin',
      'url https://evil-host.xyz/someone/status/12',
    ]);
    assert.deepEqual(found('the implant is fetched from\nhttps://cdn.evil-host.xyz/p.bin'), [
      'url https://cdn.evil-host.xyz/p.bin',
    ]);
  });
  test("a plain-text advisory's label in capitals on its own line opens or closes a section of references", () => {
    const text =
      'SOCIAL MEDIA POSTS:\n\n- https://www.linkedin.com/posts/vendor_post-123\n\nREFERENCES:\n' +
      '- https://blog.vendor-news.com/threat-brief/\n\nNOTES:\n\n- C2 at https://cdn.evil-host.xyz/p.bin\n' +
      '## Original References\n- https://lists.vendor-news.com/thread/1\n';
    assert.deepEqual(found(text), ['url https://cdn.evil-host.xyz/p.bin']);
    // Capitals with text after the colon are a line of prose, not a label: what follows is not a section of references.
    assert.deepEqual(found('REFERENCES: none yet\n- https://cdn.evil-host.xyz/q.bin'), [
      'url https://cdn.evil-host.xyz/q.bin',
    ]);
  });
  test('documentation, lookup and XML namespace sites are references, defanged or not', () => {
    const none = [
      'RSAT をインストールします。\n\nhttps://docs.microsoft.com/en-US/troubleshoot/windows-server/rsat\n',
      'https://www.microsoft.com/en-us/download/details.aspx?id=45520',
      'hxxps://urlscan[.]io/result/5d1b7a2c-0000-4000-8000-000000000000/',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
      'https://attack.mitre.org/techniques/T9999/',
    ];
    for (const text of none) assert.deepEqual(found(text), [], text);
    // A file on a host that carries other people's files stays an indicator.
    assert.deepEqual(found('downloads https://onedrive.live.com/download?cid=ABC'), [
      'url https://onedrive.live.com/download?cid=ABC',
    ]);
  });
  test('the items of a list labelled as examples show a form; other nested lists are indicators', () => {
    const examples =
      '- Defang の例:\n  - `1.1.1.1` => `1.1.1[.]1`\n  - `test-site.com` => `test-site(.)com`\n' +
      '  - `http://test-site.com` => `hxxp://test-site[.]com`\n' +
      '- Examples:\n  - https://cdn.sample-host.net/a.js\n';
    assert.deepEqual(
      found(examples).filter((h) => h.startsWith('url')),
      [],
    );
    const iocs =
      '- 攻撃の通信先:\n  - hxxp://evil-gate[.]com/a.php\n  - https://cdn.evil-host.xyz/p.bin\n' +
      '- 例:\n  - x\n- https://cdn.evil-host.xyz/q.bin\n- C2: 45.77.12.3, update-check[.]net\n';
    assert.deepEqual(found(iocs), [
      'url http://evil-gate.com/a.php',
      'url https://cdn.evil-host.xyz/p.bin',
      'url https://cdn.evil-host.xyz/q.bin',
      'ipv4 45.77.12.3',
      'domain update-check.net',
    ]);
  });
});

describe('defanged forms', () => {
  const cases: [string, string[]][] = [
    ['hxxp://evil[.]com/gate.php', ['url http://evil.com/gate.php']],
    ['hXXps[:]//evil(.)com/x', ['url https://evil.com/x']],
    ['https[://]evil{.}org/x', ['url https://evil.org/x']],
    ['evil[dot]net and evil [dot] info', ['domain evil.net', 'domain evil.info']],
    ['91.234.99[.]12[:]8080', ['ipv4 91.234.99.12:8080']],
    ['91[.]234[.]99[.]13', ['ipv4 91.234.99.13']],
    ['fxp://files[.]evil-host[.]com/a', ['url ftp://files.evil-host.com/a']],
    ['`++speed.wlaspsd[.]com/vip.js++`', ['url http://speed.wlaspsd.com/vip.js']],
    ['now.asmkpo[.]com:80 and evil[.]com/ alone', ['domain now.asmkpo.com', 'domain evil.com']],
    // A port between the defanged name and the path: still a URL without its scheme (a C2 endpoint).
    [
      '`audit.checkmarx[.]cx:443/v1/telemetry`（IP: `94.154.172.43`）',
      ['url http://audit.checkmarx.cx:443/v1/telemetry', 'ipv4 94.154.172.43'],
    ],
    [
      'c2[.]example-bad[.]net:8080/gate と sfrclak[.]com:8000 / IP',
      ['url http://c2.example-bad.net:8080/gate', 'domain sfrclak.com'],
    ],
    // A defanged address followed by a path (a list of download URLs): a URL without its scheme that covers its host;
    // a network in CIDR form, an address with a path that is not defanged, and one followed by a space are not.
    [
      '- 203[.]159.80.241/bins/dark.arm5 - 45.77.9[.]9:8080/gate.php',
      ['url http://203.159.80.241/bins/dark.arm5', 'url http://45.77.9.9:8080/gate.php'],
    ],
    ['101.79[.]5.0/24 and 45.77.9.10/x and 45.77.9[.]11 /x', ['ipv4 45.77.9.10', 'ipv4 45.77.9.11']],
  ];
  for (const [text, expected] of cases) test(text, () => assert.deepEqual(found(text), expected));
});

describe('Japanese text and fullwidth characters', () => {
  const cases: [string, string[]][] = [
    ['攻撃者のサーバ185.22.1.9に接続し、通信先はevil.comでした。', ['ipv4 185.22.1.9', 'domain evil.com']],
    ['通信先：ｅｖｉｌ．ｃｏｍ（ポート８０８０）', ['domain evil.com']],
    ['ＩＰアドレス１８５．２２．１．１０：４４３を確認', ['ipv4 185.22.1.10:443']],
    ['ｈｘｘｐｓ：／／ｂａｄ［．］ｊｐ／ａ を参照', ['url https://bad.jp/a']],
    ['悪性ドメインmalware[.]jpへの通信。', ['domain malware.jp']],
    ['不正サイトevil。comにアクセス', ['domain evil.com']],
    ['脆弱性ＣＶＥ－２０２３－２３３９７を悪用', ['cve CVE-2023-23397']],
    ['C2は45.77.12.3以上です', ['ipv4 45.77.12.3']],
    ['以下の通信先を確認: 45.77.12.3 以下の通り', ['ipv4 45.77.12.3']],
  ];
  for (const [text, expected] of cases) test(text, () => assert.deepEqual(found(text), expected));
});

describe('distractors', () => {
  const none: string[] = [
    'version 1.2.3.4 of the tool',
    'v10.20.30.40 release',
    'バージョン1.2.3.4を適用',
    'Apache CloudStackのLTS版4.19.3.0と4.20.1.0がリリースされ',
    '対象はバージョン9.4.7.2以前で、修正には3.2.1.0以上へのアップデートが必須',
    'affected: 45.12.3.9 and later, and 46.1.2.3 or earlier; fixed in version 45.12.5.9 to 45.12.6.1',
    '影響を受けるのは12.6.1.1未満、12.8.0.0以降は修正済み',
    '{% gist 4035ccaf5b7607a54e4d5cafad9c943b %}',
    'Ashampoo Studio HD 4.0.9.3 Multilingual',
    'internal hosts 10.0.0.5, 192.168.1.1, 172.16.0.9, 127.0.0.1, 169.254.1.1, 100.64.0.1',
    'documentation 192.0.2.1 198.51.100.7 203.0.113.9 and 2001:db8::1',
    'multicast 224.0.0.1 and broadcast 255.255.255.255 and 0.0.0.0',
    'octal-looking 010.001.002.003',
    'oid 1.3.6.1.4.1.311 and 1.2.3.4.5',
    'example.com, www.example.org, foo.example, bar.test, x.invalid, printer.local, localhost',
    'mail admin@corp-mail.com for help',
    'files invoice.pdf, setup.exe, readme.md, payload.zip, clip.mov, build.py, run.sh, libc.so',
    'System.Net.WebClient and document.location.host and WScript.Shell',
    'detected as Win32/Agent.AC and MSIL/Pterodo.BY',
    'time 12:34:56 and MAC 00:1a:2b:3c:4d:5e and std::vector and ::1 and fe80::1',
    'hash-like 0123456789abcdef0123456789abcdeg and 00000000000000000000000000000000',
    'number 12345678901234567890123456789012',
    'random T9999 and T1059.999 and T1234x',
    'C:\\Windows\\System32\\drivers\\etc.hosts and /usr/lib/libfoo.so.1',
  ];
  for (const text of none) test(text, () => assert.deepEqual(found(text), []));

  test('a file-extension TLD counts when the text says it is a name', () => {
    assert.deepEqual(found('the C2 domain was update-check.zip'), ['domain update-check.zip']);
    assert.deepEqual(found('download update-check.zip'), []);
    assert.deepEqual(found('download update-check[.]zip'), ['domain update-check.zip']);
    assert.deepEqual(found('通信先ドメインはsetup.pyでした'), ['domain setup.py']);
  });
});

describe('hex that is not a digest of a file', () => {
  const md5 = '5b28726ee7526a2b9efd73705d0e1e89';
  const sha1 = 'ab7ab346296d5c306e642590b21417d634c8abeb';
  test('the last line of a key or modulus wrapped over lines', () => {
    const modulus = `${'a9'.repeat(40)}\n${'3f'.repeat(40)}\n${md5}\n`;
    assert.deepEqual(found(`.RSA public modulus\n----\n${modulus}----\n`), []);
  });
  test('a digest under a 64-hex line or in a sentence after a long line is still one', () => {
    const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    assert.deepEqual(found(`${sha256}\n${md5}\n`), [`sha256 ${sha256}`, `md5 ${md5}`]);
    assert.deepEqual(found(`${'3f'.repeat(40)}\nmd5 ${md5}\n`), [`md5 ${md5}`]);
  });
  test("a table's password column holds digests of passwords; its hash column holds files", () => {
    const adoc =
      '|========\n|Hash (SHA-1) |Version |Backdoor password\n' +
      `|\`${sha1}\` |OpenSSH_4.3p2 |${md5} (MD5)\n|========\n`;
    assert.deepEqual(found(adoc), [`sha1 ${sha1}`]);
    const markdown = `| MD5 | パスワード |\n|---|---|\n| ${md5} | 0cc175b9c0f1b6a831c399e269772661 |\n`;
    assert.deepEqual(found(markdown), [`md5 ${md5}`]);
  });
});

describe('digests of legitimate files', () => {
  test("a table's column of the legitimate files a trojan was made from holds clean digests (ESET Evilnum, tuning)", () => {
    const bad = 'b3094794a9d2a5c16d0a95d236fb1faad6973f8e';
    const clean = '40daf0e93b2f6c7da0a48dac65113c19b993c052';
    const adoc =
      '|=====\n|SHA-1 malware |Filename malware |Legitimate App |Possible legitimate SHA-1\n' +
      `|\`${bad.toUpperCase()}\`|SynTPHelp.exe |Synaptics Pointing Device Driver |\`${clean.toUpperCase()}\`\n|=====\n`;
    assert.deepEqual(found(adoc), [`sha1 ${bad}`]);
    const markdown = `| SHA-256 | 正規ファイルの SHA-256 |\n|---|---|\n| ${'a1'.repeat(32)} | ${'b2'.repeat(32)} |\n`;
    assert.deepEqual(found(markdown), [`sha256 ${'a1'.repeat(32)}`]);
  });
});

describe('hex values an advisory labels as ids or keys', () => {
  const md5 = '3c9a1e55d0b47f2e8a6b19d04c7e2f13';
  const sha1 = '7d1f2b9e04ac63e58f10b2d7c94e6a3b5f08c211';
  const sha256 = '9b4e0c7a2d51f8e36a0b7c4d92e15f68a3c07b1d4e9f26a58c0d3b71e4f92a60';
  test('a build or campaign id under its label above a code block or a list is no digest (Netskope page form, tuning)', () => {
    const page =
      `# IOCs\n\n* **SHA256**\n\`\`\`text\n${sha256}\n\`\`\`\n\n` +
      `* **MAC Build ID**\n\`\`\`text\n${md5}\n\`\`\`\n`;
    assert.deepEqual(found(page), [`sha256 ${sha256}`]);
    const list = `Campaign IDs:\n- ${md5}\n- ${'5e'.repeat(16)}\n\nDropper (MD5):\n- ${'6f'.repeat(8)}${'1a'.repeat(8)}\n`;
    assert.deepEqual(found(list), [`md5 ${'6f'.repeat(8)}${'1a'.repeat(8)}`]);
  });
  test('a key, an id, a wallet or a commit written on the line of its label is no digest', () => {
    assert.deepEqual(found(`The loader decrypts its configuration with the RC4 key: ${md5}`), []);
    assert.deepEqual(found(`Bot ID = ${md5}`), []);
    assert.deepEqual(found(`The operators' Monero wallet address ${sha256}`), []);
    assert.deepEqual(found(`The fix landed upstream in commit ${sha1}.`), []);
    assert.deepEqual(found(`| Build ID | ${md5} |`), []);
  });
  test("a table's column of keys holds keys; its hash column holds files", () => {
    const adoc = `|===\n|SHA-1 |Version |RC4 key\n|\`${sha1}\` |2.1 |${md5}\n|===\n`;
    assert.deepEqual(found(adoc), [`sha1 ${sha1}`]);
  });
  test('labels that only share a word with a key or id label nothing: the hashes under them are files', () => {
    assert.deepEqual(found(`Keylogger modules\n----\n${sha1}\n----\n`), [`sha1 ${sha1}`]);
    assert.deepEqual(found(`## Key findings\n\n${sha256}\n`), [`sha256 ${sha256}`]);
    assert.deepEqual(found(`The payload's ID card: ${md5}`), [`md5 ${md5}`]);
    // A label above a line that holds more than the value (a file name beside it) says nothing of that value.
    assert.deepEqual(found(`Build ID:\n${md5} payload.dll\n`), [`md5 ${md5}`]);
  });
});

describe('files an anti-malware verdict calls clean', () => {
  test('a row whose detection is clean lists the legitimate executable a DLL is side-loaded into (ESET form, tuning)', () => {
    const loader = 'c1d2e3f4a5b60718293a4b5c6d7e8f9012345678';
    const host = '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567';
    const tool = 'f0e1d2c3b4a5968778695a4b3c2d1e0f12345678';
    const adoc =
      '[options="header"]\n|===\n|SHA-1 |Filename |Detection |Description\n' +
      `|\`${loader.toUpperCase()}\` |version.dll |Win32/Agent.AFXX |PlugX loader\n` +
      `|\`${host.toUpperCase()}\` |Updater.exe |clean |Vulnerable legitimate updater used for DLL side-loading\n` +
      `|\`${tool.toUpperCase()}\` |scan.exe |- |Legitimate scanner the attackers dropped\n|===\n`;
    // Only a verdict of clean in the detection column leaves a row out; a dash is no verdict.
    assert.deepEqual(found(adoc), [`sha1 ${loader}`, `sha1 ${tool}`]);
    const markdown = `| SHA-256 | ESET detection name |\n|---|---|\n| ${'a1'.repeat(32)} | clean |\n| ${'b2'.repeat(32)} | Win64/Agent.X |\n`;
    assert.deepEqual(found(markdown), [`sha256 ${'b2'.repeat(32)}`]);
  });
});

describe("a certificate's digest over its printout", () => {
  const sha256 = '4d7f0b2e9a1c68d35e0f7a2b9c4d1e6f08a3b5c7d2e9f1a4b6c8d0e2f4a6b8c0';
  test("a digest written just above a certificate printed in full is the certificate's (ESET DazzleSpy form, tuning)", () => {
    const adoc = `=== C&C server's CA certificate\n\nSHA-256: \`${sha256}\`\n\n----\nCertificate:\n    Data:\n        Version: 1 (0x0)\n----\n`;
    assert.deepEqual(found(adoc), []);
    const pem = `${sha256}\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n`;
    assert.deepEqual(found(pem), []);
  });
  test("a digest followed by anything else, or a certificate further down, is still a file's", () => {
    const sample = `SHA-256: ${sha256}\nDropped by the installer.\n\nCertificate:\n    Data:\n`;
    assert.deepEqual(found(sample), [`sha256 ${sha256}`]);
  });
});

describe('CVE ids inside URLs', () => {
  test("an id in a link's slug or a catalogue URL is part of that URL; written outside one, it is a CVE the text names", () => {
    // Forms of the tuning split (Unit 42 notes, secnews summaries): the article links repeat the id in their slug.
    assert.deepEqual(found('Source: https://www.vendor-news.com/2025/04/flaw-cve-2025-24813-exploited/'), []);
    // A catalogue's record of the id (its last path segment or a query value) names it: the link is the mention.
    assert.deepEqual(found('- https://nvd.nist.gov/vuln/detail/CVE-2023-3519'), ['cve CVE-2023-3519']);
    assert.deepEqual(found('See https://www.cve.org/CVERecord?id=CVE-2024-3400 now'), ['cve CVE-2024-3400']);
    assert.deepEqual(found('https://jvndb.jvn.jp/search/?cve=CVE-2024-3400&lang=ja'), ['cve CVE-2024-3400']);
    assert.deepEqual(found('[brief](https://unit42.paloaltonetworks.com/threat-brief-cve-2023-3519/)'), []);
    assert.deepEqual(
      found(
        'Scans for CVE-2023-3519.\nSource: https://unit42.paloaltonetworks.com/threat-brief-citrix-cve-2023-3519/',
      ),
      ['cve CVE-2023-3519'],
    );
    // The text of a markdown link is outside its URL.
    assert.deepEqual(found('[CVE-2021-44228](https://nvd.nist.gov/vuln/detail/CVE-2021-44228)'), [
      'cve CVE-2021-44228',
    ]);
    // A defanged URL without a scheme carries its id too.
    assert.deepEqual(found('exploit at evil-host[.]xyz/cve-2024-3400/poc.sh'), [
      'url http://evil-host.xyz/cve-2024-3400/poc.sh',
    ]);
  });
});

describe("certificates' fingerprints are not hashes of files", () => {
  const sha1 = 'ab7ab346296d5c306e642590b21417d634c8abeb';
  const other = '02ed6a578c575c8d9c72398e790354b095bb07bc';
  test('a fingerprint column, and a fingerprint labelled on its own row; the hash column beside them still holds files', () => {
    // Forms of the tuning split (ESET's Buhtrap, GMERA and TA410 pages): signing certificates listed after the samples.
    const companies = `|===\n|Company name|Fingerprint\n|YUVA-TRAVEL|\`${other}\`\n|===\n`;
    assert.deepEqual(found(companies), []);
    const developers = `| App | Fingerprint (SHA-1) | Developer |\n|---|---|---|\n| Stockfolio | \`${other}\` | Levis |\n`;
    assert.deepEqual(found(developers), []);
    const fields = `|===\n|Serial number |0x0F8B600FF1882E\n|Thumbprint (SHA-1)|\`${other.toUpperCase()}\`\n|===\n`;
    assert.deepEqual(found(fields), []);
    assert.deepEqual(found(`Certificate fingerprint: ${other}`), []);
    // The samples table after a certificate's key-value rows is not under a fingerprint column.
    const samples = `${fields}\n|===\n|SHA-1 |Filename\n|\`${sha1}\` |loader.dll\n|===\n`;
    assert.deepEqual(found(samples), [`sha1 ${sha1}`]);
    const both = `| SHA-1 | Signer | Signer fingerprint |\n|---|---|---|\n| ${sha1} | ACME | ${other} |\n`;
    assert.deepEqual(found(both), [`sha1 ${sha1}`]);
  });
  test("a TLS client's JA3 fingerprint, labelled on its line or on the line above, is no file's MD5", () => {
    // The form of a tuning document (executemalware's Latrodectus write-up): a `JA3 HASH` heading over the value.
    const ja3 = 'a0e9f5d64349fb13191bc781f81f42e1';
    const md5 = 'ec183d55d6c11480bc167da468a526fa';
    assert.deepEqual(found(`MSI FILE HASH\nqual.msi\n${md5}\n\nJA3 HASH\n${ja3}\n`), [`md5 ${md5}`]);
    assert.deepEqual(found(`JA3: ${ja3}`), []);
    assert.deepEqual(found(`| JA3S hash | ${ja3} |`), []);
    // A heading that only mentions JA3 among other words labels nothing; a hash under a file heading still counts.
    assert.deepEqual(found(`JA3 AND FILE HASHES\n${md5}\n`), [`md5 ${md5}`]);
    assert.deepEqual(found(`the JA3 differs\n${md5}\n`), [`md5 ${md5}`]);
  });
  test('prose that mentions a fingerprint opens no table, and a hash after other words is still one', () => {
    const prose = `The certificate fingerprint, as noted, differs.\n${sha1}, dropped by the loader\n`;
    assert.deepEqual(found(prose), [`sha1 ${sha1}`]);
    assert.deepEqual(found(`the fingerprint is gone; sample ${sha1}`), [`sha1 ${sha1}`]);
  });
});

describe('defanged code', () => {
  test('a script object whose every dot the author defanged stays code; a defanged name in lower case stays a name', () => {
    // The form of a tuning document (executemalware's Latrodectus write-up): a deobfuscated script defanged throughout.
    assert.deepEqual(
      found('var network = new ActiveXObject("WScript[.]Network");\nWScript[.]Echo("Failed.");'),
      [],
    );
    assert.deepEqual(found('C2 wscript[.]network'), ['domain wscript.network']);
  });
});

describe('networks in CIDR form', () => {
  test('a range is not an address; the address beside it and an address with a path are', () => {
    assert.deepEqual(found('|185.231.153.21| 185.231.153.0/24|AS48282|'), ['ipv4 185.231.153.21']);
    assert.deepEqual(found('<td>101.79.5.0/24</td> blocked 45.77.12.0/22'), []);
    assert.deepEqual(found('C2 45.77.12.3/gate.php and 45.77.12.4/24x'), [
      'ipv4 45.77.12.3',
      'ipv4 45.77.12.4',
    ]);
  });
});

describe('hashes inside URLs', () => {
  const sha = '39831bc68dddc4d22b7a0eea978a0193966d2cefda77a223c2b7140305e8b5fd';
  test('a lookup service, sandbox or tracker naming a file by its hash: a reference, and the hash', () => {
    // VirusTotal, MalwareBazaar, Hybrid Analysis are services the analyst uses (references), so only the hash they
    // name is an indicator; defanging does not make one of their URLs an attacker's.
    assert.deepEqual(found(`- https://www.virustotal.com/gui/file/${sha}/detection`), [`sha256 ${sha}`]);
    assert.deepEqual(found(`- hxxps://www.virustotal[.]com/gui/file/${sha}/detection`), [`sha256 ${sha}`]);
    assert.deepEqual(found(`sample hxxps://bazaar.abuse[.]ch/sample/${sha}/`), [`sha256 ${sha}`]);
    assert.deepEqual(found('https://www.hybrid-analysis.com/search?hash=d41d8cd98f00b204e9800998ecf8427f'), [
      'md5 d41d8cd98f00b204e9800998ecf8427f',
    ]);
  });
  test('sandbox reports, tracker entries and catalogue pages are references: none of them is listed', () => {
    const text = [
      'Triage: https://tria.ge/210907-w6r1vsgdaq',
      'URLhaus: https://urlhaus.abuse.ch/url/1719804/',
      'ANY.RUN: https://app.any.run/tasks/0b9f2c1e-3c4d-4e5f-8a6b-7c8d9e0f1a2b',
      'Malpedia: https://malpedia.caad.fkie.fraunhofer.de/details/win.poshc2',
      'payload: hxxp://update-check[.]top/a.exe',
    ].join('\n');
    assert.deepEqual(found(text), ['url http://update-check.top/a.exe']);
  });
  test('hex ids in other paths are the URL only (gists, notes, C2 paths)', () => {
    assert.deepEqual(found('https://gist.github.com/someone/104f55329f5a80cada6a0c47e291f9d1'), [
      'url https://gist.github.com/someone/104f55329f5a80cada6a0c47e291f9d1',
    ]);
    assert.deepEqual(found('http://82.118.236[.]23:8080/27c00829d57988279f3ec61a05dee75a'), [
      'url http://82.118.236.23:8080/27c00829d57988279f3ec61a05dee75a',
    ]);
  });
});

describe('ports and context', () => {
  test('a port column of a markdown table, a tab-separated table and an AsciiDoc table', () => {
    const markdown = '| IP | Port | Note |\n|---|---|---|\n| 103.1.2.3 | 8080 | c2 |\n| 103.1.2.4 | 443 | |';
    assert.deepEqual(found(markdown), ['ipv4 103.1.2.3:8080', 'ipv4 103.1.2.4:443']);
    assert.deepEqual(found('IP\tポート\n103.1.2.5\t22\n'), ['ipv4 103.1.2.5:22']);
    assert.deepEqual(found('|===\n|IP |Port\n|`+103.1.2.6+` |`+53+`\n|==='), ['ipv4 103.1.2.6:53']);
    // The table ends at a line without its separator.
    assert.deepEqual(found('| IP | Port |\n| 103.1.2.7 | 80 |\nprose 103.1.2.8\n| 103.1.2.9 | 81 |'), [
      'ipv4 103.1.2.7:80',
      'ipv4 103.1.2.8',
      'ipv4 103.1.2.9',
    ]);
  });

  test('the context is the hit line as written, defanged forms kept', () => {
    const [hit] = extractIndicators('first line\nthe C2 was hxxp://evil[.]com/x today\nlast line');
    assert.equal(hit?.context, 'the C2 was hxxp://evil[.]com/x today');
    const [far] = extractIndicators(`${'word '.repeat(40)}evil-host.com${' word'.repeat(40)}`, {
      contextChars: 10,
    });
    assert.ok(far!.context.length <= 10 + 'evil-host.com'.length + 10, far!.context);
  });

  test('once per value, the first context kept; the same address with another port is another hit', () => {
    assert.deepEqual(found('evil.com and again evil.com; 45.77.1.1:80 and 45.77.1.1:443 and 45.77.1.1:80'), [
      'domain evil.com',
      'ipv4 45.77.1.1:80',
      'ipv4 45.77.1.1:443',
    ]);
  });

  test('hostsOfUrls reports a URL host as a name or an address of its own', () => {
    assert.deepEqual(
      pairs(extractIndicators('http://45.77.9.9:8080/x and https://evil.net/', { hostsOfUrls: true })),
      ['url http://45.77.9.9:8080/x', 'ipv4 45.77.9.9:8080', 'url https://evil.net/', 'domain evil.net'],
    );
  });
});

describe('invisible format characters inside an indicator (text copied from web pages)', () => {
  const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  const md5b = '0cc175b9c0f1b6a831c399e269772661';
  const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
  const sha1b = '86f7e437faa5a7fce15d1ddcb9eaeaea377667b8';
  const at = (text: string, index: number, inserted: string) =>
    text.slice(0, index) + inserted + text.slice(index);
  // Soft hyphen, zero-width non-joiner and joiner, word joiner, BOM (zero-width no-break space): never a separator.
  const joiners = ['\u00ad', '\u200c', '\u200d', '\u2060', '\ufeff'];

  test('a hash wrapped by a joiner anywhere, even where the halves would be two MD5s, is one hash', () => {
    for (const joiner of joiners) {
      for (const index of [1, 30, 32, 63]) {
        assert.deepEqual(
          found(`sha256 ${at(sha256, index, joiner)}`),
          [`sha256 ${sha256}`],
          `U+${joiner.charCodeAt(0).toString(16)} at ${index}`,
        );
      }
    }
    // A browser's hyphenation marks many points of one word.
    assert.deepEqual(found(`SHA-1: ${sha1.replace(/(.{5})/g, '$1\u00ad')}`), [`sha1 ${sha1}`]);
  });

  test('a zero-width space inside a hex run joins it when only the whole is a digest', () => {
    assert.deepEqual(found(`sha256 ${at(sha256, 30, '\u200b')}`), [`sha256 ${sha256}`]);
    assert.deepEqual(found(`sha1 ${at(sha1, 20, '\u200b')}`), [`sha1 ${sha1}`]);
    // Broken every 16 characters by a page that lets long words wrap.
    assert.deepEqual(found(`hash ${sha256.replace(/(.{16})(?=.)/g, '$1\u200b')}`), [`sha256 ${sha256}`]);
    // A digest and a run that is none: the whole is the digest the reader sees.
    assert.deepEqual(found(`${sha1}\u200b${sha256.slice(40)}`), [`sha256 ${sha1}${sha256.slice(40)}`]);
  });

  test('a zero-width space between runs that are each a digest separates them, as between a digest and a word', () => {
    assert.deepEqual(found(`${md5}\u200b${md5b}`), [`md5 ${md5}`, `md5 ${md5b}`]);
    assert.deepEqual(found(`${sha1}\u200b${sha1b}`), [`sha1 ${sha1}`, `sha1 ${sha1b}`]);
    assert.deepEqual(found(`${md5}\u200b${md5b}\u200b${sha1}`), [
      `md5 ${md5}`,
      `md5 ${md5b}`,
      `sha1 ${sha1}`,
    ]);
    // The whole would be no digest: the digest in it stays one (`<md5>\u200bsample`, `<sha1>\u200b<md5>`).
    assert.deepEqual(found(`${md5}\u200bsample`), [`md5 ${md5}`]);
    assert.deepEqual(found(`${sha1}\u200b${md5}`), [`sha1 ${sha1}`, `md5 ${md5}`]);
    assert.deepEqual(found(`x${md5.slice(1)}\u200b${md5b}`), [`md5 ${md5b}`]);
  });

  test('between indicators separated by a space or a line, nothing merges', () => {
    for (const invisible of ['\u200b', ...joiners]) {
      assert.deepEqual(found(`${md5}${invisible} ${md5b}`), [`md5 ${md5}`, `md5 ${md5b}`]);
      assert.deepEqual(found(`${md5} ${invisible}${md5b}\n${invisible}${sha1}`), [
        `md5 ${md5}`,
        `md5 ${md5b}`,
        `sha1 ${sha1}`,
      ]);
      assert.deepEqual(found(`evil-host.com${invisible} 45.77.12.3`), [
        'domain evil-host.com',
        'ipv4 45.77.12.3',
      ]);
    }
  });

  test('a name, a URL and an address with an invisible character inside are whole', () => {
    for (const invisible of ['\u200b', ...joiners]) {
      assert.deepEqual(found(`C2 evil-\u200bhost${invisible}.com and 45.77${invisible}.12.3`), [
        'domain evil-host.com',
        'ipv4 45.77.12.3',
      ]);
      assert.deepEqual(
        found(`from https://cdn.evil${invisible}-host.xyz/a/${invisible}b.php?id=${invisible}1 today`),
        ['url https://cdn.evil-host.xyz/a/b.php?id=1'],
      );
      assert.deepEqual(found(`hxxp://evil[.]${invisible}com/gate${invisible}.php`), [
        'url http://evil.com/gate.php',
      ]);
    }
  });

  test('refang drops them and maps each remaining character back to where it was written', () => {
    const { text, origin } = refang('ab\u00adc\u200bd\ufeff[.]e');
    assert.equal(text, 'abcd.e');
    assert.deepEqual([...origin], [0, 1, 3, 5, 7, 10, 11]);
    // Kept where it separates two digests: the matchers' runs end at it.
    const md5s = `${md5}\u200b${md5b}`;
    assert.equal(refang(md5s).text, md5s);
  });

  test('the value has them removed; the context quotes the text as written', () => {
    const text = `first line\nthe sample ${at(sha256, 32, '\u00ad')} dropped\nlast line`;
    assert.deepEqual(extractIndicators(text), [
      { type: 'sha256', value: sha256, context: `the sample ${at(sha256, 32, '\u00ad')} dropped` },
    ]);
    const [url] = extractIndicators('see\u200b https://evil-host.com/a\u200bb\u200b here');
    assert.deepEqual(url, {
      type: 'url',
      value: 'https://evil-host.com/ab',
      context: 'see\u200b https://evil-host.com/a\u200bb\u200b here',
    });
  });
});

describe('defanged IPv6', () => {
  test('every colon bracketed, and `[::]` between groups', () => {
    assert.deepEqual(found('2a01[:]4f8[:]c17[:]1234[::]4'), ['ipv6 2a01:4f8:c17:1234::4']);
    assert.deepEqual(found('2a01:4f8:c17:1234[::]4 and 2a01[::]5'), [
      'ipv6 2a01:4f8:c17:1234::4',
      'ipv6 2a01::5',
    ]);
    assert.deepEqual(found('2a01:4f8:c17:1234[:]:3'), ['ipv6 2a01:4f8:c17:1234::3']);
    assert.deepEqual(found('C2 [2a01[:]4f8[::]6]:443'), ['ipv6 2a01:4f8::6:443']);
  });

  test('`[::]` outside an address stays as written: a listen address, a slice, prose', () => {
    const none = [
      'listen [::]:443 and [::]:80',
      'bind to [::] on port 22',
      'print(s[::], x[::2], a[::-1], data[::])',
    ];
    for (const text of none) {
      assert.deepEqual(found(text), []);
      assert.equal(refang(text).text, text);
    }
  });
});

describe('IPv4-mapped IPv6 addresses (Node.js and sshd logs)', () => {
  test('the indicator is the IPv4 address, quoted with the mapped form', () => {
    assert.deepEqual(extractIndicators('Accepted password for root from ::ffff:45.77.12.3 port 51234 ssh2'), [
      {
        type: 'ipv4',
        value: '45.77.12.3',
        context: 'Accepted password for root from ::ffff:45.77.12.3 port 51234 ssh2',
      },
    ]);
    assert.deepEqual(found('[::FFFF:45.77.12.4]:443, 0:0:0:0:0:ffff:45.77.12.5 and ::ffff:2d4d:c06'), [
      'ipv4 45.77.12.4:443',
      'ipv4 45.77.12.5',
      'ipv4 45.77.12.6',
    ]);
    // Four single digits read as a version unless written as an address.
    assert.deepEqual(found('remoteAddress: ::ffff:8.8.4.4'), ['ipv4 8.8.4.4']);
    const [short] = extractIndicators(`${'x'.repeat(30)} ::ffff:45.77.12.3 ${'y'.repeat(30)}`, {
      contextChars: 4,
    });
    assert.match(short!.context, /::ffff:45\.77\.12\.3/);
  });

  test('private, loopback and documentation addresses stay filtered, and a network in prefix form is none', () => {
    assert.deepEqual(
      found(
        '::ffff:192.0.2.128 ::ffff:10.1.2.3 ::ffff:127.0.0.1 [::ffff:7f00:1]:80 ::ffff:c000:280 ::ffff:45.77.12.0/120',
      ),
      [],
    );
  });
});

/** Mulberry32: the same text for the same seed on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  '.',
  '[.]',
  '(.)',
  '[:]',
  ':',
  '::',
  '/',
  '//',
  'hxxp',
  'https://',
  '[',
  ']',
  '(',
  ')',
  '@',
  '-',
  '\n',
  '\t',
  '|',
  ' ',
  'a',
  'Z',
  '0',
  '9',
  'f',
  'com',
  'jp',
  'zip',
  'T1059',
  'CVE-2024-',
  '１',
  '．',
  '：',
  'の',
  '通信先',
  '\u0000',
  '\ud800',
  '🙂',
  'ffff',
  '255',
  '2001:',
  'version ',
  '.onion',
  'xn--',
  '\u200b',
  '\u00ad',
  '\ufeff',
  '[::]',
  '::ffff:',
];

function fuzzText(next: () => number, length: number): string {
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const part =
      next() < 0.7
        ? FRAGMENTS[Math.floor(next() * FRAGMENTS.length)]!
        : String.fromCharCode(Math.floor(next() * 0xffff));
    parts.push(part);
    size += part.length;
  }
  return parts.join('');
}

describe('from the tuning split (third English set)', () => {
  test('a hex label of a host name is part of the name, not a digest; a file named after its hash still gives the hash', () => {
    assert.deepEqual(found('- owkky.c8030120000007210000000025000000.0.v6.isavscan[.]biz'), [
      'domain owkky.c8030120000007210000000025000000.0.v6.isavscan.biz',
    ]);
    assert.deepEqual(found('dropped 3ee37a570cc968ca2ad5a99f920c9332.exe'), [
      'md5 3ee37a570cc968ca2ad5a99f920c9332',
    ]);
  });

  test('in a document that defangs what it reports, live URLs alone under a sentence are its citations', () => {
    const text = [
      '- The domain owner uses the IP 209.141.56[.]200 for its nameservers.',
      '- The technique is similar to a campaign we reported.',
      '  -- https://unit42.paloaltonetworks.com/three-dns-tunneling-campaigns/',
      '- isavscan[.]baby',
    ].join('\n');
    assert.deepEqual(found(text), ['ipv4 209.141.56.200', 'domain isavscan.baby']);
    // Under a label (not a sentence), the URL is what the label lists; without any defanged form, it is reported too.
    assert.deepEqual(found('- C2 at 45.77.12[.]3\n- Payload:\n  -- https://cdn.evil-host.xyz/a.php'), [
      'ipv4 45.77.12.3',
      'url https://cdn.evil-host.xyz/a.php',
    ]);
    assert.deepEqual(found('- The loader was reported.\n  -- https://cdn.evil-host.xyz/a.php'), [
      'url https://cdn.evil-host.xyz/a.php',
    ]);
    assert.deepEqual(found('payload at https://cdn.evil-host.xyz/a.php'), [
      'url https://cdn.evil-host.xyz/a.php',
    ]);
  });
});

describe("from the tuning split (researchers' pages and timely notes)", () => {
  test('a page\'s "Reporting" section lists reports, not indicators', () => {
    const text = [
      '# NanoCore RAT',
      '## Reporting',
      '* https://www.stratosphereips.org/blog/2018/9/7/what-do-we-know-about-nanocore-rat-a-review',
      '## Network',
      '* http://kbfvzoboss.bid/alien/fre.php',
    ].join('\n');
    assert.deepEqual(found(text), ['url http://kbfvzoboss.bid/alien/fre.php']);
  });

  test('a section titled with two such words, and an autolink, are references too', () => {
    const text = [
      '# Qealler',
      '## Write-Up & Reporting',
      '* https://www.cyberark.com/threat-research-blog/qealler-the-silent-java-credential-thief/',
      '## C2',
      '* http://kbfvzoboss.bid/alien/fre.php',
    ].join('\n');
    assert.deepEqual(found(text), ['url http://kbfvzoboss.bid/alien/fre.php']);
    assert.deepEqual(
      found('More at <https://decoded.avast.io/janrubin/clipsa-multipurpose-password-stealer/>'),
      [],
    );
    assert.deepEqual(found('## Network & Hashes\n* http://kbfvzoboss.bid/alien/fre.php'), [
      'url http://kbfvzoboss.bid/alien/fre.php',
    ]);
  });

  test('a dash that separates a URL from its hash is not part of the URL', () => {
    const sha = '1ff02d986dc1f18a65d133786eba16ee7c614e9dbdd3fbc78129ec0918633e8a';
    assert.deepEqual(found(`- Mar 19, 2021 - 203[.]159.80.241/bins/dark.arm7- ${sha}`), [
      'url http://203.159.80.241/bins/dark.arm7',
      `sha256 ${sha}`,
    ]);
  });
});

describe('fuzz', () => {
  test('seeded random text: no throw, and every hit is a canonical value of its type', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const text = fuzzText(random(seed), 2000);
      for (const hit of extractIndicators(text)) {
        assert.ok(hit.value.length > 0 && !/[\s[\]]/.test(hit.value), `seed ${seed}: ${JSON.stringify(hit)}`);
        assert.ok(hit.port === undefined || (hit.port >= 1 && hit.port <= 65535));
      }
    }
  });

  // Inputs shaped to make a backtracking matcher go quadratic; each must stay linear. The bound
  // is loose (the machine is shared) but a quadratic matcher takes minutes on these.
  const SECONDS_PER_MB = 4;
  const megabyte = 1 << 20;
  const adversarial: [string, string][] = [
    ['dotted labels', 'a.'.repeat(megabyte / 2)],
    ['dotted digits', '1.'.repeat(megabyte / 2)],
    ['colons', ':'.repeat(megabyte)],
    ['hex and colons', 'ab:'.repeat(megabyte / 3)],
    ['one hex run', 'a'.repeat(megabyte)],
    ['defang brackets', '[.]'.repeat(megabyte / 3)],
    ['a URL without end', 'http://' + 'a/'.repeat(megabyte / 2)],
    ['unbalanced parentheses in a URL', 'http://evil.com/' + ')'.repeat(megabyte / 8)],
    ['table rows', '| IP | Port |\n' + '| 45.1.1.1 | 80 |\n'.repeat(megabyte / 18)],
    ['zero-width spaces between hex runs', 'ab\u200b'.repeat(megabyte / 3)],
    // One chain of words a digest heads: every space of it separates.
    ['zero-width spaces after a digest', `${'a'.repeat(31)}b\u200b${'g\u200b'.repeat(megabyte / 2)}`],
    ['zero-width spaces alone', '\u200b'.repeat(megabyte)],
    ['soft hyphens in one hex run', 'abcdef0123\u00ad'.repeat(megabyte / 11)],
    ['bracketed double colons after groups', '1[::]'.repeat(megabyte / 5)],
    ['IPv4-mapped prefixes', '::ffff:'.repeat(megabyte / 7) + '45.77.12.3'],
    ['random fragments', fuzzText(random(7), megabyte)],
  ];
  for (const [name, text] of adversarial) {
    test(`${name}: under ${SECONDS_PER_MB} s per MB`, () => {
      const started = performance.now();
      extractIndicators(text);
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < (SECONDS_PER_MB * text.length) / megabyte, `${seconds.toFixed(2)} s`);
    });
  }

  // Many hits on one line: every check that reads a hit's line (its start, whether the hit is alone on it, the line
  // above, the context, the table column) must cost the hit, not the line. Scanning the line per hit took 30 s and
  // more for one megabyte of MD5s; the same text wrapped at 80 columns took under a second.
  const next = random(11);
  const hex = (length: number) => {
    let out = '';
    for (let i = 0; i < length; i++) out += '0123456789abcdef'[Math.floor(next() * 16)];
    return out;
  };
  const octet = () => Math.floor(next() * 256);
  const address = () =>
    `${45 + Math.floor(next() * 100)}.${octet()}.${octet()}.${1 + Math.floor(next() * 254)}`;
  const oneLine = (size: number, item: () => string) => {
    const items: string[] = [];
    for (let length = 0; length < size; length += items[items.length - 1]!.length + 1) items.push(item());
    return items.join(' ');
  };
  const mixed = () =>
    [
      () => hex(32),
      () => hex(40),
      () => hex(64),
      address,
      () => `hxxp://${hex(8)}[.]com/${hex(4)}`,
      () => `${hex(6)}[.]net`,
      () => `${address().replace('.', '[.]')}/bins/x`,
      () => `http://${hex(8)}.org/`,
      () => `[x](https://${hex(6)}.com/page)`,
      () => `CVE-2024-${1000 + octet()}`,
    ][Math.floor(next() * 10)]!();
  const longLines: [string, string][] = [
    ['MD5s', oneLine(megabyte, () => hex(32))],
    ['SHA-256s', oneLine(megabyte, () => hex(64))],
    ['dotted quads', oneLine(megabyte, address)],
    ['defanged URLs', oneLine(megabyte, () => `hxxps://${hex(8)}[.]com/${hex(6)}`)],
    ['a mix of every kind', oneLine(megabyte, mixed)],
    ['a mix of every kind, 4 MB', oneLine(4 * megabyte, mixed)],
    // One row of a table with a column of passwords: the column of each hash is counted along the row once.
    ['a table row of hashes', `| Password | Hash |\n|${oneLine(megabyte, () => ` ${hex(32)} |`)}`],
    [
      'lines of MD5s after a long line',
      `${oneLine(megabyte / 2, () => hex(32))}\n${oneLine(megabyte / 2, () => `${hex(32)}\n`)}`,
    ],
  ];
  for (const [name, text] of longLines) {
    test(`one line of ${name}: under ${SECONDS_PER_MB} s per MB`, () => {
      const started = performance.now();
      const hits = extractIndicators(text);
      const seconds = (performance.now() - started) / 1000;
      assert.ok(hits.length > 1000);
      assert.ok(seconds < (SECONDS_PER_MB * text.length) / megabyte, `${seconds.toFixed(2)} s`);
    });
  }
});
