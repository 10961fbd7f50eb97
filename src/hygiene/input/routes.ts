/** Announced routes from an operator CSV: a `prefix,origin_asn` header, then one route a line. */
import { splitCsvLine } from '../../core/index.ts';
import { isStrictPrefix } from './prefix.ts';

export interface Route {
  prefix: string;
  originAsn: number;
}

export class RouteFormatError extends Error {}

export function parseRoutes(text: string): Route[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const prefixAt = header.indexOf('prefix');
  const asnAt = header.indexOf('origin_asn');
  if (prefixAt < 0 || asnAt < 0)
    throw new RouteFormatError('line 1: expected a header with prefix,origin_asn');
  const routes: Route[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = splitCsvLine(line).map((f) => f.trim());
    const prefix = fields[prefixAt] ?? '';
    const asn = fields[asnAt] ?? '';
    if (!/^(AS)?\d{1,10}$/i.test(asn) || Number(asn.replace(/^AS/i, '')) > 4294967295)
      throw new RouteFormatError(`line ${i + 1}: "${asn}" is not an AS number`);
    if (!isStrictPrefix(prefix)) throw new RouteFormatError(`line ${i + 1}: "${prefix}" is not a prefix`);
    routes.push({ prefix, originAsn: Number(asn.replace(/^AS/i, '')) });
  }
  return routes;
}
