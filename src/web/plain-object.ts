/**
 * A constructor of empty objects like `{}`, Object.prototype their prototype (to JSON,
 * deepStrictEqual and spread one is the same plain object), for records built by assignment.
 * From `{}` V8 keeps four fields in the object and the rest in a separate array that it grows
 * three at a time, each time a new array with the old one copied: a scored row's fifteen fields
 * made four such arrays per URL. An object made by a constructor is sized, once V8 has seen a
 * few, to the fields it gets, so each kind of record has its own constructor (one shared by
 * rows and reasons would size a reason like a row). Nor does `new` leave an allocation site for
 * V8 to pretenure, as an object literal would (score/model.ts, `scored`).
 */
export function plainObjectType(): new () => object {
  const type = function PlainObject() {} as unknown as new () => object;
  type.prototype = Object.prototype;
  return type;
}
