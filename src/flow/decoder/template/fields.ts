/** IPFIX / NetFlow v9 information elements tsunagi reads, and the decode operation each one maps to. */

/** IANA IPFIX information element numbers (NetFlow v9 shares 1-127). */
export const IE = {
  octetDeltaCount: 1,
  packetDeltaCount: 2,
  protocolIdentifier: 4,
  tcpControlBits: 6,
  sourceTransportPort: 7,
  sourceIPv4Address: 8,
  destinationTransportPort: 11,
  destinationIPv4Address: 12,
  flowEndSysUpTime: 21,
  flowStartSysUpTime: 22,
  postOctetDeltaCount: 23,
  postPacketDeltaCount: 24,
  sourceIPv6Address: 27,
  destinationIPv6Address: 28,
  samplingInterval: 34,
  samplingAlgorithm: 35,
  samplerId: 48,
  samplerMode: 49,
  samplerRandomInterval: 50,
  octetTotalCount: 85,
  packetTotalCount: 86,
  flowStartSeconds: 150,
  flowEndSeconds: 151,
  flowStartMilliseconds: 152,
  flowEndMilliseconds: 153,
  flowStartMicroseconds: 154,
  flowEndMicroseconds: 155,
  flowStartNanoseconds: 156,
  flowEndNanoseconds: 157,
  flowStartDeltaMicroseconds: 158,
  flowEndDeltaMicroseconds: 159,
  systemInitTimeMilliseconds: 160,
  flowDurationMilliseconds: 161,
  flowDurationMicroseconds: 162,
  initiatorOctets: 231,
  selectorId: 302,
  samplingPacketInterval: 305,
  samplingPacketSpace: 306,
  samplingSize: 309,
  samplingPopulation: 310,
  initiatorPackets: 298,
  observationTimeMilliseconds: 323,
} as const;

/** What decoding one field does. Numbers, so compiled plans are typed arrays. */
export const Op = {
  SKIP: 0,
  SRC4: 1,
  DST4: 2,
  SRC6: 3,
  DST6: 4,
  SRC_PORT: 5,
  DST_PORT: 6,
  PROTO: 7,
  TCP_FLAGS: 8,
  BYTES: 9,
  PACKETS: 10,
  /** The remaining ops store into the per-record scratch slot `Op - FIRST_SLOT_OP` (see Slot). */
  FIRST_SLOT_OP: 16,
} as const;

/** Per-record scratch values (Float64Array slots) that are combined once the record is read. */
export const Slot = {
  START_MS: 0,
  END_MS: 1,
  START_UP: 2,
  END_UP: 3,
  START_DELTA_US: 4,
  END_DELTA_US: 5,
  DURATION_MS: 6,
  OBSERVATION_MS: 7,
  INIT_MS: 8,
  SAMPLING_INTERVAL: 9,
  SAMPLER_ID: 10,
  RANDOM_INTERVAL: 11,
  PACKET_INTERVAL: 12,
  PACKET_SPACE: 13,
  SAMPLING_SIZE: 14,
  SAMPLING_POPULATION: 15,
  COUNT: 16,
} as const;

/** How a slot's raw field is converted before it is stored. */
export const Conv = {
  /** Unsigned integer as is. */
  UINT: 0,
  /** Seconds to ms. */
  SECONDS: 1,
  /** NTP 64-bit timestamp (RFC 7011 dateTimeMicroseconds/Nanoseconds) to epoch ms. */
  NTP: 2,
  /** Microseconds to ms. */
  MICROS: 3,
} as const;

export interface FieldMapping {
  op: number;
  conv: number;
  /** Lower wins when several fields give the same value (octetDeltaCount before octetTotalCount). */
  priority: number;
  /** 'addr4' | 'addr6' need exact lengths; 'uint' takes 1-8 bytes (reduced-size encoding). */
  kind: 'addr4' | 'addr6' | 'uint';
}

const slot = (s: number, conv: number = Conv.UINT, priority = 0): FieldMapping => ({
  op: Op.FIRST_SLOT_OP + s,
  conv,
  priority,
  kind: 'uint',
});

/** Mapping of IANA element ids (enterprise 0) to operations. */
export const FIELD_MAP: ReadonlyMap<number, FieldMapping> = new Map<number, FieldMapping>([
  [IE.octetDeltaCount, { op: Op.BYTES, conv: Conv.UINT, priority: 0, kind: 'uint' }],
  [IE.octetTotalCount, { op: Op.BYTES, conv: Conv.UINT, priority: 1, kind: 'uint' }],
  [IE.initiatorOctets, { op: Op.BYTES, conv: Conv.UINT, priority: 2, kind: 'uint' }],
  [IE.postOctetDeltaCount, { op: Op.BYTES, conv: Conv.UINT, priority: 3, kind: 'uint' }],
  [IE.packetDeltaCount, { op: Op.PACKETS, conv: Conv.UINT, priority: 0, kind: 'uint' }],
  [IE.packetTotalCount, { op: Op.PACKETS, conv: Conv.UINT, priority: 1, kind: 'uint' }],
  [IE.initiatorPackets, { op: Op.PACKETS, conv: Conv.UINT, priority: 2, kind: 'uint' }],
  [IE.postPacketDeltaCount, { op: Op.PACKETS, conv: Conv.UINT, priority: 3, kind: 'uint' }],
  [IE.protocolIdentifier, { op: Op.PROTO, conv: Conv.UINT, priority: 0, kind: 'uint' }],
  [IE.tcpControlBits, { op: Op.TCP_FLAGS, conv: Conv.UINT, priority: 0, kind: 'uint' }],
  [IE.sourceTransportPort, { op: Op.SRC_PORT, conv: Conv.UINT, priority: 0, kind: 'uint' }],
  [IE.destinationTransportPort, { op: Op.DST_PORT, conv: Conv.UINT, priority: 0, kind: 'uint' }],
  [IE.sourceIPv4Address, { op: Op.SRC4, conv: Conv.UINT, priority: 0, kind: 'addr4' }],
  [IE.destinationIPv4Address, { op: Op.DST4, conv: Conv.UINT, priority: 0, kind: 'addr4' }],
  [IE.sourceIPv6Address, { op: Op.SRC6, conv: Conv.UINT, priority: 0, kind: 'addr6' }],
  [IE.destinationIPv6Address, { op: Op.DST6, conv: Conv.UINT, priority: 0, kind: 'addr6' }],
  // Absolute start/end: ms, then s, then NTP micro/nanoseconds. Lower priority wins per slot.
  [IE.flowStartMilliseconds, slot(Slot.START_MS, Conv.UINT, 0)],
  [IE.flowEndMilliseconds, slot(Slot.END_MS, Conv.UINT, 0)],
  [IE.flowStartMicroseconds, slot(Slot.START_MS, Conv.NTP, 1)],
  [IE.flowEndMicroseconds, slot(Slot.END_MS, Conv.NTP, 1)],
  [IE.flowStartNanoseconds, slot(Slot.START_MS, Conv.NTP, 2)],
  [IE.flowEndNanoseconds, slot(Slot.END_MS, Conv.NTP, 2)],
  [IE.flowStartSeconds, slot(Slot.START_MS, Conv.SECONDS, 3)],
  [IE.flowEndSeconds, slot(Slot.END_MS, Conv.SECONDS, 3)],
  [IE.flowStartSysUpTime, slot(Slot.START_UP)],
  [IE.flowEndSysUpTime, slot(Slot.END_UP)],
  [IE.flowStartDeltaMicroseconds, slot(Slot.START_DELTA_US)],
  [IE.flowEndDeltaMicroseconds, slot(Slot.END_DELTA_US)],
  [IE.flowDurationMilliseconds, slot(Slot.DURATION_MS, Conv.UINT, 0)],
  [IE.flowDurationMicroseconds, slot(Slot.DURATION_MS, Conv.MICROS, 1)],
  [IE.observationTimeMilliseconds, slot(Slot.OBSERVATION_MS)],
  [IE.systemInitTimeMilliseconds, slot(Slot.INIT_MS)],
  [IE.samplingInterval, slot(Slot.SAMPLING_INTERVAL)],
  [IE.samplerId, slot(Slot.SAMPLER_ID, Conv.UINT, 0)],
  [IE.selectorId, slot(Slot.SAMPLER_ID, Conv.UINT, 1)],
  [IE.samplerRandomInterval, slot(Slot.RANDOM_INTERVAL)],
  [IE.samplingPacketInterval, slot(Slot.PACKET_INTERVAL)],
  [IE.samplingPacketSpace, slot(Slot.PACKET_SPACE)],
  [IE.samplingSize, slot(Slot.SAMPLING_SIZE)],
  [IE.samplingPopulation, slot(Slot.SAMPLING_POPULATION)],
]);

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_S = 2208988800;

/** Reads an unsigned big-endian integer of 1-8 bytes; exact below 2^53. */
export function readUint(b: Uint8Array, o: number, len: number): number {
  switch (len) {
    case 1:
      return b[o]!;
    case 2:
      return (b[o]! << 8) | b[o + 1]!;
    case 3:
      return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
    case 4:
      return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    default: {
      let v = 0;
      for (let i = 0; i < len; i++) v = v * 256 + b[o + i]!;
      return v;
    }
  }
}

/** NTP timestamp (seconds since 1900 + 32-bit fraction) at `o` to Unix ms. */
export function readNtpMs(b: Uint8Array, o: number): number {
  const seconds = readUint(b, o, 4);
  const fraction = readUint(b, o + 4, 4);
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + Math.floor((fraction * 1000) / 4294967296);
}
