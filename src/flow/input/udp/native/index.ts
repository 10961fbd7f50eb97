/**
 * Loader for the recvmmsg(2) UDP receiver addon (udp_recvmmsg.cc, built by node-gyp into
 * build/Release). Absent or unloadable addons are reported, never thrown: the collector then
 * falls back to node's dgram.
 */
import { createRequire } from 'node:module';

/** One open socket of the addon. */
export interface NativeUdpSocket {
  /** Stops polling and closes the socket; safe to call twice and from inside onBatch. */
  close(): void;
  localPort(): number;
  /** SO_RCVBUF as the kernel reports it (Linux: double the size granted). */
  recvBufferSize(): number;
}

export interface NativeUdpBinding {
  /**
   * Binds a UDP socket and polls it on node's event loop. Each readiness drains the socket with
   * recvmmsg into `data` (slot i at i * slotSize) and calls `onBatch(count)` once per batch of
   * up to `data.length / slotSize` datagrams, with per-datagram `lengths` (negative when
   * truncated), source `addresses` (16 bytes each, IPv4 in the first 4), `ports` and
   * `families` (4 or 6; IPv4-mapped IPv6 sources are reported as 4). The arrays belong to the
   * socket: their contents are valid only during the callback. With `coalesceMs` > 0, once
   * datagrams flow the socket is read every `coalesceMs` by a timer instead of at each
   * readiness (larger batches, fewer wake-ups; back to readiness when a read finds nothing).
   * Throws an Error with `errno`.
   */
  open(
    host: string,
    port: number,
    family: 4 | 6,
    receiveBufferBytes: number,
    slotSize: number,
    data: Uint8Array,
    lengths: Int32Array,
    addresses: Uint8Array,
    ports: Uint16Array,
    families: Uint8Array,
    onBatch: (count: number) => void,
    onError: (errno: number, syscall: string) => void,
    coalesceMs: number,
  ): NativeUdpSocket;
}

export type NativeLoad =
  { binding: NativeUdpBinding; error?: undefined } | { binding?: undefined; error: string };

let loaded: NativeLoad | undefined;

/** The addon, loaded once per process; `error` says why it is not available. */
export function loadNativeUdp(): NativeLoad {
  if (loaded) return loaded;
  if (process.platform !== 'linux') {
    loaded = { error: `recvmmsg receiver is Linux-only (platform ${process.platform})` };
    return loaded;
  }
  try {
    const require = createRequire(import.meta.url);
    const binding = require('./build/Release/tsunagi_udp.node') as NativeUdpBinding;
    if (typeof binding.open !== 'function') throw new Error('addon has no open()');
    loaded = { binding };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    loaded = { error: `addon not loadable (build it with: npm run build:native): ${message}` };
  }
  return loaded;
}
