/** The second English set's truth rule (README.md): list entries to typed indicators, as the author's tools wrote them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addEntry, listEntries, restrictToText, TYPES, type LabelledDoc, type Type } from './labels.ts';

const truthOf = (entries: Record<string, string>[]) => {
  const truth = new Map<Type, Set<string>>(TYPES.map((t) => [t, new Set<string>()]));
  const given = new Set(entries.flatMap((e) => addEntry(truth, e)));
  return {
    given,
    truth: Object.fromEntries([...truth].filter(([, v]) => v.size).map(([t, v]) => [t, [...v]])),
  };
};

describe('CyberThreatIntel lists', () => {
  test('JSON in UTF-16 with a byte-order mark, CSV whose last column holds commas, CSV without an Indicator column', () => {
    const json = JSON.stringify([{ Indicator: '45.77.12.3', Description: 'IP C2' }]);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]);
    assert.deepEqual(listEntries('IOC.json', utf16), [{ Indicator: '45.77.12.3', Description: 'IP C2' }]);
    const csv =
      'Date,Type,Indicator,Description\r\n2020-06-02,URL,http://evil-host.xyz/a,URL C2, second stage\r\n';
    assert.deepEqual(listEntries('IOC.csv', Buffer.from(csv)), [
      {
        Date: '2020-06-02',
        Type: 'URL',
        Indicator: 'http://evil-host.xyz/a',
        Description: 'URL C2, second stage',
      },
    ]);
    assert.deepEqual(listEntries('Hunt_IOC.csv', Buffer.from('Date,Hash,Name\n2020,abc,x\n')), []);
    assert.deepEqual(listEntries('IOC.json', Buffer.from('not json')), []);
  });

  test('typed entries, untyped entries by form, hashes in either field, a file named after its hash is no hash', () => {
    const md5 = '3ee37a570cc968ca2ad5a99f920c9332';
    const sha256 = 'D8EA1BAE84345D1A432E872811E9ECBCF84DE0BA6CB36053039A839DFBB7097C';
    const { given, truth } = truthOf([
      { Type: 'Domain', Indicator: 'update-check.net', Description: 'C2' },
      { Type: 'URl', Indicator: 'evil-host.xyz/gate.php', Description: 'URL requested' },
      { Indicator: md5, Description: sha256 },
      { Indicator: '86ccedaa93743e83787f53e09e376713.docx', Description: sha256 },
      { Indicator: 'account-support.site', Description: 'Domain C2' },
      { Indicator: '213.227.155.25', Description: 'IP requested' },
      { Indicator: 'https://213.227.155.25/site.htm', Description: 'URL requested' },
      { Indicator: 'JobDescription.vbe', Description: 'dropper' },
    ]);
    assert.deepEqual(truth, {
      ipv4: ['213.227.155.25'],
      domain: ['update-check.net', 'account-support.site'],
      url: ['evil-host.xyz/gate.php', '213.227.155.25/site.htm'],
      md5: [md5],
      sha256: [sha256.toLowerCase()],
    });
    assert.deepEqual([...given].sort(), ['domain', 'ipv4', 'md5', 'sha256', 'url']);
  });
});

describe('truth files labelled by reading (ja/, en/)', () => {
  test('each names its source, labels only known types and gives only values of the types it labels', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { ENGLISH_TRUTH, JAPANESE_TRUTH, canonical } = await import('./labels.ts');
    for (const dir of [JAPANESE_TRUTH, ENGLISH_TRUTH]) {
      const files = readdirSync(dir).filter((f) => f.endsWith('.truth.json'));
      assert.ok(files.length > 0, dir);
      for (const file of files) {
        const label = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as {
          labelled: Type[];
          indicators: { type: Type; value: string }[];
          source: { repo: string; path: string; commit: string };
        };
        assert.match(label.source.commit, /^[0-9a-f]{40}$/, file);
        assert.match(label.source.repo, /^[\w.-]+\/[\w.-]+$/, file);
        for (const t of label.labelled) assert.ok(TYPES.includes(t), `${file}: ${t}`);
        for (const { type, value } of label.indicators) {
          assert.ok(label.labelled.includes(type), `${file}: ${type} ${value}`);
          assert.ok(!/\[[.:]\]|hxxp/i.test(value), `${file}: still defanged: ${value}`);
          if (type === 'ipv6') assert.ok(canonical('ipv6', value).includes(':'), `${file}: ${value}`);
        }
      }
    }
  });
});

describe('truth restricted to what the text names', () => {
  const docWith = (type: Type, ...values: string[]): LabelledDoc => ({
    id: 'test',
    path: 'test.md',
    language: 'ja',
    labelled: new Set([type]),
    truth: new Map(TYPES.map((t) => [t, new Set(t === type ? values : [])])),
  });

  test('an id written with another dash (U+2011, U+2013, fullwidth) is named; one the text lacks is not', () => {
    const doc = docWith('cve', 'CVE-2024-7344', 'CVE-2025-1111', 'CVE-2025-2222', 'CVE-2025-3333');
    restrictToText(doc, 'CVE\u20112024\u20117344を悪用、CVE\u20132025\u20131111 と CVE\uff0d2025\uff0d2222');
    assert.deepEqual([...doc.truth.get('cve')!], ['CVE-2024-7344', 'CVE-2025-1111', 'CVE-2025-2222']);
  });

  test('a defanged value is named by its refanged form', () => {
    const doc = docWith('url', 'http://evil.example/a', 'http://other.example/b');
    restrictToText(doc, 'hxxp[:]//evil[.]example/a');
    assert.deepEqual([...doc.truth.get('url')!], ['http://evil.example/a']);
  });
});
