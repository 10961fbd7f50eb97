/**
 * Loader for the darknet hot loop in C (darknet_fast.c, built by node-gyp into build/Release at
 * install). Absent or unloadable, it is reported, never thrown: the analyzer then observes every
 * frame in TypeScript, with the same results.
 */
import { createRequire } from 'node:module';
import { NativeSlot } from './slots.ts';

export { NativeSlot } from './slots.ts';

export interface NativeDarknetBinding {
  /** Number of state slots the addon was built with (must equal NativeSlot.COUNT). */
  stateSlots: number;
  /** Maps file bytes [offset, offset + length) (offset page-aligned) privately; unmapped when collected. */
  mapFile(fd: number, offset: number, length: number): Uint8Array;
  /**
   * Record ids in `ranges` ([start, end) pairs) whose source classOf calls infected, written to
   * `out`; for tables without user rules or a scanner list. `infectedBy`: bit 0 when the Mirai
   * fingerprint's class is infected, bit 1 masscan, bit 2 ZMap.
   */
  infectedSlots(
    records: Uint8Array,
    ranges: Float64Array,
    minPackets: number,
    minBackscatterShare: number,
    minFingerprintShare: number,
    infectedBy: number,
    out: Int32Array,
  ): number;
  /** Faults in every page of `array` now (one madvise instead of a fault per page later), in huge pages where the kernel allows. */
  populate(array: ArrayBufferView): void;
  /** Asks for transparent huge pages for `array`'s memory from its next first touch on. */
  adviseHugePages(array: ArrayBufferView): void;
  /** Detaches and unmaps an array from mapFile now. */
  unmapFile(mapping: Uint8Array): void;
  /** Observes classic pcap records from buffer[offset, end); returns the offset of the first one left. */
  observe(
    buffer: Uint8Array,
    offset: number,
    end: number,
    state: Float64Array,
    ranges: Float64Array,
    records: Uint8Array,
    side: Int32Array,
    newIndex: Uint32Array,
    hotIndex: Uint32Array,
    newFree: Int32Array,
    hotFree: Int32Array,
    slots: Uint8Array,
    keys: Int32Array,
    dense: Uint8Array,
    asnPackets: Float64Array,
    countryPackets: Float64Array,
  ): number;
  /**
   * Layer.measure (stats.ts) in C: packets and unique-source estimate of each key in use, and
   * `order` the keys in address order. `linear[zeros]` is the linear-counting estimate.
   */
  measure(
    slots: Uint8Array,
    keys: Int32Array,
    used: number,
    dense: Uint8Array,
    linear: Float64Array,
    positions: Int32Array,
    order: Float64Array,
    packets: Float64Array,
    sources: Float64Array,
  ): void;
}

export type NativeDarknetLoad =
  { binding: NativeDarknetBinding; error?: undefined } | { binding?: undefined; error: string };

let loaded: NativeDarknetLoad | undefined;

/** The addon, loaded once per process (`TSUNAGI_DARKNET_NATIVE=0` turns it off); `error` says why it is not used. */
export function loadNativeDarknet(): NativeDarknetLoad {
  if (loaded) return loaded;
  if (process.env.TSUNAGI_DARKNET_NATIVE === '0') {
    loaded = { error: 'turned off by TSUNAGI_DARKNET_NATIVE=0' };
    return loaded;
  }
  try {
    const require = createRequire(import.meta.url);
    const binding = require('./build/Release/tsunagi_darknet.node') as NativeDarknetBinding;
    const missing = (
      ['measure', 'unmapFile', 'infectedSlots', 'populate', 'adviseHugePages'] as const
    ).filter((name) => typeof binding[name] !== 'function');
    if (binding.stateSlots !== NativeSlot.COUNT || missing.length > 0) {
      loaded = {
        error: `built from another version of darknet_fast.c (${binding.stateSlots} state slots, expected ${NativeSlot.COUNT}${missing.length ? `; no ${missing.join(', ')}` : ''}): run npm install`,
      };
    } else loaded = { binding };
  } catch (error) {
    loaded = { error: `not built (${(error as Error).message.split('\n')[0]})` };
  }
  return loaded;
}
