/**
 * Google Safe Browsing's URL canonicalisation, suffix/prefix expressions and hash prefixes
 * (developers.google.com/safe-browsing/v4/urls-hashing), so a proxy or browser that already
 * checks Safe Browsing-style lists can check ours the same way. The spec works on bytes, so the
 * work is done on a "binary string" (one char per byte, UTF-8 for non-ASCII input).
 */
import { createHash } from 'node:crypto';

/** Thrown when the text has no host to canonicalise; the only error these functions throw. */
export class CanonicalUrlError extends Error {
  override name = 'CanonicalUrlError';
}

const toBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

function unescapeOnce(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Percent-unescapes until nothing changes ("repeatedly ... until it has no more percent-escapes"). */
function unescapeFully(text: string): string {
  let current = text;
  for (let i = 0; i < 1024; i++) {
    const next = unescapeOnce(current);
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** Escapes bytes <= 32, >= 127, '#' and '%' with upper-case hex. */
function escapeBytes(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out +=
      code <= 32 || code >= 127 || code === 0x23 || code === 0x25
        ? `%${code.toString(16).toUpperCase().padStart(2, '0')}`
        : text[i];
  }
  return out;
}

/** One inet_aton part: decimal, octal (leading 0) or hex (0x); undefined when it is none. */
function ipPart(part: string): number | undefined {
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]*$/.test(part)) return parseInt(part, 8);
  if (/^[1-9][0-9]*$/.test(part)) return Number(part);
  return undefined;
}

/** Any legal IPv4 spelling (octal, hex, fewer than four parts) as dotted decimal, or undefined. */
export function parseLegacyIpv4(host: string): string | undefined {
  const parts = host.split('.');
  if (parts.length > 4) return undefined;
  const values = parts.map(ipPart);
  if (values.some((v) => v === undefined)) return undefined;
  const numbers = values as number[];
  const last = numbers.at(-1)!;
  const head = numbers.slice(0, -1);
  if (head.some((v) => v > 255) || last >= 2 ** (8 * (5 - numbers.length))) return undefined;
  let value = last;
  head.forEach((v, i) => (value += v * 2 ** (8 * (3 - i))));
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function canonicalHost(raw: string): string {
  let host = unescapeFully(raw)
    .replace(/^\.+|\.+$/g, '')
    .replace(/\.{2,}/g, '.');
  // ASCII only: the binary string's bytes above 127 must stay as they are.
  host = host.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
  return parseLegacyIpv4(host) ?? host;
}

function canonicalPath(raw: string): string {
  const segments: string[] = [];
  const parts = unescapeFully(raw).split('/');
  parts.forEach((segment, i) => {
    const isLast = i === parts.length - 1;
    if (segment === '..') segments.pop();
    else if (segment !== '.' && segment !== '') segments.push(segment);
    // A trailing '/', '/.' or '/..' keeps the path a directory.
    if (isLast && (segment === '' || segment === '.' || segment === '..') && segments.length > 0)
      segments.push('');
  });
  return '/' + segments.join('/');
}

export interface CanonicalUrl {
  scheme: string;
  host: string;
  /** Starts with '/'. */
  path: string;
  /** Without the '?'; null when the URL has no '?'. */
  query: string | null;
  /** `scheme://host/path?query`. */
  url: string;
}

/** Canonicalises a URL as the spec says (port and credentials dropped, http:// when no scheme). */
export function canonicaliseUrl(input: string): CanonicalUrl {
  let text = toBytes(input).replace(/[\t\r\n]/g, '');
  text = text.replace(/^[\s]+|[\s]+$/g, '');
  const hash = text.indexOf('#');
  if (hash >= 0) text = text.slice(0, hash);
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  const scheme = schemeMatch ? schemeMatch[1]!.toLowerCase() : 'http';
  const rest = schemeMatch ? text.slice(schemeMatch[0].length) : text;
  const hostEnd = rest.search(/[/?]/);
  let authority = hostEnd < 0 ? rest : rest.slice(0, hostEnd);
  const afterHost = hostEnd < 0 ? '' : rest.slice(hostEnd);
  authority = authority.slice(authority.lastIndexOf('@') + 1).replace(/:\d*$/, '');
  const host = canonicalHost(authority);
  if (host === '') throw new CanonicalUrlError('no host to canonicalise');
  const queryAt = afterHost.indexOf('?');
  const rawPath = queryAt < 0 ? afterHost : afterHost.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? null : afterHost.slice(queryAt + 1);
  const path = escapeBytes(canonicalPath(rawPath));
  const query = rawQuery === null ? null : escapeBytes(unescapeFully(rawQuery));
  const escapedHost = escapeBytes(host);
  return {
    scheme,
    host: escapedHost,
    path,
    query,
    url: `${scheme}://${escapedHost}${path}${query === null ? '' : `?${query}`}`,
  };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The host-suffix/path-prefix expressions the spec looks up for a URL: the exact host and up to
 * four suffixes made of its last five components down to two (none for an IP address), times
 * the exact path with and without the query and up to four path prefixes from the root.
 */
export function suffixPrefixExpressions(input: string | CanonicalUrl): string[] {
  const c = typeof input === 'string' ? canonicaliseUrl(input) : input;
  const hosts = [c.host];
  if (!IPV4.test(c.host) && !c.host.startsWith('[')) {
    const labels = c.host.split('.');
    const start = Math.max(1, labels.length - 5);
    for (let i = start; i <= labels.length - 2 && hosts.length < 5; i++)
      hosts.push(labels.slice(i).join('.'));
  }
  const paths: string[] = [];
  if (c.query !== null) paths.push(`${c.path}?${c.query}`);
  paths.push(c.path);
  const components = c.path.split('/').slice(1, -1);
  let prefix = '/';
  for (let i = 0; i <= components.length && paths.length < 6; i++) {
    if (!paths.includes(prefix)) paths.push(prefix);
    if (i < components.length) prefix += `${components[i]}/`;
    if (i >= 3) break;
  }
  const expressions: string[] = [];
  for (const host of hosts) for (const path of paths) expressions.push(`${host}${path}`);
  return [...new Set(expressions)];
}

/** SHA-256 of an expression (its bytes as the binary string holds them). */
export function fullHash(expression: string): Buffer {
  return createHash('sha256').update(Buffer.from(expression, 'latin1')).digest();
}

/** The most significant `bytes` of the expression's SHA-256, hex. */
export function hashPrefix(expression: string, bytes = 4): string {
  return fullHash(expression).subarray(0, bytes).toString('hex');
}
