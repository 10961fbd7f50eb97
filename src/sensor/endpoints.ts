/** IP:PORT text as the protocol writes it ("1.2.3.4:443", "[2001:db8::1]:443"), in one canonical form. */
import ipaddr from 'ipaddr.js';

export interface Endpoint {
  ip: string;
  port: number;
}

/** Canonical IP text: compact IPv6, IPv4-mapped IPv6 folded to IPv4. */
export function canonicalIp(text: string): string | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    return (parsed as ipaddr.IPv6).toIPv4Address().toString();
  return parsed.toString();
}

export function parseEndpoint(text: string): Endpoint | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const ip = canonicalIp(match[1] ?? match[2]!);
  const port = Number(match[3]);
  if (ip === undefined || port > 65535) return undefined;
  return { ip, port };
}

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}

/** The canonical text of an IP:PORT, or undefined when it is not one. */
export function canonicalEndpoint(text: string): string | undefined {
  const endpoint = parseEndpoint(text);
  return endpoint && formatEndpoint(endpoint);
}
