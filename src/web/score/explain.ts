/**
 * A verdict's reasons in words, Japanese and English. The scorer names each reason by its feature
 * key (`tld_risk(cn)`, `brand_exact(apple@domain)`, `host_shape(1:a0:4,tld-)`): stable, short,
 * what the CSV carries and what the fit and the tests pin. A person reads these instead: a
 * takedown letter to an abuse desk, the console's answer to a reported URL.
 *
 * Each phrase says what was looked at, not whether it pointed to phishing: the contribution's
 * sign says that, and a reason can weigh either way.
 */
import { unescapeArgument } from '../campaign/kit-paths.ts';

export type ExplainLanguage = 'ja' | 'en';

type Phrase = (argument: string, language: ExplainLanguage) => string;

/** `name(argument)` split; a key without parentheses has an empty argument. */
function parseKey(key: string): { name: string; argument: string } {
  const open = key.indexOf('(');
  if (open < 0 || !key.endsWith(')')) return { name: key, argument: '' };
  return { name: key.slice(0, open), argument: key.slice(open + 1, -1) };
}

const both =
  (ja: string, en: string): Phrase =>
  (_, language) =>
    language === 'ja' ? ja : en;
const withArgument =
  (ja: (a: string) => string, en: (a: string) => string): Phrase =>
  (argument, language) =>
    language === 'ja' ? ja(argument) : en(argument);

const quotedJa = (a: string) => (a === '' ? '' : `「${a}」`);
const quotedEn = (a: string) => (a === '' ? '' : ` "${a}"`);

const WHERE: Record<string, { ja: string; en: string }> = {
  domain: { ja: '登録ドメイン名', en: 'registered domain name' },
  subdomain: { ja: 'サブドメイン', en: 'subdomain' },
};

/** `token@where`, as brand_exact and brand_fuzzy name their match. */
function brandMatch(argument: string, language: ExplainLanguage, fuzzy: boolean): string {
  const at = argument.lastIndexOf('@');
  const token = at < 0 ? argument : argument.slice(0, at);
  const where = WHERE[at < 0 ? '' : argument.slice(at + 1)];
  if (language === 'ja') {
    const what = fuzzy ? `ブランド名「${token}」に似せた綴り` : `ブランド名「${token}」`;
    return where ? `${where.ja}に${what}` : what;
  }
  const what = fuzzy ? `a look-alike of the brand name "${token}"` : `the brand name "${token}"`;
  return where ? `${what} in the ${where.en}` : what;
}

const BAND: Record<string, { ja: string; en: string }> = {
  'tld++': { ja: 'フィッシングに多いトップレベルドメイン', en: 'a top-level domain frequent in phishing' },
  'tld+': {
    ja: 'フィッシングにやや多いトップレベルドメイン',
    en: 'a top-level domain somewhat frequent in phishing',
  },
  'tld-': { ja: 'フィッシングに少ないトップレベルドメイン', en: 'a top-level domain rare in phishing' },
  plat: { ja: '共用サービス上', en: 'on a shared hosting platform' },
};

const CLASSES: Record<string, { ja: string; en: string }> = {
  a: { ja: '英字', en: 'letters' },
  w: { ja: '英単語', en: 'English words' },
  '0': { ja: '数字', en: 'digits' },
  '-': { ja: 'ハイフン', en: 'hyphens' },
};

/** `depth:classes:length,band` (host-context.ts, hostShape), or `0,band` for no subdomain. */
function hostShape(argument: string, language: ExplainLanguage): string {
  const [shape = '', bandKey = ''] = argument.split(',');
  const band = BAND[bandKey]?.[language] ?? bandKey;
  const [depth = '0', classes = '', length = ''] = shape.split(':');
  if (depth === '0') return language === 'ja' ? `サブドメインなし（${band}）` : `no subdomain (${band})`;
  const kinds = [...classes].map((c) => CLASSES[c]?.[language] ?? c);
  const levels =
    depth === '3'
      ? language === 'ja'
        ? '3段以上'
        : '3 or more levels'
      : depth === '1'
        ? language === 'ja'
          ? '1段'
          : '1 level'
        : language === 'ja'
          ? `${depth}段`
          : `${depth} levels`;
  const within =
    length === '99'
      ? language === 'ja'
        ? '33文字以上'
        : 'over 32 characters'
      : language === 'ja'
        ? `${length}文字以下`
        : `up to ${length} characters`;
  return language === 'ja'
    ? `サブドメインの形: ${levels}、${kinds.join('・')}、${within}（${band}）`
    : `subdomain shape: ${levels}, ${kinds.join(' and ')}, ${within} (${band})`;
}

const PLACE: Record<string, { ja: string; en: string }> = {
  'label=': { ja: 'ドメイン名そのもの', en: 'the whole domain label' },
  'label~': { ja: 'ドメイン名の一部', en: 'part of the domain label' },
  subdomain: { ja: 'サブドメイン', en: 'the subdomain' },
};

/** `where:how,band` (host-context.ts, brandPlace). */
function brandPlace(argument: string, language: ExplainLanguage): string {
  const [place = '', bandKey = ''] = argument.split(',');
  const [where = '', how = ''] = place.split(':');
  const at = PLACE[where]?.[language] ?? where;
  const band = BAND[bandKey]?.[language] ?? bandKey;
  if (language === 'ja') return `ブランド名の位置: ${at}${how === 'fuzzy' ? '（似せた綴り）' : ''}、${band}`;
  return `where the brand name stands: ${at}${how === 'fuzzy' ? ' (a look-alike)' : ''}, ${band}`;
}

/** `length:classes:suffix` (host-context.ts, labelShape): the length is 16 for any longer label. */
function labelShape(argument: string, language: ExplainLanguage): string {
  const first = argument.indexOf(':');
  const second = argument.indexOf(':', first + 1);
  const length = argument.slice(0, first);
  const kinds = [...argument.slice(first + 1, second)].map((c) => CLASSES[c]?.[language] ?? c);
  const suffix = argument.slice(second + 1);
  const long = length === '16';
  return language === 'ja'
    ? `ドメイン名の形: ${length}文字${long ? '以上' : ''}、${kinds.join('・')}（.${suffix}）`
    : `the domain name's shape: ${long ? '16 or more' : length} characters, ${kinds.join(' and ')} (.${suffix})`;
}

const PHRASES: Record<string, Phrase> = {
  // The host name (features.ts).
  brand_exact: (a, l) => brandMatch(a, l, false),
  brand_fuzzy: (a, l) => brandMatch(a, l, true),
  keywords: both(
    'フィッシングに多い語（login、verify、account など）',
    'words common in phishing (login, verify, account...)',
  ),
  label_length: both('ドメイン名の長さ', 'the length of the domain name'),
  digit_ratio: both('ドメイン名に占める数字の割合', 'the share of digits in the domain name'),
  hyphens: both('ドメイン名のハイフンの数', 'hyphens in the domain name'),
  entropy: both('ドメイン名の文字のばらつき', 'how varied the letters of the domain name are'),
  vowel_ratio: both('ドメイン名の母音の割合', 'the share of vowels in the domain name'),
  consonant_run: both('ドメイン名の子音の連続', 'a run of consonants in the domain name'),
  punycode: both('国際化ドメイン名（punycode）', 'an internationalised (punycode) name'),
  ip_host: both('ホスト名ではなく IP アドレス', 'an IP address instead of a name'),
  tld_risk: withArgument(
    (a) => `トップレベルドメイン .${a}（フィッシングでの出現率をデータから学習）`,
    (a) => `the top-level domain .${a} (its rate in phishing learned from data)`,
  ),
  platform_risk: withArgument(
    (a) => `共用サービス ${a} 上のホスト`,
    (a) => `a host on the shared platform ${a}`,
  ),
  name_style: both('ドメイン名の文字の並び方', 'how the letters of the domain name follow each other'),
  official_domain: both('ブランドの公式ドメイン', "the brand's own official domain"),
  // The URL's path (url-features.ts).
  path_token_max: withArgument(
    (a) => `パス中の語「${a}」`,
    (a) => `the word "${a}" in the path`,
  ),
  path_token_mean: both('パス中の語の全体', 'the words of the path taken together'),
  path_shape: withArgument(
    (a) => `パスの形（${a}）`,
    (a) => `the shape of the path (${a})`,
  ),
  path_brand: withArgument(
    (a) => `パス中のブランド名「${a}」`,
    (a) => `the brand name "${a}" in the path`,
  ),
  path_keywords: both('パス中のフィッシングに多い語', 'words common in phishing in the path'),
  path_depth: both('パスの深さ', 'the depth of the path'),
  path_length: both('パスの長さ', 'the length of the path'),
  root_path: both('サイトのトップページ（/）', "the site's top page (/)"),
  ip_host_url: both('IP アドレスのホスト上のページ', 'a page on an IP-address host'),
  punycode_url: both('国際化ドメイン名上のページ', 'a page on an internationalised name'),
  url_bias: both('URL 全体の基準値', 'the baseline of every URL'),
  // The host around the registered domain (host-context.ts).
  sub_token_max: withArgument(
    (a) => `サブドメイン中の語「${a}」`,
    (a) => `the word "${a}" in the subdomain`,
  ),
  sub_token_mean: both('サブドメイン中の語の全体', 'the words of the subdomain taken together'),
  host_shape: hostShape,
  brand_place: brandPlace,
  sub_style: both('サブドメインの文字の並び方', 'how the letters of the subdomain follow each other'),
  label_shape: labelShape,
  label_cv: both(
    'ドメイン名の子音と母音の並び方（読めるかどうか）',
    'how consonants and vowels follow each other in the domain name (whether it can be said)',
  ),
  // The path's and the subdomain's riskiest words, weighed by how much the name reads as phishing (gated.ts).
  path_token_gated: withArgument(
    (a) => `パス中の語${quotedJa(a)}（ドメイン名がフィッシングらしいほど重く）`,
    (a) => `the word${quotedEn(a)} in the path, weighed by how much the domain name reads as phishing`,
  ),
  sub_token_gated: withArgument(
    (a) => `サブドメイン中の語${quotedJa(a)}（ドメイン名がフィッシングらしいほど重く）`,
    (a) => `the word${quotedEn(a)} in the subdomain, weighed by how much the domain name reads as phishing`,
  ),
  kit_path: withArgument(
    (a) => `確認済みのフィッシングサイトが他のドメインで使ったキットのパス「${unescapeArgument(a)}」`,
    (a) => `the path "${unescapeArgument(a)}" a phishing kit used on other domains confirmed as phishing`,
  ),
  kit_path_judged: withArgument(
    (a) =>
      `このシステムが他のドメインで不審またはそれに近いと判定したURLが使ったキットのパス「${unescapeArgument(a)}」`,
    (a) =>
      `the path "${unescapeArgument(a)}" a phishing kit used on other domains this system scored near suspicious or worse`,
  ),
  domain_judged: withArgument(
    (a) =>
      `このシステムが不審またはそれに近いと判定した、同じ登録ドメイン「${unescapeArgument(a)}」の他のホスト`,
    (a) =>
      `other hosts of the registered domain "${unescapeArgument(a)}" this system scored near suspicious or worse`,
  ),
  suffix_path_judged: withArgument(
    (a) =>
      `このシステムが不審またはそれに近いと判定した他の登録ドメインでも使われた、リスクの高いサフィックスとパスの組「${unescapeArgument(a)}」`,
    (a) =>
      `the risky suffix and path "${unescapeArgument(a)}", used on other registered domains this system scored near suspicious or worse`,
  ),
};

/**
 * The reasons that pointed to phishing, largest first: what a letter or a person is shown as the
 * grounds. What spoke against it, and the baseline every URL starts from, are no grounds.
 */
export function groundsOf<R extends { feature: string; contribution: number }>(reasons: readonly R[]): R[] {
  return reasons.filter((r) => r.contribution > 0 && r.feature !== 'url_bias');
}

/** A reason's feature key in words; a key this version does not know is given as it is. */
export function explainReason(feature: string, language: ExplainLanguage): string {
  const { name, argument } = parseKey(feature);
  const phrase = PHRASES[name];
  return phrase ? phrase(argument, language) : feature;
}

/** The feature names explainReason knows (for the test that every scorer feature is covered). */
export const EXPLAINED_FEATURES: readonly string[] = Object.keys(PHRASES);
