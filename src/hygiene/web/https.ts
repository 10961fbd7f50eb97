/**
 * HTTPS fetches for the web and MTA-STS checks: the name is resolved through the survey's own
 * resolver (not the system's), the certificate is verified against the system roots plus any
 * configured CA, and nothing is followed: what the first HTTPS answer says is what counts.
 */
import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { Lookup } from '../dns/lookup.ts';

export interface HttpsOptions {
  port: number;
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM), added to the system roots. */
  ca: readonly string[];
  /** Largest body read (MTA-STS policies are tiny; RFC 8461 §3.3 suggests 64 KiB). */
  maxBody: number;
}

export type HttpsOutcome =
  | { ok: true; status: number; headers: Record<string, string | string[] | undefined>; body: string }
  | {
      ok: false;
      kind: 'no-address' | 'unreachable' | 'certificate' | 'timeout' | 'too-large';
      reason: string;
    };

export async function fetchHttps(
  lookup: Lookup,
  host: string,
  path: string,
  options: HttpsOptions,
): Promise<HttpsOutcome> {
  const v4 = await lookup.addresses(host, 4);
  const v6 = await lookup.addresses(host, 6);
  const addresses = [
    ...v4.records.map((a) => ({ address: a, family: 4 })),
    ...v6.records.map((a) => ({ address: a, family: 6 })),
  ];
  if (addresses.length === 0)
    return { ok: false, kind: 'no-address', reason: `${host} has no A or AAAA record` };
  // One address at a time, in order: Node's own happy-eyeballs gives up on an address after
  // 250 ms, which a busy survey process overruns.
  let last: HttpsOutcome = { ok: false, kind: 'unreachable', reason: `${host}: no address answered` };
  for (const address of addresses) {
    last = await fetchFrom(address, host, path, options);
    if (last.ok || last.kind !== 'unreachable') return last;
  }
  return last;
}

function fetchFrom(
  target: { address: string; family: number },
  host: string,
  path: string,
  options: HttpsOptions,
): Promise<HttpsOutcome> {
  const resolve: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all)
      (callback as (e: null, a: (typeof target)[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  return new Promise((resolveOutcome) => {
    let settled = false;
    const settle = (outcome: HttpsOutcome) => {
      if (settled) return;
      settled = true;
      resolveOutcome(outcome);
    };
    const req = request(
      {
        host,
        servername: host,
        port: options.port,
        path,
        method: 'GET',
        lookup: resolve,
        ca: [...rootCertificates, ...options.ca],
        timeout: options.timeoutMs,
        headers: { 'user-agent': 'tsunagi-hygiene' },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > options.maxBody) {
            settle({ ok: false, kind: 'too-large', reason: `body over ${options.maxBody} bytes` });
            req.destroy();
          }
        });
        res.on('end', () => settle({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', (error) => settle({ ok: false, kind: 'unreachable', reason: error.message }));
      },
    );
    req.on('timeout', () => {
      settle({
        ok: false,
        kind: 'timeout',
        reason: `no answer from https://${host}:${options.port} (${target.address}) in ${options.timeoutMs} ms`,
      });
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const certificate = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(error.code ?? '');
      settle({
        ok: false,
        kind: certificate ? 'certificate' : 'unreachable',
        reason: `${host} (${target.address}): ${error.message || error.code || 'connection failed'}`,
      });
    });
    req.end();
  });
}

export type HttpsStatus = 'ok' | 'invalid-cert' | 'none';
export type HstsStatus = 'yes' | 'short' | 'missing' | 'n/a';

/** internet.nl asks for a max-age of at least a year. */
export const HSTS_MIN_AGE = 31_536_000;

export function parseHsts(
  header: string | string[] | undefined,
): { maxAge: number; includeSubDomains: boolean } | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const maxAge = /(?:^|;)\s*max-age\s*=\s*"?(\d+)"?/i.exec(value);
  if (!maxAge) return undefined;
  return {
    maxAge: Number(maxAge[1]),
    includeSubDomains: /(?:^|;)\s*includesubdomains\s*(?:;|$)/i.test(value),
  };
}

export async function checkHttps(
  lookup: Lookup,
  domain: string,
  options: HttpsOptions,
): Promise<{ https: HttpsStatus; hsts: HstsStatus; reason: string }> {
  const outcome = await fetchHttps(lookup, domain, '/', options);
  if (!outcome.ok)
    return {
      https: outcome.kind === 'certificate' ? 'invalid-cert' : 'none',
      hsts: 'n/a',
      reason: outcome.reason,
    };
  const hsts = parseHsts(outcome.headers['strict-transport-security']);
  if (!hsts) return { https: 'ok', hsts: 'missing', reason: 'no Strict-Transport-Security header' };
  return {
    https: 'ok',
    hsts: hsts.maxAge >= HSTS_MIN_AGE ? 'yes' : 'short',
    reason: `HSTS max-age=${hsts.maxAge}${hsts.includeSubDomains ? '; includeSubDomains' : ''}`,
  };
}
