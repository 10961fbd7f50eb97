/**
 * The domains to survey: one a line, `domain[,organisation[,sector]]`, `#` comments, an
 * optional `domain,...` header. Organisation and sector feed the scores and letters.
 */
import { splitCsvLine } from '../../core/index.ts';
import { normaliseDomain } from '../check.ts';

export interface SurveyTarget {
  domain: string;
  organisation?: string;
  sector?: string;
}

export class DomainListError extends Error {}

export function parseDomainList(text: string): SurveyTarget[] {
  const targets: SurveyTarget[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [name = '', organisation, sector] = splitCsvLine(line).map((f) => f.trim());
    if (index === 0 && name.toLowerCase() === 'domain') continue;
    const domain = normaliseDomain(name);
    if (!domain) throw new DomainListError(`line ${index + 1}: "${name}" is not a domain name`);
    targets.push({ domain, ...(organisation ? { organisation } : {}), ...(sector ? { sector } : {}) });
  }
  return targets;
}
