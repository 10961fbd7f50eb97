/** The line index against the scans it replaces, on every offset of texts with and without newlines. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isWhitespace, LineIndex } from './lines.ts';

const TEXTS = [
  '',
  'one line, no newline',
  '\n',
  '\n\nstarts with blank lines',
  'ends with a newline\n',
  'a\nb\n\nc d\n  \t- e  \n',
  '  lead\r\n\u00a0\u3000 x \u2028y\n-- * > z\n',
];

describe('LineIndex', () => {
  test('lineStart is where the line holding the offset starts, as scanning back for a newline gives', () => {
    for (const text of TEXTS) {
      const lines = new LineIndex(text);
      for (let offset = 1; offset <= text.length; offset++)
        assert.equal(
          lines.lineStart(offset),
          text.lastIndexOf('\n', offset - 1) + 1,
          `${JSON.stringify(text)} @${offset}`,
        );
      assert.equal(lines.lineStart(0), 0);
    }
  });

  test('linesAbove walks up as scanning back line by line does, and stops at the count or a long line', () => {
    // The walk it replaces: each line above, nearest first, until maxLines or one longer than maxLength (newline included).
    const walked = (text: string, offset: number, maxLines: number, maxLength: number) => {
      const out: string[] = [];
      let lineStart = text.lastIndexOf('\n', offset - 1) + 1;
      for (let steps = 0; steps < maxLines && lineStart > 0; steps++) {
        // (lastIndexOf at -1 would read the newline at 0 again: the first line starts at 0.)
        const aboveStart = lineStart >= 2 ? text.lastIndexOf('\n', lineStart - 2) + 1 : 0;
        if (lineStart - aboveStart > maxLength) break;
        out.push(text.slice(aboveStart, lineStart - 1));
        lineStart = aboveStart;
      }
      return out;
    };
    for (const text of [...TEXTS, 'short\na line of some length\nx\n\ny']) {
      const lines = new LineIndex(text);
      // From 1, as the lineStart test: the scan's lastIndexOf at offset 0 reads a newline at 0 (no hit starts on one).
      for (let offset = 1; offset <= text.length; offset++)
        for (const [maxLines, maxLength] of [
          [1, 4096],
          [3, 4096],
          [40, 4096],
          [40, 4],
        ] as const)
          assert.deepEqual(
            [...lines.linesAbove(offset, maxLines, maxLength)],
            walked(text, offset, maxLines, maxLength),
            `${JSON.stringify(text)} @${offset} ${maxLines}/${maxLength}`,
          );
    }
    assert.deepEqual([...new LineIndex('aaaaa\nbb\nccc\nd').linesAbove(13, 40, 4)], ['ccc', 'bb']);
  });

  test('linesBelow walks down as splitting the text after the line does, and stops at the count or a long line', () => {
    const walked = (text: string, offset: number, maxLines: number, maxLength: number) => {
      const newline = text.indexOf('\n', offset);
      if (newline < 0) return [];
      const out: string[] = [];
      for (const line of text
        .slice(newline + 1)
        .split('\n')
        .slice(0, maxLines)) {
        if (line.length > maxLength) break;
        out.push(line);
      }
      return out;
    };
    for (const text of TEXTS) {
      const lines = new LineIndex(text);
      for (let offset = 0; offset <= text.length; offset++)
        for (const [maxLines, maxLength] of [
          [1, 100],
          [3, 100],
          [40, 2],
        ] as const)
          assert.deepEqual(
            [...lines.linesBelow(offset, maxLines, maxLength)],
            walked(text, offset, maxLines, maxLength),
            `${JSON.stringify(text)} @${offset} ${maxLines}/${maxLength}`,
          );
    }
    assert.deepEqual([...new LineIndex('a\nbb\nccc\ndddd').linesBelow(0, 40, 3)], ['bb', 'ccc']);
  });

  test('blankBefore and blankAfter agree with trimming the slice to the line ends', () => {
    const listMarkerOrSpace = (code: number) => /[\s\-*+>]/.test(String.fromCharCode(code));
    for (const text of TEXTS) {
      const lines = new LineIndex(text);
      for (let offset = 0; offset <= text.length; offset++) {
        const start = text.lastIndexOf('\n', offset - 1) + 1;
        const newline = text.indexOf('\n', offset);
        const end = newline < 0 ? text.length : newline;
        const at = `${JSON.stringify(text)} @${offset}`;
        if (offset > 0) {
          assert.equal(lines.blankBefore(offset), text.slice(start, offset).trim() === '', at);
          assert.equal(
            lines.blankBefore(offset, listMarkerOrSpace),
            /^[\s\-*+>]*$/.test(text.slice(start, offset)),
            at,
          );
        }
        assert.equal(lines.blankAfter(offset), text.slice(offset, end).trim() === '', at);
      }
    }
  });

  test('a blank check reads only up to the first other character, not the whole line', () => {
    const text = 'x'.repeat(1 << 20) + '  run  ' + 'y'.repeat(1 << 20);
    const lines = new LineIndex(text);
    const run = text.indexOf('run');
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) {
      lines.blankBefore(run);
      lines.blankAfter(run + 3);
      lines.lineStart(run);
    }
    // Scanning back to the line's start on each call would read some 10 G characters here.
    assert.ok(performance.now() - started < 1000);
    assert.equal(lines.blankBefore(run), false);
    assert.equal(lines.blankAfter(run + 3), false);
  });

  test('isWhitespace is what \\s matches, on every code unit', () => {
    for (let code = 0; code <= 0xffff; code++)
      assert.equal(isWhitespace(code), /\s/.test(String.fromCharCode(code)), `U+${code.toString(16)}`);
  });
});
