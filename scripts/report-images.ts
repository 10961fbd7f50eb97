// Renders HTML reports as PNG images through the report room's Chromium renderer:
// `node --import tsx scripts/report-images.ts IN.html OUT.png [IN.html OUT.png ...]` writes the
// whole page to OUT.png and, with --pages, also OUT-1.png, OUT-2.png... of one screen each.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderPng, renderPngPages } from '../src/report/index.ts';

const pages = process.argv.includes('--pages');
const args = process.argv.slice(2).filter((a) => a !== '--pages');
if (args.length === 0 || args.length % 2 !== 0) {
  console.error('usage: report-images.ts [--pages] IN.html OUT.png [IN.html OUT.png ...]');
  process.exit(2);
}
const browser = process.env.TSUNAGI_CHROMIUM ? { executablePath: process.env.TSUNAGI_CHROMIUM } : {};
for (let i = 0; i < args.length; i += 2) {
  const html = readFileSync(args[i]!, 'utf8');
  const out = args[i + 1]!;
  writeFileSync(out, await renderPng(html, { ...browser, width: 900 }));
  console.log(out);
  if (!pages) continue;
  const parts = await renderPngPages(html, { ...browser, width: 900, pageHeight: 1400 });
  parts.forEach((png, k) => writeFileSync(out.replace(/\.png$/, `-${k + 1}.png`), png));
  console.log(`${parts.length} pages beside it`);
}
