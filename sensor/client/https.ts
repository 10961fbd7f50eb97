/**
 * HTTPS to the centre with node's https module: at enrolment the centre's CA is pinned by the
 * fingerprint in the invite token before any byte of the body leaves; afterwards every request
 * is mutual TLS with the terminal's key and the certificate the centre issued.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { request as httpsRequest, type Agent } from 'node:https';
import { connect, type DetailedPeerCertificate } from 'node:tls';

export interface TlsMaterial {
  /** The CA the centre's certificate must chain to (PEM). */
  ca: string;
  /** The terminal's key and certificate; absent only at enrolment. */
  key?: string;
  cert?: string;
}

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

/** The centre could not be reached or did not answer in time (worth a retry). */
export class TransportError extends Error {}
/** The centre is not the one the token pinned (never worth a retry). */
export class PinningError extends Error {}

const TIMEOUT_MS = 30_000;
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

export function request(
  url: URL,
  options: {
    method: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: Buffer;
    tls: TlsMaterial;
    agent?: Agent;
  },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: options.method,
        headers: {
          ...options.headers,
          ...(options.body ? { 'content-length': String(options.body.length) } : {}),
        },
        ca: options.tls.ca,
        ...(options.tls.key ? { key: options.tls.key, cert: options.tls.cert } : {}),
        timeout: TIMEOUT_MS,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new TransportError('answer too large'));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', (error) => reject(new TransportError(error.message)));
      },
    );
    req.on('timeout', () =>
      req.destroy(new TransportError(`no answer from ${url.host} in ${TIMEOUT_MS} ms`)),
    );
    req.on('error', (error) =>
      reject(error instanceof TransportError ? error : new TransportError(error.message)),
    );
    req.end(options.body);
  });
}

const fingerprint = (der: Buffer) => createHash('sha256').update(der).digest('hex');

/**
 * The centre's CA certificate (PEM), taken from the chain its TLS server presents and accepted
 * only when its SHA-256 equals the token's and it signed the server's certificate. No request is
 * made on this connection: it ends after the handshake.
 */
export function fetchPinnedCa(url: URL, caSha256: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      // Nothing is trusted yet: the chain is checked against the pinned fingerprint below.
      rejectUnauthorized: false,
      ...(/^[\d.]+$|:/.test(url.hostname) ? {} : { servername: url.hostname }),
      timeout: TIMEOUT_MS,
    });
    socket.on('timeout', () => socket.destroy(new TransportError(`no TLS answer from ${url.host}`)));
    socket.on('error', (error) =>
      reject(error instanceof PinningError ? error : new TransportError(error.message)),
    );
    socket.on('secureConnect', () => {
      try {
        resolve(pinnedCaOf(socket.getPeerCertificate(true), caSha256));
      } catch (error) {
        reject(error);
      } finally {
        socket.end();
      }
    });
  });
}

function pinnedCaOf(leaf: DetailedPeerCertificate, caSha256: string): string {
  if (!leaf?.raw) throw new PinningError('the centre presented no certificate');
  const seen = new Set<string>();
  for (let cert: DetailedPeerCertificate | undefined = leaf; cert?.raw; cert = cert.issuerCertificate) {
    const print = fingerprint(cert.raw);
    if (seen.has(print)) break; // a self-signed root points at itself
    seen.add(print);
    if (print !== caSha256) continue;
    const ca = new X509Certificate(cert.raw);
    const server = new X509Certificate(leaf.raw);
    if (!ca.ca || !server.verify(ca.publicKey))
      throw new PinningError("the pinned CA did not sign the centre's certificate");
    return ca.toString();
  }
  throw new PinningError("the centre's certificate chain has no CA with the token's fingerprint");
}
