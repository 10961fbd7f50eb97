/** Takedown letters in Japanese and English, rendered from the templates in letters.json (data, not code). */
import { explainReason } from '../score/explain.ts';
import templates from './letters.json' with { type: 'json' };

export const LETTER_LANGUAGES = ['ja', 'en'] as const;
export type LetterLanguage = (typeof LETTER_LANGUAGES)[number];

export interface Letter {
  language: LetterLanguage;
  to: string;
  subject: string;
  body: string;
}

export interface LetterFacts {
  host: string;
  urls: readonly string[];
  /** The brand's name in the letter's language; the generic words when no brand matched. */
  brandName: { ja: string; en: string } | null;
  official: readonly string[];
  /** Reason feature keys (`tld_risk(cn)`), each put in words in the letter's language. */
  reasons: readonly string[];
  firstSeen: string;
  lastSeen: string;
  abuse: { email: string; name: string };
  sender: string;
}

const GENERIC_BRAND = { ja: '実在の企業', en: 'a real company' };
const NONE = { ja: '（不明）', en: '(unknown)' };
const BULLET = { ja: '・', en: '- ' };

/**
 * A time as the letter's reader reads it: Japan time for the Japanese letter (a Japanese
 * registrar or host reads `2026-11-01 09:00（日本時間）`, not an ISO string in UTC), UTC said in
 * words for the English one. Text that is no time is kept as it is.
 */
export function letterTime(iso: string, language: LetterLanguage): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const offset = language === 'ja' ? 9 * 3_600_000 : 0;
  const text = new Date(time + offset).toISOString().slice(0, 16).replace('T', ' ');
  return language === 'ja' ? `${text}（日本時間）` : `${text} UTC`;
}

/** Fills `{{name}}` placeholders; an unknown placeholder is a template bug and throws. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`letter template: no value for {{${key}}}`);
    return value;
  });
}

export function renderLetter(language: LetterLanguage, facts: LetterFacts): Letter {
  const t = (templates as Record<LetterLanguage, { subject: string; body: string; officialLine: string }>)[
    language
  ];
  // The genuine site's line only when the brand is known: '(unknown)' there reads as a gap.
  const official = facts.official.map((d) => `https://${d}/`).join(' ');
  const values = {
    host: facts.host,
    urls: facts.urls.map((u) => `  ${u}`).join('\n') || `  https://${facts.host}/`,
    brandName: (facts.brandName ?? GENERIC_BRAND)[language],
    officialLine: official ? fill(t.officialLine, { official }) : '',
    // One reason a line: a reason's own words may hold commas.
    reasons:
      facts.reasons.map((key) => `  ${BULLET[language]}${explainReason(key, language)}`).join('\n') ||
      `  ${NONE[language]}`,
    firstSeen: letterTime(facts.firstSeen, language),
    lastSeen: letterTime(facts.lastSeen, language),
    abuseName: facts.abuse.name || facts.abuse.email,
    sender: facts.sender,
  };
  return { language, to: facts.abuse.email, subject: fill(t.subject, values), body: fill(t.body, values) };
}
