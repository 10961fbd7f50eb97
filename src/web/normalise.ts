/**
 * A URL as the room keys it: parsed by the WHATWG URL parser (what browsers do), the host in
 * IDNA/punycode and decoded for people, and split against the public suffix list WITH private
 * domains (tldts), so `evil.pages.dev` is its own registrable domain and not Cloudflare's.
 *
 * Feeds are almost all plain `http(s)://name/path` URLs, which the WHATWG parser would hand back
 * unchanged but for lower-casing; `plainUrl` reads those by hand (a detection hot path) and gives
 * up on anything the parser could rewrite (IDNA, IP forms, dot segments, characters it
 * percent-encodes, credentials, odd ports), which then goes through `new URL`. normalise.test.ts
 * checks the two agree on fuzzed input.
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
  const text = checked(undefang(input.trim()), maxLength);
  const full = SCHEME.test(text) ? text : schemeless(text);
  // The hand-read form only where WHATWG would give the same.
  return plainUrl(full) ?? whatwgUrl(full);
}

/** The same keys, always through the WHATWG parser: the reference `plainUrl` is tested against. */
export function normaliseUrlByWhatwg(input: string, maxLength = DEFAULT_MAX_LENGTH): NormalisedUrl {
  const text = checked(undefang(input.trim()), maxLength);
  return whatwgUrl(SCHEME.test(text) ? text : schemeless(text));
}

function checked(text: string, maxLength: number): string {
  if (text === '') throw new UrlInputError('empty URL');
  if (text.length > maxLength) throw new UrlInputError(`URL longer than ${maxLength} characters`);
  return text;
}

function schemeless(text: string): string {
  // A bare host with a path may not hold blanks: `2025/10/01 10:25:00,https://…` is a CSV line, not
  // a URL (the parser would read host 2025 as the address 0.0.7.233).
  if (/\s/.test(text)) throw new UrlInputError('not a URL: blank inside and no scheme');
  return `http://${text}`;
}

function undefang(text: string): string {
  // The two regular expressions only when the text can hold what they undo.
  const c1 = text.charCodeAt(1) | 0x20;
  if (c1 === 0x78 /* x */ || text.charCodeAt(1) === 0x2a /* * */)
    text = text.replace(DEFANGED_SCHEME, 'http$2://');
  if (text.includes('.]') || text.includes('.)') || text.includes('.}'))
    text = text.replace(DEFANGED_DOT, '.');
  return text;
}

function whatwgUrl(full: string): NormalisedUrl {
  const parsed = parseUrl(full);
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

/** Byte classes of the plain form: 1 host character, 2 path character, 4 query character. */
const PLAIN = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._')
  PLAIN[ch.charCodeAt(0)] = 7;
// Not `'` (percent-encoded in a special URL's query), not `^`, `|`, `[`, `]`, `\\`, quotes,
// angle brackets, braces or backquote, whose treatment has varied between parser versions.
for (const ch of '~!$&()*+,;=:@%/') PLAIN[ch.charCodeAt(0)] = 6;
PLAIN['?'.charCodeAt(0)] = 4;
const HOST_CHAR = 1;
const PATH_CHAR = 2;
const QUERY_CHAR = 4;

const TLDTS_OPTIONS = {
  allowPrivateDomains: true,
  extractHostname: false,
  validateHostname: false,
  detectIp: false,
  mixedInputs: false,
};

/**
 * `scheme://host[:port]/path?query#fragment` read by hand when it is already what WHATWG would
 * serialise (save lower-casing the scheme and host and dropping a default port); null for
 * anything else.
 */
function plainUrl(text: string): NormalisedUrl | null {
  const first = text.charCodeAt(0) | 0x20;
  if (first !== 0x68 /* h */) return null;
  let at: number;
  let https: boolean;
  if (text.startsWith('://', 4)) {
    https = false;
    at = 7;
  } else if (text.startsWith('://', 5) && (text.charCodeAt(4) | 0x20) === 0x73 /* s */) {
    https = true;
    at = 8;
  } else return null;
  if (
    (text.charCodeAt(1) | 0x20) !== 0x74 ||
    (text.charCodeAt(2) | 0x20) !== 0x74 ||
    (text.charCodeAt(3) | 0x20) !== 0x70
  )
    return null;
  const hostStart = at;
  let upper = false;
  let dotBefore = true;
  let lastLabel = at;
  for (; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === 0x2e /* . */) {
      if (dotBefore) return null;
      dotBefore = true;
      lastLabel = at + 1;
      continue;
    }
    if (code >= 128 || (PLAIN[code]! & HOST_CHAR) === 0) break;
    // A punycode label is checked and decoded by the parser.
    if (dotBefore && (code | 0x20) === 0x78 && (text.charCodeAt(at + 1) | 0x20) === 0x6e) return null;
    if (code <= 0x5a && code >= 0x41) upper = true;
    dotBefore = false;
  }
  // Empty, a trailing dot, or a last label the parser reads as an IPv4 number: the slow way.
  if (at === hostStart || dotBefore || endsInNumber(text, lastLabel, at)) return null;
  let host = text.slice(hostStart, at);
  if (upper) host = host.toLowerCase();
  let port = '';
  if (text.charCodeAt(at) === 0x3a /* : */) {
    const portStart = at + 1;
    let value = 0;
    for (at = portStart; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if (code < 0x30 || code > 0x39) break;
      value = value * 10 + code - 0x30;
    }
    const digits = at - portStart;
    if (digits === 0 || digits > 5 || value > 65535 || text.charCodeAt(portStart) === 0x30) return null;
    if (value !== (https ? 443 : 80)) port = text.slice(portStart - 1, at);
  }
  const pathStart = at;
  let queryStart = -1;
  let end = text.length;
  for (; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === 0x23 /* # */) {
      end = at;
      break;
    }
    if (code >= 128) return null;
    const kind = PLAIN[code]!;
    if (queryStart < 0) {
      if (code === 0x3f /* ? */) queryStart = at;
      else if ((kind & PATH_CHAR) === 0) return null;
      // A dot segment (`/./`, `/../`, `%2e`) is resolved by the parser.
      else if (code === 0x2e && text.charCodeAt(at - 1) === 0x2f) return null;
      else if (code === 0x25 && text.charCodeAt(at + 1) === 0x32 && (text.charCodeAt(at + 2) | 0x20) === 0x65)
        return null;
    } else if ((kind & QUERY_CHAR) === 0) return null;
  }
  // `http://host?x` has the path `/`; the fragment is dropped.
  if (pathStart !== end && text.charCodeAt(pathStart) !== 0x2f && text.charCodeAt(pathStart) !== 0x3f)
    return null;
  const pathEnd = queryStart < 0 ? end : queryStart;
  const pathname = pathEnd === pathStart ? '/' : text.slice(pathStart, pathEnd);
  const query = queryStart < 0 ? '' : text.slice(queryStart, end);
  const url = `${https ? 'https://' : 'http://'}${host}${port}${pathname}${query}`;
  const keys = domainKeys(host);
  return {
    url,
    path: query.length > 1 ? pathname + query : pathname,
    host: keys.host,
    unicodeHost: keys.unicodeHost,
    hostKind: keys.hostKind,
    registrableDomain: keys.registrableDomain,
    publicSuffix: keys.publicSuffix,
    privateSuffix: keys.privateSuffix,
    subdomain: keys.subdomain,
  };
}

/** WHATWG's "ends in a number": a last label of digits only, or `0x` and hex digits. */
function endsInNumber(text: string, start: number, end: number): boolean {
  let digits = true;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) digits = false;
  }
  if (digits) return true;
  return text.charCodeAt(start) === 0x30 && (text.charCodeAt(start + 1) | 0x20) === 0x78;
}

function domainKeys(host: string) {
  let label = 0;
  for (let i = 0; i <= host.length; i++) {
    const code = i === host.length ? 0x2e : host.charCodeAt(i);
    if (code === 0x2e) {
      if (label === 0 || label > 63) throw new UrlInputError(`not a DNS host name: ${host.slice(0, 80)}`);
      label = 0;
    } else if (
      (code >= 0x61 && code <= 0x7a) ||
      (code >= 0x30 && code <= 0x39) ||
      code === 0x2d ||
      code === 0x5f
    )
      label++;
    else throw new UrlInputError(`not a DNS host name: ${host.slice(0, 80)}`);
  }
  const parts = parseDomain(host, TLDTS_OPTIONS);
  return {
    host,
    // Only punycode labels decode to something else.
    unicodeHost: host.includes('xn--') ? domainToUnicode(host) || host : host,
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
