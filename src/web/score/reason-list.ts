/**
 * The reasons of one verdict as the scorer gathers them, kept in their final order as they
 * come: each part (host name, host context, path, gated) adds its own, and toArray hands them
 * out. A host's reasons are kept apart (HostReasons) and replayed for its next URLs as new
 * objects (rows own theirs).
 *
 * The order is what a stable sort of every reason by |contribution|, largest first, gives, with
 * the host name's reasons (added first, by addHost) ordered among themselves by their scaled
 * size, then their unscaled size, then the features' order (model.ts hostReasons).
 *
 * (Labels and numbers in parallel typed arrays, made into objects only in toArray, measured
 * slower on the benchmark's URLs, 3 % with an index array and more moving the entries: the
 * objects are made all the same, and each insertion then moved five arrays' entries, or went
 * through the index, instead of one pointer.)
 */
import type { Reason } from '../types.ts';
import { PlainReason } from './memo.ts';

export class ReasonList {
  /**
   * The reasons, in order, in the first `count` places; toArray copies them out. The array is
   * kept between URLs: emptied by `length = 0`, V8 dropped its backing store and grew a new one
   * per URL, each time through the runtime.
   */
  private items: Reason[] = [];
  private count = 0;
  /** Per position: the reason's |contribution|, what the insertions compare (no load through the object). */
  private sizes: Float64Array = new Float64Array(64);
  /** Per position: a host reason's size before scaling (addHost's second key). */
  private unscaled: Float64Array = new Float64Array(64);

  clear(): void {
    this.count = 0;
  }

  /** A reason placed after every one at least as large: a stable sort's place for it. */
  add(label: string, value: number, contribution: number): void {
    const reason = reasonOf(label, value, contribution);
    const items = this.items;
    const sizes = this.sizes;
    const size = abs(contribution);
    let at = this.grow();
    while (at > 0 && sizes[at - 1]! < size) {
      items[at] = items[at - 1]!;
      sizes[at] = sizes[at - 1]!;
      at--;
    }
    items[at] = reason;
    sizes[at] = size;
  }

  /** A reason placed last, whatever its size (an unsorted list, url-features.ts urlPart). */
  push(label: string, value: number, contribution: number): void {
    const at = this.grow();
    this.items[at] = reasonOf(label, value, contribution);
    this.sizes[at] = abs(contribution);
  }

  /**
   * A host-name reason (contribution scaled, `unscaled` its size before scaling): placed after
   * every one larger, or as large and no smaller unscaled; the host's reasons come first.
   * Insertion sort: stable like Array#sort and, for the dozen reasons at most, cheaper than its
   * comparator calls.
   */
  addHost(label: string, value: number, contribution: number, unscaled: number): void {
    const reason = reasonOf(label, value, contribution);
    const items = this.items;
    const size = abs(contribution);
    let at = this.grow();
    const sizes = this.sizes;
    const second = this.unscaled;
    for (; at > 0; at--) {
      const other = sizes[at - 1]!;
      if (!(other < size || (other === size && second[at - 1]! < unscaled))) break;
      items[at] = items[at - 1]!;
      sizes[at] = other;
      second[at] = second[at - 1]!;
    }
    items[at] = reason;
    sizes[at] = size;
    second[at] = unscaled;
  }

  /** One more place at the end (its index), the arrays widened when full. */
  private grow(): number {
    const at = this.count++;
    if (at === this.items.length) this.items.push(NO_REASON);
    if (at === this.sizes.length) {
      this.sizes = widened(this.sizes);
      this.unscaled = widened(this.unscaled);
    }
    return at;
  }

  /** The reasons so far, kept (as values) for the host's next URLs. */
  keep(into: HostReasons): void {
    const items = this.items;
    const size = this.count;
    if (into.contribution.length < size) into.contribution = new Float64Array(size * 2);
    for (let i = 0; i < size; i++) {
      const reason = items[i]!;
      into.feature[i] = reason.feature;
      into.value[i] = reason.value as number;
      into.contribution[i] = reason.contribution;
    }
    into.size = size;
  }

  /** The list emptied and refilled with kept reasons, as new objects in their order. */
  replay(from: HostReasons): void {
    this.count = 0;
    for (let i = 0; i < from.size; i++) this.push(from.feature[i]!, from.value[i]!, from.contribution[i]!);
  }

  /** The reasons, copied out; the list is emptied. */
  toArray(): Reason[] {
    // A copy by the builtin, which (unlike a literal) is never pretenured (model.ts, `scored`).
    const out = this.items.slice(0, this.count);
    this.count = 0;
    return out;
  }
}

function widened(array: Float64Array): Float64Array {
  const wider = new Float64Array(array.length * 2);
  wider.set(array);
  return wider;
}

/** A host's reasons as plain values (ReasonList keep and replay). */
export class HostReasons {
  size = 0;
  feature: string[] = [];
  value: number[] = [];
  contribution = new Float64Array(32);
}

function reasonOf(label: string, value: number, contribution: number): Reason {
  // Built by assignment to new PlainReason() (model.ts, `scored`: a literal's allocation site gets pretenured).
  const reason = new PlainReason() as Reason;
  reason.feature = label;
  reason.value = value;
  reason.contribution = contribution;
  return reason;
}

const abs = Math.abs;
/** What fills a place of ReasonList's array until a reason is put there. */
const NO_REASON = reasonOf('', 0, 0);
