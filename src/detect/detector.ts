/**
 * The streaming C&C detector: folds FlowBatches into per-destination aggregates, scores them,
 * and reports candidates as they cross the threshold and when their evidence expires. Pure
 * logic: no I/O, no timers (the component in index.ts adds those).
 */
import type { FlowBatch } from '../core/flowbatch.ts';
import { PrefixSet, ipv4ToString, ipv6ToString, parsePrefix } from '../core/ip.ts';
import type { DetectConfig } from './config.ts';
import { FamilyMap, PrefixMap, protoName } from './lists.ts';
import { hashAddress4, hashAddress6, hllAdd, hllEstimate } from './sketch.ts';
import {
  AggregateTable,
  BOT_HLL_BITS,
  BOT_SLOTS,
  BYTES_PER_KEY,
  CLIENT_HLL_BITS,
  GAP_RING,
} from './table.ts';
import type { Candidate, Evidence, ShareRow } from './types.ts';

const TCP = 6;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const FORWARD = 1;
const REPLY = 2;

/** Plain-number counters read by the metrics collector. */
export interface DetectorStats {
  flows: number;
  botContacts: number;
  clientContacts: number;
  scanFlows: number;
  notEstablished: number;
  internal: number;
  externalIsBot: number;
  allowlisted: number;
  keysCreated: number;
  evicted: number;
  expired: number;
  published: number;
  withdrawn: number;
  restored: number;
}

/** Why a published candidate was withdrawn: its evidence aged out, the table was full, or it scored too low. */
export type WithdrawReason = 'expired' | 'evicted' | 'below-threshold';

export interface DetectorCallbacks {
  onPublish?: (candidate: Candidate) => void;
  onWithdraw?: (candidate: Candidate, reason: WithdrawReason) => void;
}

/** One persisted aggregate: counts and statistics only, never addresses of clients or flow times. */
export interface PersistedAggregate {
  ip: string;
  port: number;
  proto: number;
  bots: number;
  clients: number;
  flows: number;
  botFlows: number;
  bytes: [number, number, number];
  gaps: [number, number, number];
  recentGaps: number[];
  windowsSeen: number;
  /** Rounded up to the minute, so no flow time can be read back from it. */
  expiresAtMs: number;
}

const EXPIRY_GRANULARITY_MS = 60_000;

export class Detector {
  readonly table: AggregateTable;
  readonly stats: DetectorStats = {
    flows: 0,
    botContacts: 0,
    clientContacts: 0,
    scanFlows: 0,
    notEstablished: 0,
    internal: 0,
    externalIsBot: 0,
    allowlisted: 0,
    keysCreated: 0,
    evicted: 0,
    expired: 0,
    published: 0,
    withdrawn: 0,
    restored: 0,
  };
  /** Stream clock: the latest flow end seen (or the time given to ingest/tick). */
  clockMs = 0;

  private bots = new PrefixSet();
  private botCount = 0;
  private readonly subscribers: PrefixSet;
  private readonly hasSubscribers: boolean;
  private readonly allow: PrefixSet;
  private readonly allowAsns: Set<number>;
  private asnTable: PrefixMap<number> | undefined;
  private familyMap: FamilyMap;
  private readonly salt = (Math.random() * 0x100000000) >>> 0;
  private readonly dirtyList: Int32Array;
  private dirtyCount = 0;
  /** Bot scan flows per destination port (TCP), halved every expiry period so old scans fade. */
  private readonly scanByPort = new Float64Array(65536);
  private scanTotal = 0;
  private readonly staticScan = new Uint8Array(65536);
  private lastScanDecayMs = 0;
  // Scratch sub-scores of the last score() call (no allocation per score).
  private subBots = 0;
  private subExclusivity = 0;
  private subPersistence = 0;
  private subPort = 0;
  private subPeriodicity = 0;
  private lastBots = 0;
  private lastClients = 0;
  private lastCv = 0;

  constructor(
    private readonly config: DetectConfig,
    private readonly callbacks: DetectorCallbacks = {},
    options: { asnTable?: PrefixMap<number>; familyMap?: FamilyMap } = {},
  ) {
    let capacity = config.maxKeys;
    if (config.memoryLimitMb > 0) {
      capacity = Math.min(capacity, Math.floor((config.memoryLimitMb * 1024 * 1024) / BYTES_PER_KEY));
    }
    this.table = new AggregateTable(Math.max(64, capacity));
    this.dirtyList = new Int32Array(this.table.capacity);
    this.subscribers = new PrefixSet(config.subscriberPrefixes);
    this.hasSubscribers = this.subscribers.size > 0;
    this.allow = new PrefixSet(config.allowlistPrefixes);
    this.allowAsns = new Set(config.allowlistAsns);
    this.asnTable = options.asnTable;
    this.familyMap = options.familyMap ?? new FamilyMap();
    for (const port of config.scanPorts.static) this.staticScan[port] = 1;
  }

  /** Replaces the bot list (addresses or CIDRs). Returns the entries that did not parse. */
  setBots(entries: Iterable<string>): { accepted: number; rejected: string[] } {
    const next = new PrefixSet();
    const rejected: string[] = [];
    for (const entry of entries) {
      try {
        next.add(parsePrefix(entry));
      } catch {
        rejected.push(String(entry).slice(0, 80));
      }
    }
    this.bots = next;
    this.botCount = next.size;
    return { accepted: next.size, rejected };
  }

  get botListSize(): number {
    return this.botCount;
  }

  setFamilyMap(map: FamilyMap): void {
    this.familyMap = map;
  }

  setAsnTable(table: PrefixMap<number>): void {
    this.asnTable = table;
  }

  /** Folds one batch into the aggregates; keeps no reference to it. Publishes what crosses the threshold. */
  ingest(batch: FlowBatch, nowMs?: number): void {
    const t = this.table;
    const n = batch.length;
    const bots = this.bots;
    const subs = this.subscribers;
    const hasSubs = this.hasSubscribers;
    const salt = this.salt;
    let clock = this.clockMs;
    for (let i = 0; i < n; i++) {
      this.stats.flows++;
      const v6 = batch.ipVersion[i] === 6;
      const src4 = batch.src4[i]!;
      const dst4 = batch.dst4[i]!;
      const off = i * 16;
      const srcBot = v6 ? bots.has6(batch.src6, off) : bots.has4(src4);
      const dstBot = v6 ? bots.has6(batch.dst6, off) : bots.has4(dst4);
      let direction = 0;
      let clientIsBot = false;
      if (hasSubs) {
        const srcSub = v6 ? subs.has6(batch.src6, off) : subs.has4(src4);
        const dstSub = v6 ? subs.has6(batch.dst6, off) : subs.has4(dst4);
        if (srcSub === dstSub) {
          this.stats.internal++;
          continue;
        }
        direction = srcSub ? FORWARD : REPLY;
        if (direction === FORWARD ? dstBot : srcBot) {
          this.stats.externalIsBot++;
          continue;
        }
        clientIsBot = direction === FORWARD ? srcBot : dstBot;
      } else if (srcBot && dstBot) {
        // Bot to bot (P2P peers): the "external" side is itself a known bot.
        this.stats.externalIsBot++;
        continue;
      } else if (srcBot || dstBot) {
        direction = srcBot ? FORWARD : REPLY;
        clientIsBot = true;
      }
      const proto = batch.proto[i]!;
      const packets = batch.packets[i]!;
      const bytes = batch.bytes[i]!;
      const flags = batch.tcpFlags[i]!;
      const end = batch.endMs[i]!;
      const start = batch.startMs[i]! || end;
      if (end > clock) clock = end;

      if (!clientIsBot) {
        // Another client: counts only toward destinations already known from bot contact.
        let e = -1;
        let clientHash = 0;
        if (direction !== REPLY) {
          const port = batch.dstPort[i]!;
          e = v6
            ? t.find6(batch.dst6, off, port, proto, AggregateTable.hashKey6(batch.dst6, off, port, proto))
            : t.find4(dst4, port, proto, AggregateTable.hashKey4(dst4, port, proto));
          if (e >= 0) clientHash = v6 ? hashAddress6(batch.src6, off, salt) : hashAddress4(src4, salt);
        }
        if (e < 0 && direction !== FORWARD) {
          const port = batch.srcPort[i]!;
          e = v6
            ? t.find6(batch.src6, off, port, proto, AggregateTable.hashKey6(batch.src6, off, port, proto))
            : t.find4(src4, port, proto, AggregateTable.hashKey4(src4, port, proto));
          if (e >= 0) clientHash = v6 ? hashAddress6(batch.dst6, off, salt) : hashAddress4(dst4, salt);
        }
        if (e >= 0) {
          this.stats.clientContacts++;
          t.flows[e]! += 1;
          if (hllAdd(t.clientHll, e << CLIENT_HLL_BITS, CLIENT_HLL_BITS, clientHash)) this.markDirty(e);
        }
        continue;
      }

      // A known bot is the client. Scanning and unanswered probes are not evidence.
      const headerBytes = proto === TCP ? 40 : 28;
      const payload = bytes > packets * headerBytes;
      let established: boolean;
      if (proto === TCP) {
        if (direction === FORWARD && (flags & (SYN | ACK | RST)) === SYN && packets <= 2) {
          this.stats.scanFlows++;
          this.scanByPort[batch.dstPort[i]!]! += 1;
          this.scanTotal++;
          continue;
        }
        established = ((flags & ACK) !== 0 && (packets >= 3 || payload)) || (packets >= 3 && payload);
      } else {
        established = payload && (packets >= 3 || direction === REPLY);
      }
      if (!established) {
        this.stats.notEstablished++;
        continue;
      }
      const forward = direction === FORWARD;
      const port = forward ? batch.dstPort[i]! : batch.srcPort[i]!;
      const keyBytes = forward ? batch.dst6 : batch.src6;
      const key4 = forward ? dst4 : src4;
      const hash = v6
        ? AggregateTable.hashKey6(keyBytes, off, port, proto)
        : AggregateTable.hashKey4(key4, port, proto);
      let e = v6 ? t.find6(keyBytes, off, port, proto, hash) : t.find4(key4, port, proto, hash);
      if (e < 0) {
        if (this.isAllowlisted(v6, key4, keyBytes, off)) {
          this.stats.allowlisted++;
          continue;
        }
        if (t.full) this.evict();
        e = t.insert(v6 ? 6 : 4, v6 ? 0 : key4, v6 ? keyBytes : undefined, off, port, proto, hash);
        t.firstSeen[e] = start;
        this.stats.keysCreated++;
      }
      this.stats.botContacts++;
      const botHash = v6
        ? hashAddress6(forward ? batch.src6 : batch.dst6, off, salt)
        : hashAddress4(forward ? src4 : dst4, salt);
      this.recordBotContact(e, botHash, start, end, bytes);
    }
    this.clockMs = nowMs !== undefined && nowMs > clock ? nowMs : clock;
    this.flushDirty();
  }

  private recordBotContact(e: number, botHash: number, start: number, end: number, bytes: number): void {
    const t = this.table;
    const h = (botHash | 1) >>> 0; // 0 marks an empty slot
    const base = e * BOT_SLOTS;
    const used = t.botSlotsUsed[e]!;
    let slot = -1;
    for (let s = 0; s < used; s++) {
      if (t.botSlotHash[base + s] === h) {
        slot = s;
        break;
      }
    }
    if (slot >= 0) {
      const gap = start - t.botSlotLast[base + slot]!;
      if (gap >= this.config.scoring.minGapMs) {
        this.addGap(e, gap);
        t.botSlotLast[base + slot] = start;
      }
    } else if (used < BOT_SLOTS) {
      t.botSlotHash[base + used] = h;
      t.botSlotLast[base + used] = start;
      t.botSlotsUsed[e] = used + 1;
    }
    hllAdd(t.botHll, e << BOT_HLL_BITS, BOT_HLL_BITS, botHash);
    t.flows[e]! += 1;
    t.botFlows[e]! += 1;
    // Welford's running mean and variance of bytes per bot flow.
    const n = ++t.bytesN[e]!;
    const delta = bytes - t.bytesMean[e]!;
    t.bytesMean[e]! += delta / n;
    t.bytesM2[e]! += delta * (bytes - t.bytesMean[e]!);
    if (start < t.firstSeen[e]!) t.firstSeen[e] = start;
    if (end > t.lastSeen[e]!) t.lastSeen[e] = end;
    const window = Math.floor(start / this.config.windowMs);
    if (window > t.lastWindow[e]!) {
      t.lastWindow[e] = window;
      t.windowsSeen[e]! += 1;
    }
    this.markDirty(e);
  }

  private addGap(e: number, gap: number): void {
    const t = this.table;
    const n = ++t.gapN[e]!;
    const delta = gap - t.gapMean[e]!;
    t.gapMean[e]! += delta / n;
    t.gapM2[e]! += delta * (gap - t.gapMean[e]!);
    const next = t.gapRingNext[e]!;
    t.gapRing[e * GAP_RING + next] = gap;
    t.gapRingNext[e] = (next + 1) % GAP_RING;
    if (t.gapRingCount[e]! < GAP_RING) t.gapRingCount[e]! += 1;
  }

  private markDirty(e: number): void {
    if (this.table.dirty[e]) return;
    this.table.dirty[e] = 1;
    this.dirtyList[this.dirtyCount++] = e;
  }

  private isAllowlisted(v6: boolean, ip4: number, bytes: Uint8Array, offset: number): boolean {
    if (this.allow.size > 0 && (v6 ? this.allow.has6(bytes, offset) : this.allow.has4(ip4))) return true;
    if (this.allowAsns.size > 0 && this.asnTable) {
      const asn = v6 ? this.asnTable.get6(bytes, offset) : this.asnTable.get4(ip4);
      if (asn !== undefined && this.allowAsns.has(asn)) return true;
    }
    return false;
  }

  /** True when the bots scan this port (configured, or seen in their scanning). */
  isScanPort(port: number, proto: number): boolean {
    if (proto !== TCP) return false;
    if (this.staticScan[port]) return true;
    const count = this.scanByPort[port]!;
    const { minFlows, minShare } = this.config.scanPorts;
    return count >= minFlows && count >= minShare * this.scanTotal;
  }

  /** The bots' scan ports seen so far (static ones included). */
  scanPorts(): number[] {
    const out: number[] = [];
    for (let port = 0; port < 65536; port++) if (this.isScanPort(port, TCP)) out.push(port);
    return out;
  }

  private distinctBots(e: number): number {
    const t = this.table;
    const used = t.botSlotsUsed[e]!;
    const current =
      used < BOT_SLOTS
        ? used
        : Math.max(BOT_SLOTS, Math.round(hllEstimate(t.botHll, e << BOT_HLL_BITS, BOT_HLL_BITS)));
    return Math.max(t.baseBots[e]!, current);
  }

  /** Scores entry `e` (0-100) and leaves its sub-scores in the scratch fields. */
  private score(e: number): number {
    const t = this.table;
    const s = this.config.scoring;
    const bots = this.distinctBots(e);
    const clients = Math.max(
      t.baseClients[e]!,
      Math.round(hllEstimate(t.clientHll, e << CLIENT_HLL_BITS, CLIENT_HLL_BITS)),
    );
    this.lastBots = bots;
    this.lastClients = clients;
    this.subBots = Math.min(1, bots / s.fullBots);
    this.subExclusivity = bots === 0 ? 0 : Math.min(1, bots / (bots + clients) / s.exclusiveShare);
    this.subPersistence = Math.min(1, t.windowsSeen[e]! / s.persistenceWindows);
    this.subPort = this.isScanPort(t.port[e]!, t.proto[e]!) ? 0 : 1;
    const count = t.gapRingCount[e]!;
    let cv = 0;
    if (count > 0) {
      let sum = 0;
      for (let k = 0; k < count; k++) sum += t.gapRing[e * GAP_RING + k]!;
      const mean = sum / count;
      let sq = 0;
      for (let k = 0; k < count; k++) {
        const d = t.gapRing[e * GAP_RING + k]! - mean;
        sq += d * d;
      }
      cv = mean > 0 ? Math.sqrt(sq / count) / mean : 0;
    }
    this.lastCv = cv;
    this.subPeriodicity = count >= s.minGaps ? Math.max(0, Math.min(1, 1 - cv)) : 0;
    if (bots < s.minBots) return 0;
    const w = s.weights;
    const total = w.base + w.persistence + w.port + w.periodicity;
    const quality =
      total === 0
        ? 1
        : (w.base +
            w.persistence * this.subPersistence +
            w.port * this.subPort +
            w.periodicity * this.subPeriodicity) /
          total;
    return Math.round(100 * this.subBots * this.subExclusivity * quality);
  }

  /** Re-scores entry `e` and publishes or withdraws on a threshold crossing. */
  private rescore(e: number): void {
    const t = this.table;
    const confidence = this.score(e);
    t.confidence[e] = confidence;
    const { threshold, hysteresis } = this.config.scoring;
    if (!t.published[e] && confidence >= threshold) {
      t.published[e] = 1;
      this.stats.published++;
      this.callbacks.onPublish?.(this.buildCandidate(e, confidence));
    } else if (t.published[e] && confidence < threshold - hysteresis) {
      t.published[e] = 0;
      this.stats.withdrawn++;
      this.callbacks.onWithdraw?.(this.buildCandidate(e, confidence), 'below-threshold');
    }
  }

  private flushDirty(): void {
    const t = this.table;
    for (let k = 0; k < this.dirtyCount; k++) {
      const e = this.dirtyList[k]!;
      if (!t.dirty[e]) continue;
      t.dirty[e] = 0;
      if (t.live[e]) this.rescore(e);
    }
    this.dirtyCount = 0;
  }

  /** Drops entry `e`, withdrawing it first when it was published. */
  private drop(e: number, reason: WithdrawReason): void {
    const t = this.table;
    if (t.published[e]) {
      t.published[e] = 0;
      this.stats.withdrawn++;
      this.callbacks.onWithdraw?.(this.buildCandidate(e, t.confidence[e]!), reason);
    }
    t.remove(e);
  }

  /**
   * Frees about 1/16 of the table: keys with the fewest bots and the oldest contact go first;
   * published keys go last.
   */
  private evict(): void {
    this.flushDirty();
    const t = this.table;
    const priority = new Float64Array(t.capacity);
    for (let e = 0; e < t.capacity; e++) {
      priority[e] = t.live[e]
        ? (t.published[e] ? 6e15 : 0) +
          Math.min(this.distinctBots(e), 500) * 1e13 +
          Math.max(0, Math.min(t.lastSeen[e]!, 9e12))
        : Infinity;
    }
    const target = Math.max(1, t.capacity >> 4);
    const sorted = Float64Array.from(priority).sort();
    const cutoff = sorted[target - 1]!;
    let freed = 0;
    for (let e = 0; e < t.capacity && freed < target; e++) {
      if (t.live[e] && priority[e]! <= cutoff) {
        this.drop(e, 'evicted');
        freed++;
        this.stats.evicted++;
      }
    }
  }

  /** Expires keys whose last bot contact is older than the expiry, and re-scores the rest. */
  tick(nowMs: number = this.clockMs): void {
    if (nowMs > this.clockMs) this.clockMs = nowMs;
    this.flushDirty();
    const t = this.table;
    const horizon = nowMs - this.config.expiryMs;
    const minBots = this.config.scoring.minBots;
    for (let e = 0; e < t.capacity; e++) {
      if (!t.live[e]) continue;
      if (t.lastSeen[e]! < horizon) {
        this.drop(e, 'expired');
        this.stats.expired++;
      } else if (t.published[e] || t.botSlotsUsed[e]! >= minBots || t.baseBots[e]! >= minBots) {
        this.rescore(e);
      }
    }
    if (nowMs - this.lastScanDecayMs >= this.config.expiryMs) {
      // Old scanning fades so that a port the bots stopped scanning can be judged afresh.
      if (this.lastScanDecayMs !== 0) {
        for (let p = 0; p < 65536; p++) this.scanByPort[p]! *= 0.5;
        this.scanTotal *= 0.5;
      }
      this.lastScanDecayMs = nowMs;
    }
  }

  private ipText(e: number): string {
    const t = this.table;
    return t.family[e] === 6 ? ipv6ToString(t.ip6, e * 16) : ipv4ToString(t.ip4[e]!);
  }

  private familyOf(e: number): string {
    const t = this.table;
    if (this.familyMap.size === 0) return '';
    return this.familyMap.lookup(t.family[e] as 4 | 6, t.ip4[e]!, t.ip6, e * 16, t.port[e]!, t.proto[e]!);
  }

  private buildCandidate(e: number, confidence: number): Candidate {
    const t = this.table;
    this.score(e); // refresh the scratch sub-scores for the evidence
    const ip = this.ipText(e);
    const port = t.port[e]!;
    const proto = t.proto[e]!;
    const bytesN = t.bytesN[e]!;
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const evidence: Evidence = {
      bots: this.lastBots,
      clients: this.lastClients,
      flows: t.flows[e]!,
      botFlows: t.botFlows[e]!,
      meanBytesPerFlow: Math.round(t.bytesMean[e]!),
      sdBytesPerFlow: bytesN > 1 ? Math.round(Math.sqrt(t.bytesM2[e]! / (bytesN - 1))) : 0,
      windowsSeen: t.windowsSeen[e]!,
      gaps: t.gapN[e]!,
      meanGapS: round3(t.gapMean[e]! / 1000),
      gapCv: round3(this.lastCv),
      scanPort: this.subPort === 0,
      sub: {
        bots: round3(this.subBots),
        exclusivity: round3(this.subExclusivity),
        persistence: round3(this.subPersistence),
        port: this.subPort,
        periodicity: round3(this.subPeriodicity),
      },
    };
    return {
      key: `${ip}|${port}|${proto}`,
      ip,
      port,
      proto,
      confidence,
      family: this.familyOf(e),
      evidence,
      firstSeenMs: t.firstSeen[e]!,
      lastSeenMs: t.lastSeen[e]!,
    };
  }

  /** Published candidates, highest confidence first. */
  candidates(): Candidate[] {
    this.flushDirty();
    const t = this.table;
    const out: Candidate[] = [];
    for (let e = 0; e < t.capacity; e++)
      if (t.live[e] && t.published[e]) out.push(this.buildCandidate(e, t.confidence[e]!));
    return out.sort((a, b) => b.confidence - a.confidence || a.key.localeCompare(b.key));
  }

  /** The shareable list: ip, port, proto, confidence, family. Nothing else leaves. */
  shareableRows(): ShareRow[] {
    return this.candidates().map((c) => ({
      ip: c.ip,
      port: c.port,
      proto: protoName(c.proto),
      confidence: c.confidence,
      family: c.family,
    }));
  }

  /** Every live aggregate in its persistable form (counts only). */
  exportState(): PersistedAggregate[] {
    this.flushDirty();
    const t = this.table;
    const out: PersistedAggregate[] = [];
    for (let e = 0; e < t.capacity; e++) {
      if (!t.live[e]) continue;
      const ring: number[] = [];
      for (let k = 0; k < t.gapRingCount[e]!; k++) ring.push(Math.round(t.gapRing[e * GAP_RING + k]!));
      const expires = t.lastSeen[e]! + this.config.expiryMs;
      out.push({
        ip: this.ipText(e),
        port: t.port[e]!,
        proto: t.proto[e]!,
        bots: this.distinctBots(e),
        clients: Math.max(
          t.baseClients[e]!,
          Math.round(hllEstimate(t.clientHll, e << CLIENT_HLL_BITS, CLIENT_HLL_BITS)),
        ),
        flows: t.flows[e]!,
        botFlows: t.botFlows[e]!,
        bytes: [t.bytesN[e]!, Math.round(t.bytesMean[e]!), Math.round(t.bytesM2[e]!)],
        gaps: [t.gapN[e]!, Math.round(t.gapMean[e]!), Math.round(t.gapM2[e]!)],
        recentGaps: ring,
        windowsSeen: t.windowsSeen[e]!,
        expiresAtMs: Math.ceil(expires / EXPIRY_GRANULARITY_MS) * EXPIRY_GRANULARITY_MS,
      });
    }
    return out;
  }

  /** Restores aggregates saved by exportState(); those expired at `nowMs` are skipped. Returns how many. */
  importState(rows: PersistedAggregate[], nowMs: number): number {
    const t = this.table;
    let restored = 0;
    for (const row of rows) {
      if (row.expiresAtMs <= nowMs || t.full) continue;
      const prefix = parsePrefix(row.ip);
      const v6 = prefix.family === 6;
      const bytes = prefix.network6;
      const hash = v6
        ? AggregateTable.hashKey6(bytes, 0, row.port, row.proto)
        : AggregateTable.hashKey4(prefix.network4, row.port, row.proto);
      const existing = v6
        ? t.find6(bytes, 0, row.port, row.proto, hash)
        : t.find4(prefix.network4, row.port, row.proto, hash);
      if (existing >= 0) continue;
      const e = t.insert(v6 ? 6 : 4, prefix.network4, v6 ? bytes : undefined, 0, row.port, row.proto, hash);
      t.baseBots[e] = row.bots;
      t.baseClients[e] = row.clients;
      t.flows[e] = row.flows;
      t.botFlows[e] = row.botFlows;
      [t.bytesN[e], t.bytesMean[e], t.bytesM2[e]] = row.bytes;
      [t.gapN[e], t.gapMean[e], t.gapM2[e]] = row.gaps;
      const ring = row.recentGaps.slice(-GAP_RING);
      ring.forEach((gap, k) => (t.gapRing[e * GAP_RING + k] = gap));
      t.gapRingCount[e] = ring.length;
      t.gapRingNext[e] = ring.length % GAP_RING;
      t.windowsSeen[e] = row.windowsSeen;
      t.lastSeen[e] = row.expiresAtMs - this.config.expiryMs;
      t.firstSeen[e] = t.lastSeen[e]!;
      t.lastWindow[e] = Math.floor(t.lastSeen[e]! / this.config.windowMs);
      this.markDirty(e);
      restored++;
    }
    this.stats.restored += restored;
    this.flushDirty();
    return restored;
  }
}
