/** MTA-STS (RFC 8461): the TXT record at _mta-sts and the policy over HTTPS; TLS-RPT (RFC 8460). */
import type { Lookup } from '../dns/lookup.ts';
import { fetchHttps, type HttpsOptions } from '../web/https.ts';

export type MtaStsStatus = 'enforce' | 'testing' | 'none' | 'invalid' | 'missing' | 'temperror';
export type TlsRptStatus = 'ok' | 'invalid' | 'missing' | 'temperror';

export interface MtaStsPolicy {
  mode: 'enforce' | 'testing' | 'none';
  mx: string[];
  maxAge: number;
}

export class MtaStsSyntaxError extends Error {}

export function parseMtaStsPolicy(text: string): MtaStsPolicy {
  const fields = new Map<string, string[]>();
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const match = /^([a-z0-9_]+):\s*(.*?)\s*$/i.exec(line);
    if (!match) throw new MtaStsSyntaxError(`bad line "${line}"`);
    const key = match[1]!.toLowerCase();
    fields.set(key, [...(fields.get(key) ?? []), match[2]!]);
  }
  if (fields.get('version')?.[0] !== 'STSv1') throw new MtaStsSyntaxError('version is not STSv1');
  const mode = fields.get('mode')?.[0];
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none')
    throw new MtaStsSyntaxError(`bad mode "${mode ?? ''}"`);
  const maxAgeText = fields.get('max_age')?.[0] ?? '';
  if (!/^\d{1,10}$/.test(maxAgeText) || Number(maxAgeText) > 31_557_600)
    throw new MtaStsSyntaxError(`bad max_age "${maxAgeText}"`);
  const mx = fields.get('mx') ?? [];
  if (mode !== 'none' && mx.length === 0) throw new MtaStsSyntaxError('no mx lines');
  return { mode, mx, maxAge: Number(maxAgeText) };
}

export async function checkMtaSts(
  lookup: Lookup,
  domain: string,
  https: HttpsOptions,
): Promise<{ status: MtaStsStatus; reason: string; policy?: MtaStsPolicy }> {
  const txt = await lookup.txt(`_mta-sts.${domain}`);
  if (txt.status === 'error') return { status: 'temperror', reason: txt.reason };
  const records = txt.records.filter((r) => /^v=STSv1(;|$)/.test(r.replace(/\s/g, '')));
  if (records.length === 0) return { status: 'missing', reason: `no v=STSv1 record at _mta-sts.${domain}` };
  if (records.length > 1)
    return { status: 'invalid', reason: `${records.length} records at _mta-sts.${domain}` };
  if (!/(^|;)\s*id\s*=\s*[A-Za-z0-9]{1,32}\s*(;|$)/.test(records[0]!))
    return { status: 'invalid', reason: 'the TXT record has no valid id=' };
  const fetched = await fetchHttps(lookup, `mta-sts.${domain}`, '/.well-known/mta-sts.txt', https);
  if (!fetched.ok) return { status: 'invalid', reason: `policy not fetched: ${fetched.reason}` };
  if (fetched.status !== 200) return { status: 'invalid', reason: `policy answered HTTP ${fetched.status}` };
  try {
    const policy = parseMtaStsPolicy(fetched.body);
    return { status: policy.mode, reason: `mode ${policy.mode}, max_age ${policy.maxAge}`, policy };
  } catch (error) {
    return { status: 'invalid', reason: `policy: ${(error as Error).message}` };
  }
}

export async function checkTlsRpt(
  lookup: Lookup,
  domain: string,
): Promise<{ status: TlsRptStatus; reason: string }> {
  const txt = await lookup.txt(`_smtp._tls.${domain}`);
  if (txt.status === 'error') return { status: 'temperror', reason: txt.reason };
  const records = txt.records.filter((r) => /^v=TLSRPTv1\s*(;|$)/.test(r));
  if (records.length === 0) return { status: 'missing', reason: `no TLS-RPT record at _smtp._tls.${domain}` };
  if (records.length > 1) return { status: 'invalid', reason: `${records.length} TLS-RPT records` };
  const rua = /;\s*rua\s*=\s*([^;]+)/
    .exec(records[0]!)?.[1]
    ?.split(',')
    .map((u) => u.trim());
  if (!rua || rua.length === 0 || !rua.every((u) => /^(mailto:[^@\s]+@[^@\s]+|https:\/\/\S+)$/i.test(u)))
    return { status: 'invalid', reason: 'rua= is missing or not mailto:/https: URIs' };
  return { status: 'ok', reason: `reports to ${rua.join(', ')}` };
}
