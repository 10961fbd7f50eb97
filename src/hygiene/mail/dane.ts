/**
 * DANE for SMTP (RFC 7672): TLSA records at _25._tcp.MX for every MX host, usable only when
 * DNSSEC proves them (tsunagi's own validation), with parameters a sender can use.
 */
import type { Validator } from '../dns/dnssec.ts';

export type DaneStatus = 'yes' | 'partial' | 'no' | 'unsigned' | 'bogus' | 'n/a' | 'temperror';

interface TlsaData {
  usage: number;
  selector: number;
  matchingType: number;
  certificate: Buffer;
}

const DIGEST_LENGTH: Record<number, number> = { 1: 32, 2: 64 };

function usable(tlsa: TlsaData): boolean {
  if (tlsa.usage > 3 || tlsa.selector > 1 || tlsa.matchingType > 2) return false;
  const length = DIGEST_LENGTH[tlsa.matchingType];
  return length === undefined ? tlsa.certificate.length > 0 : tlsa.certificate.length === length;
}

export async function checkDane(
  validator: Validator,
  mxHosts: readonly string[],
): Promise<{ status: DaneStatus; reason: string }> {
  if (mxHosts.length === 0) return { status: 'n/a', reason: 'no MX hosts' };
  const hosts = await Promise.all(
    mxHosts.map(async (host) => {
      const { result, records } = await validator.lookup(`_25._tcp.${host}`, 'TLSA');
      const tlsa = records.map((r) => (r as unknown as { data: TlsaData }).data);
      return { host, result, usable: tlsa.filter(usable).length, present: tlsa.length };
    }),
  );
  const bogus = hosts.find((h) => h.result.verdict === 'bogus' && h.present > 0);
  if (bogus) return { status: 'bogus', reason: `${bogus.host}: ${bogus.result.reason}` };
  const withTlsa = hosts.filter((h) => h.present > 0);
  if (withTlsa.length === 0) {
    const failed = hosts.find((h) => h.result.verdict === 'indeterminate');
    return failed
      ? { status: 'temperror', reason: failed.result.reason }
      : { status: 'no', reason: 'no TLSA records for the MX hosts' };
  }
  const insecure = withTlsa.filter((h) => h.result.verdict !== 'secure');
  if (insecure.length === withTlsa.length)
    return { status: 'unsigned', reason: `TLSA records not DNSSEC-secure: ${insecure[0]!.result.reason}` };
  const good = withTlsa.filter((h) => h.result.verdict === 'secure' && h.usable > 0);
  if (good.length === hosts.length)
    return { status: 'yes', reason: `${good.length} MX host(s) with validated TLSA` };
  return {
    status: 'partial',
    reason: `${good.length} of ${hosts.length} MX hosts with validated, usable TLSA`,
  };
}
