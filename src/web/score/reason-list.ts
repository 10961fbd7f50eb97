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
   * The reasons, in order: a new array per verdict, which toArray hands out as it is. A new
   * young array takes the young reasons without the write barrier's slow path that an array
   * kept between URLs (in the old generation) paid on every store and move; and it is made by
   * a builtin (`slice` of an empty array), which V8 never pretenures, unlike a literal's site
   * (model.ts, `scored`). Emptying one array by `length = 0` instead dropped its backing store
   * through the runtime each time.
   */
  private items: Reason[] = newReasons();
  /** Per position: the reason's |contribution|, what the insertions compare (no load through the object). */
  private sizes: Float64Array = new Float64Array(64);
  /** Per position: a host reason's size before scaling (addHost's second key). */
  private unscaled: Float64Array = new Float64Array(64);

  clear(): void {
    if (this.items.length > 0) this.items = newReasons();
  }

  /** A reason placed after every one at least as large: a stable sort's place for it. */
  add(label: string, value: number, contribution: number): void {
    const reason = reasonOf(label, value, contribution);
    const items = this.items;
    const sizes = this.sizes;
    const size = abs(contribution);
    let at = this.grow(reason);
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
    const at = this.grow(reasonOf(label, value, contribution));
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
    let at = this.grow(reason);
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

  /** The reason appended (its index), the size arrays widened when full. */
  private grow(reason: Reason): number {
    const at = this.items.length;
    this.items.push(reason);
    if (at === this.sizes.length) {
      this.sizes = widened(this.sizes);
      this.unscaled = widened(this.unscaled);
    }
    return at;
  }

  /** The reasons so far, kept (as values) for the host's next URLs. */
  keep(into: HostReasons): void {
    const items = this.items;
    const size = items.length;
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
    this.clear();
    for (let i = 0; i < from.size; i++) this.push(from.feature[i]!, from.value[i]!, from.contribution[i]!);
  }

  /** The reasons, handed out; the list starts a new array. */
  toArray(): Reason[] {
    const out = this.items;
    this.items = newReasons();
    return out;
  }
}

/** An empty array made by a builtin (see ReasonList.items). */
function newReasons(): Reason[] {
  return NO_REASONS.slice();
}
const NO_REASONS: readonly Reason[] = [];

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
