/** HTTP GET with a deadline, a size bound and conditional-request validators. */
import { RuntimeError } from '../../core/index.ts';

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

/** A source that failed (network, status, size): counted and logged, the fetch goes on. */
export class FetchError extends RuntimeError {}

async function readBounded(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new FetchError(`larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export async function httpGet(url: string, options: GetOptions): Promise<Fetched> {
  const headers: Record<string, string> = { 'user-agent': options.userAgent, accept: '*/*' };
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  let response: Response;
  try {
    response = await fetch(url, {
      headers,
      redirect: 'follow',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    throw new FetchError(`${url}: ${(error as Error).message}`);
  }
  if (response.status !== 200 && response.status !== 304) {
    await response.body?.cancel();
    throw new FetchError(`${url}: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > options.maxBytes) {
    await response.body?.cancel();
    throw new FetchError(`${url}: larger than ${options.maxBytes} bytes`);
  }
  const bytes =
    response.status === 304 ? new Uint8Array() : await readBounded(response.body, options.maxBytes);
  return {
    status: response.status,
    url: response.url || url,
    contentType: response.headers.get('content-type') ?? '',
    bytes,
    etag: response.headers.get('etag'),
    lastModified: response.headers.get('last-modified'),
  };
}
