/**
 * The packed word set against a plain Set on the whole dictionary: every word found, in place
 * inside longer strings too, and near misses (a letter more, less or changed) answered alike.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import wordListPath from 'word-list';
import { allEnglishWords, englishWords, packedWordSet } from './words.ts';

const WORDS = readFileSync(wordListPath, 'utf8').split('\n').filter(Boolean);
const plain = new Set(WORDS);

test('every dictionary word is in the packed set, as a string and as a range of a longer one', () => {
  const words = englishWords();
  assert.equal(words.size, plain.size);
  for (const w of WORDS) {
    assert.ok(words.has(w), w);
    assert.ok(words.has(`x.${w}.y`, 2, 2 + w.length), w);
  }
});

test('near misses are answered as the plain Set answers them', () => {
  const words = englishWords();
  let checked = 0;
  for (let i = 0; i < WORDS.length; i += 37) {
    const w = WORDS[i]!;
    for (const miss of [
      `${w}q`,
      w.slice(1),
      `${w.slice(0, -1)}${w.at(-1) === 'z' ? 'a' : 'z'}`,
      w.toUpperCase(),
    ]) {
      assert.equal(words.has(miss), plain.has(miss), miss);
      checked++;
    }
  }
  assert.ok(checked > 20_000);
  assert.equal(words.has(''), false);
  assert.equal(words.has('news', 2, 2), false, 'an empty range');
  assert.equal(words.has('ニュース'), false, 'outside the packed bytes');
});

test('a small set: collisions probe on, lengths and bytes compared', () => {
  const set = packedWordSet(['ab', 'ba', 'abc', 'a', '', 'ab']);
  assert.equal(set.size, 4);
  for (const w of ['ab', 'ba', 'abc', 'a']) assert.ok(set.has(w), w);
  for (const w of ['b', 'abcd', 'bc', 'aa']) assert.equal(set.has(w), false, w);
});

test('allEnglishWords reads every label, from an offset on', () => {
  assert.equal(allEnglishWords('news.archive', 3), true);
  assert.equal(allEnglishWords('news.xkqz', 3), false);
  assert.equal(allEnglishWords('www.english', 3, 4), true);
  assert.equal(allEnglishWords('english.', 3), false, 'an empty last label');
  assert.equal(allEnglishWords('ox', 3), false, 'shorter than the least');
});
