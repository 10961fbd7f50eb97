/**
 * Folding, as its comment defines it: lower case, then each confusable replaced, longest first.
 * The one-pass form host names take must give what the replacements in turn give.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBrandIndex, createWordScanner, LEXICON } from './lexicon.ts';

function foldInTurn(text: string): string {
  let out = text.normalize('NFKC').toLowerCase();
  const ordered = Object.entries(LEXICON.confusables).sort((a, b) => b[0].length - a[0].length);
  for (const [from, to] of ordered) out = out.replaceAll(from, to);
  return out;
}

test('folding a host name gives what the confusables replaced in turn give', () => {
  const { fold } = createBrandIndex();
  assert.equal(fold('paypa1-rnicrosoft'), 'paypal-microsoft');
  assert.equal(fold('vvells-c1oud'), 'wells-cloud');
  // `1` becomes `l` after the pairs are replaced: `c1` is `cl`, not `d`.
  assert.equal(fold('c1ick'), 'click');
  assert.equal(fold('click'), 'dick');
  const alphabet = 'rnvcl0123456789!|aeioumwdx-._';
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let n = 0; n < 20000; n++) {
    let text = '';
    for (let i = 1 + (n % 14); i > 0; i--) text += alphabet[Math.floor(random() * alphabet.length)];
    assert.equal(fold(text), foldInTurn(text), text);
  }
});

/** What createWordScanner answers, by indexOf over every word: the reference it is checked against. */
function longestByIndexOf(words: readonly string[], text: string, min: number): number {
  let best = -1;
  let bestStart = Infinity;
  words.forEach((word, index) => {
    if (word.length < min) return;
    const at = text.indexOf(word);
    if (at < 0) return;
    const bestLength = best < 0 ? 0 : words[best]!.length;
    // Longer wins; of equals the leftmost; of the same word listed twice the first index.
    if (word.length > bestLength || (word.length === bestLength && at < bestStart)) {
      best = index;
      bestStart = at;
    }
  });
  return best;
}

function distinctByIndexOf(words: readonly string[], text: string): number {
  return new Set(words.filter((word) => text.includes(word))).size;
}

function exactByIndexOf(words: readonly string[], text: string): number {
  return words.indexOf(text);
}

test('the word scanner finds what a search by indexOf finds, on the lexicon and on random texts', () => {
  const tokens = LEXICON.brands.flatMap((brand) => brand.tokens).sort((a, b) => b.length - a.length);
  const keywords = [...LEXICON.keywords.en, ...LEXICON.keywords['ja-romanised']];
  const small = ['abcde', 'bcdef', 'cde', 'abcdefg', 'defgh', 'xyzzy', 'zz', 'abcde', 'fgabc'];
  let seed = 4242;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  for (const words of [tokens, keywords, small]) {
    const scanner = createWordScanner(words);
    const texts: string[] = ['', 'a', ...words, ...words.map((w) => `x${w}y`)];
    const pieces = ['-', '.', '_', '0', '1', 'é', 'а', 'rn', 'xn--', 'q', 'www'];
    for (let n = 0; n < 20000; n++) {
      let text = '';
      for (let k = 1 + (n % 5); k > 0; k--) {
        const word = pick(words);
        const from = Math.floor(random() * word.length);
        // Whole words, their heads and tails, and characters no word holds, run together.
        text += random() < 0.5 ? word : random() < 0.5 ? word.slice(from) : word.slice(0, from);
        if (random() < 0.5) text += pick(pieces);
      }
      texts.push(text);
    }
    for (const text of texts) {
      for (const min of [1, 5])
        assert.equal(scanner.longest(text, min), longestByIndexOf(words, text, min), `${text} ${min}`);
      assert.equal(scanner.distinct(text), distinctByIndexOf(words, text), text);
      assert.equal(scanner.exact(text, 0, text.length), exactByIndexOf(words, text), text);
      const from = Math.floor(text.length / 3);
      assert.equal(scanner.exact(text, from, text.length), exactByIndexOf(words, text.slice(from)), text);
    }
  }
});

test('a short token followed by digits names the brand, and is no match', () => {
  const brands = createBrandIndex();
  assert.equal(brands.brandBeforeDigit('smbc102-card-update', ''), 'smbc-card');
  assert.equal(
    brands.match('smbc102-card-update', ''),
    null,
    'no brand feature: the forward check found no gain',
  );
  assert.equal(brands.brandBeforeDigit('kddi2tb-carporotlan', ''), 'au');
  assert.equal(brands.brandBeforeDigit('secure-nhk1', ''), 'nhk', 'in any part');
  assert.equal(brands.brandBeforeDigit('example', 'www.jcb01'), 'jcb', 'in the subdomain');
  // Not after digits, not among them, not in the folded name (`4u` folds to `au`), not a token
  // holding a digit itself (`ts3` of `ts31`), not without a digit (a whole part is match()'s).
  for (const label of ['w3line', '9v64sbi0', 'c0y7au', '224u', 'x1au2', 'ts31', 'smbc', 'smbcx', 'smbcard1'])
    assert.equal(brands.brandBeforeDigit(label, ''), null, label);
});
