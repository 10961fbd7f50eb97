/**
 * Reading the body of an HTTP answer from a server we do not trust: never more than a cap, and
 * never past the request's deadline. Every client in tsunagi (TAXII, OSINT feeds, the page
 * check, the summariser) reads its bodies here, so the two limits cannot be forgotten.
 */

/** The body was longer than the cap; `maxBytes` is the cap, `declared` its Content-Length when that said so. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  constructor(
    readonly maxBytes: number,
    readonly declared?: number,
  ) {
    super(`the body is over the ${maxBytes}-byte limit`);
  }
}

export interface ReadBodyOptions {
  maxBytes: number;
  /**
   * A body longer than maxBytes is a BodyTooLargeError (`error`), or its first maxBytes are kept
   * and the rest never read (`truncate`).
   */
  overflow: 'error' | 'truncate';
  /** The request's signal: once it aborts, the read rejects with its reason. */
  signal?: AbortSignal;
}

export interface Body {
  bytes: Buffer;
  /** Only with overflow `truncate`: the body went on past maxBytes. */
  truncated: boolean;
}

/**
 * Rejects with the signal's reason once it aborts (at once when it already has); `release`
 * removes the listener. Never settles otherwise.
 */
function abortedBy(signal: AbortSignal): { promise: Promise<never>; release(): void } {
  let onAbort = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => {}); // Whoever races it sees the rejection; alone it is not unhandled.
  return { promise, release: () => signal.removeEventListener('abort', onAbort) };
}

const NEVER: { promise: Promise<never>; release(): void } = {
  promise: new Promise<never>(() => {}),
  release: () => {},
};

/**
 * Reads a response's body within the options' limits. With overflow `error`, a Content-Length
 * over the cap is refused before a byte is read. Each read is raced against the signal: undici
 * does not always error a body stream whose fetch was aborted mid-body (nodejs/undici#4089), and
 * a read left waiting on a server that drips or stalls would outlive the deadline, the poll and
 * the process's shutdown. On any failure the stream is cancelled, which frees the connection.
 */
export async function readBody(
  response: Response,
  { maxBytes, overflow, signal }: ReadBodyOptions,
): Promise<Body> {
  const body = response.body;
  if (overflow === 'error') {
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await body?.cancel().catch(() => {});
      throw new BodyTooLargeError(maxBytes, declared);
    }
  }
  if (!body) return { bytes: Buffer.alloc(0), truncated: false };
  const reader = body.getReader();
  const aborted = signal ? abortedBy(signal) : NEVER;
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted.promise]);
      if (done) return { bytes: Buffer.concat(chunks, total), truncated: false };
      const room = maxBytes - total;
      if (value.byteLength > room) {
        if (overflow === 'error') throw new BodyTooLargeError(maxBytes);
        chunks.push(value.subarray(0, room));
        total += room;
        void reader.cancel().catch(() => {});
        return { bytes: Buffer.concat(chunks, total), truncated: true };
      }
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (error) {
    void reader.cancel().catch(() => {});
    throw error;
  } finally {
    aborted.release();
  }
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'no such host (DNS failed)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'the body did not arrive in time',
};

/**
 * Why a `fetch()` failed, in a few words: undici says only "fetch failed" and keeps the reason
 * (ECONNREFUSED, a TLS error...) in `cause`. A timeout is `no answer within N ms` when the
 * caller's deadline is given.
 */
export function fetchFailure(error: unknown, timeoutMs?: number): string {
  const e = error as Error & { cause?: unknown; code?: string };
  if (e?.name === 'TimeoutError') return timeoutMs ? `no answer within ${timeoutMs} ms` : 'no answer in time';
  const cause = e?.cause as (Error & { code?: string }) | undefined;
  const code = cause?.code ?? e?.code;
  if (code && NETWORK_CODES[code]) return NETWORK_CODES[code];
  if (cause?.message) return cause.message.split('\n')[0]!;
  return String(e?.message ?? error).split('\n')[0]!;
}
