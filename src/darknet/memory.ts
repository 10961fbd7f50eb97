/**
 * Buffers for the analyzer's big tables (source records and indexes, statistics slots).
 *
 * They are SharedArrayBuffers, though no other thread reads them: V8 counts the memory of every
 * ArrayBuffer as external memory pressure and runs garbage collections to relieve it, and these
 * tables are hundreds of megabytes of mostly untouched address space that no collection can free
 * while the analyzer lives. A SharedArrayBuffer is zero-filled the same way and is not counted.
 */
export function zeroedTable(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(bytes);
}
