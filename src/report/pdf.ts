/**
 * PDF and PNG pages of an HTML report through a headless Chromium (playwright-core drives the
 * system's browser; nothing is downloaded). The page has no script and fetches nothing, and the
 * browser is told to stay off the network all the same.
 */
import { DEFAULT_CHROMIUM, RuntimeError } from '../core/index.ts';

export interface BrowserOptions {
  executablePath?: string;
}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function withPage<T>(
  html: string,
  options: BrowserOptions,
  work: (page: import('playwright-core').Page) => Promise<T>,
): Promise<T> {
  // Loaded only when a PDF or image is asked for: the HTML report needs no browser.
  const { chromium } = await import('playwright-core');
  const executablePath = options.executablePath ?? DEFAULT_CHROMIUM;
  let browser;
  try {
    browser = await chromium.launch({ executablePath, args: ARGS });
  } catch (error) {
    throw new RuntimeError(
      `cannot start Chromium at ${executablePath}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  try {
    const context = await browser.newContext({ offline: true, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    // Japanese glyphs come from the system's CJK font (Debian fonts-noto-cjk): wait until it is in.
    await page.evaluate(() => document.fonts.ready).catch(() => undefined);
    return await work(page);
  } finally {
    await browser.close();
  }
}

/** An A4 PDF of the page, backgrounds printed (the TLP badge is a coloured box). */
export async function renderPdf(html: string, options: BrowserOptions = {}): Promise<Buffer> {
  return withPage(html, options, (page) =>
    page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true }),
  );
}

/** The page as one PNG image, `width` CSS pixels wide. */
export async function renderPng(
  html: string,
  options: BrowserOptions & { width?: number } = {},
): Promise<Buffer> {
  return withPage(html, options, async (page) => {
    await page.setViewportSize({ width: options.width ?? 900, height: 1200 });
    return page.screenshot({ fullPage: true, type: 'png' });
  });
}

/** The page cut into images of `pageHeight` CSS pixels each, top to bottom (for reading on screen). */
export async function renderPngPages(
  html: string,
  options: BrowserOptions & { width?: number; pageHeight?: number } = {},
): Promise<Buffer[]> {
  const width = options.width ?? 900;
  const pageHeight = options.pageHeight ?? 1400;
  return withPage(html, options, async (page) => {
    await page.setViewportSize({ width, height: pageHeight });
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    const pages: Buffer[] = [];
    for (let y = 0; y < height; y += pageHeight) {
      const clip = { x: 0, y, width, height: Math.min(pageHeight, height - y) };
      pages.push(await page.screenshot({ fullPage: true, clip, type: 'png' }));
    }
    return pages;
  });
}
