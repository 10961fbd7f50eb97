/**
 * The transport component: FlowBatches between machines over NATS JetStream, partitioned by the
 * external key detection aggregates on. Front door of src/transport/.
 */
import { UsageError } from '../core/index.ts';

export {
  createFlowPublisher,
  createFlowSubscriber,
  desiredStream,
  ensureStream,
  parseTransportConfig,
  partitionSubject,
  type FlowBatchHandler,
  type FlowPublisher,
  type FlowSubscriber,
  type PublisherStats,
  type SubscriberStats,
  type TransportDeps,
} from './nats.ts';
export {
  MAX_FLOW_AGE_MS,
  PublishSettings,
  StreamSettings,
  STREAM_BYTES_PER_ROW,
  SubscribeSettings,
  TransportConfig,
  effectiveStreamLimits,
  streamBytesFor,
  type TransportConfigInput,
} from './config.ts';
export {
  DECODE_ERROR_KINDS,
  DEFAULT_MAX_ROWS,
  decodeFlowBatch,
  encodeExporterTable,
  encodeFlowBatch,
  encodeFlowRows,
  encodedSize,
  rowsPerMessage,
  type DecodeErrorKind,
  type DecodeLimits,
  type DecodeResult,
  type ExporterTable,
} from './codec.ts';
export {
  MAX_PARTITIONS,
  assignPartitions,
  balancePartitions,
  groupRows,
  keyHash4,
  keyHash6,
  partitionBatch,
  partitionOfRow,
  type PartitionOptions,
  type UnknownSide,
} from './partition.ts';

/** Parses `0,1,5-7` into partition numbers (for `--partitions`). */
export function parsePartitionList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const match = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(item);
    if (!match) throw new UsageError(`not a partition or range: "${item}"`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw new UsageError(`empty partition range "${item}"`);
    for (let p = from; p <= to; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}
export {
  CandidateMessage,
  CandidateStreamConfig,
  createCandidateConsumer,
  createCandidatePublisher,
  type CandidateConsumer,
  type CandidatePublisher,
} from './candidates.ts';
export {
  createHealthPublisher,
  createHealthSubscriber,
  defaultHealthId,
  HEALTH_SUBJECT_PREFIX,
  healthSubject,
  publisherHealth,
  subscriberHealth,
  type HealthPublisherConfig,
} from './health.ts';
export { createNatsRelay, type NatsRelay, type NatsRelayConfig } from './relay.ts';
