/**
 * The address a request comes from, as the self-check page must judge it: the socket's peer,
 * unless that peer is a configured proxy, in which case X-Forwarded-For is read from the right,
 * skipping trusted proxies, and the first untrusted hop is the client. A header from anyone
 * else is ignored, so nobody can ask about an address that is not their own.
 */
import { InputError, parsePrefix, PrefixSet } from '../core/index.ts';
import { canonicalIp } from '../intel/index.ts';

export function trustedProxySet(entries: readonly string[]): PrefixSet {
  const set = new PrefixSet();
  for (const entry of entries) {
    const text = entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`;
    try {
      set.add(parsePrefix(text));
    } catch {
      throw new InputError(`console.trustedProxies: "${entry}" is not an address or CIDR prefix`);
    }
  }
  return set;
}

function canonicalOrUndefined(text: string): string | undefined {
  try {
    return canonicalIp(text.trim());
  } catch {
    return undefined;
  }
}

/**
 * The client address; undefined when it cannot be told (no socket address, or a trusted proxy
 * sent a header with a hop that is not an address — better no answer than a wrong one).
 */
export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: PrefixSet,
): string | undefined {
  if (!socketAddress) return undefined;
  const peer = canonicalOrUndefined(socketAddress);
  if (!peer) return undefined;
  if (trusted.size === 0 || !trusted.hasText(peer) || forwardedFor === undefined) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  if (hops.length > 64) return undefined;
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonicalOrUndefined(hops[i]!);
    if (!hop) return undefined;
    client = hop;
    if (!trusted.hasText(hop)) return hop;
  }
  return client;
}
