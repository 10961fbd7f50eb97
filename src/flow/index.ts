/**
 * The flow collector component: UDP listeners feed the decoder, which writes FlowBatches that
 * go to the sink once full or after `flushIntervalMs`. Templates persist across restarts in
 * `templateFile`. Nothing here keeps a flow after its batch is handed on.
 */
import { readFile } from 'node:fs/promises';
import {
  writeFileAtomic,
  FlowBatchWriter,
  type FlowSink,
  type Component,
  type ComponentHealth,
  healthLevel,
  silentLogger,
  type Logger,
} from '../core/index.ts';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FlowConfig } from './config.ts';
import { createFlowDecoder, errorTotal, type FlowDecoder } from './decoder/decoder.ts';
import {
  boundAddress,
  createUdpInput,
  readUdpDrops,
  type UdpInput,
  type UdpListener,
  type UdpReceivePath,
} from './input/udp/udp.ts';
import type { PayloadSource } from './types.ts';

// The room's front door: the collector below, and for the CLI, scenario and benchmarks the
// decoder alone (offline replay of captures), the row formats and the test exporters' encoders.
export { DecoderConfig, FlowConfig } from './config.ts';
export {
  createFlowDecoder,
  DecoderState,
  errorTotal,
  type DecoderStats,
  type FlowDecoder,
  type FlowProtocol,
} from './decoder/decoder.ts';
export { IE } from './decoder/template/fields.ts';
export * from './encode.ts';
export {
  FLOW_CSV_HEADER,
  formatCsv,
  formatJsonl,
  rowAddresses,
  rowToJson,
  type FlowRecordJson,
} from './format.ts';
export { replayFiles, type ReplayOptions, type ReplaySummary } from './input/file/file.ts';
export { boundAddress };
export type { PayloadSource } from './types.ts';

export interface FlowCollectorDeps {
  sink: FlowSink;
  /**
   * The sink is done with each batch when it returns (it aggregates or encodes it at once and
   * keeps no reference): batches are then reset and reused instead of allocated per flush.
   */
  recycleBatches?: boolean;
  registry?: Registry;
  logger?: Logger;
}

/** Running totals since start, for rate lines and tests. */
export interface CollectorCounters {
  payloads: number;
  /** Receive calls that brought payloads (payloads / receiveCalls = datagrams per call). */
  receiveCalls: number;
  records: number;
  batches: number;
  decodeErrors: number;
  kernelDrops: number;
}

export interface FlowCollector extends Component {
  readonly decoder: FlowDecoder;
  /** The UDP receive path in use after start: 'native' (recvmmsg addon) or 'dgram'. */
  readonly receivePath: UdpReceivePath;
  readonly listeners: readonly UdpListener[];
  counters(): CollectorCounters;
  /** Hands on the partly filled batch now. */
  flush(): void;
}

export function createFlowCollector(config: FlowConfig, deps: FlowCollectorDeps): FlowCollector {
  const logger = deps.logger ?? silentLogger();
  const decoder = createFlowDecoder(config.decoder, { registry: deps.registry, logger });
  let payloads = 0;
  let records = 0;
  let batches = 0;
  const writer = new FlowBatchWriter(
    (batch) => {
      batches++;
      deps.sink(batch);
    },
    config.batchSize,
    { recycle: deps.recycleBatches ?? false },
  );

  // One source object for every payload: the decoders read its fields and keep none of it
  // (held data sets copy the header times they need), so nothing is allocated per datagram.
  const source: PayloadSource = { exporter: '', exporterPort: 0, receivedMs: 0 };
  let receivePathNote = '';
  const input = createUdpInput(
    config.listen,
    config.receiveBufferBytes,
    (payload, exporter, exporterPort, receivedMs) => {
      payloads++;
      source.exporter = exporter;
      source.exporterPort = exporterPort;
      source.receivedMs = receivedMs;
      records += decoder.decode(payload, source, writer);
    },
    (error, address) => logger.error({ err: error, listen: address }, 'UDP socket error'),
    {
      receiver: config.receiver,
      batchDatagrams: config.receiveBatchDatagrams,
      coalesceMs: config.receiveCoalesceMs,
      onPath: (path, reason) => {
        receivePathNote = reason ?? '';
      },
    },
  );

  const boundPorts = () => input.listeners.map((l) => l.boundPort);
  if (deps.registry) registerCollectorMetrics(deps.registry, input, boundPorts, () => batches);
  const templates = templateFile(config.templateFile, decoder, logger);
  let flushTimer: NodeJS.Timeout | undefined;
  let saveTimer: NodeJS.Timeout | undefined;

  return {
    name: 'flow',
    decoder,
    get listeners() {
      return input.listeners;
    },
    get receivePath() {
      return input.path;
    },
    counters() {
      return {
        payloads,
        receiveCalls: input.receiveCalls,
        records,
        batches,
        decodeErrors: errorTotal(decoder.stats),
        kernelDrops: readUdpDrops(boundPorts()),
      };
    },
    flush() {
      writer.flush();
    },
    async start() {
      await templates.load();
      logListening(logger, await input.start(), config.receiveBufferBytes, input.path, receivePathNote);
      flushTimer = setInterval(() => {
        writer.flush();
        decoder.expire(Date.now());
      }, config.flushIntervalMs);
      saveTimer = setInterval(() => {
        templates.save().catch((error: unknown) => logger.warn({ err: error }, 'saving templates failed'));
      }, 30_000);
      flushTimer.unref();
      saveTimer.unref();
    },
    async stop() {
      clearInterval(flushTimer);
      clearInterval(saveTimer);
      await input.stop();
      writer.flush();
      await templates.save();
    },
  };
}

/** The collector's own metrics, read from its input and counts when scraped. */
function registerCollectorMetrics(
  registry: Registry,
  input: UdpInput,
  boundPorts: () => number[],
  batches: () => number,
): void {
  new Gauge({
    name: 'tsunagi_flow_udp_kernel_drops',
    help: 'Datagrams the kernel dropped on the collector sockets (from /proc/net/udp), since the sockets opened',
    registers: [registry],
    collect() {
      this.set(readUdpDrops(boundPorts()));
    },
  });
  new Gauge({
    name: 'tsunagi_flow_udp_receive_path',
    help: 'Which UDP receive path is active: native (recvmmsg addon) or dgram (node) = 1',
    labelNames: ['path'],
    registers: [registry],
    collect() {
      this.reset();
      if (input.listeners.length > 0) this.set({ path: input.path }, 1);
    },
  });
  new Counter({
    name: 'tsunagi_flow_udp_truncated_total',
    help: 'Datagrams longer than the receive slot, cut by the kernel and skipped',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(input.truncated);
    },
  });
  new Counter({
    name: 'tsunagi_flow_batches_total',
    help: 'FlowBatches handed on to detection',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(batches());
    },
  });
}

/** Templates kept across restarts in `path` (JSON); an empty path keeps them in memory only. */
function templateFile(path: string, decoder: FlowDecoder, logger: Logger) {
  let savedState = '';
  return {
    async load(): Promise<void> {
      if (!path) return;
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        return;
      }
      try {
        decoder.importState(JSON.parse(text));
        savedState = text;
        logger.info({ file: path }, 'templates restored');
      } catch (error) {
        // A damaged state file must not stop collection: templates are re-sent by exporters.
        logger.warn({ err: error, file: path }, 'template file unreadable; starting without it');
      }
    },
    async save(): Promise<void> {
      if (!path) return;
      const text = JSON.stringify(decoder.exportState());
      if (text === savedState) return;
      writeFileAtomic(path, text);
      savedState = text;
    },
  };
}

/** The start-up lines: where the collector listens, and one warning for every capped socket. */
function logListening(
  logger: Logger,
  listeners: readonly UdpListener[],
  askedBufferBytes: number,
  path: UdpReceivePath,
  pathNote: string,
): void {
  // The cap is the kernel's (one sysctl), not a socket's.
  const capped = listeners.filter((l) => l.receiveBufferBytes < askedBufferBytes);
  if (capped.length > 0) {
    logger.warn(
      {
        listen: capped.map((l) => l.address),
        asked: askedBufferBytes,
        got: Math.min(...capped.map((l) => l.receiveBufferBytes)),
      },
      'receive buffer smaller than asked: raise net.core.rmem_max to avoid drops at high rates',
    );
  }
  logger.info(
    {
      listen: listeners.map((l) => `${l.address} (port ${l.boundPort})`),
      receivePath: path,
      ...(pathNote ? { why: pathNote } : {}),
    },
    'listening for flows',
  );
}

/**
 * The collector's health: flows received, kernel receive drops on its sockets (a loss), and
 * decoder errors by kind (a warning: the exporter sent something it could not read).
 */
export function collectorHealth(collector: FlowCollector): ComponentHealth {
  const c = collector.counters();
  const errorsByKind: Record<string, number> = {};
  for (const byKind of Object.values(collector.decoder.stats.errors))
    for (const [kind, n] of Object.entries(byKind))
      if (n > 0) errorsByKind[`decodeErrors.${kind}`] = (errorsByKind[`decodeErrors.${kind}`] ?? 0) + n;
  return {
    component: 'collector',
    level: healthLevel(c.kernelDrops, c.decodeErrors > 0),
    handled: c.records,
    dropped: c.kernelDrops,
    counters: {
      flows: c.records,
      packets: c.payloads,
      kernelDrops: c.kernelDrops,
      decodeErrors: c.decodeErrors,
      ...errorsByKind,
    },
  };
}
