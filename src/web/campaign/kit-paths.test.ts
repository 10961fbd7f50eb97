import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseUrl } from '../normalise.ts';
import {
  createKitPathMemory,
  DEFAULT_KIT_PATHS,
  kitPathTemplate,
  pathTemplate,
  pathTemplateHash,
} from './kit-paths.ts';

const url = (text: string) => normaliseUrl(text);
const day = (n: number) => new Date(Date.UTC(2025, 8, n));

test('a template keeps a kit word, numbers as 0 and query values as *', () => {
  assert.equal(kitPathTemplate(url('https://gtdos.cn/jkuos')), '/jkuos');
  assert.equal(
    kitPathTemplate(url('https://jpja-theviewa00.com/ja/client/3210000?origin=10')),
    null,
    'ja, client and origin are words benign sites use',
  );
  assert.equal(
    kitPathTemplate(url('https://www-deal-matsui.ybhs.net/mgap/?matsui=GN5P1F01VxLygvRUoco68UCA')),
    '/mgap/?matsui=*',
  );
  assert.equal(
    kitPathTemplate(url('https://a.example/DyIBDPO9HV/login&getFlg=in')),
    '/dyibdpo0hv/login&getflg=*',
  );
});

test("plain words, benign sites' path words and the top page are no kit", () => {
  for (const path of [
    '/',
    '/login.php',
    '/signin',
    '/sitemap/',
    '/wp-admin/',
    '/index.html',
    '/account/login/',
    '/0/0/',
  ])
    assert.equal(kitPathTemplate(url(`https://a.example${path}`)), null, path);
  assert.equal(kitPathTemplate(url('https://a.example')), null);
});

test('a kit path listed on two other domains within the window ties a third', () => {
  const memory = createKitPathMemory();
  memory.learn(url('https://gtdos.cn/jkuos'), day(1));
  assert.equal(
    memory.match(url('https://rcmama.cn/jkuos'), day(2)),
    null,
    'one other domain is not yet a kit',
  );
  memory.learn(url('https://csvgcx.cn/jkuos'), day(2));
  assert.deepEqual(memory.match(url('https://lhunri.cn/jkuos'), day(3)), {
    template: '/jkuos',
    domains: 2,
    basis: 'confirmed',
  });
  // Its own domain does not count, nor other hosts of it.
  assert.equal(memory.match(url('https://www.gtdos.cn/jkuos'), day(3)), null);
  // Another path on the same kit domain is no match.
  assert.equal(memory.match(url('https://lhunri.cn/other-kit-xq'), day(3)), null);
});

test('listings older than the window, or after the moment judged, do not count', () => {
  const memory = createKitPathMemory({ ...DEFAULT_KIT_PATHS, windowDays: 5 });
  memory.learn(url('https://gtdos.cn/jkuos'), day(1));
  memory.learn(url('https://csvgcx.cn/jkuos'), day(2));
  assert.ok(memory.match(url('https://lhunri.cn/jkuos'), day(6)));
  assert.equal(memory.match(url('https://lhunri.cn/jkuos'), day(7)), null, 'day 1 has left the window');
  assert.equal(memory.match(url('https://lhunri.cn/jkuos'), new Date(Date.UTC(2025, 7, 30))), null);
});

test('the memory is bounded: past maxPaths the oldest paths go', () => {
  const memory = createKitPathMemory({ ...DEFAULT_KIT_PATHS, maxPaths: 3 });
  for (const [i, path] of ['/qzkit-a', '/qzkit-b', '/qzkit-c', '/qzkit-d', '/qzkit-e'].entries())
    memory.learn(url(`https://d${i}.example${path}`), day(1));
  assert.equal(memory.size, 3);
  memory.learn(url('https://x.example/qzkit-e'), day(1));
  memory.learn(url('https://y.example/qzkit-e'), day(1));
  assert.ok(memory.match(url('https://z.example/qzkit-e'), day(2)));
  assert.equal(memory.size, 3);
});

test('a listing at an invalid time is ignored, not stored as NaN', () => {
  const memory = createKitPathMemory();
  memory.learn(url('https://gtdos.cn/jkuos'), new Date('not a date'));
  assert.equal(memory.size, 0);
});

test('pathTemplate by hand is the three rewrites it replaces, on odd paths too', () => {
  const byRegex = (p: string) =>
    p
      .toLowerCase()
      .replace(/\d+/g, '0')
      .replace(/=[^&]*/g, '=*');
  for (const path of [
    '/DyIBDPO9HV/login&getFlg=in',
    '/ja/client/3210000?origin=10',
    '/mgap/?matsui=GN5P1F01VxLygvRUoco68UCA',
    '/%E3%81%82/x=1&y=&z',
    '/a==b&&c=',
    '/0123/=',
    '/?q=%3D%26&r=9',
  ])
    assert.equal(pathTemplate(path), byRegex(path), path);
  assert.equal(pathTemplate('/'), null);
  assert.equal(pathTemplate(''), null);
});

test('pathTemplateHash is the hash of the template it does not build', () => {
  const fnv = (text: string) => {
    let hash = 0x811c9dc5;
    for (let i = 0; i < Math.min(text.length, 48); i++)
      hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    return hash >>> 0;
  };
  for (const path of [
    '/DyIBDPO9HV/login&getFlg=in',
    '/ja/client/3210000?origin=10',
    '/a==b&&c=',
    '/jkuos',
    '/x=1/Ä',
  ])
    assert.equal(pathTemplateHash(path), fnv(pathTemplate(path)!), path);
  assert.equal(pathTemplateHash('/'), 0);
});

test('two kit paths alike in their first 48 characters are still two kits', () => {
  const memory = createKitPathMemory();
  const long = `/zqx${'k'.repeat(50)}`;
  memory.learn(url(`https://gtdos.cn${long}one`), day(1));
  memory.learn(url(`https://csvgcx.cn${long}one`), day(1));
  assert.ok(memory.match(url(`https://lhunri.cn${long}one`), day(2)));
  assert.equal(memory.match(url(`https://lhunri.cn${long}two`), day(2)), null);
});
