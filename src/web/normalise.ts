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
import { plainObjectType } from './plain-object.ts';
import type { NormalisedUrl } from './types.ts';

/** The one error the normaliser throws: the text is not an http(s) URL or host name. */
export class UrlInputError extends InputError {}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `hxxp://`, `example[.]com`, `example(.)com`: how feeds write URLs so nobody clicks them. */
const DEFANGED_SCHEME = /^h(xx|\*\*)p(s?):\/\//i;
const DEFANGED_DOT = /\[\.\]|\(\.\)|\{\.\}/g;
const DEFAULT_MAX_LENGTH = 8192;

export function normaliseUrl(input: string, maxLength = DEFAULT_MAX_LENGTH): NormalisedUrl {
  // Nearly every feed URL is already plain: read it as it is, without trimming, undefanging or
  // testing the scheme (plainUrl's `asGiven` says when any of them could change the text).
  if (input.length <= maxLength && startsHttp(input)) {
    const keys = plainUrl(input, true);
    if (keys !== null) return keys;
  }
  const text = checked(undefang(input.trim()), maxLength);
  const full = startsHttp(text) || SCHEME.test(text) ? text : schemeless(text);
  // The hand-read form only where WHATWG would give the same.
  return plainUrl(full, false) ?? whatwgUrl(full);
}

/**
 * A URL the room stored, normalised again; null for one that no longer parses (an earlier
 * version's looser normaliser kept it): it has no keys or path to give, and is skipped.
 */
export function normaliseStoredUrl(url: string, maxLength = DEFAULT_MAX_LENGTH): NormalisedUrl | null {
  try {
    return normaliseUrl(url, maxLength);
  } catch (error) {
    if (!(error instanceof UrlInputError)) throw error;
    return null;
  }
}

/** The same keys, always through the WHATWG parser: the reference `plainUrl` is tested against. */
export function normaliseUrlByWhatwg(input: string, maxLength = DEFAULT_MAX_LENGTH): NormalisedUrl {
  const text = checked(undefang(input.trim()), maxLength);
  return whatwgUrl(SCHEME.test(text) ? text : schemeless(text));
}

/** Whether text starts with `http://` or `https://` in lower case: SCHEME holds, without the expression. */
function startsHttp(text: string): boolean {
  return (
    text.length > 8 &&
    text.charCodeAt(0) === 0x68 /* h */ &&
    text.charCodeAt(1) === 0x74 /* t */ &&
    text.charCodeAt(2) === 0x74 /* t */ &&
    text.charCodeAt(3) === 0x70 /* p */ &&
    (text.charCodeAt(4) === 0x3a /* : */
      ? text.charCodeAt(5) === 0x2f && text.charCodeAt(6) === 0x2f
      : text.charCodeAt(4) === 0x73 /* s */ &&
        text.charCodeAt(5) === 0x3a &&
        text.charCodeAt(6) === 0x2f &&
        text.charCodeAt(7) === 0x2f)
  );
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
  // The closing character first: rare in URLs, where `.` starts many false matches of the pairs.
  if (
    (text.includes(']') && text.includes('.]')) ||
    (text.includes(')') && text.includes('.)')) ||
    (text.includes('}') && text.includes('.}'))
  )
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
  if (hostKind !== 'domain') {
    // Built by assignment (see domainUrl).
    const keys = {} as NormalisedUrl;
    keys.url = parsed.href;
    keys.host = bracketless;
    keys.unicodeHost = bracketless;
    keys.hostKind = hostKind;
    keys.registrableDomain = null;
    keys.publicSuffix = '';
    keys.privateSuffix = false;
    keys.subdomain = '';
    keys.path = path;
    return keys;
  }
  return domainUrl(parsed.href, path, bracketless);
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new UrlInputError('not a URL');
  }
}

/**
 * The plain form: scheme, an ASCII name, a port without leading zero, a path and query of
 * characters the parser keeps as they are (not `'`, percent-encoded in a special URL's query;
 * not `^`, `|`, `[`, `]`, `\\`, quotes, angle brackets, braces or backquote, whose treatment has
 * varied between parser versions), any fragment. As an expression (case-insensitive):
 *
 *   ^https?://[a-z0-9_-]+(\.[a-z0-9_-]+)*(:[1-9][0-9]{0,4})?(/[a-z0-9\-._~!$&()*+,;=:@%/]*)?
 *   (\?[a-z0-9\-._~!$&()*+,;=:@%/?]*)?(#[^]*)?$
 *
 * which plainUrl reads by hand in one pass (the expression and then an indexOf per mark were a
 * tenth of the normaliser's time). Its character classes, as bits per ASCII code:
 */
const HOST_CHAR = 1;
const PATH_CHAR = 2;
const QUERY_CHAR = 4;
const PLAIN_CHARS = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const ch = String.fromCharCode(code);
  if (/[a-z0-9_-]/i.test(ch)) PLAIN_CHARS[code]! |= HOST_CHAR;
  if (/[a-z0-9\-._~!$&()*+,;=:@%/]/i.test(ch)) PLAIN_CHARS[code]! |= PATH_CHAR | QUERY_CHAR;
}
PLAIN_CHARS[0x3f /* ? */]! |= QUERY_CHAR;
/** What the path's loop looks at twice (dot segments, a defanged dot): most characters are none. */
const PATH_MARK = 8;
for (const mark of '/%)') PLAIN_CHARS[mark.charCodeAt(0)]! |= PATH_MARK;

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
 * anything else. `asGiven`: the text is the input itself, not yet trimmed or undefanged, so null
 * too when trimming or undefanging could change it (normaliseUrl then takes the long way).
 */
function plainUrl(text: string, asGiven: boolean): NormalisedUrl | null {
  // One pass over the text for the plain form's shape and the parts' bounds, instead of the expression
  // and an indexOf per mark: host characters hold none of `:/?#`, path characters no `?` or `#`,
  // query characters no `#`, so each part ends where the next one's mark first stands. Every
  // read is guarded by `at < length`: a read past the end would throw V8's optimised code back
  // to the interpreter (an out-of-bounds deoptimisation) and cost a recompilation.
  const length = text.length;
  if (
    length < 8 ||
    (text.charCodeAt(0) | 0x20) !== 0x68 /* h */ ||
    (text.charCodeAt(1) | 0x20) !== 0x74 /* t */ ||
    (text.charCodeAt(2) | 0x20) !== 0x74 /* t */ ||
    (text.charCodeAt(3) | 0x20) !== 0x70 /* p */
  )
    return null;
  const https = (text.charCodeAt(4) | 0x20) === 0x73; /* s */
  const hostStart = https ? 8 : 7;
  if (
    text.charCodeAt(hostStart - 3) !== 0x3a /* : */ ||
    text.charCodeAt(hostStart - 2) !== 0x2f ||
    text.charCodeAt(hostStart - 1) !== 0x2f
  )
    return null;
  // The host, read for its shape and for what the parser would change (an `xn` label, a last
  // label that is a number, upper case) and for the DNS name's one rule the shape leaves open,
  // labels of at most 63 characters.
  let at = hostStart;
  let labelStart = hostStart;
  let longestLabel = 0;
  let upper = false;
  let xnLabel = false;
  for (; at < length; at++) {
    const code = text.charCodeAt(at);
    if (code === 0x2e /* . */) {
      // An empty label (`..`, a leading dot) is no plain name.
      if (at === labelStart) return null;
      if (at - labelStart > longestLabel) longestLabel = at - labelStart;
      labelStart = at + 1;
      continue;
    }
    if (code >= 128 || (PLAIN_CHARS[code]! & HOST_CHAR) === 0) break;
    if (code >= 0x41 && code <= 0x5a) upper = true;
    if (at === labelStart && (code | 0x20) === 0x78 /* x */ && at + 1 < length)
      xnLabel ||= (text.charCodeAt(at + 1) | 0x20) === 0x6e; /* n */
  }
  const hostEnd = at;
  // No host, or a trailing dot.
  if (hostEnd === labelStart) return null;
  if (hostEnd - labelStart > longestLabel) longestLabel = hostEnd - labelStart;
  let portEnd = hostEnd;
  if (at < length && text.charCodeAt(at) === 0x3a /* : */) {
    at++;
    // One to five digits, the first not 0.
    if (!(at < length && text.charCodeAt(at) >= 0x31 && text.charCodeAt(at) <= 0x39)) return null;
    do at++;
    while (at < length && at - hostEnd <= 5 && text.charCodeAt(at) >= 0x30 && text.charCodeAt(at) <= 0x39);
    portEnd = at;
  }
  const pathStart = at;
  // The path: whether it holds a dot segment (`/.`, or `%2e` in any case), which the parser
  // resolves; and, read as given, `.)`, half of a defanged `(.)`.
  let dotSegment = false;
  let defanged = false;
  if (at < length && text.charCodeAt(at) === 0x2f /* / */) {
    for (; at < length; at++) {
      const code = text.charCodeAt(at);
      const kind = code < 128 ? PLAIN_CHARS[code]! : 0;
      if ((kind & PATH_CHAR) === 0) break;
      if ((kind & PATH_MARK) === 0) continue;
      if (code === 0x2f /* / */) {
        if (at + 1 < length && text.charCodeAt(at + 1) === 0x2e) dotSegment = true;
      } else if (code === 0x25 /* % */) {
        if (
          at + 2 < length &&
          text.charCodeAt(at + 1) === 0x32 /* 2 */ &&
          (text.charCodeAt(at + 2) | 0x20) === 0x65 /* e */
        )
          dotSegment = true;
      } else if (code === 0x29 /* ) */ && text.charCodeAt(at - 1) === 0x2e) defanged = true;
    }
  }
  const pathEnd = at;
  if (at < length && text.charCodeAt(at) === 0x3f /* ? */) {
    for (at++; at < length; at++) {
      const code = text.charCodeAt(at);
      const kind = code < 128 ? PLAIN_CHARS[code]! : 0;
      if ((kind & QUERY_CHAR) === 0) break;
      if ((kind & PATH_MARK) !== 0 && code === 0x29 /* ) */ && text.charCodeAt(at - 1) === 0x2e)
        defanged = true;
    }
  }
  const queryEnd = at;
  // Then only a fragment, which may hold anything.
  if (at < length) {
    if (text.charCodeAt(at) !== 0x23 /* # */) return null;
    if (asGiven) {
      // The text's last character is no blank for trim, and the fragment holds no `.]`, `.)`, `.}`.
      const last = text.charCodeAt(length - 1);
      if (last <= 0x20 || last >= 0x7f) return null;
      for (let i = at + 1; i < length; i++) {
        const code = text.charCodeAt(i);
        if ((code === 0x5d || code === 0x29 || code === 0x7d) && text.charCodeAt(i - 1) === 0x2e)
          defanged = true;
      }
    }
  }
  if (asGiven && defanged) return null;
  if (xnLabel || dotSegment || isNumberLabel(text, labelStart, hostEnd)) return null;
  // The last host's string again when the name is the same: no new string, and the keys the
  // scorer compares for its last host are then the same objects.
  const last = lastSplit.host;
  let host =
    last.length === hostEnd - hostStart && text.startsWith(last, hostStart)
      ? last
      : text.slice(hostStart, hostEnd);
  // The scheme was read in either case; whether it is in lower case.
  const schemeLower = startsHttp(text);
  const hostLower = !upper;
  if (!hostLower) host = host.toLowerCase();
  let keepPort = true;
  if (portEnd > hostEnd) {
    const value = Number(text.slice(hostEnd + 1, portEnd));
    if (value > 65535) return null;
    keepPort = value !== (https ? 443 : 80);
  }
  const hasPath = pathEnd > pathStart;
  // `?` alone is kept in the URL, as the parser keeps it, but is no query.
  const hasQuery = queryEnd - pathEnd > 1;
  let url: string;
  let path: string;
  if (schemeLower && hostLower && keepPort && hasPath) {
    // Already the serialisation up to the fragment: no new string for the URL.
    url = queryEnd === length ? text : text.slice(0, queryEnd);
    path = text.slice(pathStart, hasQuery ? queryEnd : pathEnd);
  } else {
    const pathname = hasPath ? text.slice(pathStart, pathEnd) : '/';
    const query = text.slice(pathEnd, queryEnd);
    const port = keepPort ? text.slice(hostEnd, portEnd) : '';
    url = `${https ? 'https://' : 'http://'}${host}${port}${pathname}${query}`;
    path = hasQuery ? pathname + query : pathname;
  }
  return domainUrl(url, path, host, longestLabel <= 63);
}

/**
 * WHATWG's "ends in a number" for the last label text[from..end] (then the parser reads an IPv4
 * address), or near enough to leave to it: all digits, or `0x` and anything.
 */
function isNumberLabel(text: string, from: number, end: number): boolean {
  if (from === end) return false;
  if (end - from >= 2 && text.charCodeAt(from) === 0x30 && (text.charCodeAt(from + 1) | 0x20) === 0x78)
    return true;
  for (let i = from; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** Labels of 1 to 63 of the characters a DNS host name (with `_` for service names) may hold. */
const DNS_NAME = /^[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*$/;

/** `dnsName`: the caller has checked the host is a DNS name (plainUrl's expression and labels). */
function domainUrl(url: string, path: string, host: string, dnsName = false): NormalisedUrl {
  if (!dnsName && !DNS_NAME.test(host)) throw new UrlInputError(`not a DNS host name: ${host.slice(0, 80)}`);
  // A feed lists a host's URLs together: the last host's split is kept (it depends on the name alone).
  if (host !== lastSplit.host) splitHost(host);
  // Built by assignment to `new PlainKeys()` (plain-object.ts), not as a literal: V8 pretenures a literal whose
  // objects it sees live long (a loaded list's keys), and then every URL's keys start in the old
  // generation, keeping the young strings they hold alive through each scavenge (score/model.ts
  // `scored`); and one allocation sized to the nine keys, where `{}` grows a side array twice.
  const keys = new PlainKeys() as NormalisedUrl;
  keys.url = url;
  keys.path = path;
  keys.host = host;
  keys.unicodeHost = lastSplit.unicodeHost;
  keys.hostKind = 'domain';
  keys.registrableDomain = lastSplit.registrableDomain;
  keys.publicSuffix = lastSplit.publicSuffix;
  keys.privateSuffix = lastSplit.privateSuffix;
  keys.subdomain = lastSplit.subdomain;
  return keys;
}

const PlainKeys = plainObjectType();

/** The last domain host's split by tldts and its Unicode form. */
const lastSplit = {
  host: '',
  unicodeHost: '',
  registrableDomain: null as string | null,
  publicSuffix: '',
  privateSuffix: false,
  subdomain: '',
};

function splitHost(host: string): void {
  // Emptied first: a throw below leaves no half-written split for the host.
  lastSplit.host = '';
  const parts = parseDomain(host, TLDTS_OPTIONS);
  // Only punycode labels decode to something else.
  lastSplit.unicodeHost = host.includes('xn--') ? domainToUnicode(host) || host : host;
  lastSplit.registrableDomain = parts.domain;
  lastSplit.publicSuffix = parts.publicSuffix ?? '';
  lastSplit.privateSuffix = parts.isPrivate === true;
  lastSplit.subdomain = parts.subdomain ?? '';
  lastSplit.host = host;
}

/** The host's keys alone, as `normaliseUrl` gives them for `https://host/`. */
export function normaliseHost(host: string): NormalisedUrl {
  return normaliseUrl(`https://${host}/`);
}
