/** PDF through the system's Chromium, read back with poppler's pdftotext and pdffonts (scripts/install-test-tools.sh). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildReport, renderPdf, renderReportHtml, ReportConfig, reportTitle } from './index.ts';
import { DEFAULT_CHROMIUM } from '../core/index.ts';
import { REPORT_CSS } from './html.ts';
import { RESTRICTED_ITEMS, seededStore, type SeededStore } from './testing.ts';

const chromium = process.env.TSUNAGI_CHROMIUM ?? DEFAULT_CHROMIUM;
const poppler = spawnSync('pdftotext', ['-v']).error === undefined;
const missing = !existsSync(chromium)
  ? `no Chromium at ${chromium}`
  : !poppler
    ? 'no pdftotext (poppler-utils)'
    : '';

let seeded: SeededStore;
const dir = mkdtempSync(join(tmpdir(), 'tsunagi-report-pdf-'));
before(async () => {
  if (!missing) seeded = await seededStore();
});
after(async () => {
  await seeded?.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const lang of ['ja', 'en'] as const) {
  test(
    `a ${lang} PDF holds the title and the report's numbers as text, Japanese in a CJK font`,
    { skip: missing || false },
    async () => {
      const doc = await buildReport(
        ReportConfig.parse({ period: 'daily', lang, tier: 'full', date: seeded.day }),
        seeded.deps,
      );
      const file = join(dir, `report-${lang}.pdf`);
      writeFileSync(file, await renderPdf(renderReportHtml(doc), { executablePath: chromium }));
      assert.ok(existsSync(file));
      const text = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).stdout.replace(
        /\s+/g,
        ' ',
      );
      assert.ok(text.includes(reportTitle(doc)), `the title "${reportTitle(doc)}" is not in the PDF's text`);
      assert.ok(text.includes(RESTRICTED_ITEMS.redC2), 'the new C&C server is not in the text');
      // The first figure's row in the appendix: its id, what it counts, its value, its query.
      const first = doc.book.all[0]!;
      assert.ok(
        text.includes(`${first.id} ${first.label} ${first.value} ${first.queryId}`),
        'the first figure',
      );
      // Chromium embeds its glyphs as unnamed Type 3 fonts, so the PDF cannot name the font: the
      // text above came back in Japanese, and fontconfig must hold the CJK font the CSS asks for first.
      if (lang === 'ja') {
        const fonts = spawnSync('fc-list', [':lang=ja', 'family'], { encoding: 'utf8' }).stdout;
        assert.match(fonts, /Noto Sans CJK JP/, 'fonts-noto-cjk is not installed');
      }
    },
  );
}

test(
  'a report that exactly fills its pages gets no blank page after it',
  { skip: missing || false },
  async () => {
    // A4 less the 14 mm top and bottom margins of @page is 269 mm of content a page; the body's
    // screen padding must not push anything past it.
    const html = `<!doctype html><html><head><meta charset="utf-8"><style>${REPORT_CSS}</style></head><body><div style="height: 268mm; background: #eee">one page</div></body></html>`;
    const file = join(dir, 'full-page.pdf');
    writeFileSync(file, await renderPdf(html, { executablePath: chromium }));
    const info = spawnSync('pdfinfo', [file], { encoding: 'utf8' }).stdout;
    assert.match(info, /^Pages:\s+1$/m);
  },
);

test(
  'the appendix breaks between rows: no page is left empty before its long table',
  { skip: missing || false },
  async () => {
    const rows = Array.from(
      { length: 120 },
      (_, k) => `<tr><td>F${k + 1}</td><td>figure ${k + 1}</td></tr>`,
    ).join('');
    const html = `<!doctype html><html><head><meta charset="utf-8"><style>${REPORT_CSS}</style></head><body><h1>title</h1><section class="appendix"><h2>appendix</h2><table><tbody>${rows}</tbody></table></section></body></html>`;
    const file = join(dir, 'appendix.pdf');
    writeFileSync(file, await renderPdf(html, { executablePath: chromium }));
    const first = spawnSync('pdftotext', ['-f', '1', '-l', '1', file, '-'], { encoding: 'utf8' }).stdout;
    assert.match(first, /F1\b/, 'the table starts on the first page, under its heading');
  },
);
