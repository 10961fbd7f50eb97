/**
 * Live capture through libpcap via the `cap` native binding (loaded lazily, so everything else
 * works where it is not built). Frames are handed on in the binding's reused buffer.
 */
import { createRequire } from 'node:module';
import { UsageError } from '../core/index.ts';
import { LinkType } from '../packet/index.ts';

export interface LiveCaptureOptions {
  interface: string;
  /** BPF filter (e.g. `net 198.18.0.0/15`); empty captures everything. */
  filter?: string;
  /** libpcap buffer in bytes. */
  bufferBytes?: number;
  snaplen?: number;
}

export interface LiveCapture {
  readonly linkType: number;
  /** Packets the kernel dropped or libpcap could not keep, when the binding reports them. */
  stats(): { received: number; dropped: number; ifDropped: number };
  close(): void;
}

interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  setMinBytes?(n: number): void;
  /** True when this call closed it. */
  close(): boolean;
  stats?(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
}

interface CapModule {
  Cap: { new (): CapInstance; deviceList(): { name: string }[] };
}

const LINK_TYPES: Record<string, number> = {
  ETHERNET: LinkType.ETHERNET,
  NULL: LinkType.NULL,
  RAW: LinkType.RAW,
  IPV4: LinkType.IPV4,
  IPV6: LinkType.IPV6,
  LINUX_SLL: LinkType.LINUX_SLL,
  LINUX_SLL2: LinkType.LINUX_SLL2,
  LOOP: LinkType.LOOP,
};

/**
 * Closed captures are kept for the life of the process. cap 0.2.1 stops its libuv poll handle on
 * close but never closes it, and libuv requires uv_close before a handle's memory is freed: a
 * collected Cap leaves a freed handle in the loop's queue, and the process crashes later, now and
 * then. One small object per capture opened is the price.
 */
const closedCaptures: { cap: CapInstance; buffer: Buffer }[] = [];

/** Loads the binding or explains what is missing. */
export function loadCapBinding(): CapModule {
  try {
    return createRequire(import.meta.url)('cap') as CapModule;
  } catch (error) {
    throw new UsageError(
      `live capture needs the "cap" libpcap binding built for this Node (Debian: libpcap-dev, g++, make; then npm rebuild cap): ${(error as Error).message.split('\n')[0]}`,
    );
  }
}

/** Opens `options.interface` and calls `onFrame` for every captured frame until `close()`. */
export function openLiveCapture(
  options: LiveCaptureOptions,
  onFrame: (linkType: number, data: Uint8Array, timestampMs: number) => void,
): LiveCapture {
  const { Cap } = loadCapBinding();
  const names = Cap.deviceList().map((d) => d.name);
  if (!names.includes(options.interface)) {
    throw new UsageError(`no capture interface "${options.interface}" (have: ${names.join(', ')})`);
  }
  const cap = new Cap();
  const buffer = Buffer.alloc(options.snaplen ?? 65535);
  let linkName: string;
  try {
    linkName = cap.open(
      options.interface,
      options.filter ?? '',
      options.bufferBytes ?? 32 * 1024 * 1024,
      buffer,
    );
  } catch (error) {
    throw new UsageError(`cannot capture on ${options.interface}: ${(error as Error).message}`);
  }
  const linkType = LINK_TYPES[linkName] ?? -1;
  cap.setMinBytes?.(0);
  cap.on('packet', (nbytes) => {
    // The binding gives no capture timestamp; arrival time in this process stands in for it.
    onFrame(linkType, buffer.subarray(0, nbytes), Date.now());
  });
  return {
    linkType,
    stats() {
      const s = cap.stats?.();
      return { received: s?.ps_recv ?? 0, dropped: s?.ps_drop ?? 0, ifDropped: s?.ps_ifdrop ?? 0 };
    },
    close() {
      if (cap.close()) closedCaptures.push({ cap, buffer });
    },
  };
}
