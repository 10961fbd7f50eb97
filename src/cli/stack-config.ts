/**
 * What `tsunagi start` and `tsunagi demo` are configured with: every component's section of the
 * configuration file, its defaults and limits. The composition root (stack.ts) wires the stack
 * from it; the runbook (runbook-input.ts) reads it.
 */
import { z } from 'zod';
import { LogConfig, MetricsConfig } from '../core/index.ts';
import { ConsoleConfig } from '../console/index.ts';
import { DarknetConfig } from '../darknet/index.ts';
import { DetectConfig } from '../detect/index.ts';
import { FlowConfig } from '../flow/index.ts';
import { IntelConfig } from '../intel/index.ts';
import { OsintConfig } from '../osint/index.ts';
import { HubConfig } from '../share/index.ts';
import { BotFeedConfig, C2SharerConfig } from '../uplink/index.ts';
import { CandidateStreamConfig, TransportConfig } from '../transport/index.ts';
import { WebConfig } from '../web/index.ts';

export const StackConfig = z.object({
  /** Where the embedded store and component state live. */
  data: z.string().default('.tsunagi'),
  /** The name this ISP's detections carry as their source in intel. */
  source: z.string().min(1).max(100).default('local-detector'),
  log: LogConfig,
  metrics: MetricsConfig.prefault({ listen: '127.0.0.1:9470' }),
  flow: FlowConfig,
  detect: DetectConfig,
  intel: IntelConfig,
  hub: HubConfig,
  console: ConsoleConfig,
  /**
   * The web room (malicious sites): with `web.certstream.url` (or `--certstream URL`) the
   * certificate-transparency names of that certstream websocket are scored as they are logged
   * and the flagged ones kept under source `certstream`.
   */
  web: WebConfig.prefault({}),
  /**
   * The detector also follows intel's bot indicators (darknet sensors, other ISPs' submissions),
   * on intel's change feed: a new bot reaches the detector as soon as intel commits it.
   */
  botsFromIntel: z
    .object({
      enabled: z.boolean().default(true),
      minConfidence: z.number().min(0).max(100).default(50),
    })
    .prefault({}),
  /** A remote TAXII collection of bots (e.g. the analysis center's, or this ISP's /network/ one). */
  botsTaxii: BotFeedConfig.optional(),
  /** A remote hub collection this ISP shares its C&C list to (ip, port, proto, confidence, family only). */
  shareTo: C2SharerConfig.optional(),
  /**
   * NATS JetStream for the multi-machine shape; off keeps batches in-process. With it, the
   * collector publishes to the flow stream, the hub consumes candidates from `detect --nats`
   * workers, and (unless `localDetect` is off) this process also detects on every partition.
   */
  nats: TransportConfig.and(
    z.object({
      enabled: z.boolean().default(false),
      /** Run this machine's detector on all partitions; off when workers own them. */
      localDetect: z.boolean().default(true),
      /** Where workers announce candidates (the url defaults to the flow stream's). */
      candidates: CandidateStreamConfig,
    }),
  ).prefault({}),
  /**
   * Live darknet observation on a capture interface: its infected hosts become bot sightings
   * in intel (and so the detector's bot list). Off while `interface` is empty.
   */
  darknet: DarknetConfig.and(
    z.object({
      interface: z.string().max(64).default(''),
      /** Source name of the darknet's sightings. */
      source: z.string().min(1).max(100).default('darknet'),
      confidence: z.number().min(0).max(100).default(80),
      /** How often newly classified infected hosts go to intel. */
      pushIntervalMs: z.number().int().min(1000).default(30_000),
    }),
  ).prefault({}),
  /**
   * Published threat information: the configured feeds are read at start and every
   * `osint.intervalMs`; new documents' addresses, names and URLs become `osint:<feed>` sightings.
   */
  osint: OsintConfig.prefault({}),
  /**
   * How often the detector re-scores and re-announces (wall time). Expiry follows stream time:
   * a wall tick moves the detector's clock only while the flows arrive at wall-clock pace.
   */
  tickMs: z.number().int().min(100).default(1000),
});
export type StackConfig = z.infer<typeof StackConfig>;
