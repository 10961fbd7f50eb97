/**
 * A URL as the room keys it: parsed by the WHATWG URL parser (what browsers do), the host in
 * IDNA/punycode and decoded for people, and split against the public suffix list WITH private
 * domains (tldts), so `evil.pages.dev` is its own registrable domain and not Cloudflare's.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToUnicode } from 'node:url';
import { parse as parseDomain } from 'tldts';
import { InputError } from '../core/index.ts';
import type { NormalisedUrl } from './types.ts';

/** The one error the normaliser throws: the text is not an http(s) URL or host name. */
export class UrlInputError extends InputError {}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `hxxp://`, `example[.]com`, `example(.)com`: how feeds write URLs so nobody clicks them. */
const DEFANGED_SCHEME = /^h(xx|\*\*)p(s?):\/\//i;
const DEFANGED_DOT = /\[\.\]|\(\.\)|\{\.\}/g;
const DEFAULT_MAX_LENGTH = 8192;

export function normaliseUrl(input: string, maxLength = DEFAULT_MAX_LENGTH): NormalisedUrl {
  const text = input.trim().replace(DEFANGED_SCHEME, 'http$2://').replace(DEFANGED_DOT, '.');
  if (text === '') throw new UrlInputError('empty URL');
  if (text.length > maxLength) throw new UrlInputError(`URL longer than ${maxLength} characters`);
  const schemeless = !SCHEME.test(text);
  // A bare host with a path may not hold blanks: `2025/10/01 10:25:00,https://…` is a CSV line, not
  // a URL (the parser would read host 2025 as the address 0.0.7.233).
  if (schemeless && /\s/.test(text)) throw new UrlInputError('not a URL: blank inside and no scheme');
  const parsed = parseUrl(schemeless ? `http://${text}` : text);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UrlInputError(`not an http(s) URL: ${parsed.protocol}`);
  parsed.hash = '';
  parsed.username = '';
  parsed.password = '';
  const rawHost = parsed.hostname.replace(/\.+$/, '');
  if (rawHost === '' || rawHost.includes('..')) throw new UrlInputError('no host name');
  if (rawHost !== parsed.hostname) parsed.hostname = rawHost;
  const bracketless = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  const hostKind = isIPv6(bracketless) ? 'ipv6' : isIPv4(bracketless) ? 'ipv4' : 'domain';
  const path = parsed.pathname + parsed.search;
  if (hostKind !== 'domain')
    return {
      url: parsed.href,
      host: bracketless,
      unicodeHost: bracketless,
      hostKind,
      registrableDomain: null,
      publicSuffix: '',
      privateSuffix: false,
      subdomain: '',
      path,
    };
  return { url: parsed.href, path, ...domainKeys(bracketless) };
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new UrlInputError('not a URL');
  }
}

function domainKeys(host: string) {
  if (!/^[a-z0-9_.-]+$/.test(host) || host.split('.').some((label) => label.length > 63 || label === ''))
    throw new UrlInputError(`not a DNS host name: ${host.slice(0, 80)}`);
  const parts = parseDomain(host, {
    allowPrivateDomains: true,
    extractHostname: false,
    validateHostname: false,
  });
  return {
    host,
    unicodeHost: domainToUnicode(host) || host,
    hostKind: 'domain' as const,
    registrableDomain: parts.domain,
    publicSuffix: parts.publicSuffix ?? '',
    privateSuffix: parts.isPrivate === true,
    subdomain: parts.subdomain ?? '',
  };
}

/** The host's keys alone, as `normaliseUrl` gives them for `https://host/`. */
export function normaliseHost(host: string): NormalisedUrl {
  return normaliseUrl(`https://${host}/`);
}
