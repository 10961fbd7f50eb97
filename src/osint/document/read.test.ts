/** Documents to text: HTML through htmlparser2, PDF through the real pdftotext, the kind sniffed. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { extractIndicators } from '../extract/extract.ts';
import { minimalPdf } from '../testing.ts';
import { DocumentError, documentKind, htmlToText, pdfToText, readDocument } from './read.ts';

const PDF = { command: 'pdftotext', timeoutMs: 20_000, maxOutputBytes: 1 << 20 };
const hasPdftotext = spawnSync('pdftotext', ['-v']).error === undefined;

test('HTML: scripts, styles and the head dropped, entities decoded, table cells by tabs', () => {
  const { title, text } = htmlToText(
    '<!doctype html><html><head><title>Advisory &amp; IoCs</title><style>a{}</style>' +
      '<script>var c2 = "45.9.9.9";</script></head><body><p>C2&nbsp;at hxxp://evil[.]com&#47;x</p>' +
      '<table><tr><th>IP</th><th>Port</th></tr><tr><td>5.45.65.21</td><td>4443</td></tr></table>' +
      '<noscript>198.18.0.1</noscript><p>done</p></body></html>',
  );
  assert.equal(title, 'Advisory & IoCs');
  assert.ok(!text.includes('45.9.9.9') && !text.includes('a{}'));
  assert.match(text, /C2 at hxxp:\/\/evil\[\.\]com\/x/);
  assert.match(text, /\nIP\tPort\n+5\.45\.65\.21\t4443\n/);
  assert.deepEqual(
    extractIndicators(text).map((h) => `${h.type} ${h.value} ${h.port ?? ''}`),
    ['url http://evil.com/x ', 'ipv4 5.45.65.21 4443'],
  );
});

test('the kind comes from the content first, then the name or media type', () => {
  assert.equal(documentKind(Buffer.from('%PDF-1.7 ...'), 'a.txt'), 'pdf');
  assert.equal(documentKind(Buffer.from('  <!DOCTYPE html><p>x'), 'a.txt'), 'html');
  assert.equal(documentKind(Buffer.from('plain'), 'advisory.HTML'), 'html');
  assert.equal(documentKind(Buffer.from('plain'), 'text/html; charset=utf-8'), 'html');
  assert.equal(documentKind(Buffer.from('plain'), 'notes.md'), 'text');
});

test(
  'PDF text through pdftotext',
  { skip: !hasPdftotext && 'pdftotext (poppler-utils) not installed' },
  async () => {
    const pdf = minimalPdf([
      'Indicators of compromise',
      'C2: update-check[.]net 91.234.99.12:8080',
      'CVE-2024-3400',
    ]);
    const read = await readDocument(pdf, 'report.pdf', PDF);
    assert.equal(read.kind, 'pdf');
    assert.deepEqual(
      extractIndicators(read.text).map((h) => h.value),
      ['update-check.net', '91.234.99.12', 'CVE-2024-3400'],
    );
  },
);

test('a broken PDF is a DocumentError (bad input), as is a missing pdftotext', async () => {
  // Said in words, not as the command line that failed.
  if (hasPdftotext)
    await assert.rejects(pdfToText(Buffer.from('%PDF-1.4\ngarbage'), PDF), (error: Error) => {
      assert.ok(error instanceof DocumentError);
      assert.equal(error.message, 'unreadable PDF (pdftotext could not open it, exit 1)');
      return true;
    });
  await assert.rejects(
    pdfToText(Buffer.from('%PDF-1.4'), { ...PDF, command: 'no-such-pdftotext-here' }),
    (error: Error) => error instanceof DocumentError && /not found/.test(error.message),
  );
});

test('fuzz: random bytes as HTML and as text never throw', async () => {
  let seed = 99;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let round = 0; round < 200; round++) {
    const bytes = Buffer.from(Array.from({ length: 1 + ((round * 37) % 3000) }, next));
    if (round % 2 === 0) bytes.write('<html><table><tr><td>', 0);
    const read = await readDocument(bytes, round % 3 === 0 ? 'x.html' : 'x.txt', PDF);
    extractIndicators(read.text);
  }
});

test('Japanese documents in Shift_JIS and EUC-JP read as Japanese, declared or not', async () => {
  // 「C2 サーバの通信先は evil-jp[.]com です。」 as Japanese sites still write it.
  const sentence = 'C2 サーバの通信先は evil-jp[.]com です。';
  const sjis = Buffer.from(
    '4332208354815b836f82cc92ca904d90e682cd206576696c2d6a705b2e5d636f6d2082c582b78142',
    'hex',
  );
  const eucjp = Buffer.from(
    '433220a5b5a1bca5d0a4cec4ccbfaec0e8a4cf206576696c2d6a705b2e5d636f6d20a4c7a4b9a1a3',
    'hex',
  );
  const pdf = { command: 'pdftotext', timeoutMs: 5000, maxOutputBytes: 1 << 20 };
  // Declared by the media type, by the page's meta, by nothing at all.
  assert.equal((await readDocument(sjis, 'text/plain; charset=Shift_JIS', pdf)).text, sentence);
  const page = Buffer.concat([
    Buffer.from(
      '<html><head><meta http-equiv="Content-Type" content="text/html; charset=shift_jis"></head><body><p>',
    ),
    sjis,
    Buffer.from('</p></body></html>'),
  ]);
  assert.match(
    (await readDocument(page, 'text/html', pdf)).text,
    new RegExp(sentence.replace(/[[\].]/g, '\\$&')),
  );
  assert.equal((await readDocument(sjis, 'advisory.txt', pdf)).text, sentence);
  assert.equal((await readDocument(eucjp, 'advisory.txt', pdf)).text, sentence);
  // UTF-8 stays UTF-8 (tried first), and the context of a hit reads as written.
  assert.equal((await readDocument(Buffer.from(sentence), 'advisory.txt', pdf)).text, sentence);
  const hits = extractIndicators((await readDocument(sjis, 'advisory.txt', pdf)).text);
  assert.deepEqual(
    hits.map((h) => [h.value, h.context]),
    [['evil-jp.com', sentence]],
  );
});
