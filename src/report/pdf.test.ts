/** PDF through the system's Chromium, read back with poppler's pdftotext and pdffonts (scripts/install-test-tools.sh). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  buildReport,
  DEFAULT_CHROMIUM,
  renderPdf,
  renderReportHtml,
  ReportConfig,
  reportTitle,
} from './index.ts';
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
