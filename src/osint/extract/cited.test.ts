/** CitedPages against asking each cited page in turn. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CitedPages } from './cited.ts';

/** The rule, page by page: the same page, or under the path of a cited page that has one. */
function coveredBy(href: string, cited: string): boolean {
  if (href === cited) return true;
  const path = cited.replace(/^[a-z]+:\/\/[^/]+/i, '').replace(/\/+$/, '');
  return path.length > 1 && href.startsWith(`${cited.replace(/\/+$/, '')}/`);
}

test('a page is covered by itself and by a cited page with a path above it, never by a site root', () => {
  const cited = new CitedPages();
  cited.add('https://github.com/tool/');
  cited.add('https://vendor.com/');
  cited.add('https://blog.example.org/post');
  assert.ok(cited.covers('https://github.com/tool/archive/master.zip'));
  assert.ok(cited.covers('https://vendor.com/'));
  assert.ok(!cited.covers('https://vendor.com/other'));
  assert.ok(cited.covers('https://blog.example.org/post'));
  assert.ok(cited.covers('https://blog.example.org/post/image.png'));
  assert.ok(!cited.covers('https://blog.example.org/posts'));
  assert.ok(!cited.covers('https://github.com/toolbox'));
  // A cited page deeper under a cited one sorts between it and this URL: the one above still covers it.
  cited.add('https://blog.example.org/post/a');
  assert.ok(cited.covers('https://blog.example.org/post/b'));
});

test('on nested and neighbouring paths, the same answers as asking each page', () => {
  const parts = [
    'http://a.com',
    'http://a.com/',
    '/x',
    '/x/',
    '/y',
    '/x/y',
    '//',
    '/xx',
    '/x%2F',
    '/ä',
    '/!',
  ];
  let seed = 3;
  const next = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };
  const url = () => {
    let out = parts[next(2)]!;
    for (let n = next(4); n > 0; n--) out += parts[2 + next(parts.length - 2)]!;
    return out;
  };
  for (let round = 0; round < 300; round++) {
    const pages = Array.from({ length: next(12) }, url);
    const cited = new CitedPages();
    for (const page of pages) cited.add(page);
    for (let i = 0; i < 40; i++) {
      const href = url();
      assert.equal(
        cited.covers(href),
        pages.some((page) => coveredBy(href, page)),
        `${href} under ${pages.join(' ')}`,
      );
    }
  }
});
