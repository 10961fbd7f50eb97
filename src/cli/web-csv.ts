/**
 * The CSV that `tsunagi web score` and `tsunagi web certstream` write: one row per scored URL,
 * `url,host,score,verdict,brand,reasons` (issue #18's columns).
 */
import type { ExplainLanguage, ScoredUrl } from '../web/index.ts';
import { explainReason } from '../web/index.ts';

export const SCORE_COLUMNS = ['url', 'host', 'score', 'verdict', 'brand', 'reasons'] as const;

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One CSV row. Reasons are `feature=contribution` keys (stable, for programs) unless `language`
 * asks for words: `words (+contribution)`, for a person reading the list.
 */
export function scoreCsvLine(row: ScoredUrl, language?: ExplainLanguage): string {
  const reasons = language
    ? row.reasons
        .map(
          (r) => `${explainReason(r.feature, language)} (${r.contribution > 0 ? '+' : ''}${r.contribution})`,
        )
        .join('; ')
    : row.reasons.map((r) => `${r.feature}=${r.contribution}`).join(';');
  return [row.url, row.host, row.score.toFixed(4), row.verdict, row.brand ?? '', reasons]
    .map(csvField)
    .join(',');
}
