/** What the TAXII and API routes share: the hub's parts, errors with TAXII bodies, authentication. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.ts';
import type { Intel } from '../intel/index.ts';
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

/** The token from `Authorization: Bearer T` or HTTP Basic with the token as password. */
export function tokenFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!value) return undefined;
  if (/^bearer$/i.test(scheme!)) return value;
  if (/^basic$/i.test(scheme!)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
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

/**
 * Records a read of restricted data in the audit log: who (organisation and token), what
 * (target), and why (the caller's X-Tsunagi-Purpose header, else the channel's own default).
 */
export async function recordRead(
  audit: AuditLog,
  request: FastifyRequest,
  p: Principal,
  read: {
    channel: 'api' | 'console' | 'taxii';
    purpose: string;
    target: string;
    detail: Record<string, unknown>;
  },
): Promise<void> {
  await audit.record({
    actor: p.org.name,
    action: `${read.channel}.read`,
    target: read.target,
    reason: String(request.headers['x-tsunagi-purpose'] ?? read.purpose).slice(0, 100),
    detail: { ...read.detail, token: p.tokenId },
  });
}
