/**
 * The optional page check: one candidate fetched without JavaScript under strict limits (bytes,
 * time, redirects followed by hand so each hop is seen and counted), then read for a login form
 * (password inputs, forms that post to another site), the brand its favicon belongs to (a table
 * of hashes, data) and phishing-kit markers (patterns, data).
 */
import { Parser } from 'htmlparser2';
import { parse as parseDomain } from 'tldts';
import { readBody } from '../../core/index.ts';
import kitData from './kit-markers.json' with { type: 'json' };
import { FAVICONS, faviconBrand, faviconHashes, type FaviconEntry } from './favicon.ts';

export interface PageLimits {
  /** Bytes read of a page (the rest is not downloaded). */
  maxBytes: number;
  /** For the whole check: every hop and the favicon. */
  timeoutMs: number;
  maxRedirects: number;
  faviconMaxBytes: number;
}

export const DEFAULT_PAGE_LIMITS: PageLimits = {
  maxBytes: 2 * 1024 * 1024,
  timeoutMs: 10_000,
  maxRedirects: 5,
  faviconMaxBytes: 100 * 1024,
};

export interface KitMarker {
  id: string;
  pattern: string;
  why: string;
}
export const KIT_MARKERS: readonly KitMarker[] = kitData.markers;

export interface PageCheck {
  url: string;
  finalUrl: string;
  status: number;
  redirects: string[];
  bytes: number;
  /** True when the page was longer than maxBytes (only the first maxBytes were read). */
  truncated: boolean;
  title: string;
  passwordInputs: number;
  /** Forms whose action posts to another registrable domain (or a mailto:). */
  offsiteForms: string[];
  loginForm: boolean;
  /** The icon (link rel=icon, else /favicon.ico), its two hashes and the brand they belong to. */
  favicon: { url: string; sha256: string; mmh3: number; brand: string | null } | null;
  kitMarkers: string[];
  /** How the page was read: `fetch` (one GET, no JavaScript) or `browser` (headless Chromium). */
  readWith: 'fetch' | 'browser';
  /** What the browser did and was stopped from doing (only when readWith is `browser`). */
  browser?: BrowserCounters;
}

export interface BrowserCounters {
  /** Requests the page made (the document, its scripts, images, fetches...). */
  requests: number;
  /** Requests refused because the byte cap was already reached. */
  abortedOverCap: number;
  /** Requests refused for their scheme (only http and https may load), workers from `blob:` or `data:` too. */
  blockedSchemes: number;
  /**
   * WebSockets a script tried to open, refused (scripts may connect over http(s) only): once for
   * each address a document or worker tried, as Chromium reports a refusal once.
   */
  webSocketsRefused: number;
  downloadsBlocked: number;
  dialogsDismissed: number;
  popupsClosed: number;
  /** Frames read (the page and its iframes). */
  frames: number;
}

/** A page's counters before it is read, and the sum over no pages. */
export function noBrowserCounters(): BrowserCounters {
  return {
    requests: 0,
    abortedOverCap: 0,
    blockedSchemes: 0,
    webSocketsRefused: 0,
    downloadsBlocked: 0,
    dialogsDismissed: 0,
    popupsClosed: 0,
    frames: 0,
  };
}

export class PageCheckError extends Error {
  override name = 'PageCheckError';
}

/** The page was not read within the time limit (no answer, or in a browser no settling). */
export class PageTimeoutError extends PageCheckError {
  override name = 'PageTimeoutError';
}

/**
 * Why a fetch failed, in the words of its cause: undici says only "fetch failed" and keeps the
 * reason (ECONNREFUSED, ENOTFOUND, a TLS error) in `cause`; "Invalid URL" names no URL.
 */
function fetchFailure(error: Error): string {
  const cause = (error as Error & { cause?: Error & { code?: string } }).cause;
  if (error instanceof TypeError && /invalid url/i.test(error.message)) return 'not a URL';
  if (!cause) return error.message;
  return `${error.message}: ${cause.code ?? cause.message}`;
}

/** GET with redirects followed by hand, at most `maxRedirects`, http(s) only. */
async function fetchFollowing(
  url: string,
  limits: PageLimits,
  signal: AbortSignal,
): Promise<{ response: Response; finalUrl: string; redirects: string[] }> {
  const redirects: string[] = [];
  let current = url;
  for (;;) {
    if (!/^https?:$/.test(new URL(current).protocol)) throw new PageCheckError(`not http(s): ${current}`);
    const response = await fetch(current, {
      redirect: 'manual',
      signal,
      headers: { 'user-agent': 'tsunagi-web-check/1 (no JavaScript)', accept: 'text/html,*/*;q=0.5' },
    });
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location)
      return { response, finalUrl: current, redirects };
    await response.body?.cancel();
    if (redirects.length >= limits.maxRedirects)
      throw new PageCheckError(`more than ${limits.maxRedirects} redirects from ${url}`);
    current = new URL(location, current).toString();
    redirects.push(current);
  }
}

export interface HtmlFacts {
  title: string;
  passwordInputs: number;
  formActions: string[];
  iconHref: string | null;
}

export function readHtml(html: string): HtmlFacts {
  const facts: HtmlFacts = { title: '', passwordInputs: 0, formActions: [], iconHref: null };
  let inTitle = false;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'title') inTitle = true;
        if (name === 'input' && (attributes.type ?? '').toLowerCase() === 'password') facts.passwordInputs++;
        if (name === 'form') facts.formActions.push(attributes.action ?? '');
        if (name === 'link' && facts.iconHref === null && /(^|\s)icon(\s|$)/i.test(attributes.rel ?? ''))
          facts.iconHref = attributes.href ?? null;
      },
      ontext(text) {
        if (inTitle && facts.title.length < 300) facts.title += text;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  facts.title = facts.title.trim().replace(/\s+/g, ' ');
  return facts;
}

const siteOf = (url: URL) => parseDomain(url.hostname, { allowPrivateDomains: true }).domain ?? url.hostname;

/** Forms that send what is typed to another site (another registrable domain, or mail). */
export function offsiteForms(actions: readonly string[], page: URL): string[] {
  const off: string[] = [];
  for (const action of actions) {
    let target: URL;
    try {
      target = new URL(action || page.toString(), page);
    } catch {
      continue;
    }
    if (target.protocol === 'mailto:') off.push(target.toString());
    else if (/^https?:$/.test(target.protocol) && siteOf(target) !== siteOf(page))
      off.push(target.toString());
  }
  return off;
}

export function kitMarkersIn(html: string, markers: readonly KitMarker[] = KIT_MARKERS): string[] {
  return markers.filter((m) => new RegExp(m.pattern, 'i').test(html)).map((m) => m.id);
}

export async function checkFavicon(
  href: string | null,
  page: URL,
  limits: PageLimits,
  signal: AbortSignal,
  icons: readonly FaviconEntry[],
): Promise<PageCheck['favicon']> {
  return (await readFavicon(href, page, limits, signal, icons, limits.faviconMaxBytes)).favicon;
}

/**
 * The favicon read with at most `maxBytes` of it (the icon's own limit, or less when the caller
 * has less room left), and how many bytes of it were read; `cut` when it was longer than that.
 */
export async function readFavicon(
  href: string | null,
  page: URL,
  limits: PageLimits,
  signal: AbortSignal,
  icons: readonly FaviconEntry[],
  maxBytes: number,
): Promise<{ favicon: PageCheck['favicon']; bytes: number; cut: boolean }> {
  const none = { favicon: null, bytes: 0, cut: false };
  let url: URL;
  try {
    url = new URL(href ?? '/favicon.ico', page);
  } catch {
    return none;
  }
  if (!/^https?:$/.test(url.protocol)) return none;
  try {
    const { response, finalUrl } = await fetchFollowing(url.toString(), limits, signal);
    if (!response.ok) {
      await response.body?.cancel();
      return none;
    }
    const { bytes, truncated } = await readBody(response, { maxBytes, overflow: 'truncate', signal });
    if (truncated || bytes.length === 0) return { favicon: null, bytes: bytes.length, cut: truncated };
    const hashes = faviconHashes(bytes);
    return {
      favicon: { url: finalUrl, ...hashes, brand: faviconBrand(hashes, icons) },
      bytes: bytes.length,
      cut: false,
    };
  } catch (error) {
    if (signal.aborted) throw error;
    return none;
  }
}

/**
 * Checks one page. Throws PageCheckError for a bad URL, too many redirects or a fetch that
 * fails or runs out of time; everything else is a finding in the result.
 */
export async function checkPage(
  url: string,
  options: {
    limits?: Partial<PageLimits>;
    favicons?: readonly FaviconEntry[];
    markers?: readonly KitMarker[];
  } = {},
): Promise<PageCheck> {
  const limits = { ...DEFAULT_PAGE_LIMITS, ...options.limits };
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const { response, finalUrl, redirects } = await fetchFollowing(url, limits, signal);
    const { bytes, truncated } = await readBody(response, {
      maxBytes: limits.maxBytes,
      overflow: 'truncate',
      signal,
    });
    const html = bytes.toString('utf8');
    const page = new URL(finalUrl);
    const facts = readHtml(html);
    const offsite = offsiteForms(facts.formActions, page);
    return {
      url,
      finalUrl,
      status: response.status,
      redirects,
      bytes: bytes.length,
      truncated,
      title: facts.title,
      passwordInputs: facts.passwordInputs,
      offsiteForms: offsite,
      loginForm: facts.passwordInputs > 0 || offsite.length > 0,
      favicon: await checkFavicon(facts.iconHref, page, limits, signal, options.favicons ?? FAVICONS),
      kitMarkers: kitMarkersIn(html, options.markers),
      readWith: 'fetch',
    };
  } catch (error) {
    if (error instanceof PageCheckError) throw error;
    if (signal.aborted) throw new PageTimeoutError(`${url}: no answer within ${limits.timeoutMs} ms`);
    throw new PageCheckError(`${url}: ${fetchFailure(error as Error)}`);
  }
}
