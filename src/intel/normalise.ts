/** Validation and canonical forms of sighting input, so the same thing from two sources merges. */
import ipaddr from 'ipaddr.js';
import { parse as parseDomain } from 'tldts';
import { z } from 'zod';
import { InputError } from '../core/index.ts';
import { INDICATOR_KINDS, TIERS, TLPS, type IndicatorKind } from './types.ts';

const Timestamp = z.union([z.date(), z.iso.datetime({ offset: true })]);

const Endpoint = z.object({
  value: z.string().min(1).max(64),
  port: z.number().int().min(0).max(65535).optional(),
  proto: z
    .string()
    .regex(/^[a-z0-9-]{1,16}$/i)
    .optional(),
});

export const SightingInput = z.object({
  type: z.enum(INDICATOR_KINDS),
  value: z.string().min(1).max(2048),
  port: z.number().int().min(0).max(65535).optional(),
  proto: z
    .string()
    .regex(/^[a-z0-9-]{1,16}$/i, 'a protocol name such as tcp or udp')
    .optional(),
  /** The named source: an organisation, a sensor or a feed. */
  source: z.string().min(1).max(200),
  confidence: z.number().min(0).max(100),
  family: z.string().max(100).optional(),
  tier: z.enum(TIERS).default('full'),
  tlp: z.enum(TLPS).default('amber+strict'),
  observedAt: Timestamp.optional(),
  asn: z.number().int().min(0).max(4294967295).optional(),
  /** Kind-specific details (product, vendor, version, cve, service...). */
  attributes: z.record(z.string().max(64), z.string().max(1024)).optional(),
  /**
   * A published document that names it (OSINT): kept once per (source, document) beside the
   * sighting as its provenance, however many documents name the indicator.
   */
  document: z
    .object({
      id: z.string().min(1).max(128),
      url: z.string().max(1024),
      title: z.string().max(1024).optional(),
      context: z.string().max(1024).optional(),
    })
    .optional(),
  /** For a bot: the C&C server it was seen talking to (recorded as a relationship). */
  c2: Endpoint.optional(),
});
export type SightingInput = z.input<typeof SightingInput>;
export type ParsedSighting = z.output<typeof SightingInput>;

export interface IndicatorKey {
  kind: IndicatorKind;
  value: string;
  port: number;
  proto: string;
}

/** Canonical IP text; IPv4-mapped IPv6 becomes IPv4. Throws InputError. */
export function canonicalIp(text: string): string {
  if (!ipaddr.isValid(text)) throw new InputError(`not an IP address: "${text.slice(0, 80)}"`);
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    return (parsed as ipaddr.IPv6).toIPv4Address().toString();
  return parsed.toString();
}

export function canonicalDomain(text: string): string {
  const lower = text.trim().toLowerCase().replace(/\.$/, '');
  const parsed = parseDomain(lower);
  if (parsed.isIp || !parsed.domain || parsed.hostname !== lower || !/^[a-z0-9.-]+$/.test(lower)) {
    throw new InputError(`not a domain name: "${text.slice(0, 80)}"`);
  }
  return lower;
}

export function canonicalUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new InputError(`not a URL: "${text.slice(0, 80)}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'ftp:') {
    throw new InputError(`URL scheme ${url.protocol} not accepted`);
  }
  url.hash = '';
  return url.href;
}

/** The merge key of a sighting: what makes two reports the same indicator. */
export function indicatorKey(
  kind: IndicatorKind,
  value: string,
  port?: number,
  proto?: string,
): IndicatorKey {
  switch (kind) {
    case 'c2':
    case 'vulnerable-device':
      return { kind, value: canonicalIp(value), port: port ?? 0, proto: (proto ?? '').toLowerCase() };
    case 'bot':
      // A bot is a host; which port it used does not make it another bot.
      return { kind, value: canonicalIp(value), port: 0, proto: '' };
    case 'url':
      return { kind, value: canonicalUrl(value), port: 0, proto: '' };
    case 'domain':
      return { kind, value: canonicalDomain(value), port: 0, proto: '' };
  }
}

/** Parses and validates one sighting, naming the first problem. */
export function parseSighting(input: unknown): { sighting: ParsedSighting; key: IndicatorKey } {
  const result = SightingInput.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InputError(`bad sighting: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const sighting = result.data;
  return { sighting, key: indicatorKey(sighting.type, sighting.value, sighting.port, sighting.proto) };
}
