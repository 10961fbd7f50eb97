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

export function createUdpInput(
  addresses: readonly string[],
  receiveBufferBytes: number,
  onPayload: PayloadHandler,
  onError: (error: Error, address: string) => void,
  options: UdpInputOptions = {},
): UdpInput {
  const choice = options.receiver ?? 'auto';
  const batchDatagrams = options.batchDatagrams ?? 64;
  const closers: (() => Promise<void>)[] = [];
  const listeners: UdpListener[] = [];
  let path: UdpReceivePath = 'dgram';
  let truncated = 0;
  let receiveCalls = 0;

  function choosePath(): UdpReceivePath {
    if (choice === 'dgram') {
      options.onPath?.('dgram', 'configured');
      return 'dgram';
    }
    const load = loadNativeUdp();
    if (load.binding) {
      options.onPath?.('native');
      return 'native';
    }
    if (choice === 'native') throw new Error(`flow receiver 'native' unavailable: ${load.error}`);
    options.onPath?.('dgram', load.error);
    return 'dgram';
  }

  async function openDgram(address: string, host: string, port: number, family: 4 | 6): Promise<void> {
    const socket: Socket = createSocket({
      type: family === 6 ? 'udp6' : 'udp4',
      recvBufferSize: receiveBufferBytes,
    });
    socket.on('message', (payload, rinfo) => {
      receiveCalls++;
      onPayload(payload, normaliseAddress(rinfo.address), rinfo.port, Date.now());
    });
    socket.on('error', (error) => onError(error, address));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    listeners.push({
      address,
      boundPort: socket.address().port,
      family,
      receiveBufferBytes: socket.getRecvBufferSize(),
    });
  }

  function openNative(address: string, host: string, port: number, family: 4 | 6): void {
    const binding = loadNativeUdp().binding!;
    const slots = batchDatagrams;
    const data = Buffer.allocUnsafeSlow(slots * SLOT_BYTES);
    const lengths = new Int32Array(slots);
    const sources = new Uint8Array(slots * 16);
    const ports = new Uint16Array(slots);
    const families = new Uint8Array(slots);
    // Exporter names are made once per address: the decoder's per-exporter memos then compare
    // the same string instance, and no string is built per datagram.
    const names4 = new Map<number, string>();
    const names6 = new Map<string, string>();
    let lastKey = -1;
    let lastName = '';
    const onBatch = (count: number): void => {
      receiveCalls++;
      const receivedMs = Date.now();
      for (let i = 0; i < count; i++) {
        const length = lengths[i]!;
        if (length < 0) {
          truncated++;
          continue;
        }
        const at = i * 16;
        let name: string;
        if (families[i] === 4) {
          const key =
            ((sources[at]! << 24) | (sources[at + 1]! << 16) | (sources[at + 2]! << 8) | sources[at + 3]!) >>>
            0;
          if (key === lastKey) name = lastName;
          else {
            let known = names4.get(key);
            if (known === undefined) {
              if (names4.size >= MAX_EXPORTER_NAMES) names4.clear();
              known = ipv4ToString(key);
              names4.set(key, known);
            }
            name = known;
            lastKey = key;
            lastName = known;
          }
        } else {
          const text = ipv6ToString(sources, at);
          let known = names6.get(text);
          if (known === undefined) {
            if (names6.size >= MAX_EXPORTER_NAMES) names6.clear();
            names6.set(text, text);
            known = text;
          }
          name = known;
          lastKey = -1;
        }
        const offset = i * SLOT_BYTES;
        onPayload(data.subarray(offset, offset + length), name, ports[i]!, receivedMs);
      }
    };
    const socket: NativeUdpSocket = binding.open(
      host,
      port,
      family,
      receiveBufferBytes,
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
        onError(error, address);
      },
      options.coalesceMs ?? 0,
    );
    closers.push(async () => socket.close());
    listeners.push({
      address,
      boundPort: socket.localPort(),
      family,
      receiveBufferBytes: socket.recvBufferSize(),
    });
  }

  return {
    listeners,
    get path() {
      return path;
    },
    get truncated() {
      return truncated;
    },
    get receiveCalls() {
      return receiveCalls;
    },
    async start() {
      path = choosePath();
      try {
        for (const address of addresses) {
          const { host, port } = parseHostPort(address, '0.0.0.0');
          const family = host.includes(':') ? 6 : 4;
          if (path === 'native') {
            // The addon binds literal addresses only: names are resolved here, as dgram would.
            const literal = isIP(host) ? host : (await lookup(host, { family })).address;
            openNative(address, literal, port, family);
          } else await openDgram(address, host, port, family);
        }
      } catch (error) {
        await this.stop();
        throw error;
      }
      return listeners;
    },
    async stop() {
      await Promise.all(closers.map((close) => close()));
      closers.length = 0;
      listeners.length = 0;
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
