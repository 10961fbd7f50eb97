/**
 * The centre resolves the listed domains for its sensors with its own resolver (the system's, or
 * the servers the operator names): a terminal must not ask an attacker's name servers about the
 * attacker's names, which would warn them and show what the centre knows. Answers are kept for
 * `refreshMs`; a lookup that fails (timeout, SERVFAIL) keeps the previous answer with its time,
 * a name with no address is left out of the list.
 */
import { Resolver } from 'node:dns/promises';
import { canonicalIp } from './endpoints.ts';
import type { SensorMetrics } from './metrics.ts';
import type { ResolvedDomain } from './protocol.ts';

export interface DomainResolverOptions {
  /** "IP" or "IP:PORT" ("[IPv6]:PORT"); empty: the system's resolvers. */
  servers: readonly string[];
  timeoutMs: number;
  /** How long an answer is used before the name is looked up again. */
  refreshMs: number;
  /** Lookups at once. */
  concurrency: number;
  /** Names looked up in one refresh at most; the rest wait for the next (oldest answers first). */
  maxPerRefresh: number;
}

/** Answers that say the name has no address of that family (as opposed to a failed lookup). */
const NO_ADDRESS = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

type Lookup = { addresses: string[] } | { failed: string };

async function lookUp(resolver: Resolver, domain: string): Promise<Lookup> {
  const answers = await Promise.allSettled([resolver.resolve4(domain), resolver.resolve6(domain)]);
  const addresses = new Set<string>();
  for (const answer of answers) {
    if (answer.status === 'fulfilled') {
      for (const address of answer.value) {
        const canonical = canonicalIp(address);
        if (canonical !== undefined) addresses.add(canonical);
      }
    } else {
      const code = (answer.reason as { code?: string }).code ?? 'error';
      if (!NO_ADDRESS.has(code)) return { failed: code };
    }
  }
  return { addresses: [...addresses].sort().slice(0, 64) };
}

export interface DomainResolver {
  /** The listed domains that have addresses, resolved now or within refreshMs, sorted by name. */
  resolve(domains: readonly string[]): Promise<ResolvedDomain[]>;
  /** The answers known now for the listed domains, without a lookup (for a centre starting up). */
  known(domains: readonly string[]): ResolvedDomain[];
}

export function createDomainResolver(
  options: DomainResolverOptions,
  deps: { metrics: SensorMetrics; now: () => Date },
): DomainResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: 2 });
  if (options.servers.length > 0) resolver.setServers([...options.servers]);
  /** The last answer per domain, and when it was asked (to know when to ask again). */
  const known = new Map<string, { answer?: ResolvedDomain; askedAt: number }>();

  async function refresh(due: string[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const domain = due[next++]!;
        const askedAt = deps.now().getTime();
        const result = await lookUp(resolver, domain);
        const previous = known.get(domain)?.answer;
        if ('failed' in result) {
          deps.metrics.resolutions.inc({ outcome: 'failed' });
          known.set(domain, { ...(previous ? { answer: previous } : {}), askedAt });
        } else if (result.addresses.length === 0) {
          deps.metrics.resolutions.inc({ outcome: 'no-address' });
          known.set(domain, { askedAt });
        } else {
          deps.metrics.resolutions.inc({ outcome: 'addresses' });
          known.set(domain, {
            answer: { domain, addresses: result.addresses, resolvedAt: askedAt },
            askedAt,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, due.length) }, worker));
  }

  return {
    async resolve(domains) {
      const listed = new Set(domains);
      for (const domain of known.keys()) if (!listed.has(domain)) known.delete(domain);
      const now = deps.now().getTime();
      const due = [...listed]
        .filter((domain) => now - (known.get(domain)?.askedAt ?? -Infinity) >= options.refreshMs)
        .sort((a, b) => (known.get(a)?.askedAt ?? -Infinity) - (known.get(b)?.askedAt ?? -Infinity))
        .slice(0, options.maxPerRefresh);
      await refresh(due);
      return this.known(domains);
    },
    known(domains) {
      return [...new Set(domains)]
        .sort()
        .map((domain) => known.get(domain)?.answer)
        .filter((answer): answer is ResolvedDomain => answer !== undefined);
    },
  };
}
