/** URL lists in every format the ingest takes, and a seeded fuzz of the line readers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createLineReader,
  detectFormat,
  ListFormatError,
  parseJsonArray,
  parseSeenAt,
  type IngestRecord,
} from '../index.ts';

function readAll(text: string) {
  const lines = text.split('\n');
  const reader = createLineReader(
    detectFormat(lines.find((l) => l.trim()) ?? '') as 'txt' | 'csv' | 'ndjson',
  );
  const records: IngestRecord[] = [];
  let bad = 0;
  for (const line of lines) {
    const r = reader.line(line);
    if (r === 'bad') bad++;
    else if (r) records.push(r);
  }
  return { format: reader.format, records, bad };
}

test("JPCERT/CC's monthly CSV: date in Japan time, URL, brand", () => {
  const { format, records, bad } = readAll(
    'date,URL,description\n2025/01/06 09:56:00,https://ybrjaouww.com/,Apple ID\n' +
      '2025/02/03 11:43:00,"https://orico-x.dhyhd.net/eorico/login/?a=1,2",Orico\nnot a date,https://x.example/,Amazon\n,,\n',
  );
  assert.equal(format, 'csv');
  assert.deepEqual(records, [
    { url: 'https://ybrjaouww.com/', seenAt: '2025-01-06T00:56:00.000Z', description: 'Apple ID' },
    {
      url: 'https://orico-x.dhyhd.net/eorico/login/?a=1,2',
      seenAt: '2025-02-03T02:43:00.000Z',
      description: 'Orico',
    },
  ]);
  assert.equal(bad, 2, 'an unreadable date and a line with no URL');
  assert.throws(() => createLineReader('csv').line('date,link'), ListFormatError);
});

test('plain text, NDJSON and JSON arrays', () => {
  const txt = readAll('# feed\nhttps://a.example/\n\n  http://b.example/x  \n');
  assert.equal(txt.format, 'txt');
  assert.deepEqual(txt.records, [{ url: 'https://a.example/' }, { url: 'http://b.example/x' }]);
  const nd = readAll(
    '{"url":"https://a.example/","first_seen":"2025-07-01T00:00:00Z"}\n{"nope":1}\n[oops\n"https://c.example/"\n',
  );
  assert.equal(nd.format, 'ndjson');
  assert.deepEqual(nd.records, [
    { url: 'https://a.example/', seenAt: '2025-07-01T00:00:00.000Z' },
    { url: 'https://c.example/' },
  ]);
  assert.equal(nd.bad, 2);
  const json = parseJsonArray(
    '["https://a.example/", {"URL": "https://b.example/", "description": "JCB"}, 7]',
  );
  assert.deepEqual(json.records, [
    { url: 'https://a.example/' },
    { url: 'https://b.example/', description: 'JCB' },
  ]);
  assert.equal(json.bad, 1);
  assert.throws(() => parseJsonArray('{"url": 1}'), ListFormatError);
  assert.throws(() => parseJsonArray('[1,'), ListFormatError);
  assert.equal(parseSeenAt('yesterday'), null);
  assert.equal(parseSeenAt(''), undefined);
});

test('fuzz: seeded random lines are records, nothing or bad, never a throw (CSV header aside)', () => {
  let seed = 0xc0ffee;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const alphabet = [
    '"',
    ',',
    '{',
    '}',
    '[',
    ']',
    ':',
    'url',
    'date',
    'http://',
    '\\',
    '/',
    '2025/01/01',
    ' ',
    'a',
    '\uFEFF',
    'é',
  ];
  for (const format of ['txt', 'ndjson', 'csv'] as const) {
    const reader = createLineReader(format);
    if (format === 'csv') reader.line('date,url,description');
    for (let i = 0; i < 20_000; i++) {
      let line = '';
      const length = Math.floor(next() * 10);
      for (let j = 0; j < length; j++) line += alphabet[Math.floor(next() * alphabet.length)];
      const result = reader.line(line);
      assert.ok(result === null || result === 'bad' || typeof result.url === 'string', format);
    }
  }
  for (let i = 0; i < 2000; i++) {
    let text = '[';
    for (let j = 0; j < Math.floor(next() * 8); j++) text += alphabet[Math.floor(next() * alphabet.length)];
    try {
      parseJsonArray(text);
    } catch (error) {
      assert.ok(error instanceof ListFormatError, String(error));
    }
  }
});
