/**
 * Folding, as its comment defines it: lower case, then each confusable replaced, longest first.
 * The one-pass form host names take must give what the replacements in turn give.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBrandIndex, LEXICON } from './lexicon.ts';

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
