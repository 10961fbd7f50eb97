import { plainObjectType } from '../plain-object.ts';

/**
 * What the scorer makes once per model or table object (compiled tables, weight arrays, bigram
 * arrays): a WeakMap per object, and the last object asked for answered without it, since the
 * scorer asks for the same one on every URL.
 */
export function oncePerObject<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  let lastKey: K | null = null;
  let lastValue: V | undefined;
  return (key) => {
    if (key === lastKey) return lastValue!;
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    lastKey = key;
    lastValue = value;
    return value;
  };
}

/** Reasons, which every part of the scorer makes. */
export const PlainReason = plainObjectType();
