/**
 * The pages a document links or cites, and whether one of them covers a URL: the same page, or a page under a cited
 * page's path (a cited tool's `/archive/master.zip`). Asking each cited page in turn made a document of many links and
 * many URLs quadratic; here a question costs a binary search and one comparison of strings.
 */
export class CitedPages {
  private readonly pages = new Set<string>();
  /** `PAGE/` for each cited page with a path of its own (trailing slashes dropped): what a covered URL starts with. */
  private readonly prefixSet = new Set<string>();
  private prefixes: string[] = [];
  /** For each of `prefixes`, the length of the shortest prefix in the set that is a prefix of it (itself, or one above). */
  private shortestAbove = new Int32Array(0);
  private sorted = true;

  add(page: string): void {
    this.pages.add(page);
    // Only a cited page with a path of its own covers the pages under it (a cited site root covers nothing more).
    const path = page.replace(/^[a-z]+:\/\/[^/]+/i, '').replace(/\/+$/, '');
    if (path.length <= 1) return;
    const prefix = `${page.replace(/\/+$/, '')}/`;
    if (this.prefixSet.has(prefix)) return;
    this.prefixSet.add(prefix);
    this.prefixes.push(prefix);
    this.sorted = false;
  }

  /** Whether `href` is a cited page or lies under the path of one. */
  covers(href: string): boolean {
    if (this.pages.has(href)) return true;
    if (this.prefixes.length === 0) return false;
    if (!this.sorted) this.sort();
    // The last prefix not after `href`: any prefix of `href` in the set sorts at or before it, and is a prefix of it.
    let low = 0;
    let high = this.prefixes.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.prefixes[middle]! <= href) low = middle + 1;
      else high = middle;
    }
    if (low === 0) return false;
    const nearest = this.prefixes[low - 1]!;
    let common = 0;
    while (common < nearest.length && nearest.charCodeAt(common) === href.charCodeAt(common)) common++;
    // The prefixes of `nearest` in the set that fit in what it shares with `href` are prefixes of `href` too.
    return this.shortestAbove[low - 1]! <= common;
  }

  private sort(): void {
    // Code-unit order, as `<=` and `startsWith` compare.
    this.prefixes.sort();
    this.shortestAbove = new Int32Array(this.prefixes.length);
    // The prefixes in the set of each one precede it in order, and every one between them starts with them too: a
    // stack of the previous one's prefixes, popped to those of the next one, holds that one's prefixes.
    const stack: number[] = [];
    this.prefixes.forEach((prefix, i) => {
      while (stack.length > 0 && !prefix.startsWith(this.prefixes[stack[stack.length - 1]!]!)) stack.pop();
      this.shortestAbove[i] = stack.length > 0 ? this.shortestAbove[stack[0]!]! : prefix.length;
      stack.push(i);
    });
    this.sorted = true;
  }
}
