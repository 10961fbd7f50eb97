/** OrderedSpans against an array spliced the same way. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OrderedSpans, type Span } from './spans.ts';

test('insertions in order, out of order and at the end read back as splicing an array gives', () => {
  let seed = 5;
  const next = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };
  for (let round = 0; round < 200; round++) {
    const spans = new OrderedSpans();
    const spliced: Span[] = [];
    let place = 0;
    for (let i = 0; i < 60; i++) {
      // Mostly at increasing places, as a matcher's pass inserts; sometimes anywhere, sometimes at the end.
      const choice = next(4);
      place =
        choice === 0
          ? next(spliced.length + 1)
          : choice === 1
            ? spliced.length
            : Math.min(spliced.length, place + next(3));
      const span: Span = [i, i + 1];
      spans.insert(place, span);
      spliced.splice(place, 0, span);
      place++;
      assert.equal(spans.length, spliced.length);
      for (let at = 0; at < spliced.length; at++) assert.equal(spans.at(at), spliced[at]);
    }
  }
});

test('a pass of insertions at increasing places into many spans copies each span once, not once per insertion', () => {
  const spans = new OrderedSpans();
  for (let i = 0; i < 200_000; i++) spans.push([2 * i, 2 * i + 1]);
  const started = performance.now();
  // A splice here would move 200 000 spans 100 000 times.
  for (let i = 0; i < 100_000; i++) spans.insert(3 * i, [4 * i + 1, 4 * i + 2]);
  assert.ok(performance.now() - started < 2000);
  assert.equal(spans.length, 300_000);
});
