import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildReport, ReportConfig, renderReportHtml } from './index.ts';
import type { SightingInput } from '../intel/index.ts';
import { PUBLIC_ITEMS, RESTRICTED_ITEMS, seededStore, type SeededStore } from './testing.ts';

let seeded: SeededStore;
before(async () => {
  seeded = await seededStore();
});
after(() => seeded.close());

async function html(tier: 'full' | 'council' | 'public', lang: 'ja' | 'en' = 'en') {
  const config = ReportConfig.parse({ period: 'daily', lang, tier, date: seeded.day });
  const doc = await buildReport(config, seeded.deps);
  return { doc, html: renderReportHtml(doc) };
}

describe('tiers: a report holds only what release() gives its reader', () => {
  test('a public report of a store with AMBER, RED and full-tier items holds none of them', async () => {
    const { doc, html: page } = await html('public');
    for (const [name, value] of Object.entries(RESTRICTED_ITEMS))
      assert.ok(!page.includes(value), `the public report holds ${name} (${value})`);
    assert.ok(page.includes(PUBLIC_ITEMS.c2), 'the public C&C server is in it');
    assert.ok(page.includes(PUBLIC_ITEMS.brand), 'the public phishing brand is in it');
    assert.equal(doc.marking.tlp, 'clear');
    assert.match(page, /TLP:CLEAR/);
    assert.doesNotMatch(page, /TLP:(AMBER|RED)/);
    // Host kinds never reach a tier-wide reader below the full tier: the sections say so.
    assert.equal(doc.sections.find((s) => s.key === 'hosts')!.state, 'not-released');
    assert.equal(doc.sections.find((s) => s.key === 'survey')!.state, 'not-released');
    const newC2 = doc.book.all.find((f) => f.label === 'New C&C servers in the period')!;
    assert.equal(newC2.value, 1);
  });

  test('a council report holds council items but no RED, full-tier or host data', async () => {
    const { doc, html: page } = await html('council');
    assert.ok(page.includes(RESTRICTED_ITEMS.councilC2));
    assert.ok(page.includes(RESTRICTED_ITEMS.amberBrand));
    for (const value of [
      RESTRICTED_ITEMS.redC2,
      RESTRICTED_ITEMS.redFamily,
      RESTRICTED_ITEMS.bot,
      RESTRICTED_ITEMS.product,
    ])
      assert.ok(!page.includes(value), value);
    assert.equal(doc.marking.tlp, 'amber+strict');
  });

  test('the full report holds everything, names the ISP of each host and is marked RED', async () => {
    const { doc, html: page } = await html('full');
    for (const value of [
      RESTRICTED_ITEMS.redC2,
      RESTRICTED_ITEMS.councilC2,
      RESTRICTED_ITEMS.product,
      'ISP A',
    ])
      assert.ok(page.includes(value), value);
    assert.equal(doc.marking.tlp, 'red');
    const darknet = doc.sections.find((s) => s.key === 'darknet')!;
    assert.equal(darknet.state, 'ok');
    const ports = darknet.tables[0]!.table.rows.map((r) => r[0]);
    assert.deepEqual(ports.sort(), ['23', '2323']);
  });
});

describe('every number is traceable', () => {
  test('each figure reference has an appendix row naming its query and derivation', async () => {
    const { doc, html: page } = await html('full');
    const refs = [...page.matchAll(/<sup class="ref"><a href="#(F\d+)">/g)].map((m) => m[1]!);
    assert.ok(refs.length >= 10, `${refs.length} references`);
    for (const id of new Set(refs)) {
      const row = new RegExp(
        `<tr id="${id}"><td>${id}</td><td>[^<]*</td><td class="num">[\\d,]+</td><td>Q\\d(\\+Q\\d)?</td><td><code>[^<]+</code>`,
      );
      assert.match(page, row, id);
    }
    // Each figure's query is listed in the appendix with the release decision it went through.
    for (const q of new Set(doc.book.all.flatMap((f) => f.queryId.split('+'))))
      assert.match(page, new RegExp(`<tr id="${q}">`), q);
    assert.match(page, /tierReader\(&#39;full&#39;\)/);
    // A value in a table is the figure's own value.
    const active = doc.book.all.find((f) => f.label === 'Active C&C servers')!;
    assert.equal(active.value, 3);
    assert.ok(page.includes(`3<sup class="ref"><a href="#${active.id}">`));
  });

  test('no external fetch: no script, no remote URL in src or href', async () => {
    const { html: page } = await html('full');
    assert.doesNotMatch(page, /<script|<link|<img|src="http|href="http|url\(/i);
  });
});

describe('languages', () => {
  test('Japanese labels and dates in Japanese style; English the same day in English', async () => {
    const ja = (await html('full', 'ja')).html;
    const en = (await html('full', 'en')).html;
    const [y, m, d] = seeded.day.split('-').map(Number);
    assert.ok(ja.includes(`${y}年${m}月${d}日`));
    assert.ok(ja.includes('日次脅威レポート'));
    assert.ok(ja.includes('ISP 別の感染ホスト'));
    assert.match(en, new RegExp(`${d} [A-Z][a-z]+ ${y}`));
    assert.ok(en.includes('Infected hosts per ISP'));
    assert.ok(!en.includes('日次脅威レポート'));
    // The appendix's prose is in the report's language too (its code stays as code).
    assert.ok(ja.includes('Q2 で提供可能とされた指標だけ'));
    assert.ok(!ja.includes('released by Q2'));
    assert.ok(en.includes('only indicators released by Q2'));
  });

  test("the trend chart's legend gives each ISP's total and last day, not a row of 28 values", async () => {
    for (const [lang, words] of [
      ['en', /\(total (\d+), last day (\d+)\) <tspan/g],
      ['ja', /\(合計 (\d+)、最終日 (\d+)\) <tspan/g],
    ] as const) {
      const page = (await html('full', lang)).html;
      const legends = [...page.matchAll(words)];
      assert.ok(legends.length >= 1, lang);
      assert.ok(legends.some((m) => Number(m[1]) > 0));
      assert.doesNotMatch(page, /\((?:\d+, ){27}\d+\)/);
    }
  });

  test('an empty section says there is no data', async () => {
    const empty = await seededStore([
      {
        type: 'c2',
        value: '203.0.113.99',
        port: 80,
        proto: 'tcp',
        source: 's',
        confidence: 50,
        tier: 'public',
        tlp: 'clear',
      },
    ]);
    try {
      const config = ReportConfig.parse({ period: 'weekly', lang: 'en', tier: 'full', date: empty.day });
      const page = renderReportHtml(await buildReport(config, empty.deps));
      assert.match(page, /data-section="phishing" data-state="empty">[\s\S]*?No data for this period\./);
    } finally {
      await empty.close();
    }
  });
});

describe('C&C servers as a reader writes them', () => {
  test('a server an advisory named without protocol or port has no dangling "/" or ":0"', async () => {
    // An advisory's address comes into intel with no protocol (and port 0 when none was written).
    const osint = (value: string, port: number): SightingInput => ({
      type: 'c2',
      value,
      ...(port ? { port } : {}),
      source: 'osint:vendor',
      confidence: 20,
      tier: 'public',
      tlp: 'clear',
    });
    const store = await seededStore([
      { ...osint('203.0.113.40', 443), proto: 'tcp', confidence: 90 },
      osint('203.0.113.41', 8080),
      osint('203.0.113.42', 0),
      osint('2001:db8::5', 4444),
    ]);
    try {
      const config = ReportConfig.parse({ period: 'daily', lang: 'en', tier: 'full', date: store.day });
      const doc = await buildReport(config, store.deps);
      const servers = doc.sections.find((s) => s.key === 'c2')!.tables[0]!.table.rows.map((r) => r[0]);
      assert.deepEqual(servers, [
        '203.0.113.40:443/tcp',
        '[2001:db8::5]:4444',
        '203.0.113.41:8080',
        '203.0.113.42',
      ]);
      const page = renderReportHtml(doc);
      assert.doesNotMatch(page, /203\.0\.113\.4\d:\d+\/</);
      assert.ok(doc.book.all.some((f) => f.label === 'Confidence: 203.0.113.42'));
    } finally {
      await store.close();
    }
  });
});

describe('an empty store', () => {
  test('the appendix says there are no figures instead of an empty table', async () => {
    const empty = await seededStore([]);
    try {
      for (const lang of ['en', 'ja'] as const) {
        const config = ReportConfig.parse({ period: 'daily', lang, tier: 'full', date: empty.day });
        const page = renderReportHtml(await buildReport(config, empty.deps));
        const appendix = page.slice(page.indexOf('id="appendix"'));
        assert.match(appendix, /<p class="empty" data-figures="none">/);
        assert.doesNotMatch(appendix, /<tbody><\/tbody>/);
      }
    } finally {
      await empty.close();
    }
  });
});
