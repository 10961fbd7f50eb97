/**
 * One domain's hygiene: every check run through the survey's resolver, summed up in the CSV
 * columns of issue #21, with each verdict's reason kept for letters and debugging.
 */
import type { Validator } from './dns/dnssec.ts';
import type { DnssecResult } from './dns/verdict.ts';
import type { Lookup } from './dns/lookup.ts';
import { checkDane, type DaneStatus } from './mail/dane.ts';
import { checkDkim, summariseDkim, type DkimKey, type DkimSummary } from './mail/dkim.ts';
import { checkDmarc, type DmarcCheck } from './mail/dmarc.ts';
import { checkMtaSts, checkTlsRpt, type MtaStsStatus, type TlsRptStatus } from './mail/mta-sts.ts';
import { spfPosture, type SpfPosture } from './mail/spf.ts';
import { checkHttps, type HstsStatus, type HttpsOptions, type HttpsStatus } from './web/https.ts';

export const CSV_COLUMNS = [
  'domain',
  'dnssec',
  'spf',
  'dmarc_policy',
  'dkim',
  'mta_sts',
  'tls_rpt',
  'dane',
  'ipv6',
  'https',
  'hsts',
] as const;

export type Ipv6Status = 'web+mail' | 'web' | 'mail' | 'none';

export interface DomainHygiene {
  domain: string;
  dnssec: DnssecResult['verdict'];
  spf: SpfPosture;
  dmarc_policy: DmarcCheck['policy'];
  dkim: DkimSummary;
  mta_sts: MtaStsStatus;
  tls_rpt: TlsRptStatus;
  dane: DaneStatus;
  ipv6: Ipv6Status;
  https: HttpsStatus;
  hsts: HstsStatus;
  /** Why each column says what it says. */
  reasons: Record<Exclude<(typeof CSV_COLUMNS)[number], 'domain'>, string>;
  dkimKeys: DkimKey[];
}

export interface CheckDeps {
  lookup: Lookup;
  validator: Validator;
  https: HttpsOptions;
  dkimSelectors: readonly string[];
}

/** A domain name as typed: lower case, no trailing dot, letters/digits/hyphens/underscores. */
export function normaliseDomain(text: string): string | undefined {
  const name = text.trim().toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return undefined;
  const labels = name.split('.');
  return labels.length >= 2 && labels.every((l) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l))
    ? name
    : undefined;
}

export async function checkDomain(domain: string, deps: CheckDeps): Promise<DomainHygiene> {
  const { lookup, validator } = deps;
  const mx = await lookup.mx(domain);
  const mxHosts = mx.records
    .map((r) => r.exchange.toLowerCase().replace(/\.$/, ''))
    .filter((host) => host !== ''); // a null MX (RFC 7505) says the domain takes no mail
  const [dnssec, spf, dmarc, dkimKeys, mtaSts, tlsRpt, dane, ipv6, web] = await Promise.all([
    validator.validateDomain(domain),
    spfPosture(lookup, domain),
    checkDmarc(lookup, domain),
    checkDkim(lookup, domain, deps.dkimSelectors),
    checkMtaSts(lookup, domain, deps.https),
    checkTlsRpt(lookup, domain),
    checkDane(validator, mxHosts),
    checkIpv6(lookup, domain, mxHosts),
    checkHttps(lookup, domain, deps.https),
  ]);
  return {
    domain,
    dnssec: dnssec.verdict,
    spf: spf.posture,
    dmarc_policy: dmarc.policy,
    dkim: summariseDkim(dkimKeys),
    mta_sts: mtaSts.status,
    tls_rpt: tlsRpt.status,
    dane: dane.status,
    ipv6: ipv6.status,
    https: web.https,
    hsts: web.hsts,
    reasons: {
      dnssec: dnssec.reason,
      spf: spf.reason,
      dmarc_policy: dmarc.reason,
      dkim: dkimKeys.map((k) => `${k.selector}: ${k.status} (${k.reason})`).join('; '),
      mta_sts: mtaSts.reason,
      tls_rpt: tlsRpt.reason,
      dane: dane.reason,
      ipv6: ipv6.reason,
      https: web.reason,
      hsts: web.reason,
    },
    dkimKeys,
  };
}

/** IPv6 reachability records: AAAA for the web name (apex or www) and for every MX host. */
export async function checkIpv6(
  lookup: Lookup,
  domain: string,
  mxHosts: readonly string[],
): Promise<{ status: Ipv6Status; reason: string }> {
  const hasAaaa = async (name: string) => (await lookup.addresses(name, 6)).status === 'ok';
  const web = (await hasAaaa(domain)) || (await hasAaaa(`www.${domain}`));
  const mailHosts = await Promise.all(mxHosts.map(hasAaaa));
  const mail = mxHosts.length > 0 && mailHosts.every(Boolean);
  const status: Ipv6Status = web && mail ? 'web+mail' : web ? 'web' : mail ? 'mail' : 'none';
  const missing = mxHosts.filter((_, i) => !mailHosts[i]);
  return {
    status,
    reason: `web ${web ? 'has' : 'lacks'} AAAA; ${mxHosts.length === 0 ? 'no MX' : missing.length ? `MX without AAAA: ${missing.join(', ')}` : 'every MX has AAAA'}`,
  };
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsvLine(row: DomainHygiene): string {
  return CSV_COLUMNS.map((c) => csvField(String(row[c]))).join(',');
}
