import ipaddr from 'ipaddr.js';

/**
 * `a.b.c.d/n` or `x::/n`, strictly: ipaddr.js alone also takes "192.0.2/24" and other
 * inet_aton shorthands, which in a routing file are typos, not prefixes.
 */
export function isStrictPrefix(text: string): boolean {
  const [address = '', length, ...extra] = text.split('/');
  if (extra.length > 0 || length === undefined || !/^\d{1,3}$/.test(length)) return false;
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return Number(length) <= 32;
  return ipaddr.IPv6.isValid(address) && Number(length) <= 128;
}
