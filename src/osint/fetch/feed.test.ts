/** RSS 2.0, RSS 1.0 and Atom into items; anything else is a FeedFormatError, never another throw. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FeedFormatError, parseFeed } from './feed.ts';

const BASE = 'https://news.vendor-feeds.org/feed.xml';

test('RSS 2.0: title, absolute link, date, the item text', () => {
  const items = parseFeed(
    `<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
      <title>Vendor</title>
      <item><title>Campaign &amp; IoCs</title><link>/2024/05/campaign</link>
        <pubDate>Tue, 07 May 2024 09:00:00 +0900</pubDate>
        <description><![CDATA[<p>C2: evil[.]com</p>]]></description></item>
      <item><title>Second</title><guid>https://news.vendor-feeds.org/p/2</guid>
        <content:encoded>full text</content:encoded><description>short</description></item>
    </channel></rss>`,
    BASE,
  );
  assert.deepEqual(items, [
    {
      title: 'Campaign & IoCs',
      link: 'https://news.vendor-feeds.org/2024/05/campaign',
      published: '2024-05-07T00:00:00.000Z',
      body: '<p>C2: evil[.]com</p>',
    },
    { title: 'Second', link: 'https://news.vendor-feeds.org/p/2', body: 'full text' },
  ]);
});

test('Atom: the alternate link, published or updated, content or summary', () => {
  const items = parseFeed(
    `<feed xmlns="http://www.w3.org/2005/Atom"><title>JP</title>
      <entry><title type="html">注意喚起</title>
        <link rel="self" href="https://a.jp-cert-feeds.org/self"/><link rel="alternate" href="https://a.jp-cert-feeds.org/post"/>
        <updated>2024-01-02T03:04:05Z</updated><summary>通信先 45.77.1.2</summary></entry>
    </feed>`,
    BASE,
  );
  assert.deepEqual(items, [
    {
      title: '注意喚起',
      link: 'https://a.jp-cert-feeds.org/post',
      published: '2024-01-02T03:04:05.000Z',
      body: '通信先 45.77.1.2',
    },
  ]);
});

test('RSS 1.0 (RDF); a javascript: link is dropped', () => {
  const items = parseFeed(
    `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <item><title>One</title><link>javascript:alert(1)</link><dc:date>2024-02-03T00:00:00Z</dc:date><description>d</description></item>
    </rdf:RDF>`,
    BASE,
  );
  assert.deepEqual(items, [{ title: 'One', link: '', published: '2024-02-03T00:00:00.000Z', body: 'd' }]);
});

test('not a feed: FeedFormatError', () => {
  assert.throws(() => parseFeed('<html><body>hello</body></html>', BASE), FeedFormatError);
  assert.throws(() => parseFeed('', BASE), FeedFormatError);
});

test('fuzz: random bytes and mangled feeds end as items or FeedFormatError', () => {
  let seed = 7;
  const next = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) >>> 24) & 0xff;
  const feed =
    '<rss><channel><item><title>t</title><link>/x</link><description>d</description></item></channel></rss>';
  for (let round = 0; round < 300; round++) {
    const text =
      round % 2 === 0
        ? Buffer.from(Array.from({ length: round * 7 }, next)).toString('latin1')
        : feed.slice(0, next() % feed.length) +
          String.fromCharCode(next()) +
          feed.slice(next() % feed.length);
    try {
      const items = parseFeed(text, BASE);
      assert.ok(Array.isArray(items));
    } catch (error) {
      assert.ok(error instanceof FeedFormatError, `round ${round}: ${(error as Error).stack}`);
    }
  }
});
