/**
 * UDP input: one socket per listen address, each with a sized receive buffer. Payloads go
 * straight to the decoder; kernel drops are read from /proc/net/udp{,6} for the metrics.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { parseHostPort } from '../core/metrics.ts';

export interface UdpListener {
  /** host:port as configured, and the port actually bound (differs when 0 was asked). */
  readonly address: string;
  readonly boundPort: number;
  readonly family: 4 | 6;
  readonly receiveBufferBytes: number;
}

export type PayloadHandler = (payload: Buffer, exporter: string, exporterPort: number) => void;

export interface UdpInput {
  start(): Promise<UdpListener[]>;
  stop(): Promise<void>;
  readonly listeners: readonly UdpListener[];
}

/** `::ffff:192.0.2.1` from a dual-stack socket reads as the plain IPv4 address. */
function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function createUdpInput(
  addresses: readonly string[],
  receiveBufferBytes: number,
  onPayload: PayloadHandler,
  onError: (error: Error, address: string) => void,
): UdpInput {
  const sockets: Socket[] = [];
  const listeners: UdpListener[] = [];
  return {
    listeners,
    async start() {
      for (const address of addresses) {
        const { host, port } = parseHostPort(address, '0.0.0.0');
        const family = host.includes(':') ? 6 : 4;
        const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: receiveBufferBytes });
        socket.on('message', (payload, rinfo) => onPayload(payload, normaliseAddress(rinfo.address), rinfo.port));
        socket.on('error', (error) => onError(error, address));
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(port, host, () => {
            socket.off('error', reject);
            resolve();
          });
        });
        sockets.push(socket);
        listeners.push({
          address,
          boundPort: socket.address().port,
          family,
          receiveBufferBytes: socket.getRecvBufferSize(),
        });
      }
      return listeners;
    },
    async stop() {
      await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
      sockets.length = 0;
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
