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
import { createUdpInput, readUdpDrops, type UdpListener, type UdpReceivePath } from './input/udp/udp.ts';
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
  if (deps.registry) {
    new Gauge({
      name: 'tsunagi_flow_udp_kernel_drops',
      help: 'Datagrams the kernel dropped on the collector sockets (from /proc/net/udp), since the sockets opened',
      registers: [deps.registry],
      collect() {
        this.set(readUdpDrops(boundPorts()));
      },
    });
    new Gauge({
      name: 'tsunagi_flow_udp_receive_path',
      help: 'Which UDP receive path is active: native (recvmmsg addon) or dgram (node) = 1',
      labelNames: ['path'],
      registers: [deps.registry],
      collect() {
        this.reset();
        if (input.listeners.length > 0) this.set({ path: input.path }, 1);
      },
    });
    new Counter({
      name: 'tsunagi_flow_udp_truncated_total',
      help: 'Datagrams longer than the receive slot, cut by the kernel and skipped',
      registers: [deps.registry],
      collect() {
        this.reset();
        this.inc(input.truncated);
      },
    });
    new Counter({
      name: 'tsunagi_flow_batches_total',
      help: 'FlowBatches handed on to detection',
      registers: [deps.registry],
      collect() {
        this.reset();
        this.inc(batches);
      },
    });
  }

  let flushTimer: NodeJS.Timeout | undefined;
  let saveTimer: NodeJS.Timeout | undefined;
  let savedState = '';

  async function loadTemplates(): Promise<void> {
    if (!config.templateFile) return;
    let text: string;
    try {
      text = await readFile(config.templateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return;
    }
    try {
      decoder.importState(JSON.parse(text));
      savedState = text;
      logger.info({ file: config.templateFile }, 'templates restored');
    } catch (error) {
      // A damaged state file must not stop collection: templates are re-sent by exporters.
      logger.warn({ err: error, file: config.templateFile }, 'template file unreadable; starting without it');
    }
  }

  async function saveTemplates(): Promise<void> {
    if (!config.templateFile) return;
    const text = JSON.stringify(decoder.exportState());
    if (text === savedState) return;
    writeFileAtomic(config.templateFile, text);
    savedState = text;
  }

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
      await loadTemplates();
      const listeners = await input.start();
      // One warning for every capped socket: the cap is the kernel's (one sysctl), not a socket's.
      const capped = listeners.filter((l) => l.receiveBufferBytes < config.receiveBufferBytes);
      if (capped.length > 0) {
        logger.warn(
          {
            listen: capped.map((l) => l.address),
            asked: config.receiveBufferBytes,
            got: Math.min(...capped.map((l) => l.receiveBufferBytes)),
          },
          'receive buffer smaller than asked: raise net.core.rmem_max to avoid drops at high rates',
        );
      }
      logger.info(
        {
          listen: listeners.map((l) => `${l.address} (port ${l.boundPort})`),
          receivePath: input.path,
          ...(receivePathNote ? { why: receivePathNote } : {}),
        },
        'listening for flows',
      );
      flushTimer = setInterval(() => {
        writer.flush();
        decoder.expire(Date.now());
      }, config.flushIntervalMs);
      saveTimer = setInterval(() => {
        saveTemplates().catch((error: unknown) => logger.warn({ err: error }, 'saving templates failed'));
      }, 30_000);
      flushTimer.unref();
      saveTimer.unref();
    },
    async stop() {
      clearInterval(flushTimer);
      clearInterval(saveTimer);
      await input.stop();
      writer.flush();
      await saveTemplates();
    },
  };
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
