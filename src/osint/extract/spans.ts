/**
 * Spans of text in order of their starts, read by index (for a binary search) while more are inserted. A splice per
 * insertion moves every span after it, so many insertions into many spans were quadratic (a megabyte alternating URLs
 * and defanged addresses with paths). Here the spans before the last insertion are copied to `front` and those after
 * it still read from `back`: insertions at increasing places, as a matcher's pass makes them, copy each span once.
 */
export type Span = readonly [number, number];

export class OrderedSpans {
  private front: Span[] = [];
  private back: Span[] = [];
  /** Where the spans of `back` not yet copied to `front` begin. */
  private backFrom = 0;

  get length(): number {
    return this.front.length + this.back.length - this.backFrom;
  }

  at(index: number): Span {
    return index < this.front.length
      ? this.front[index]!
      : this.back[this.backFrom + index - this.front.length]!;
  }

  /** Puts `span` at `index`, the spans from there on moving one place up (as `splice(index, 0, span)` would). */
  insert(index: number, span: Span): void {
    if (index < this.front.length) {
      // Before the last insertion (a new pass): the copy starts over.
      this.back = this.front.concat(this.back.slice(this.backFrom));
      this.front = [];
      this.backFrom = 0;
    }
    while (this.front.length < index) this.front.push(this.back[this.backFrom++]!);
    this.front.push(span);
  }

  push(span: Span): void {
    this.insert(this.length, span);
  }
}
