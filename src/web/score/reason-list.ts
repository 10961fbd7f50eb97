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
  /** The reasons, in order; toArray copies them out. */
  private items: Reason[] = [];
  /** Per position: a host reason's size before scaling (addHost's second key). */
  private unscaled = new Float64Array(64);

  clear(): void {
    this.items.length = 0;
  }

  /** A reason placed after every one at least as large: a stable sort's place for it. */
  add(label: string, value: number, contribution: number): void {
    const reason = reasonOf(label, value, contribution);
    const items = this.items;
    const size = abs(contribution);
    let at = items.length;
    items.push(reason);
    while (at > 0 && abs(items[at - 1]!.contribution) < size) {
      items[at] = items[at - 1]!;
      at--;
    }
    items[at] = reason;
  }

  /** A reason placed last, whatever its size (an unsorted list, url-features.ts urlPart). */
  push(label: string, value: number, contribution: number): void {
    this.items.push(reasonOf(label, value, contribution));
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
    let at = items.length;
    if (at >= this.unscaled.length) {
      const wider = new Float64Array(at * 2);
      wider.set(this.unscaled);
      this.unscaled = wider;
    }
    const second = this.unscaled;
    items.push(reason);
    for (; at > 0; at--) {
      const other = abs(items[at - 1]!.contribution);
      if (!(other < size || (other === size && second[at - 1]! < unscaled))) break;
      items[at] = items[at - 1]!;
      second[at] = second[at - 1]!;
    }
    items[at] = reason;
    second[at] = unscaled;
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
    const items = this.items;
    items.length = 0;
    for (let i = 0; i < from.size; i++)
      items.push(reasonOf(from.feature[i]!, from.value[i]!, from.contribution[i]!));
  }

  /** The reasons, copied out; the list is emptied. */
  toArray(): Reason[] {
    // A copy by the builtin, which (unlike a literal) is never pretenured (model.ts, `scored`).
    const out = this.items.slice();
    this.items.length = 0;
    return out;
  }
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
