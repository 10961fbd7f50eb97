/**
 * Where a text's lines start and end, found once per text. The matchers ask for the line of every hit; scanning from
 * the hit to the line's ends costs the line's length each time, so a long line with many hits (a megabyte of digests
 * separated by spaces) made extraction quadratic. The index answers in O(log lines), whatever the line lengths.
 */

export class LineIndex {
  /** The offsets of the text's newlines, in order. */
  private readonly newlines: Int32Array;

  constructor(readonly text: string) {
    let count = 0;
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count++;
    this.newlines = new Int32Array(count);
    let i = 0;
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) this.newlines[i++] = at;
  }

  /** How many newlines lie before `offset`. */
  private newlinesBefore(offset: number): number {
    let low = 0;
    let high = this.newlines.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.newlines[middle]! < offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The start of the line that holds `offset`: just after the last newline before it, or 0. */
  lineStart(offset: number): number {
    const before = this.newlinesBefore(offset);
    return before === 0 ? 0 : this.newlines[before - 1]! + 1;
  }

  /**
   * The lines above the one holding `offset`, nearest first, without their newlines: at most `maxLines`, and the walk
   * stops before a line longer than `maxLength` with its newline, so walking up costs a bounded amount per hit.
   */
  *linesAbove(offset: number, maxLines: number, maxLength: number): Generator<string, void, undefined> {
    let lineStart = this.lineStart(offset);
    for (let steps = 0; steps < maxLines && lineStart > 0; steps++) {
      const aboveStart = this.lineStart(lineStart - 1);
      if (lineStart - aboveStart > maxLength) return;
      yield this.text.slice(aboveStart, lineStart - 1);
      lineStart = aboveStart;
    }
  }

  /**
   * The lines below the one holding `offset`, nearest first, without their newlines: at most `maxLines`, and the walk
   * stops before a line longer than `maxLength`, as `linesAbove` does.
   */
  *linesBelow(offset: number, maxLines: number, maxLength: number): Generator<string, void, undefined> {
    const next = this.newlinesBefore(offset);
    for (let line = next; line < next + maxLines && line < this.newlines.length; line++) {
      const start = this.newlines[line]! + 1;
      const end = line + 1 < this.newlines.length ? this.newlines[line + 1]! : this.text.length;
      if (end - start > maxLength) return;
      yield this.text.slice(start, end);
    }
  }

  /**
   * Whether only whitespace lies between the start of the line and `offset` (only characters `allowed` accepts, when
   * given). Reads back from `offset` and stops at the first other character, so a run in a long line costs only the
   * blank before it, not the line.
   */
  blankBefore(offset: number, allowed: (code: number) => boolean = isWhitespace): boolean {
    for (let i = offset - 1; i >= 0; i--) {
      const code = this.text.charCodeAt(i);
      if (code === 0x0a) return true;
      if (!allowed(code)) return false;
    }
    return true;
  }

  /** Whether only whitespace lies between `offset` and the end of the line; reads on from `offset` as `blankBefore` does. */
  blankAfter(offset: number): boolean {
    for (let i = offset; i < this.text.length; i++) {
      const code = this.text.charCodeAt(i);
      if (code === 0x0a) return true;
      if (!isWhitespace(code)) return false;
    }
    return true;
  }
}

/** What `String.prototype.trim` and `\s` count as whitespace: ECMAScript's WhiteSpace and LineTerminator. */
export function isWhitespace(code: number): boolean {
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
