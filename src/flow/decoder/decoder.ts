/**
 * The flow decoder front door: dispatches each UDP payload to the NetFlow v5, v9, IPFIX or sFlow
 * decoder, owns template / sampling / pending state, counts everything and exposes the counters
 * as Prometheus metrics.
 */
import { z } from 'zod';
import {
  type FlowBatchWriter,
  InputError,
  type Logger,
  Counter,
  Gauge,
  type Registry,
} from '../../core/index.ts';
import type { DecoderConfig } from '../config.ts';
import { createDecoderStats, FLOW_PROTOCOLS, type DecoderStats, type FlowProtocol } from './decoder-stats.ts';
import { decodeIpfix } from './ipfix/ipfix.ts';
import { decodeNetflow5 } from './netflow/netflow5.ts';
import { decodeNetflow9 } from './netflow/netflow9.ts';
import { createSflowDecoder } from './sflow/sflow.ts';
import { TemplateCache } from './template/template-cache.ts';
import { createTemplatedShared, type MessageContext } from './template/template-decode.ts';
import { compileTemplate } from './template/template.ts';
import type { PayloadSource } from '../types.ts';

export type { DecoderStats, FlowProtocol } from './decoder-stats.ts';
export { errorTotal } from './decoder-stats.ts';

export interface FlowDecoder {
  /** Decodes one UDP payload of any supported protocol, writing rows into `out`; returns rows written. Never throws on bad input. */
  decode(payload: Buffer, source: PayloadSource, out: FlowBatchWriter): number;
  /** Plain counters (packets/records per protocol, errors per protocol+kind, templates, pending...). */
  readonly stats: DecoderStats;
  /** Template + sampling state as JSON-serialisable data, and restore from it (for persistence across restarts). */
  exportState(): DecoderState;
  /** Restores state saved by exportState; throws InputError when `state` is not such data. */
  importState(state: unknown): void;
  /** Drops pending data older than ttl (call periodically); returns dropped count. */
  expire(nowMs: number): number;
}

const FieldState = z.tuple([
  z.number().int().min(0).max(0x7fff),
  z.number().int().min(0).max(65535),
  z.number().int().min(0).max(0xffffffff),
]);
const TemplateState = z.object({
  id: z.number().int().min(256).max(65535),
  options: z.boolean(),
  scopeCount: z.number().int().min(0).max(65535),
  fields: z.array(FieldState).min(1).max(16384),
});
const DomainStateSchema = z.object({
  exporter: z.string().min(1).max(256),
  port: z.number().int().min(0).max(65535),
  version: z.union([z.literal(9), z.literal(10)]),
  domain: z.number().int().min(0).max(0xffffffff),
  rate: z.number().int().min(0),
  initMs: z.number().min(0),
  samplers: z.array(z.tuple([z.number().min(0), z.number().int().min(1)])),
  templates: z.array(TemplateState),
});
/** Persisted template and sampling state (JSON-serialisable). */
export const DecoderState = z.object({
  format: z.literal('tsunagi-flow-decoder-state/1'),
  domains: z.array(DomainStateSchema),
});
export type DecoderState = z.infer<typeof DecoderState>;

export interface FlowDecoderDeps {
  registry?: Registry;
  logger?: Logger;
  /** Testing aid: false decodes fixed templates through the interpreter instead of generated readers. */
  generateReaders?: boolean;
}

export function createFlowDecoder(config: DecoderConfig, deps: FlowDecoderDeps = {}): FlowDecoder {
  const stats = createDecoderStats();
  const countError = (protocol: string, kind: string): void => {
    const table =
      stats.errors[
        (FLOW_PROTOCOLS as readonly string[]).includes(protocol) ? (protocol as FlowProtocol) : 'unknown'
      ];
    table[kind] = (table[kind] ?? 0) + 1;
  };
  const cache = new TemplateCache(config.templates, config.templateKeyIncludesPort, {
    evicted: (version) => stats.templates.evicted[version === 9 ? 'netflow9' : 'ipfix']++,
  });
  const shared = createTemplatedShared(cache, stats, countError, config, deps.generateReaders ?? true);
  const v5 = {
    countError,
    countRecords: (n: number) => (stats.records.netflow5 += n),
    defaultSamplingRate: config.defaultSamplingRate,
  };
  const sflow = createSflowDecoder({
    countError,
    onCounterSample: () => {
      stats.sflowCounterSamples++;
    },
  });

  const refreshGauges = () => {
    stats.templates.active.netflow9 = cache.counts[9];
    stats.templates.active.ipfix = cache.counts[10];
    stats.pending.waiting = shared.pending.sets;
    stats.pending.waitingBytes = shared.pending.bytes;
  };

  function decode(payload: Buffer, source: PayloadSource, out: FlowBatchWriter): number {
    try {
      if (payload.length < 4) {
        stats.packets.unknown++;
        countError('unknown', payload.length === 0 ? 'empty' : 'too_short');
        return 0;
      }
      const version = (payload[0]! << 8) | payload[1]!;
      if (version === 5) {
        stats.packets.netflow5++;
        return decodeNetflow5(v5, payload, source, out);
      }
      if (version === 9) return decodeNetflow9(shared, payload, source, out);
      if (version === 10) return decodeIpfix(shared, payload, source, out);
      if (version === 0 && ((payload[2]! << 8) | payload[3]!) === 5) {
        stats.packets.sflow5++;
        const rows = sflow(payload, source, out);
        stats.records.sflow5 += rows;
        return rows;
      }
      stats.packets.unknown++;
      countError('unknown', 'unknown_version');
      return 0;
    } catch (error) {
      // A decoder bug must not take the collector down; it is counted and logged instead.
      countError('unknown', 'internal');
      deps.logger?.error({ err: error }, 'flow decoder failed on a payload');
      return 0;
    } finally {
      refreshGauges();
    }
  }

  function exportState(): DecoderState {
    const domains: DecoderState['domains'] = [];
    for (const d of cache.allDomains()) {
      if (d.templates.size === 0 && d.rate === 0 && d.initMs === 0 && d.samplers.size === 0) continue;
      domains.push({
        exporter: d.exporter,
        port: d.port,
        version: d.version,
        domain: d.domainId,
        rate: d.rate,
        initMs: d.initMs,
        samplers: [...d.samplers.entries()],
        templates: [...d.templates.values()].map((t) => ({
          id: t.id,
          options: t.options,
          scopeCount: t.scopeCount,
          fields: t.fields.map((f) => [f.id, f.length, f.enterprise] as [number, number, number]),
        })),
      });
    }
    return { format: 'tsunagi-flow-decoder-state/1', domains };
  }

  function importState(input: unknown): void {
    const parsed = DecoderState.safeParse(input);
    if (!parsed.success)
      throw new InputError(`flow decoder state is not valid: ${z.prettifyError(parsed.error)}`);
    for (const saved of parsed.data.domains) {
      const domain = cache.domain(saved.exporter, saved.port, saved.version, saved.domain);
      domain.rate = saved.rate;
      domain.initMs = saved.initMs;
      for (const [id, rate] of saved.samplers) domain.setSamplerRate(id, rate);
      const protocol = saved.version === 9 ? 'netflow9' : 'ipfix';
      for (const t of saved.templates) {
        const compiled = compileTemplate(
          t.id,
          t.fields.map(([id, length, enterprise]) => ({ id, length, enterprise })),
          {
            options: t.options,
            scopeCount: t.scopeCount,
            scopeIsIe: saved.version === 10,
            generate: shared.generate,
          },
          (kind) => countError(protocol, kind),
        );
        if (typeof compiled === 'string') countError(protocol, compiled);
        else cache.add(domain, compiled);
      }
    }
    refreshGauges();
  }

  function expire(nowMs: number): number {
    const dropped = shared.pending.expire(nowMs);
    refreshGauges();
    return dropped;
  }

  if (deps.registry) registerMetrics(deps.registry, stats);
  return { decode, stats, exportState, importState, expire };
}

/** Metrics read the plain counters at scrape time (no per-record .inc()). */
function registerMetrics(registry: Registry, stats: DecoderStats): void {
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (set: (labels: Record<string, string>, v: number) => void) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill((labels, v) => this.inc(labels, v));
      },
    });
  counter(
    'tsunagi_flow_packets_total',
    'Flow export payloads received, by protocol.',
    ['protocol'],
    (set) => {
      for (const p of FLOW_PROTOCOLS) set({ protocol: p }, stats.packets[p]);
    },
  );
  counter(
    'tsunagi_flow_records_total',
    'Flow records decoded into rows, by protocol.',
    ['protocol'],
    (set) => {
      for (const p of FLOW_PROTOCOLS) set({ protocol: p }, stats.records[p]);
    },
  );
  counter(
    'tsunagi_flow_decode_errors_total',
    'Flow decoding errors, by protocol and kind.',
    ['protocol', 'kind'],
    (set) => {
      for (const p of FLOW_PROTOCOLS)
        for (const [kind, n] of Object.entries(stats.errors[p])) set({ protocol: p, kind }, n);
    },
  );
  counter(
    'tsunagi_flow_template_events_total',
    'Template events (learned, refreshed, evicted, withdrawn), by protocol.',
    ['protocol', 'event'],
    (set) => {
      for (const p of ['netflow9', 'ipfix'] as const) {
        set({ protocol: p, event: 'learned' }, stats.templates.learned[p]);
        set({ protocol: p, event: 'refreshed' }, stats.templates.refreshed[p]);
        set({ protocol: p, event: 'evicted' }, stats.templates.evicted[p]);
        set({ protocol: p, event: 'withdrawn' }, stats.templates.withdrawn[p]);
      }
    },
  );
  counter(
    'tsunagi_flow_sflow_counter_samples_total',
    'sFlow counter samples seen and skipped (interface statistics, no flows).',
    [],
    (set) => set({}, stats.sflowCounterSamples),
  );
  counter(
    'tsunagi_flow_pending_total',
    'Data sets that arrived before their template, by outcome.',
    ['outcome'],
    (set) => {
      set({ outcome: 'held' }, stats.pending.held);
      set({ outcome: 'replayed' }, stats.pending.replayed);
      set({ outcome: 'dropped_overflow' }, stats.pending.droppedOverflow);
      set({ outcome: 'dropped_too_large' }, stats.pending.droppedTooLarge);
      set({ outcome: 'dropped_expired' }, stats.pending.droppedExpired);
    },
  );
  new Gauge({
    name: 'tsunagi_flow_templates',
    help: 'Templates held now, by protocol.',
    labelNames: ['protocol'],
    registers: [registry],
    collect() {
      this.set({ protocol: 'netflow9' }, stats.templates.active.netflow9);
      this.set({ protocol: 'ipfix' }, stats.templates.active.ipfix);
    },
  });
  new Gauge({
    name: 'tsunagi_flow_pending_sets',
    help: 'Data sets waiting for their template now.',
    registers: [registry],
    collect() {
      this.set(stats.pending.waiting);
    },
  });
}

/** For callers that want to decode with a context built by hand (tests). */
export type { MessageContext };
