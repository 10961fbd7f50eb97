/**
 * Contracts shared by the flow decoders, the inputs that feed them and the CLI.
 */
import type { FlowBatchWriter } from '../core/index.ts';

/** Where a payload came from: the exporter's address (text) and UDP source port, and when. */
export interface PayloadSource {
  exporter: string;
  exporterPort: number;
  /** Receive time in ms since the epoch; protocols without wall-clock time (sFlow) use it. */
  receivedMs: number;
}

/** One labelled error counter: protocol (netflow5, netflow9, ipfix, sflow5, unknown) and kind. */
export type ErrorCounter = (protocol: string, kind: string) => void;

/** Decodes one payload of a given protocol into rows of `out`; returns the records written. */
export type PayloadDecoder = (payload: Buffer, source: PayloadSource, out: FlowBatchWriter) => number;
