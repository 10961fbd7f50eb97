/**
 * What the pinned-score tests share: reading a pinned model copy and its cases, checking every
 * row against its pin to the bit, and scoring the same URLs twice.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { normaliseUrl } from '../../normalise.ts';
import type { FittedModel, Scorer } from '../model.ts';
import type { Reason } from '../../types.ts';

/** url, score, verdict, host score, host verdict, brand, reasons: a row as the code gave it. */
export type Pinned = [string, number, string, number, string, string | null, Reason[]];

export function loadPinned(modelFile: string, casesFile: string): { model: FittedModel; pinned: Pinned[] } {
  const here = new URL('./', import.meta.url);
  const model = JSON.parse(readFileSync(new URL(modelFile, here), 'utf8')) as FittedModel;
  const pinned = readFileSync(new URL(casesFile, here), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Pinned);
  return { model, pinned };
}

/** Every pinned URL scored as pinned; the verdicts seen, for the caller's coverage checks. */
export function assertAsPinned(scorer: Scorer, pinned: readonly Pinned[]): Set<string> {
  const verdicts = new Set<string>();
  for (const [url, score, verdict, hostScore, hostVerdict, brand, reasons] of pinned) {
    const row = scorer.score(normaliseUrl(url));
    assert.equal(row.score, score, url);
    assert.equal(row.verdict, verdict, url);
    assert.equal(row.hostScore, hostScore, url);
    assert.equal(row.hostVerdict, hostVerdict, url);
    assert.equal(row.brand, brand, url);
    assert.deepEqual(row.reasons, reasons, url);
    verdicts.add(verdict);
  }
  return verdicts;
}

/** The first hundred pinned URLs scored twice in a row give the same rows (no state kept). */
export function assertStateless(scorer: Scorer, pinned: readonly Pinned[]): void {
  for (const [url] of pinned.slice(0, 100)) {
    const first = scorer.score(normaliseUrl(url));
    const second = scorer.score(normaliseUrl(url));
    assert.deepEqual(second, first, url);
  }
}
