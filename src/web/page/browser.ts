/**
 * The page check in a headless Chromium (playwright-core drives the system's browser; nothing is
 * downloaded): the page runs its JavaScript, then the rendered DOM of the page and its frames is
 * read by the same analysis as the plain fetch (login forms, favicon brand, kit markers), so a kit
 * that builds its form with a script is seen.
 *
 * Limits hold in the browser too: one time limit for navigation, settling and reading; a byte cap
 * on what the page loads, enforced where the bodies arrive (`byte-cap.ts`: past it what is loading
 * is handed on as far as it was read, and every further request is refused and counted); a fresh
 * incognito context per URL; downloads, popups,
 * permission prompts, notifications and service workers refused; dialogs dismissed; only http(s)
 * loads, and scripts connect over http(s) only (WebSockets refused, `byte-cap.ts`). Nothing leaves
 * over UDP past the gate: WebRTC gathers no candidate (`--webrtc-ip-handling-policy`), and pages,
 * frames and workers start without `RTCPeerConnection` and `WebTransport` (here and `byte-cap.ts`).
 * The caller closes the browser (`close()`), on every exit path.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Response } from 'playwright-core';
import { DEFAULT_CHROMIUM } from '../../core/index.ts';
import { ByteBudget, openByteGate, type ByteGate } from './byte-cap.ts';
import { FAVICONS, type FaviconEntry } from './favicon.ts';
import {
  DEFAULT_PAGE_LIMITS,
  kitMarkersIn,
  noBrowserCounters,
  offsiteForms,
  PageCheckError,
  PageTimeoutError,
  readFavicon,
  readHtml,
  type BrowserCounters,
  type KitMarker,
  type PageCheck,
  type PageLimits,
} from './check.ts';

/** No network connection for this long after `load`: the page has settled. */
const QUIET_MS = 500;
/** A context that does not close within this is left to the browser's close. */
const CLOSE_WAIT_MS = 3_000;

const ARGS = [
  '--headless',
  '--disable-gpu',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  // Every connection goes through the network stack the byte count watches.
  '--disable-quic',
  // WebRTC's ICE leaves over UDP past the Fetch domain: without a proxy this gathers no candidate
  // and sends no STUN packet (measured; `--force-webrtc-ip-handling-policy` does not).
  '--webrtc-ip-handling-policy=disable_non_proxied_udp',
  '--disable-notifications',
  '--deny-permission-prompts',
  '--block-new-web-contents',
  '--mute-audio',
  // Frames in the page's own process: one renderer per page (the byte gate sees every process's
  // loads either way).
  '--disable-site-isolation-trials',
  '--disable-features=IsolateOrigins,site-per-process',
];

/** Chromium could not be started (not there, not a browser, no display of its libraries...). */
export class BrowserStartError extends Error {
  override name = 'BrowserStartError';
}

export interface PageBrowser {
  /** The browser's process id (for a caller that must be sure it is gone). */
  readonly pid: number | undefined;
  /** The Chromium version, e.g. `130.0.6723.116`. */
  readonly version: string;
  check(
    url: string,
    options?: {
      limits?: Partial<PageLimits>;
      favicons?: readonly FaviconEntry[];
      markers?: readonly KitMarker[];
    },
  ): Promise<PageCheck>;
  /** Closes the browser and waits for its process to end; safe to call more than once. */
  close(): Promise<void>;
}

const noop = () => undefined;

/**
 * Run in every page and frame before its own scripts: WebRTC and WebTransport connect over UDP,
 * past the Fetch domain, and no Chromium switch stops WebTransport (QUIC off does not), so their
 * constructors are removed. A frame's realm gets this too, so a page cannot take them from one.
 */
const NO_UDP_CONNECTIONS = `for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'WebTransport'])
  delete globalThis[name];`;

/**
 * The processes whose parent is `parent` (Linux's /proc; elsewhere none): playwright-core's
 * launch does not tell the browser's process id, the new child after it does.
 */
function childrenOf(parent: number): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(name));
    } catch {
      // ended meanwhile
    }
  }
  return children;
}
const isHttp = (url: string) => /^https?:/i.test(url);

export interface PageBrowserOptions {
  /**
   * More Chromium switches, after this module's own. The tests use it to have Chromium take a
   * server on 127.0.0.1 for a public one, as a phishing site's is.
   */
  extraArgs?: readonly string[];
}

export async function openPageBrowser(
  executablePath: string = DEFAULT_CHROMIUM,
  options: PageBrowserOptions = {},
): Promise<PageBrowser> {
  // Loaded only when the browser is asked for: the plain check needs none.
  const { chromium } = await import('playwright-core');
  const before = new Set(childrenOf(process.pid));
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath,
      args: [...ARGS, ...(options.extraArgs ?? [])],
      // Chromium's sandbox cannot run as root; anyone else keeps it.
      chromiumSandbox: process.getuid?.() !== 0,
      // The caller closes the browser on a signal (and playwright-core kills it on exit).
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      timeout: 30_000,
    });
  } catch (error) {
    throw new BrowserStartError(
      `cannot start Chromium at ${executablePath}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  const pid = childrenOf(process.pid).find((child) => !before.has(child));
  let gate: ByteGate;
  try {
    gate = await openByteGate(browser);
  } catch (error) {
    await browser.close().catch(noop);
    throw new BrowserStartError(
      `cannot start Chromium at ${executablePath}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  let closing: Promise<void> | undefined;
  // One check at a time: the byte gate counts every request of the browser for the current one.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    pid,
    version: browser.version(),
    check(url, options = {}) {
      const run = queue.then(() => checkInBrowser(browser, gate, url, options));
      queue = run.catch(noop);
      return run;
    },
    close() {
      closing ??= browser.close().catch(noop);
      return closing;
    },
  };
}

async function checkInBrowser(
  browser: Browser,
  gate: ByteGate,
  url: string,
  options: {
    limits?: Partial<PageLimits>;
    favicons?: readonly FaviconEntry[];
    markers?: readonly KitMarker[];
  },
): Promise<PageCheck> {
  const limits = { ...DEFAULT_PAGE_LIMITS, ...options.limits };
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new PageCheckError(`${url}: not a URL`);
  }
  if (!/^https?:$/.test(target.protocol)) throw new PageCheckError(`not http(s): ${url}`);
  if (!browser.isConnected()) throw new PageCheckError(`${url}: the browser is closed`);
  const deadline = Date.now() + limits.timeoutMs;
  // The context's making is inside the time limit too; it is closed however the check ends.
  const opening = browser.newContext({
    acceptDownloads: false,
    permissions: [],
    serviceWorkers: 'block',
    javaScriptEnabled: true,
  });
  opening.catch(noop);
  const made = opening.then(async (context) => {
    await context.addInitScript({ content: NO_UDP_CONNECTIONS });
    return context;
  });
  made.catch(noop);
  const unsettled = () =>
    new PageTimeoutError(
      `${url}: did not settle within ${limits.timeoutMs} ms in the browser (load, then ${QUIET_MS} ms without network)`,
    );
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unsettled()), limits.timeoutMs);
  });
  const work = made.then((context) => readInContext(context, gate, url, limits, deadline, options));
  work.catch(noop);
  try {
    return await Promise.race([work, outOfTime]);
  } catch (error) {
    if (error instanceof PageCheckError) throw error;
    if ((error as Error).name === 'TimeoutError' || Date.now() >= deadline) throw unsettled();
    if (!browser.isConnected()) throw new PageCheckError(`${url}: the browser is closed`);
    throw new PageCheckError(`${url}: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    clearTimeout(timer);
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([
      opening.then((context) => context.close()).catch(noop),
      new Promise((resolve) => (wait = setTimeout(resolve, CLOSE_WAIT_MS))),
    ]);
    clearTimeout(wait);
    gate.end();
  }
}

/** Chromium's net error (`net::ERR_CONNECTION_REFUSED`) rather than playwright's call log. */
function navigationFailure(url: string, error: Error): PageCheckError {
  const net = /net::(ERR_[A-Z_]+)/.exec(error.message);
  if (net) return new PageCheckError(`${url}: ${net[1]}`);
  if (/Download is starting/i.test(error.message))
    return new PageCheckError(`${url}: the page is a download (refused)`);
  return new PageCheckError(`${url}: ${error.message.split('\n')[0]}`);
}

async function readInContext(
  context: BrowserContext,
  gate: ByteGate,
  url: string,
  limits: PageLimits,
  deadline: number,
  options: { favicons?: readonly FaviconEntry[]; markers?: readonly KitMarker[] },
): Promise<PageCheck> {
  const counters: BrowserCounters = noBrowserCounters();
  const page = await context.newPage();
  context.on('page', (other) => {
    if (other === page) return;
    counters.popupsClosed++;
    other.close().catch(noop);
  });
  page.on('dialog', (dialog) => {
    counters.dialogsDismissed++;
    dialog.dismiss().catch(noop);
  });
  page.on('download', (download) => {
    counters.downloadsBlocked++;
    download.cancel().catch(noop);
  });

  // Every request of the browser is this check's until it ends (checks run one at a time).
  const budget = new ByteBudget(limits.maxBytes);
  const capReached = budget.overCap.then(() => null);
  gate.begin(budget, counters);
  // The document's response, also when the cap cuts the navigation short.
  let documentResponse: Response | null = null;
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) documentResponse = r;
  });

  const remaining = () => Math.max(1, deadline - Date.now());
  const navigation = page.goto(url, { waitUntil: 'load', timeout: remaining() });
  navigation.catch(noop);
  let response: Response | null = null;
  try {
    // A document cut at the cap is handed to the page as it was read, so it still loads.
    response = await navigation;
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') throw error;
    if (!budget.over) throw navigationFailure(url, error as Error);
  }
  // Settled: no connection for QUIET_MS; a page past the cap is read as it is.
  if (!budget.over) {
    const quiet = page.waitForLoadState('networkidle', { timeout: remaining() });
    quiet.catch(noop);
    await Promise.race([quiet, capReached]);
  }
  response ??= documentResponse;

  const redirects: string[] = [];
  for (let r = response?.request().redirectedFrom(); r; r = r.redirectedFrom()) redirects.unshift(r.url());
  if (redirects.length > 0) {
    redirects.shift();
    redirects.push(response!.url());
  }
  if (redirects.length > limits.maxRedirects)
    throw new PageCheckError(`more than ${limits.maxRedirects} redirects from ${url}`);

  const finalUrl = page.url();
  const pageUrl = new URL(isHttp(finalUrl) ? finalUrl : url);
  let truncated = budget.over;
  // A script can build a DOM of any size: what is read is cut at the byte cap as well.
  const cut = (html: string) => {
    if (Buffer.byteLength(html) <= limits.maxBytes) return html;
    truncated = true;
    return Buffer.from(html).subarray(0, limits.maxBytes).toString('utf8');
  };
  const main = cut(await page.content());
  const facts = readHtml(main);
  let passwordInputs = facts.passwordInputs;
  const offsite = offsiteForms(facts.formActions, pageUrl);
  const markers = new Set(kitMarkersIn(main, options.markers));
  counters.frames = 1;
  for (const frame of page.frames()) {
    if (frame === page.mainFrame() || !isHttp(frame.url())) continue;
    const html = await frame.content().catch(() => null);
    if (html === null) continue;
    counters.frames++;
    const text = cut(html);
    const inner = readHtml(text);
    passwordInputs += inner.passwordInputs;
    offsite.push(...offsiteForms(inner.formActions, new URL(frame.url())));
    for (const id of kitMarkersIn(text, options.markers)) markers.add(id);
  }
  // The icon is read outside the browser, but its bytes are the check's too: counted in the same
  // budget, read only as far as the room left, not at all past the cap.
  let favicon: PageCheck['favicon'] = null;
  if (budget.over) counters.abortedOverCap++;
  else {
    const room = Math.min(limits.faviconMaxBytes, budget.left);
    const icon = await readFavicon(
      facts.iconHref,
      pageUrl,
      limits,
      AbortSignal.timeout(remaining()),
      options.favicons ?? FAVICONS,
      room,
    );
    budget.add(icon.bytes);
    favicon = icon.favicon;
    if (icon.cut && room < limits.faviconMaxBytes) truncated = true;
  }
  return {
    url,
    finalUrl,
    status: response?.status() ?? 0,
    redirects,
    bytes: budget.read,
    truncated: truncated || budget.over,
    title: facts.title,
    passwordInputs,
    offsiteForms: offsite,
    loginForm: passwordInputs > 0 || offsite.length > 0,
    favicon,
    kitMarkers: [...markers],
    readWith: 'browser',
    browser: counters,
  };
}
