/**
 * The benchmark's domains: a seeded generator writes one `test.` zone in which every domain
 * carries one SPF kind and one DMARC kind, so both tools meet every verdict in known shares and
 * the same seed gives the same zone on every run.
 */

export const SPF_KINDS = [
  'strict',
  'softfail',
  'neutral',
  'permissive',
  'invalid',
  'toomany',
  'missing',
] as const;
export const DMARC_KINDS = ['reject', 'quarantine', 'none', 'invalid', 'missing', 'fallback'] as const;
export type SpfKind = (typeof SPF_KINDS)[number];
export type DmarcKind = (typeof DMARC_KINDS)[number];

export interface BenchDomain {
  /** The name both tools check: `dN.test`, or `mail.dN.test` when DMARC comes from dN.test. */
  name: string;
  spf: SpfKind;
  dmarc: DmarcKind;
}

/** mulberry32: small, fast and reproducible; the seed fixes the whole zone. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPF_RECORDS: Record<Exclude<SpfKind, 'missing'>, string> = {
  strict: 'v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all',
  softfail: 'v=spf1 ip4:192.0.2.0/24 ~all',
  neutral: 'v=spf1 ip4:192.0.2.1 ?all',
  permissive: 'v=spf1 +all',
  invalid: 'v=spf1 ip4:999.1.1.1 -all',
  // Eleven includes deep: past RFC 7208's limit of ten DNS-querying terms.
  toomany: 'v=spf1 include:l1.lookups.test -all',
};

const DMARC_RECORDS: Record<Exclude<DmarcKind, 'missing' | 'fallback'>, string> = {
  reject: 'v=DMARC1; p=reject; rua=mailto:agg@example.net',
  quarantine: 'v=DMARC1; p=quarantine; pct=100',
  none: 'v=DMARC1; p=none',
  invalid: 'v=DMARC1; p=whatever',
};

export function generateDomains(count: number, seed: number): BenchDomain[] {
  const next = random(seed);
  const pick = <T>(kinds: readonly T[]): T => kinds[Math.floor(next() * kinds.length)]!;
  return Array.from({ length: count }, (_, i) => {
    const spf = pick(SPF_KINDS);
    const dmarc = pick(DMARC_KINDS);
    const base = `d${i + 1}.test`;
    return { name: dmarc === 'fallback' ? `mail.${base}` : base, spf, dmarc };
  });
}

/** The `test.` zone's records (without SOA/NS) for `domains`, the include chain included. */
export function zoneRecords(domains: readonly BenchDomain[]): string {
  const lines: string[] = [];
  for (let level = 1; level <= 11; level++)
    lines.push(`l${level}.lookups IN TXT "v=spf1 include:l${level + 1}.lookups.test -all"`);
  lines.push('l12.lookups IN TXT "v=spf1 -all"');
  for (const domain of domains) {
    const owner = domain.name.replace(/\.test$/, '');
    if (domain.spf !== 'missing') lines.push(`${owner} IN TXT "${SPF_RECORDS[domain.spf]}"`);
    if (domain.dmarc === 'fallback') {
      // The organisational domain's sp= is what applies to its subdomain.
      const parent = owner.replace(/^mail\./, '');
      lines.push(`_dmarc.${parent} IN TXT "v=DMARC1; p=reject; sp=quarantine"`);
    } else if (domain.dmarc !== 'missing')
      lines.push(`_dmarc.${owner} IN TXT "${DMARC_RECORDS[domain.dmarc]}"`);
  }
  return lines.join('\n') + '\n';
}

/** The SPF verdict a domain's record calls for, in tsunagi's words. */
export function expectedSpf(kind: SpfKind): string {
  return kind === 'toomany' ? 'invalid' : kind;
}

/** The DMARC policy a domain's records call for, in tsunagi's words. */
export function expectedDmarc(kind: DmarcKind): string {
  return kind === 'fallback' ? 'quarantine' : kind;
}
