import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PairMap } from './homes.ts';
import { AggregateTable } from './table.ts';

// The per-flow path carries IPv4 addresses and hashes as int32 (the same bits as the uint32 a
// Uint32Array gives): lookups must not depend on which of the two a caller holds.
const high = 0xc0000201; // 192.0.2.1: above 2^31, negative as int32

test('PairMap finds a key whether its words come in signed or unsigned', () => {
  const map = new PairMap(4);
  map.set(high, 0x8000, 7);
  assert.equal(map.get(high, 0x8000, -1), 7);
  assert.equal(map.get(high | 0, 0x8000, -1), 7);
  assert.equal(map.get(high >>> 0, 0x8000 | 0, -1), 7);
  assert.equal(map.get(high + 1, 0x8000, -1), -1);
  map.set(high | 0, 0x8000, 9);
  assert.equal(map.size, 1);
  assert.equal(map.get(high, 0x8000, -1), 9);
});

test('AggregateTable finds an IPv4 key by its int32 or uint32 address and keeps it unsigned', () => {
  const table = new AggregateTable(64);
  const hash = AggregateTable.hashKey4(high, 6);
  assert.equal(hash, AggregateTable.hashKey4(high | 0, 6));
  const e = table.insert(4, high | 0, undefined, 0, 443, 6, hash);
  assert.equal(table.ip4[e], high);
  assert.equal(table.find4(high, 6, hash), e);
  assert.equal(table.find4(high | 0, 6, hash), e);
  assert.equal(table.find4(high, 17, AggregateTable.hashKey4(high, 17)), -1);
});
