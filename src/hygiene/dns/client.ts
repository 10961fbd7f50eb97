/**
 * A DNS stub client speaking the wire format to one configured resolver: UDP first, TCP when
 * the answer comes back truncated, a timeout per attempt and a fixed number of retries. Queries
 * go out with the DO bit (so RRSIGs, NSEC and NSEC3 come back) and, for tsunagi's own
 * validation, the CD bit (so a validating resolver hands over data even when it would judge it
 * bogus).
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket, { type Answer, type Packet, type RecordType } from 'dns-packet';

export interface ResolverAddress {
  host: string;
  port: number;
}

export interface DnsClientOptions {
  resolver: ResolverAddress;
  timeoutMs: number;
  retries: number;
  /** EDNS0 UDP payload size advertised; 1232 avoids fragmentation (DNS flag day 2020). */
  udpPayloadSize: number;
}

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'FORMERR' | 'NOTIMP' | string;

export interface DnsResponse {
  rcode: Rcode;
  /** The resolver's AD bit: reported for comparison only, never trusted. */
  authenticated: boolean;
  truncated: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** Whether the answer came over TCP (after a truncated UDP answer). */
  overTcp: boolean;
}

export interface QueryOptions {
  /** Set CD: ask a validating resolver not to filter bogus data (tsunagi validates itself). */
  checkingDisabled?: boolean;
}

export class DnsTimeoutError extends Error {
  constructor(name: string, type: string, resolver: ResolverAddress) {
    super(`no answer for ${name} ${type} from ${resolver.host}:${resolver.port}`);
  }
}

export interface DnsClient {
  query(name: string, type: RecordType, options?: QueryOptions): Promise<DnsResponse>;
  /** Queries sent (UDP and TCP attempts), for metrics. */
  readonly sent: { udp: number; tcp: number; timeouts: number };
}

export function parseResolver(value: string): ResolverAddress {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) throw new Error(`resolver must be HOST:PORT, not "${value}"`);
  return { host: match[1]!, port };
}

export function createDnsClient(options: DnsClientOptions): DnsClient {
  const sent = { udp: 0, tcp: 0, timeouts: 0 };

  function encodeQuery(id: number, name: string, type: RecordType, opts: QueryOptions): Buffer {
    return dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED | (opts.checkingDisabled ? dnsPacket.CHECKING_DISABLED : 0),
      questions: [{ type, name, class: 'IN' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: options.udpPayloadSize, flags: dnsPacket.DNSSEC_OK },
      ],
    } as Packet);
  }

  function matches(packet: Packet, id: number, name: string, type: string): boolean {
    const question = packet.questions?.[0];
    return (
      packet.type === 'response' &&
      packet.id === id &&
      question !== undefined &&
      question.type === type &&
      question.name.toLowerCase() === trimDot(name).toLowerCase()
    );
  }

  function overUdp(id: number, query: Buffer, name: string, type: RecordType): Promise<Packet | undefined> {
    sent.udp++;
    return new Promise((resolve) => {
      const family = options.resolver.host.includes(':') ? 'udp6' : 'udp4';
      const socket = createSocket(family);
      const finish = (packet: Packet | undefined) => {
        clearTimeout(timer);
        socket.close();
        resolve(packet);
      };
      const timer = setTimeout(() => finish(undefined), options.timeoutMs);
      socket.on('error', () => finish(undefined));
      socket.on('message', (message) => {
        let packet: Packet;
        try {
          packet = dnsPacket.decode(message);
        } catch {
          return; // garbage, or not ours: keep waiting for the real answer
        }
        if (matches(packet, id, name, type)) finish(packet);
      });
      socket.send(query, options.resolver.port, options.resolver.host, (error) => {
        if (error) finish(undefined);
      });
    });
  }

  function overTcp(id: number, query: Buffer, name: string, type: RecordType): Promise<Packet | undefined> {
    sent.tcp++;
    return new Promise((resolve) => {
      const socket = connect({ host: options.resolver.host, port: options.resolver.port });
      let buffered = Buffer.alloc(0);
      const finish = (packet: Packet | undefined) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(packet);
      };
      const timer = setTimeout(() => finish(undefined), options.timeoutMs);
      socket.on('error', () => finish(undefined));
      socket.on('connect', () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(query.length);
        socket.write(Buffer.concat([length, query]));
      });
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 2) return;
        const size = buffered.readUInt16BE(0);
        if (buffered.length < 2 + size) return;
        try {
          const packet = dnsPacket.decode(buffered.subarray(2, 2 + size));
          finish(matches(packet, id, name, type) ? packet : undefined);
        } catch {
          finish(undefined);
        }
      });
      socket.on('end', () => finish(undefined));
    });
  }

  return {
    sent,
    async query(name, type, opts = {}) {
      for (let attempt = 0; attempt <= options.retries; attempt++) {
        const id = randomInt(0, 65536);
        const query = encodeQuery(id, name, type, opts);
        let packet = await overUdp(id, query, name, type);
        let tcp = false;
        if (packet && (packet.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) {
          packet = await overTcp(id, query, name, type);
          tcp = true;
        }
        if (!packet) {
          sent.timeouts++;
          continue;
        }
        const flags = packet.flags ?? 0;
        return {
          rcode: (packet as Packet & { rcode?: string }).rcode ?? 'NOERROR',
          authenticated: (flags & dnsPacket.AUTHENTIC_DATA) !== 0,
          truncated: (flags & dnsPacket.TRUNCATED_RESPONSE) !== 0,
          answers: packet.answers ?? [],
          authorities: packet.authorities ?? [],
          additionals: (packet.additionals ?? []).filter((r) => r.type !== 'OPT'),
          overTcp: tcp,
        };
      }
      throw new DnsTimeoutError(name, type, options.resolver);
    },
  };
}

export function trimDot(name: string): string {
  return name === '.' ? '' : name.replace(/\.$/, '');
}

/** The data of every record of `type` at `name` in a response's answer section. */
export function recordsOf<T = unknown>(answers: readonly Answer[], name: string, type: string): T[] {
  const owner = trimDot(name).toLowerCase();
  return answers
    .filter((a) => a.type === type && a.name.toLowerCase() === owner)
    .map((a) => (a as unknown as { data: T }).data);
}

/** TXT strings of a TXT record joined as RFC 7208 §3.3 says (no separator). */
export function txtStrings(answers: readonly Answer[], name: string): string[] {
  return recordsOf<Buffer[] | Buffer | string>(answers, name, 'TXT').map((data) =>
    (Array.isArray(data) ? data : [data]).map((part) => part.toString()).join(''),
  );
}
