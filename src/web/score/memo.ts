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

/**
 * A constructor of empty objects like `{}`, Object.prototype their prototype (to JSON,
 * deepStrictEqual and spread one is the same plain object), for records built by assignment.
 * From `{}` V8 keeps four fields in the object and the rest in a separate array that it grows
 * three at a time, each time a new array with the old one copied: a scored row's fifteen fields
 * made four such arrays per URL. An object made by a constructor is sized, once V8 has seen a
 * few, to the fields it gets, so each kind of record has its own constructor (one shared by
 * rows and reasons would size a reason like a row). Nor does `new` leave an allocation site for
 * V8 to pretenure, as an object literal would (model.ts, `scored`).
 */
export function plainObjectType(): new () => object {
  const type = function PlainObject() {} as unknown as new () => object;
  type.prototype = Object.prototype;
  return type;
}

/** Reasons, which every part of the scorer makes. */
export const PlainReason = plainObjectType();
