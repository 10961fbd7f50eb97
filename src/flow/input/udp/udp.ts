/**
 * UDP input: one socket per listen address, each with a sized receive buffer. Two receive paths:
 * the recvmmsg addon (src/flow/input/udp/native: one JS callback per batch of datagrams, one shared
 * buffer) when it is built, else node's dgram (one callback and one Buffer per datagram).
 * Payloads go straight to the decoder; kernel drops are read from /proc/net/udp{,6}.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ipv4ToString, ipv6ToString, parseHostPort } from '../../../core/index.ts';
import { loadNativeUdp, type NativeUdpSocket } from './native/index.ts';

export interface UdpListener {
  /** host:port as configured, and the port actually bound (differs when 0 was asked). */
  readonly address: string;
  readonly boundPort: number;
  readonly family: 4 | 6;
  readonly receiveBufferBytes: number;
}

/** Where a listener can be reached: its configured host with the port actually bound (`127.0.0.1:0` → `127.0.0.1:40123`). */
export function boundAddress(listener: UdpListener): string {
  return `${listener.address.replace(/:\d+$/, '')}:${listener.boundPort}`;
}

/**
 * Called once per datagram. `payload` may be a view into a buffer the input reuses: it is valid
 * only during the call (the decoder copies what it keeps).
 */
export type PayloadHandler = (
  payload: Buffer,
  exporter: string,
  exporterPort: number,
  receivedMs: number,
) => void;

/** 'auto' takes the addon when it loads, else dgram; 'native' fails when the addon is missing. */
export type UdpReceiverChoice = 'auto' | 'native' | 'dgram';
export type UdpReceivePath = 'native' | 'dgram';

export interface UdpInputOptions {
  receiver?: UdpReceiverChoice;
  /** Datagrams per recvmmsg call (native path). */
  batchDatagrams?: number;
  /** Native path: while datagrams flow, read every this many ms rather than at each arrival (0: never wait). */
  coalesceMs?: number;
  /** Told once at start which path is active and, for 'auto' falling back, why. */
  onPath?: (path: UdpReceivePath, reason?: string) => void;
}

export interface UdpInput {
  start(): Promise<UdpListener[]>;
  stop(): Promise<void>;
  readonly listeners: readonly UdpListener[];
  /** The receive path in use (decided at start). */
  readonly path: UdpReceivePath;
  /** Datagrams longer than a receive slot (cut by the kernel, skipped). */
  readonly truncated: number;
  /** Receive calls that handed datagrams to JS: one per datagram on dgram, per recvmmsg batch natively. */
  readonly receiveCalls: number;
}

/** Room for the largest UDP payload (65,527 bytes over IPv6). */
const SLOT_BYTES = 65536;
/** Distinct exporter address strings remembered by the native path before starting over. */
const MAX_EXPORTER_NAMES = 65536;

/** `::ffff:192.0.2.1` from a dual-stack socket reads as the plain IPv4 address. */
function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Exporter names made once per address: the decoder's per-exporter memos then compare the same
 * string instance, and no string is built per datagram (the last IPv4 sender is kept at hand).
 */
class ExporterNames {
  private readonly names4 = new Map<number, string>();
  private readonly names6 = new Map<string, string>();
  private lastKey = -1;
  private lastName = '';

  /** The name of the sender at `sources[at..]` (16 bytes a slot; IPv4 in the first four). */
  of(sources: Uint8Array, at: number, family: number): string {
    if (family === 4) {
      const key =
        ((sources[at]! << 24) | (sources[at + 1]! << 16) | (sources[at + 2]! << 8) | sources[at + 3]!) >>> 0;
      if (key === this.lastKey) return this.lastName;
      let known = this.names4.get(key);
      if (known === undefined) {
        if (this.names4.size >= MAX_EXPORTER_NAMES) this.names4.clear();
        known = ipv4ToString(key);
        this.names4.set(key, known);
      }
      this.lastKey = key;
      this.lastName = known;
      return known;
    }
    const text = ipv6ToString(sources, at);
    let known = this.names6.get(text);
    if (known === undefined) {
      if (this.names6.size >= MAX_EXPORTER_NAMES) this.names6.clear();
      this.names6.set(text, text);
      known = text;
    }
    this.lastKey = -1;
    return known;
  }
}

/** What every socket of one input shares: where payloads and errors go, and the running totals. */
interface InputState {
  readonly receiveBufferBytes: number;
  readonly onPayload: PayloadHandler;
  readonly onError: (error: Error, address: string) => void;
  readonly closers: (() => Promise<void>)[];
  readonly listeners: UdpListener[];
  truncated: number;
  receiveCalls: number;
}

/** 'auto' takes the addon when it loads, else dgram; says which at once through onPath. */
function choosePath(choice: UdpReceiverChoice, onPath: UdpInputOptions['onPath']): UdpReceivePath {
  if (choice === 'dgram') {
    onPath?.('dgram', 'configured');
    return 'dgram';
  }
  const load = loadNativeUdp();
  if (load.binding) {
    onPath?.('native');
    return 'native';
  }
  if (choice === 'native') throw new Error(`flow receiver 'native' unavailable: ${load.error}`);
  onPath?.('dgram', load.error);
  return 'dgram';
}

async function openDgram(
  state: InputState,
  address: string,
  host: string,
  port: number,
  family: 4 | 6,
): Promise<void> {
  const socket: Socket = createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    recvBufferSize: state.receiveBufferBytes,
  });
  const onPayload = state.onPayload;
  socket.on('message', (payload, rinfo) => {
    state.receiveCalls++;
    onPayload(payload, normaliseAddress(rinfo.address), rinfo.port, Date.now());
  });
  socket.on('error', (error) => state.onError(error, address));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  state.closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  state.listeners.push({
    address,
    boundPort: socket.address().port,
    family,
    receiveBufferBytes: socket.getRecvBufferSize(),
  });
}

function openNative(
  state: InputState,
  address: string,
  host: string,
  port: number,
  family: 4 | 6,
  slots: number,
  coalesceMs: number,
): void {
  const binding = loadNativeUdp().binding!;
  const data = Buffer.allocUnsafeSlow(slots * SLOT_BYTES);
  const lengths = new Int32Array(slots);
  const sources = new Uint8Array(slots * 16);
  const ports = new Uint16Array(slots);
  const families = new Uint8Array(slots);
  const names = new ExporterNames();
  const onPayload = state.onPayload;
  const onBatch = (count: number): void => {
    state.receiveCalls++;
    const receivedMs = Date.now();
    for (let i = 0; i < count; i++) {
      const length = lengths[i]!;
      if (length < 0) {
        state.truncated++;
        continue;
      }
      const name = names.of(sources, i * 16, families[i]!);
      const offset = i * SLOT_BYTES;
      onPayload(data.subarray(offset, offset + length), name, ports[i]!, receivedMs);
    }
  };
  const socket: NativeUdpSocket = binding.open(
    host,
    port,
    family,
    state.receiveBufferBytes,
    SLOT_BYTES,
    data,
    lengths,
    sources,
    ports,
    families,
    onBatch,
    (errno, syscall) => {
      const error = new Error(`${syscall} failed (errno ${errno})`) as NodeJS.ErrnoException;
      error.errno = errno;
      error.syscall = syscall;
      state.onError(error, address);
    },
    coalesceMs,
  );
  state.closers.push(async () => socket.close());
  state.listeners.push({
    address,
    boundPort: socket.localPort(),
    family,
    receiveBufferBytes: socket.recvBufferSize(),
  });
}

export function createUdpInput(
  addresses: readonly string[],
  receiveBufferBytes: number,
  onPayload: PayloadHandler,
  onError: (error: Error, address: string) => void,
  options: UdpInputOptions = {},
): UdpInput {
  const state: InputState = {
    receiveBufferBytes,
    onPayload,
    onError,
    closers: [],
    listeners: [],
    truncated: 0,
    receiveCalls: 0,
  };
  let path: UdpReceivePath = 'dgram';

  return {
    listeners: state.listeners,
    get path() {
      return path;
    },
    get truncated() {
      return state.truncated;
    },
    get receiveCalls() {
      return state.receiveCalls;
    },
    async start() {
      path = choosePath(options.receiver ?? 'auto', options.onPath);
      try {
        for (const address of addresses) {
          const { host, port } = parseHostPort(address, '0.0.0.0');
          const family = host.includes(':') ? 6 : 4;
          if (path === 'native') {
            // The addon binds literal addresses only: names are resolved here, as dgram would.
            const literal = isIP(host) ? host : (await lookup(host, { family })).address;
            openNative(
              state,
              address,
              literal,
              port,
              family,
              options.batchDatagrams ?? 64,
              options.coalesceMs ?? 0,
            );
          } else await openDgram(state, address, host, port, family);
        }
      } catch (error) {
        await this.stop();
        throw error;
      }
      return state.listeners;
    },
    async stop() {
      await Promise.all(state.closers.map((close) => close()));
      state.closers.length = 0;
      state.listeners.length = 0;
    },
  };
}

/**
 * Sums the kernel's drop counters for UDP sockets bound to `ports`, from /proc/net/udp and
 * /proc/net/udp6 (the last column). Returns 0 where /proc is absent.
 */
export function readUdpDrops(ports: readonly number[]): number {
  if (ports.length === 0) return 0;
  const wanted = new Set(ports);
  let drops = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const columns = lines[i]!.trim().split(/\s+/);
      if (columns.length < 13) continue;
      const local = columns[1]!;
      const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (wanted.has(port)) drops += Number(columns[columns.length - 1]) || 0;
    }
  }
  return drops;
}
