/** Plain-number counters of the flow decoders, read by prom-client collect() callbacks. */

export type FlowProtocol = 'netflow5' | 'netflow9' | 'ipfix' | 'sflow5' | 'unknown';
export const FLOW_PROTOCOLS: readonly FlowProtocol[] = ['netflow5', 'netflow9', 'ipfix', 'sflow5', 'unknown'];

export interface DecoderStats {
  /** Payloads seen per protocol. */
  packets: Record<FlowProtocol, number>;
  /** Flow rows written per protocol (including replayed pending data). */
  records: Record<FlowProtocol, number>;
  /** Data records read but not written as rows (no address fields: NAT events, app tables...). */
  recordsWithoutAddress: Record<FlowProtocol, number>;
  /** sFlow counter samples: interface statistics, counted and skipped (they carry no flows). */
  sflowCounterSamples: number;
  /** Options data records that were read (sampling, init time, anything else). */
  optionsRecords: Record<FlowProtocol, number>;
  /** Errors per protocol and kind (kind names are the `kind` label of the metric). */
  errors: Record<FlowProtocol, Record<string, number>>;
  templates: {
    /** Templates learned (new or changed definition). */
    learned: { netflow9: number; ipfix: number };
    /** Template refreshes that changed nothing. */
    refreshed: { netflow9: number; ipfix: number };
    evicted: { netflow9: number; ipfix: number };
    withdrawn: { netflow9: number; ipfix: number };
    /** Live templates (a gauge). */
    active: { netflow9: number; ipfix: number };
  };
  pending: {
    held: number;
    replayed: number;
    /** Rows produced by replayed sets. */
    replayedRecords: number;
    droppedOverflow: number;
    droppedTooLarge: number;
    droppedExpired: number;
    /** Sets waiting now (a gauge). */
    waiting: number;
    waitingBytes: number;
  };
}

const perProtocol = (): Record<FlowProtocol, number> => ({
  netflow5: 0,
  netflow9: 0,
  ipfix: 0,
  sflow5: 0,
  unknown: 0,
});

export function createDecoderStats(): DecoderStats {
  return {
    packets: perProtocol(),
    records: perProtocol(),
    recordsWithoutAddress: perProtocol(),
    optionsRecords: perProtocol(),
    sflowCounterSamples: 0,
    errors: { netflow5: {}, netflow9: {}, ipfix: {}, sflow5: {}, unknown: {} },
    templates: {
      learned: { netflow9: 0, ipfix: 0 },
      refreshed: { netflow9: 0, ipfix: 0 },
      evicted: { netflow9: 0, ipfix: 0 },
      withdrawn: { netflow9: 0, ipfix: 0 },
      active: { netflow9: 0, ipfix: 0 },
    },
    pending: {
      held: 0,
      replayed: 0,
      replayedRecords: 0,
      droppedOverflow: 0,
      droppedTooLarge: 0,
      droppedExpired: 0,
      waiting: 0,
      waitingBytes: 0,
    },
  };
}

/** Sum of all error counters of one protocol (handy in tests and rate lines). */
export function errorTotal(stats: DecoderStats, protocol?: FlowProtocol): number {
  let total = 0;
  for (const p of protocol ? [protocol] : FLOW_PROTOCOLS)
    for (const n of Object.values(stats.errors[p])) total += n;
  return total;
}
