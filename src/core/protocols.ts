/** Names of the IP protocols tsunagi's lists and indicators spell out (IANA protocol numbers). */
export const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  58: 'ipv6-icmp',
  132: 'sctp',
};

/** The name of IP protocol `proto` (its number as text when unnamed); a name passes through lower-cased. */
export function protocolName(proto: number | string): string {
  if (typeof proto === 'string') return proto.toLowerCase();
  return PROTOCOL_NAMES[proto] ?? String(proto);
}
