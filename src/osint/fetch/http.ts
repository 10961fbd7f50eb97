/** HTTP GET with a deadline, a size bound and conditional-request validators. */
import { BodyTooLargeError, fetchFailure, readBody, RuntimeError } from '../../core/index.ts';

export interface Fetched {
  status: number;
  url: string;
  contentType: string;
  bytes: Uint8Array;
  etag: string | null;
  lastModified: string | null;
}

export interface GetOptions {
  timeoutMs: number;
  maxBytes: number;
  userAgent: string;
  etag?: string | null;
  lastModified?: string | null;
}

const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const causeCode = (error: unknown) =>
  String(((error as { cause?: { code?: unknown } }).cause?.code ?? '') as string);

/** A source that failed (network, status, size): counted and logged, the fetch goes on. */
export class FetchError extends RuntimeError {}

export async function httpGet(url: string, options: GetOptions): Promise<Fetched> {
  const headers: Record<string, string> = { 'user-agent': options.userAgent, accept: '*/*' };
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  // One deadline for the answer and its whole body: a server that drips is as late as a silent one.
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'follow', signal }).catch((error: unknown) => {
      // A kept-alive connection the server closed while idle resets the next request on it: a GET
      // is safe to send once more, on a new connection.
      if (!signal.aborted && RESET.has(causeCode(error)))
        return fetch(url, { headers, redirect: 'follow', signal });
      throw error;
    });
  } catch (error) {
    throw new FetchError(`${url}: ${fetchFailure(error, options.timeoutMs)}`);
  }
  if (response.status !== 200 && response.status !== 304) {
    await response.body?.cancel().catch(() => {});
    throw new FetchError(`${url}: HTTP ${response.status}`);
  }
  let bytes: Uint8Array = new Uint8Array();
  if (response.status !== 304) {
    try {
      ({ bytes } = await readBody(response, { maxBytes: options.maxBytes, overflow: 'error', signal }));
    } catch (error) {
      if (error instanceof BodyTooLargeError)
        throw new FetchError(`${url}: larger than ${options.maxBytes} bytes`);
      throw new FetchError(`${url}: ${fetchFailure(error, options.timeoutMs)}`);
    }
  }
  return {
    status: response.status,
    url: response.url || url,
    contentType: response.headers.get('content-type') ?? '',
    bytes,
    etag: response.headers.get('etag'),
    lastModified: response.headers.get('last-modified'),
  };
}
