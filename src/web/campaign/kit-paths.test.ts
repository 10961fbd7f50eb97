import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseUrl } from '../normalise.ts';
import {
  createKitPathMemory,
  DEFAULT_KIT_PATHS,
  countsAsUnjudged,
  kitPathReasonKey,
  kitPathTemplate,
  liftableByJudged,
  matchAcross,
  outnumbersUnjudged,
  pathTemplate,
  pathTemplateHash,
  teachesAsJudged,
  UNJUDGED_PER_JUDGED,
} from './kit-paths.ts';
import type { ScoredUrl } from '../types.ts';

const url = (text: string) => normaliseUrl(text);
const day = (n: number) => new Date(Date.UTC(2025, 8, n));

test("the room's own verdicts lift a URL at the model's judgedLift floor, never a malicious one or one below it", () => {
  const thresholds = { suspicious: 0.9, malicious: 0.99, judgedLift: 0.5 };
  const at = (score: number, verdict: 'benign' | 'suspicious' | 'malicious') => ({ score, verdict });
  assert.equal(liftableByJudged(at(0.95, 'suspicious'), thresholds), true);
  assert.equal(liftableByJudged(at(0.5, 'benign'), thresholds), true, 'at the floor');
  assert.equal(liftableByJudged(at(0.49, 'benign'), thresholds), false, 'below it');
  assert.equal(liftableByJudged(at(0.995, 'malicious'), thresholds), false, 'nothing to lift');
  // A model fitted before the floor: a suspicious URL only, as before.
  const older = { suspicious: 0.9, malicious: 0.99 };
  assert.equal(liftableByJudged(at(0.6, 'benign'), older), false);
  assert.equal(liftableByJudged(at(0.9, 'suspicious'), older), true);
});

test('a judged tie holds while fewer than UNJUDGED_PER_JUDGED benign-looking domains per named one saw its path', () => {
  assert.equal(outnumbersUnjudged({ domains: 2 }, 2 * UNJUDGED_PER_JUDGED - 1), true);
  assert.equal(outnumbersUnjudged({ domains: 2 }, 2 * UNJUDGED_PER_JUDGED), false);
  const thresholds = { suspicious: 0.9, malicious: 0.99, judgedLift: 0.5 };
  assert.equal(countsAsUnjudged({ verdict: 'benign', score: 0.49 }, thresholds), true);
  assert.equal(
    countsAsUnjudged({ verdict: 'benign', score: 0.5 }, thresholds),
    false,
    'at the floor it teaches',
  );
  assert.equal(countsAsUnjudged({ verdict: 'suspicious', score: 0.95 }, thresholds), false);
  assert.equal(countsAsUnjudged({ verdict: 'malicious', score: 0.99 }, thresholds), false, 'nor does a tie');
});

test("the room's own verdicts teach at the same floor, never a kit tie", () => {
  const thresholds = { suspicious: 0.9, malicious: 0.99, judgedLift: 0.5 };
  const at = (
    score: number,
    verdict: 'benign' | 'suspicious' | 'malicious',
    reasons: ScoredUrl['reasons'] = [],
  ) => ({
    score,
    verdict,
    reasons,
  });
  assert.equal(teachesAsJudged(at(0.5, 'benign'), thresholds), true, 'near suspicious');
  assert.equal(teachesAsJudged(at(0.49, 'benign'), thresholds), false, 'plainly benign-looking');
  assert.equal(teachesAsJudged(at(0.95, 'suspicious'), thresholds), true);
  const tie = [{ feature: kitPathReasonKey('/jkuos', 'judged'), value: 2, contribution: 3 }];
  assert.equal(teachesAsJudged(at(0.99, 'malicious', tie), thresholds), false, 'a tie never teaches');
  // A model fitted before the floor: suspicious or worse only, as before.
  assert.equal(teachesAsJudged(at(0.6, 'benign'), { suspicious: 0.9 }), false);
});

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

test("a path naming another site is a kit's only when the site is a brand's (a mirror's names any site)", () => {
  // Mirrors of a news site on a platform's tenants: each tenant its own registered domain.
  for (const path of ['/madamasr.com/', '/www.madamasr.com/', '/Mada-Masr.com/index.html'])
    assert.equal(kitPathTemplate(url(`https://mirror7.appspot.com${path}`)), null, path);
  // A proxy of a brand's site names the brand's official host (or one under it).
  assert.equal(
    kitPathTemplate(url('https://vnvzv-xoqkaxa-net.translate.goog/eki-net.com/?_x_tr_sch=http')),
    '/eki-net.com/?_x_tr_sch=*',
  );
  assert.equal(
    kitPathTemplate(url('https://ab.example/id.auth.orico.co.jp/login')),
    '/id.auth.orico.co.jp/login',
  );
  // A file name is no host name; the kit word test decides as before.
  assert.equal(kitPathTemplate(url('https://a.example/jkuos.html')), '/jkuos.html');
  const memory = createKitPathMemory();
  memory.learn(url('https://madamirror18.appspot.com/madamasr.com/'), day(1));
  memory.learn(url('https://mada21.appspot.com/madamasr.com/'), day(1));
  assert.equal(memory.match(url('https://mada22.appspot.com/madamasr.com/'), day(2)), null);
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

test('clear() forgets every path, and the same memory learns afresh', () => {
  const memory = createKitPathMemory();
  // Enough paths that the hash filter has been rebuilt larger than it starts.
  for (let i = 0; i < 300; i++) memory.learn(url(`https://d${i}.example/qzkit${i}x`), day(1));
  memory.learn(url('https://gtdos.cn/jkuos'), day(1));
  memory.learn(url('https://csvgcx.cn/jkuos'), day(1));
  assert.ok(memory.match(url('https://lhunri.cn/jkuos'), day(2)));
  memory.clear();
  assert.equal(memory.size, 0);
  assert.equal(memory.match(url('https://lhunri.cn/jkuos'), day(2)), null);
  assert.equal(memory.listedOn(url('https://lhunri.cn/jkuos'), day(2)), null);
  memory.learn(url('https://gtdos.cn/jkuos'), day(1));
  assert.equal(memory.match(url('https://lhunri.cn/jkuos'), day(2)), null, 'one domain relearnt');
  memory.learn(url('https://rcmama.cn/jkuos'), day(1));
  assert.deepEqual(memory.match(url('https://lhunri.cn/jkuos'), day(2)), {
    template: '/jkuos',
    domains: 2,
    basis: 'confirmed',
  });
  assert.equal(memory.size, 1);
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
  const fnv = (text: string, chars = 48) => {
    let hash = 0x811c9dc5;
    for (let i = 0; i < Math.min(text.length, chars); i++)
      hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    return hash >>> 0;
  };
  for (const path of [
    '/DyIBDPO9HV/login&getFlg=in',
    '/ja/client/3210000?origin=10',
    '/a==b&&c=',
    '/jkuos',
    '/x=1/Ä',
    '/abcdef=1&g',
    '/Äbcdefghij',
  ]) {
    assert.equal(pathTemplateHash(path), fnv(pathTemplate(path)!), path);
    // The prefix the memory's first test hashes: a `=` or digit run at its end counts as in the template.
    for (const chars of [6, 7, 8])
      assert.equal(pathTemplateHash(path, chars), fnv(pathTemplate(path)!, chars), `${path} ${chars}`);
  }
  assert.equal(pathTemplateHash('/'), 0);
  assert.equal(pathTemplateHash('/', 8), 0);
});

test('two kit paths alike in their first 48 characters are still two kits', () => {
  const memory = createKitPathMemory();
  const long = `/zqx${'k'.repeat(50)}`;
  memory.learn(url(`https://gtdos.cn${long}one`), day(1));
  memory.learn(url(`https://csvgcx.cn${long}one`), day(1));
  assert.ok(memory.match(url(`https://lhunri.cn${long}one`), day(2)));
  assert.equal(memory.match(url(`https://lhunri.cn${long}two`), day(2)), null);
});

test('a memory of thousands of kit paths finds each, also after the oldest are forgotten', () => {
  // Past a few hundred templates the memory's first test is rebuilt larger; forgetting rebuilds it too.
  const memory = createKitPathMemory({ ...DEFAULT_KIT_PATHS, maxPaths: 2500 });
  // Templates keep letters only as they are (digits become 0): i written in letters.
  const letters = (i: number) =>
    [...i.toString(26)].map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('');
  const kit = (i: number) => `/qzkit/${letters(i)}/x${i % 7}?ref=${i}`;
  for (let i = 0; i < 3000; i++) {
    memory.learn(url(`https://a${i % 5}.example${kit(i)}`), day(1));
    memory.learn(url(`https://b${i % 5}.example${kit(i)}`), day(1));
  }
  assert.equal(memory.size, 2500);
  for (let i = 0; i < 3000; i++)
    assert.equal(memory.match(url(`https://c.example${kit(i)}`), day(2)) !== null, i >= 500, kit(i));
  // The room's first test (mayList) never turns away a path the memory holds, and turns away
  // most others, the forgotten ones among them.
  let kept = 0;
  for (let i = 0; i < 3000; i++) {
    const at = url(`https://c.example${kit(i)}`);
    if (memory.listedOn(at, day(2)) !== null) assert.ok(memory.mayList(at), kit(i));
    const other = url(`https://c.example/other/${letters(i)}/x${i % 7}`);
    if (memory.mayList(other)) kept++;
  }
  assert.ok(kept < 300, `${kept} of 3000 other paths passed the first test`);
  assert.equal(createKitPathMemory().mayList(url(`https://c.example${kit(600)}`)), false, 'an empty memory');
});

test('two memories asked together count a domain both listed once, whichever knows the path', () => {
  const listings = createKitPathMemory();
  const takedowns = createKitPathMemory();
  listings.learn(url('https://gtdos.cn/jkuos'), day(1));
  takedowns.learn(url('https://gtdos.cn/jkuos'), day(1));
  takedowns.learn(url('https://other.cn/qzxwv'), day(1));
  const lhunri = (path: string) => url(`https://lhunri.cn${path}`);
  assert.equal(matchAcross([listings, takedowns], lhunri('/jkuos'), day(2), 2), null, 'one domain, twice');
  takedowns.learn(url('https://csvgcx.cn/jkuos'), day(1));
  assert.deepEqual(matchAcross([listings, takedowns], lhunri('/jkuos'), day(2), 2), {
    template: '/jkuos',
    domains: 2,
    basis: 'confirmed',
  });
  // The first memory asked does not know the path; the second is still asked about it.
  listings.learn(url('https://another.cn/qzxwv'), day(1));
  assert.deepEqual(matchAcross([createKitPathMemory(), listings, takedowns], lhunri('/qzxwv'), day(2), 2), {
    template: '/qzxwv',
    domains: 2,
    basis: 'confirmed',
  });
  assert.equal(matchAcross([takedowns], lhunri('/qzxwv'), day(2), 2), null);
});
