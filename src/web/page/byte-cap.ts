/**
 * The browser check's byte cap, enforced where the bytes arrive: the DevTools Fetch domain on the
 * browser's own target pauses every request of every target (pages, frames, dedicated and shared
 * workers, service workers), and each response body is read here, chunk by chunk, through
 * `Fetch.takeResponseBodyAsStream` and `IO.read`, against one budget per check, then handed to
 * the page with `Fetch.fulfillRequest`. Chromium pulls a body from the network only as it is read,
 * so no more than the cap (and one byte, which says there was more) is ever read, however late
 * the answers come; the old way (count `Network.dataReceived`, then `Page.stopLoading`) let
 * megabytes in while the stop was on its way.
 *
 * Every response handed on carries a policy that lets scripts connect over http(s) only: a
 * WebSocket, which never passes the Fetch domain, is refused by Chromium and counted here. The same
 * policy lets workers start from http(s) scripts only, and each worker script is handed on with
 * WebTransport (HTTP/3 over UDP, past the Fetch domain) removed before its first line runs.
 *
 * The Fetch domain on the browser target cannot tell one browser context from another, so one
 * check runs at a time (`PageBrowser.check` queues them); a request paused while no check runs is
 * refused.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, CDPSession } from 'playwright-core';
import type { BrowserCounters } from './check.ts';

/** One `IO.read` at most: small enough that concurrent bodies share the budget fairly. */
const CHUNK = 64 * 1024;

const noop = () => undefined;
const isHttp = (url: string) => /^https?:/i.test(url);
const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** Headers that no longer describe the body handed on: it is decoded, whole, and maybe cut. */
const STALE_HEADERS = /^(content-length|content-encoding|transfer-encoding)$/i;

/**
 * Bytes a check may read: `maxBytes`, and one more to know a body went past it. Reads reserve
 * their room before they ask, so bodies read side by side cannot overshoot together.
 */
export class ByteBudget {
  /** Bytes read so far (bodies, the favicon). */
  read = 0;
  private reserved = 0;
  private closed = false;
  private waiting: (() => void)[] = [];
  private onOver: () => void;
  readonly overCap: Promise<void>;

  constructor(readonly maxBytes: number) {
    let reach: () => void = noop;
    this.overCap = new Promise((resolve) => (reach = resolve));
    this.onOver = reach;
  }

  /** True once more than `maxBytes` was asked for: what is loading stops, the rest is refused. */
  get over(): boolean {
    return this.read > this.maxBytes;
  }

  /** Bytes still free, counting the reservations of reads in flight. */
  get left(): number {
    return Math.max(0, this.maxBytes + 1 - this.read - this.reserved);
  }

  /**
   * Room for one read of at most `want` bytes; 0 when the cap is reached. Waits while the budget
   * is held by other reads in flight (what they leave unused comes back).
   */
  async reserve(want: number): Promise<number> {
    for (;;) {
      if (this.over || this.closed) return 0;
      const room = Math.min(want, this.left);
      if (room > 0) {
        this.reserved += room;
        return room;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** A reserved read is done: `got` bytes arrived (counted whatever the reservation). */
  settle(reserved: number, got: number): void {
    this.reserved -= reserved;
    this.add(got);
  }

  /** The check is over: reads still waiting for room get none (their bodies end where they are). */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Bytes read outside a reservation (the favicon, read by a plain fetch with its room as limit). */
  add(bytes: number): void {
    this.read += bytes;
    if (this.over) this.onOver();
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }
}

/**
 * Sent with every response the gate hands on, besides the page's own policy (policies add up: a
 * page cannot loosen this one; frames and workers made from a blob:, data: or about: URL inherit
 * it). Scripts may connect over http(s) only, whose bodies this gate reads and counts: a WebSocket
 * (`ws:`, `wss:`) never passes the Fetch domain, so its frames could not be counted, nor a frame
 * larger than the cap stopped; Chromium refuses it before it connects. Each refusal is reported to
 * `reportUrl`, a request the gate refuses and counts. Workers start only from an http(s) script,
 * which passes this gate and gets `WORKER_PROLOGUE` (a `blob:` or `data:` worker would not; its
 * refusal is reported too and counted as a scheme refused).
 */
const connectPolicy = (reportUrl: string) =>
  `connect-src http: https: data: blob:; worker-src http: https:; report-uri ${reportUrl}`;

/**
 * Put before a worker's script (dedicated or shared; the pages' own copy is in `browser.ts`):
 * WebTransport connects over UDP past the Fetch domain and no Chromium switch turns it off, so a
 * worker starts without it. RTCPeerConnection does not exist in workers.
 */
const WORKER_PROLOGUE = 'delete self.WebTransport;\n';
/** Types no script may have (Fetch's list: Chromium refuses to run them, in a worker too). */
const NOT_SCRIPT = /^\s*(image\/|audio\/|video\/|text\/csv\b)/i;

/** What this gate reads of `Fetch.requestPaused` (playwright-core does not export its protocol types). */
interface PausedRequest {
  requestId: string;
  request: {
    url: string;
    headers?: Record<string, string>;
    postData?: string;
    postDataEntries?: { bytes?: string }[];
  };
  responseStatusCode?: number;
  responseStatusText?: string;
  responseErrorReason?: string;
  responseHeaders?: { name: string; value: string }[];
  resourceType?: string;
}

/** The check that owns the browser's requests for now. */
interface ActiveCheck {
  budget: ByteBudget;
  counters: BrowserCounters;
}

export interface ByteGate {
  /** Starts counting for one check; requests until `end()` are its own. */
  begin(budget: ByteBudget, counters: BrowserCounters): void;
  /** Stops: requests paused from now on (a closing context's) are refused. */
  end(): void;
}

/**
 * Pauses every request of the browser (Fetch on its own target, both stages) and enforces the
 * current check's budget on each response body.
 */
export async function openByteGate(browser: Browser): Promise<ByteGate> {
  const cdp: CDPSession = await browser.newBrowserCDPSession();
  let active: ActiveCheck | undefined;
  // Random, so a page does not stumble on it (one that reads it from its own headers and asks for
  // it only adds to its own count).
  const policy = { reportUrl: `http://refused.tsunagi.invalid/${randomUUID()}` };
  cdp.on('Fetch.requestPaused', (event) => void onPaused(cdp, active, policy, event));
  await cdp.send('Fetch.enable', {
    patterns: [
      { urlPattern: '*', requestStage: 'Request' },
      { urlPattern: '*', requestStage: 'Response' },
    ],
  });
  return {
    begin(budget, counters) {
      active = { budget, counters };
    },
    end() {
      active?.budget.close();
      active = undefined;
    },
  };
}

async function onPaused(
  cdp: CDPSession,
  check: ActiveCheck | undefined,
  policy: { reportUrl: string },
  event: PausedRequest,
): Promise<void> {
  const { requestId } = event;
  const refuse = () =>
    cdp.send('Fetch.failRequest', { requestId, errorReason: 'BlockedByClient' }).catch(noop);
  const pass = () => cdp.send('Fetch.continueRequest', { requestId }).catch(noop);
  if (!check) return void (await refuse());
  const atResponse = event.responseStatusCode !== undefined || event.responseErrorReason !== undefined;
  if (!atResponse) {
    if (event.request.url === policy.reportUrl) {
      // A refused blob:/data: worker is reported here too: a load refused for its scheme.
      if (/"effective-directive":"worker-src"/.test(reportBody(event.request)))
        check.counters.blockedSchemes++;
      else check.counters.webSocketsRefused++;
      return void (await refuse());
    }
    check.counters.requests++;
    if (!isHttp(event.request.url)) {
      check.counters.blockedSchemes++;
      return void (await refuse());
    }
    if (check.budget.over) {
      check.counters.abortedOverCap++;
      return void (await refuse());
    }
    return void (await pass());
  }
  // A failed load, or a redirect (its next hop is paused again): no body to read.
  const status = event.responseStatusCode ?? 0;
  const headers = event.responseHeaders ?? [];
  if (event.responseErrorReason !== undefined) return void (await pass());
  if (REDIRECT.has(status) && headers.some((h) => h.name.toLowerCase() === 'location'))
    return void (await pass());
  if (check.budget.over) {
    check.counters.abortedOverCap++;
    return void (await refuse());
  }
  let body: Buffer;
  try {
    body = await readBody(cdp, requestId, check.budget);
    if (mayBeWorkerScript(event)) body = Buffer.concat([Buffer.from(WORKER_PROLOGUE), body]);
  } catch {
    // A body that cannot be read here is not let through uncounted.
    return void (await cdp.send('Fetch.failRequest', { requestId, errorReason: 'Failed' }).catch(noop));
  }
  await cdp
    .send('Fetch.fulfillRequest', {
      requestId,
      responseCode: status,
      ...(event.responseStatusText ? { responsePhrase: event.responseStatusText } : {}),
      responseHeaders: [
        ...headers.filter((h) => !STALE_HEADERS.test(h.name)),
        { name: 'Content-Security-Policy', value: connectPolicy(policy.reportUrl) },
      ],
      body: body.toString('base64'),
    })
    .catch(noop);
}

/** A policy report's JSON (`postData` is deprecated; `postDataEntries` hold it base64). */
function reportBody(request: PausedRequest['request']): string {
  if (request.postData !== undefined) return request.postData;
  return (request.postDataEntries ?? [])
    .map((entry) => Buffer.from(entry.bytes ?? '', 'base64').toString('utf8'))
    .join('');
}

/**
 * DevTools does not tell a worker's script from other loads: a worker's script and a module
 * worker's imports are `Other`, with no `Sec-Fetch-Dest` yet. Every `Other` body a worker could
 * run gets the prologue (a page's own scripts are `Script`, left as they are; `importScripts` runs
 * after the prologue).
 */
function mayBeWorkerScript(event: PausedRequest): boolean {
  if (event.resourceType !== 'Other') return false;
  const type = event.responseHeaders?.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? '';
  return !NOT_SCRIPT.test(type);
}

/** The body as far as the budget lets it be read; the page gets what was read. */
async function readBody(cdp: CDPSession, requestId: string, budget: ByteBudget): Promise<Buffer> {
  const { stream } = await cdp.send('Fetch.takeResponseBodyAsStream', { requestId });
  const chunks: Buffer[] = [];
  try {
    for (;;) {
      const room = await budget.reserve(CHUNK);
      if (room === 0) break;
      let got = 0;
      try {
        const read = await cdp.send('IO.read', { handle: stream, size: room });
        const chunk = Buffer.from(read.data, read.base64Encoded ? 'base64' : 'utf8');
        got = chunk.length;
        chunks.push(chunk);
        if (read.eof) break;
      } finally {
        budget.settle(room, got);
      }
    }
  } finally {
    await cdp.send('IO.close', { handle: stream }).catch(noop);
  }
  return Buffer.concat(chunks);
}
