/**
 * The database's type, one shape for SQLite and PostgreSQL. Store declares only its own table
 * (kv); each room that owns tables adds them to `Database` from its own `tables.ts` (a module
 * augmentation of store's index.ts), so the type is composed from what the rooms declare while
 * store imports no room. Rooms with tables of their own reached only by themselves may instead
 * type their own Kysely (hygiene's HygieneTables).
 */

/** Timestamps are ISO 8601 text with milliseconds and `Z`, so they sort as text on both engines. */
export type IsoTime = string;

export interface KeyValueTable {
  key: string;
  value: string;
}

/** Every table the store holds: kv here; intel's and share's added by src/intel/tables.ts and src/share/tables.ts. */
export interface Database {
  kv: KeyValueTable;
}
