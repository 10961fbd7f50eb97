/**
 * Certificate-transparency names from a certstream-compatible websocket (certstream-server's
 * `certificate_update` messages, or certstream-server-go's `dns_entries` domains-only stream).
 * A frame that is not such a message is counted and skipped, never thrown; the socket
 * reconnects after a pause when the server goes away.
 */
import WebSocket from 'ws';
import type { Logger } from '../../core/index.ts';
import type { CertificateFacts } from '../types.ts';
import { certificateFactsOf } from './certificate.ts';

export interface CertstreamUpdate {
  /** Names on the certificate, lower-case, wildcard labels (`*.`) removed, each once. */
  domains: string[];
  /** ISO time the log saw the certificate; the receipt time when the message has none. */
  seenAt: string;
  issuerOrg: string | null;
  /** Issuer, validity and SAN count of the leaf; null for the names-only `dns_entries` stream. */
  certificate: CertificateFacts | null;
}

export type ParsedFrame =
  { kind: 'update'; update: CertstreamUpdate } | { kind: 'heartbeat' } | { kind: 'bad' };

export function parseCertstreamFrame(text: string, now: () => Date = () => new Date()): ParsedFrame {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { kind: 'bad' };
  }
  if (typeof message !== 'object' || message === null) return { kind: 'bad' };
  const { message_type: type, data } = message as { message_type?: unknown; data?: unknown };
  if (type === 'heartbeat') return { kind: 'heartbeat' };
  let names: unknown;
  let seen: unknown;
  let issuerOrg: string | null = null;
  let certificate: CertificateFacts | null = null;
  if (type === 'dns_entries') names = data;
  else if (type === 'certificate_update' && typeof data === 'object' && data !== null) {
    const d = data as {
      leaf_cert?: { all_domains?: unknown; issuer?: { O?: unknown } };
      chain?: unknown;
      seen?: unknown;
    };
    names = d.leaf_cert?.all_domains;
    seen = d.seen;
    if (typeof d.leaf_cert?.issuer?.O === 'string') issuerOrg = d.leaf_cert.issuer.O;
    certificate = certificateFactsOf(d.leaf_cert, d.chain);
  } else return { kind: 'bad' };
  if (!Array.isArray(names)) return { kind: 'bad' };
  const domains = [
    ...new Set(
      names
        .filter((n): n is string => typeof n === 'string')
        .map((n) =>
          n
            .trim()
            .toLowerCase()
            .replace(/^(\*\.)+/, ''),
        )
        .filter((n) => n !== '' && n.length <= 253),
    ),
  ];
  const seenAt =
    typeof seen === 'number' && Number.isFinite(seen) && seen > 0 && seen < 1e11
      ? new Date(seen * 1000).toISOString()
      : now().toISOString();
  return { kind: 'update', update: { domains, seenAt, issuerOrg, certificate } };
}

export interface CertstreamOptions {
  url: string;
  reconnectMs: number;
  maxMessageBytes: number;
  logger: Logger;
  onUpdate: (update: CertstreamUpdate) => void;
  onBadFrame: () => void;
  /** Called each time the socket closed and a new connection is scheduled. */
  onReconnect?: () => void;
}

export interface CertstreamWatch {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when the socket is open (the first connection), for callers that must wait. */
  readonly connected: Promise<void>;
}

export function watchCertstream(options: CertstreamOptions): CertstreamWatch {
  let socket: WebSocket | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let markConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => (markConnected = resolve));
  const connect = () => {
    if (stopped) return;
    const ws = new WebSocket(options.url, { maxPayload: options.maxMessageBytes });
    socket = ws;
    ws.on('open', () => markConnected());
    ws.on('message', (data, isBinary) => {
      if (isBinary) return options.onBadFrame();
      const frame = parseCertstreamFrame(String(data));
      if (frame.kind === 'bad') options.onBadFrame();
      else if (frame.kind === 'update') options.onUpdate(frame.update);
    });
    ws.on('error', (error) =>
      options.logger.warn({ url: options.url, error: error.message }, 'certstream socket error'),
    );
    ws.on('close', () => {
      if (stopped) return;
      options.onReconnect?.();
      timer = setTimeout(connect, options.reconnectMs);
    });
  };
  return {
    connected,
    async start() {
      connect();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const ws = socket;
      if (!ws || ws.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.terminate();
      });
    },
  };
}
