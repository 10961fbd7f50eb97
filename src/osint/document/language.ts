/**
 * The language of a document, for the console's column and filter: Japanese when kana or kanji
 * make up a real share of its letters (advisories in Japanese quote English names, addresses and
 * URLs, so a mere majority test would call many of them English), English when it has Latin
 * letters otherwise, '' when it has no letters at all (a bare list of indicators).
 */
const JAPANESE = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]/gu;
const LATIN = /[A-Za-z]/g;

export type DocumentLanguage = 'ja' | 'en' | '';

/** Kana and kanji at 10 % of the letters or more make a Japanese document. */
const JAPANESE_SHARE = 0.1;

export function documentLanguage(text: string): DocumentLanguage {
  // A bounded sample: a 16 MiB text need not be counted whole to tell its language.
  const sample = text.length > 200_000 ? text.slice(0, 200_000) : text;
  const japanese = sample.match(JAPANESE)?.length ?? 0;
  const latin = sample.match(LATIN)?.length ?? 0;
  if (japanese + latin === 0) return '';
  return japanese / (japanese + latin) >= JAPANESE_SHARE ? 'ja' : 'en';
}
