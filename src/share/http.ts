/** What the TAXII and API routes share: the hub's parts, errors with TAXII bodies, authentication. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/index.ts';
import type { AuditEntry, Intel } from '../intel/index.ts';
import type { Store } from '../store/index.ts';
import type { AuditLog } from './audit.ts';
import type { HubConfig } from './config.ts';
import type { Organisations, Principal } from './orgs.ts';
import type { Publisher } from './publisher.ts';
import type { Reviews } from './review.ts';
import type { HubIdentity } from './stix.ts';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

export interface HubContext {
  config: HubConfig;
  store: Store;
  intel: Intel;
  orgs: Organisations;
  audit: AuditLog;
  publisher: Publisher;
  /** The analysis centre's review queue for public notice. */
  reviews: Reviews;
  hub: HubIdentity;
  logger: Logger;
}

/** An error answered with a TAXII error body (also used, as JSON, by the API). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly description?: string,
  ) {
    super(title);
  }
}

export function notFound(): HttpError {
  // The same answer for "does not exist" and "not yours to see": nothing about other tiers leaks.
  return new HttpError(404, 'Not Found', 'The requested resource does not exist or is not available to you.');
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** What an Authorization header says: no header, a token, or something this hub refuses to read. */
export type Credentials = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'malformed' };

/** RFC 6750's b64token: what may stand after `Bearer ` (and nothing else may follow it). */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BASIC = /^Basic ([A-Za-z0-9+/]+={0,2})$/i;

/**
 * Reads `Authorization: Bearer TOKEN` or HTTP Basic with the token as password, exactly: one
 * space, one token, nothing after it. Anything else is malformed (answered 401), never anonymous.
 */
export function credentialsFrom(header: string | undefined): Credentials {
  if (header === undefined || header === '') return { kind: 'none' };
  const bearer = BEARER.exec(header);
  if (bearer) return { kind: 'token', token: bearer[1]! };
  const basic = BASIC.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const token = colon >= 0 ? decoded.slice(colon + 1) : '';
    if (TOKEN.test(token)) return { kind: 'token', token };
  }
  return { kind: 'malformed' };
}

/** The token of a well-formed Authorization header, else undefined. */
export function tokenFrom(header: string | undefined): string | undefined {
  const credentials = credentialsFrom(header);
  return credentials.kind === 'token' ? credentials.token : undefined;
}

/**
 * The only URLs answered without a token (GET/HEAD): health, the console's page and assets, and
 * the public self-check. Everything else is refused before its body is read.
 */
export function isPublicRequest(method: string, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = url.split('?', 1)[0]!;
  return (
    path === '/healthz' ||
    path === '/' ||
    path === '/check' ||
    path === '/favicon.svg' ||
    path === '/console/api/self-check' ||
    /^\/assets\/[^/]+$/.test(path)
  );
}

/** TLP markings whose every read is audited (law rule 4): anything not CLEAR or GREEN. */
export function isRestrictedTlp(tlp: string): boolean {
  return tlp !== 'clear' && tlp !== 'green';
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal)
    throw new HttpError(
      401,
      'Unauthorized',
      'A valid API token is required (Bearer, or Basic with the token as password).',
    );
  return request.principal;
}

/** Whether the client takes TAXII 2.1 JSON (or anything). */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (type === '*/*' || type === 'application/*' || type === 'application/json') return true;
    if (type !== 'application/taxii+json') return false;
    const version = params.find((p) => p.startsWith('version='));
    return !version || version === 'version=2.1';
  });
}

export function sendTaxii(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header('content-type', TAXII_MEDIA_TYPE)
    .send(Buffer.from(JSON.stringify(body)));
}

/** A read of restricted data, noted by a route and written once, before the answer is sent. */
export interface AuditedRead {
  channel: 'api' | 'console' | 'taxii';
  purpose: string;
  target: string;
  detail: Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The restricted read this request makes (server.ts writes it in onSend). */
    auditedRead?: AuditedRead;
    /** Set once the request's audit record is written (by a write's own transaction, or onSend). */
    audited?: boolean;
  }
}

/**
 * Notes a read of restricted data for the audit log: who (organisation and token), what
 * (target), and why (the caller's X-Tsunagi-Purpose header, else the channel's own default). The
 * server writes ONE record per request in its onSend hook, before the answer leaves, and only
 * when the request succeeded; a second note in the same request adds to the first.
 */
export async function recordRead(
  _audit: AuditLog,
  request: FastifyRequest,
  _principal: Principal,
  read: AuditedRead,
): Promise<void> {
  // (The log and principal parameters stay for the routes' existing calls; the server has both.)
  const earlier = request.auditedRead;
  request.auditedRead = earlier
    ? { ...earlier, detail: { ...earlier.detail, also: { target: read.target, ...read.detail } } }
    : read;
}

/** The audit entry of a noted read, written by the server when the request succeeds. */
export function readEntry(request: FastifyRequest, p: Principal, read: AuditedRead): AuditEntry {
  return {
    actor: p.org.name,
    action: `${read.channel}.read`,
    target: read.target,
    reason: String(request.headers['x-tsunagi-purpose'] ?? read.purpose).slice(0, 100),
    detail: { ...read.detail, token: p.tokenId },
  };
}
