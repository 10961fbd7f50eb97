/**
 * The streaming C&C detector: folds FlowBatches into per-address aggregates, scores them, and
 * reports candidates as they cross the threshold and when their evidence expires. Pure logic:
 * no I/O, no timers (the component in index.ts adds those).
 *
 * Evidence is kept per bot home, not pooled: each bot's own contacts, intervals and held
 * session. Exclusivity is a population test (how often bot homes reach the address against how
 * often clean homes do). Addresses that P2P bots reach as peers are bot sightings, reported
 * through onPeer, never as C&C servers.
 */
import { shippedCalibration, type Calibration } from './calibration.ts';
import type { DetectConfig } from './config.ts';
import { AMBIGUOUS_BOT, BotIndex, HomeResolver, HASH_SEED, NOT_BOT } from './homes.ts';
import { FamilyMap, PrefixMap, parseBotLine, protoName, type BotEntry } from './lists.ts';
import {
  PrefixSet,
  hllAdd,
  hllEstimate,
  ipv4ToString,
  ipv6ToString,
  mix32,
  parsePrefix,
  prefixContains4,
  prefixContains6,
  type FlowBatch,
  type Prefix,
} from '../core/index.ts';
import {
  AggregateTable,
  BOT_HLL_BITS,
  BOT_SLOTS,
  BYTES_PER_KEY,
  CLIENT_HLL_BITS,
  CLIENT_SLOTS,
} from './table.ts';
import type { Candidate, Evidence, Peer, PeerRow, ShareRow } from './types.ts';

const TCP = 6;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const FORWARD = 1;
const REPLY = 2;
/** Ports below this are services; a flow from a high port to a subscriber's service port was initiated outside. */
const SERVICE_PORTS = 1024;
/** Records of one connection follow each other within this idle gap (active-timeout exports). */
const SESSION_IDLE_MS = 90_000;
/** Population sketches: distinct bot homes and clean homes active in the last expiry periods. */
const POPULATION_BITS = 12;
/** Per-home sketches of distinct high-port peers (P2P fan-out), direct-mapped by home hash. */
const FANOUT_HOMES_BITS = 16;
const FANOUT_BITS = 4;
/** Per-home counters of scan probes by homes not in the bot list (unlisted bots are not clean). */
const SUSPECT_BITS = 20;
const SUSPECT_PROBES = 4;
/** Ports every client uses: probes to them never make a home suspect. */
const COMMON_PORTS = new Set([53, 80, 123, 443]);
/** Stream time between refreshes of the population sizes while ingesting (tick always refreshes). */
const POPULATION_REFRESH_MS = 60_000;

/** Plain-number counters read by the metrics collector. */
export interface DetectorStats {
  flows: number;
  botContacts: number;
  clientContacts: number;
  scanFlows: number;
  notEstablished: number;
  inbound: number;
  internal: number;
  externalIsBot: number;
  ambiguous: number;
  /** Exchanges of unlisted homes seen scanning the bots' scan ports, counted as bot evidence. */
  inferredBot: number;
  allowlisted: number;
  keysCreated: number;
  evicted: number;
  expired: number;
  published: number;
  withdrawn: number;
  peers: number;
  restored: number;
}

/**
 * Why a published candidate was withdrawn: its evidence aged out, the table was full, it scored
 * too low, or the server moved to another port (the new one is published).
 */
export type WithdrawReason = 'expired' | 'evicted' | 'below-threshold' | 'port-moved';

export interface DetectorCallbacks {
  onPublish?: (candidate: Candidate) => void;
  onWithdraw?: (candidate: Candidate, reason: WithdrawReason) => void;
  /** A P2P peer of listed bots (an infected host), `internal` when it is a subscriber's home. */
  onPeer?: (peer: Peer) => void;
}

/** One persisted aggregate: counts and statistics only, never addresses of clients or flow times. */
/** Population sizes saved beside the aggregates (how many bot and clean homes, IPv4 and IPv6). */
export interface PersistedPopulation {
  botHomes: number[];
  cleanHomes: number[];
}

export interface PersistedAggregate {
  ip: string;
  port: number;
  proto: number;
  bots: number;
  returningBots: number;
  periodicity: number;
  clients: number;
  flows: number;
  botFlows: number;
  bytes: [number, number, number];
  windowsSeen: number;
  /** Rounded up to the minute, so no flow time can be read back from it. */
  expiresAtMs: number;
  /** The bots' majority family from the bot list (a malware name, never an address). */
  family?: string;
}

const EXPIRY_GRANULARITY_MS = 60_000;

function word32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}
const round3 = (x: number) => Math.round(x * 1000) / 1000;

export class Detector {
  readonly table: AggregateTable;
  readonly stats: DetectorStats = {
    flows: 0,
    botContacts: 0,
    clientContacts: 0,
    scanFlows: 0,
    notEstablished: 0,
    inbound: 0,
    internal: 0,
    externalIsBot: 0,
    ambiguous: 0,
    inferredBot: 0,
    allowlisted: 0,
    keysCreated: 0,
    evicted: 0,
    expired: 0,
    published: 0,
    withdrawn: 0,
    peers: 0,
    restored: 0,
  };
  /** Stream clock: the latest flow end seen (or the time given to ingest/tick). */
  clockMs = 0;

  private readonly homes: HomeResolver;
  private bots: BotIndex;
  private externalBots = false;
  private readonly subscribers: PrefixSet;
  /** IPv4 subscriber prefixes as parallel arrays: a few compares beat set lookups per length. */
  private readonly subscriberNet4: Uint32Array;
  private readonly subscriberMask4: Uint32Array;
  private readonly subscribers6: Prefix[];
  private readonly hasSubscribers: boolean;
  private readonly allow: PrefixSet;
  private readonly allowAsns: Set<number>;
  private asnTable: PrefixMap<number> | undefined;
  private familyMap: FamilyMap;
  private readonly dirtyList: Int32Array;
  private dirtyCount = 0;
  /** Bot scan flows per destination port (TCP), halved every expiry period so old scans fade. */
  private readonly scanByPort = new Float64Array(65536);
  private scanTotal = 0;
  private readonly staticScan = new Uint8Array(65536);
  // Two generations (current, previous) rotated every expiry period.
  // Index generation * 2 + (IPv6 ? 1 : 0): a destination is compared with the homes active on its
  // own address family (an IPv6 server can only be reached by homes that use IPv6).
  private readonly botPopulation = Array.from({ length: 4 }, () => new Uint8Array(1 << POPULATION_BITS));
  private readonly cleanPopulation = Array.from({ length: 4 }, () => new Uint8Array(1 << POPULATION_BITS));
  private readonly fanout = [
    new Uint8Array(1 << (FANOUT_HOMES_BITS + FANOUT_BITS)),
    new Uint8Array(1 << (FANOUT_HOMES_BITS + FANOUT_BITS)),
  ];
  /** Per home slot and generation: 1 once its fan-out reached p2p.minPeers (cached, not re-estimated per score). */
  private readonly p2pHome = [new Uint8Array(1 << FANOUT_HOMES_BITS), new Uint8Array(1 << FANOUT_HOMES_BITS)];
  private readonly suspect = new Uint8Array(1 << SUSPECT_BITS);
  /** The suspect counters four to a word: rotation halves them a word at a time. */
  private readonly suspectWords = new Uint32Array(this.suspect.buffer);
  private generation = 0;
  private ticks = 0;
  private lastRotationMs = 0;
  // Population sizes, refreshed once per flush (not per key).
  private readonly botHomes = [0, 0];
  private populationAtMs = -Infinity;
  private readonly cleanHomes = [0, 0];
  /**
   * Population sizes saved with restored aggregates: floors for the population test until those
   * aggregates would have expired, so a restart does not judge saved evidence against an empty
   * population (every saved destination would look exclusive to bots).
   */
  private readonly restoredPopulation = { botHomes: [0, 0], cleanHomes: [0, 0], untilMs: -Infinity };
  /**
   * The estimate of each population sketch (bot 0-3, clean 4-7, index as the sketch arrays) and
   * whether a register rose since: an estimate is a function of the registers, so only a changed
   * sketch is estimated again (4096 registers each, every minute of stream).
   */
  private readonly populationEstimate = new Float64Array(8);
  private readonly populationChanged = new Uint8Array(8).fill(1);
  private readonly familyVotes = new Uint16Array(BOT_SLOTS);
  /** Raw score to published confidence; null publishes the raw score (calibrate.ts fits on it). */
  private readonly calibration: Calibration | null;
  // Scratch results of the last score() call (no allocation per score).
  private s = {
    bots: 0,
    returning: 0,
    contactsPerBot: 0,
    returningEst: 0,
    expectedReturning: 1,
    periodicBots: 0,
    periodicity: 0,
    meanGapMs: 0,
    gapCv: 0,
    held: 0,
    clients: 0,
    suspects: 0,
    botHomes: 0,
    cleanHomes: 0,
    enrichment: 0,
    z: 0,
    family: 0,
    familyShare: 0,
    p2pShare: 0,
    peer: false,
    subBots: 0,
    subExclusivity: 0,
    subPersistence: 0,
    subRepeat: 0,
    peerConfidence: 0,
  };

  constructor(
    private readonly config: DetectConfig,
    private readonly callbacks: DetectorCallbacks = {},
    options: { asnTable?: PrefixMap<number>; familyMap?: FamilyMap; calibration?: Calibration | null } = {},
  ) {
    this.calibration = options.calibration === undefined ? shippedCalibration : options.calibration;
    let capacity = config.maxKeys;
    if (config.memoryLimitMb > 0) {
      capacity = Math.min(capacity, Math.floor((config.memoryLimitMb * 1024 * 1024) / BYTES_PER_KEY));
    }
    this.table = new AggregateTable(Math.max(64, capacity));
    this.dirtyList = new Int32Array(this.table.capacity);
    this.subscribers = new PrefixSet(config.subscriberPrefixes);
    this.subscribers6 = this.subscribers.prefixes.filter((p) => p.family === 6);
    const v4 = this.subscribers.prefixes.filter((p) => p.family === 4);
    this.subscriberNet4 = Uint32Array.from(v4, (p) => p.network4);
    this.subscriberMask4 = Uint32Array.from(v4, (p) => p.mask4);
    this.hasSubscribers = this.subscribers.size > 0;
    this.homes = new HomeResolver(config.sharedAddressRules, config.homePrefixLength6);
    this.bots = new BotIndex([], this.homes, this.subscribers6);
    this.allow = new PrefixSet(config.allowlistPrefixes);
    this.allowAsns = new Set(config.allowlistAsns);
    this.asnTable = options.asnTable;
    this.familyMap = options.familyMap ?? new FamilyMap();
    for (const port of config.scanPorts.static) this.staticScan[port] = 1;
  }

  /**
   * Replaces the bot list: lines `bot` or `bot,family` (README: Bot list) or parsed entries.
   * Returns the entries that did not parse.
   */
  setBots(entries: Iterable<string | BotEntry>): { accepted: number; rejected: string[] } {
    const parsed: BotEntry[] = [];
    const rejected: string[] = [];
    for (const entry of entries) {
      if (typeof entry !== 'string') {
        parsed.push(entry);
        continue;
      }
      try {
        parsed.push(parseBotLine(entry));
      } catch {
        rejected.push(String(entry).slice(0, 80));
      }
    }
    this.bots = new BotIndex(parsed, this.homes, this.subscribers6);
    // Listed bots outside the ISP (e.g. from a darknet) make the external side worth a lookup.
    this.externalBots = !this.hasSubscribers || parsed.some((entry) => !this.insideSubscribers(entry));
    return { accepted: parsed.length, rejected };
  }

  private insideSubscribers(entry: BotEntry): boolean {
    const prefix = entry.prefix;
    if (prefix.family === 4)
      return this.subscribers.prefixes.some(
        (p) => p.family === 4 && p.bits <= prefix.bits && prefixContains4(p, prefix.network4),
      );
    return this.subscribers6.some((p) => p.bits <= prefix.bits && prefixContains6(p, prefix.network6));
  }

  get botListSize(): number {
    return this.bots.size;
  }

  setFamilyMap(map: FamilyMap): void {
    this.familyMap = map;
  }

  setAsnTable(table: PrefixMap<number>): void {
    this.asnTable = table;
  }

  private isSubscriber4(address: number): boolean {
    const nets = this.subscriberNet4;
    const masks = this.subscriberMask4;
    for (let k = 0; k < nets.length; k++) if ((address & masks[k]!) >>> 0 === nets[k]) return true;
    return false;
  }

  /** The bot family behind one flow side (NOT_BOT, AMBIGUOUS_BOT or a family index). */
  private botOf(v6: boolean, address4: number, bytes6: Uint8Array, off: number, port: number): number {
    return v6 ? this.bots.lookup6(bytes6, off) : this.bots.lookup4(address4, port);
  }

  private homeOf(v6: boolean, address4: number, bytes6: Uint8Array, off: number, port: number): number {
    return v6 ? this.homes.homeHash6(bytes6, off) : this.homes.homeHash4(address4, port);
  }

  /** Folds one batch into the aggregates; keeps no reference to it. Publishes what crosses the threshold. */
  ingest(batch: FlowBatch, nowMs?: number): void {
    const n = batch.length;
    const subs = this.subscribers;
    const hasSubs = this.hasSubscribers;
    let clock = this.clockMs;
    this.stats.flows += n;
    for (let i = 0; i < n; i++) {
      const v6 = batch.ipVersion[i] === 6;
      // IPv4 addresses as int32 (the same bits) from here on: small integers to V8, so passing
      // them to the per-flow helpers boxes nothing; every use takes bits or converts back.
      const src4 = batch.src4[i]! | 0;
      const dst4 = batch.dst4[i]! | 0;
      const srcPort = batch.srcPort[i]!;
      const dstPort = batch.dstPort[i]!;
      const off = i * 16;
      let direction = 0;
      let botFamily = NOT_BOT;
      let internal = false;
      if (hasSubs) {
        const srcSub = v6 ? subs.has6(batch.src6, off) : this.isSubscriber4(src4);
        const dstSub = v6 ? subs.has6(batch.dst6, off) : this.isSubscriber4(dst4);
        if (srcSub && dstSub) {
          // Inside the ISP: only a listed bot reaching an unlisted home counts (an internal P2P peer).
          const srcBot = this.botOf(v6, src4, batch.src6, off, srcPort);
          const dstBot = this.botOf(v6, dst4, batch.dst6, off, dstPort);
          if (srcBot >= 0 && dstBot === NOT_BOT) direction = FORWARD;
          else if (dstBot >= 0 && srcBot === NOT_BOT) direction = REPLY;
          else {
            this.stats.internal++;
            continue;
          }
          botFamily = direction === FORWARD ? srcBot : dstBot;
          internal = true;
        } else if (!srcSub && !dstSub) {
          this.stats.internal++;
          continue;
        } else {
          direction = srcSub ? FORWARD : REPLY;
          const externalBot = !this.externalBots
            ? NOT_BOT
            : direction === FORWARD
              ? this.botOf(v6, dst4, batch.dst6, off, dstPort)
              : this.botOf(v6, src4, batch.src6, off, srcPort);
          if (externalBot >= 0) {
            this.stats.externalIsBot++;
            continue;
          }
          botFamily =
            direction === FORWARD
              ? this.botOf(v6, src4, batch.src6, off, srcPort)
              : this.botOf(v6, dst4, batch.dst6, off, dstPort);
        }
      } else {
        const srcBot = this.botOf(v6, src4, batch.src6, off, srcPort);
        const dstBot = this.botOf(v6, dst4, batch.dst6, off, dstPort);
        if (srcBot >= 0 && dstBot >= 0) {
          // Bot to bot (P2P peers): the "external" side is itself a known bot.
          this.stats.externalIsBot++;
          continue;
        }
        if (srcBot === AMBIGUOUS_BOT || dstBot === AMBIGUOUS_BOT) botFamily = AMBIGUOUS_BOT;
        else if (srcBot >= 0 || dstBot >= 0) {
          direction = srcBot >= 0 ? FORWARD : REPLY;
          botFamily = srcBot >= 0 ? srcBot : dstBot;
        }
      }
      const end = batch.endMs[i]!;
      if (end > clock) clock = end;
      if (botFamily >= 0) this.foldBot(batch, i, direction, v6, botFamily, internal, true);
      else this.foldClient(batch, i, direction, v6, botFamily === AMBIGUOUS_BOT);
    }
    this.clockMs = nowMs !== undefined && nowMs > clock ? nowMs : clock;
    this.flushDirty();
  }

  /**
   * A home not in the bot list: a clean client of addresses already tracked, or a suspect when it
   * scans. A suspect home (it probes the bots' scan ports) is an unlisted bot: its exchanges are
   * bot evidence (family unknown). `ambiguous`: the home shares an address the list names
   * without a port; it counts only once its own scanning marks it as the bot.
   */
  private foldClient(batch: FlowBatch, i: number, direction: number, v6: boolean, ambiguous: boolean): void {
    const t = this.table;
    const off = i * 16;
    const proto = batch.proto[i]!;
    const forward = direction !== REPLY;
    // Without subscriber prefixes (direction 0) the source is taken as the client.
    const clientPort = forward ? batch.srcPort[i]! : batch.dstPort[i]!;
    const client = forward
      ? this.homeOf(v6, batch.src4[i]! | 0, batch.src6, off, clientPort)
      : this.homeOf(v6, batch.dst4[i]! | 0, batch.dst6, off, clientPort);
    const rate = batch.samplingRate[i]! || 1;
    const flags = batch.tcpFlags[i]!;
    if (proto === TCP && forward && (flags & (SYN | ACK | RST)) === SYN && batch.packets[i]! / rate <= 2) {
      // A sampled record's flags are those of the packets sampled: a lone SYN may open a normal
      // connection, so sampled probes count only toward the configured scan ports.
      const port = batch.dstPort[i]!;
      if (!COMMON_PORTS.has(port) && (rate > 1 ? this.staticScan[port] === 1 : this.isScanPort(port, TCP))) {
        const slot = client >>> (32 - SUSPECT_BITS);
        if (this.suspect[slot]! < 255) this.suspect[slot]! += 1;
      }
      if (ambiguous) this.stats.ambiguous++;
      return;
    }
    if (this.isSuspect(client)) {
      this.stats.inferredBot++;
      this.foldBot(batch, i, direction, v6, 0, false, false);
      return;
    }
    if (ambiguous) {
      // One of the homes on a shared address is a bot, we do not know which: none of them counts.
      this.stats.ambiguous++;
      return;
    }
    const clean = this.generation * 2 + (v6 ? 1 : 0);
    if (hllAdd(this.cleanPopulation[clean]!, 0, POPULATION_BITS, client))
      this.populationChanged[4 + clean] = 1;
    let e = -1;
    if (forward) {
      const dst4 = batch.dst4[i]! | 0;
      e = v6
        ? t.find6(batch.dst6, off, proto, AggregateTable.hashKey6(batch.dst6, off, proto))
        : t.find4(dst4, proto, AggregateTable.hashKey4(dst4, proto));
    }
    if (e < 0 && direction !== FORWARD) {
      const src4 = batch.src4[i]! | 0;
      e = v6
        ? t.find6(batch.src6, off, proto, AggregateTable.hashKey6(batch.src6, off, proto))
        : t.find4(src4, proto, AggregateTable.hashKey4(src4, proto));
    }
    if (e < 0) return;
    this.stats.clientContacts++;
    t.flows[e]! += 1;
    if (this.addClient(e, client)) this.markDirty(e);
  }

  /** Adds a clean home to entry `e`: exact slots first, then the sketch. True when it was new. */
  private addClient(e: number, client: number): boolean {
    const t = this.table;
    const h = (client | 1) >>> 0;
    const base = e * CLIENT_SLOTS;
    const used = t.clientSlotsUsed[e]!;
    for (let s = 0; s < used; s++) if (t.clientSlotHash[base + s] === h) return false;
    if (used < CLIENT_SLOTS) {
      t.clientSlotHash[base + used] = h;
      t.clientSlotsUsed[e] = used + 1;
      return true;
    }
    return hllAdd(t.clientHll, e << CLIENT_HLL_BITS, CLIENT_HLL_BITS, client);
  }

  /** A listed bot: scanning teaches scan ports; established exchanges become per-bot evidence. */
  private foldBot(
    batch: FlowBatch,
    i: number,
    direction: number,
    v6: boolean,
    family: number,
    internal: boolean,
    listed: boolean,
  ): void {
    const t = this.table;
    const off = i * 16;
    const forward = direction === FORWARD;
    const proto = batch.proto[i]!;
    const packets = batch.packets[i]!;
    const bytes = batch.bytes[i]!;
    const flags = batch.tcpFlags[i]!;
    const rate = batch.samplingRate[i]! || 1;
    // Packets and bytes are already scaled by the sampling rate; the gates that count packets
    // of one record use what was actually sampled.
    const sampledPackets = packets / rate;
    const clientPort = forward ? batch.srcPort[i]! : batch.dstPort[i]!;
    const port = forward ? batch.dstPort[i]! : batch.srcPort[i]!;
    const bot = forward
      ? this.homeOf(v6, batch.src4[i]! | 0, batch.src6, off, clientPort)
      : this.homeOf(v6, batch.dst4[i]! | 0, batch.dst6, off, clientPort);
    if (proto === TCP && forward && (flags & (SYN | ACK | RST)) === SYN && sampledPackets <= 2) {
      this.stats.scanFlows++;
      if (rate === 1 && listed) {
        // Only listed bots teach scan ports (inferred bots were inferred from them).
        // Sampled lone SYNs may belong to normal connections: only unsampled ones teach scan ports.
        this.scanByPort[port]! += 1;
        this.scanTotal++;
      }
      return;
    }
    if (clientPort < SERVICE_PORTS && port >= SERVICE_PORTS) {
      // The outside side initiated (a research scanner probing a subscriber's service): not contact.
      this.stats.inbound++;
      return;
    }
    const keyBytes = forward ? batch.dst6 : batch.src6;
    const key4 = (forward ? batch.dst4[i]! : batch.src4[i]!) | 0;
    const headerBytes = proto === TCP ? 40 : 28;
    const payload = bytes > packets * headerBytes;
    const established =
      proto === TCP
        ? ((flags & ACK) !== 0 && (packets >= 3 || payload)) || (packets >= 3 && payload)
        : payload && (packets >= 3 || direction === REPLY || rate > 1);
    if (payload && port >= SERVICE_PORTS && !this.isScanPort(port, proto))
      this.addPeerOf(bot, v6, key4, keyBytes, off, rate);
    if (!established) {
      this.stats.notEstablished++;
      return;
    }
    const population = this.generation * 2 + (v6 ? 1 : 0);
    if (hllAdd(this.botPopulation[population]!, 0, POPULATION_BITS, bot))
      this.populationChanged[population] = 1;
    const hash = v6 ? AggregateTable.hashKey6(keyBytes, off, proto) : AggregateTable.hashKey4(key4, proto);
    let e = v6 ? t.find6(keyBytes, off, proto, hash) : t.find4(key4, proto, hash);
    if (e < 0) {
      if (!internal && this.isAllowlisted(v6, key4, keyBytes, off)) {
        this.stats.allowlisted++;
        return;
      }
      if (t.full) this.evict();
      e = t.insert(v6 ? 6 : 4, v6 ? 0 : key4, v6 ? keyBytes : undefined, off, port, proto, hash, internal);
      t.firstSeen[e] = batch.startMs[i]! || batch.endMs[i]!;
      this.stats.keysCreated++;
    }
    this.stats.botContacts++;
    const end = batch.endMs[i]!;
    // A TCP record without SYN continues a connection (active-timeout export); UDP may continue one.
    // Sampled records miss packets (and flags): they never continue a session.
    const continued = rate === 1 && (proto !== TCP || (flags & SYN) === 0);
    // The chance that 1:N packet sampling lets a record of `packets` packets through at all: a
    // contact seen under sampling stands for 1/seen contacts (Horvitz-Thompson).
    const seen = rate === 1 ? 1 : 1 - Math.pow(1 - 1 / rate, Math.max(1, packets));
    this.recordBotContact(
      e,
      bot,
      family,
      batch.startMs[i]! || end,
      end,
      bytes,
      clientPort,
      port,
      rate,
      seen,
      continued,
    );
  }

  /** Counts a high-port address the bot home exchanged data with (its P2P fan-out). */
  private addPeerOf(
    bot: number,
    v6: boolean,
    key4: number,
    keyBytes: Uint8Array,
    off: number,
    rate: number,
  ): void {
    const peer = v6
      ? mix32(word32(keyBytes, off + 12) ^ mix32(word32(keyBytes, off + 4) ^ HASH_SEED))
      : mix32(key4 ^ HASH_SEED);
    const home = bot >>> (32 - FANOUT_HOMES_BITS);
    const g = this.generation;
    const sketch = this.fanout[g]!;
    if (!hllAdd(sketch, home << FANOUT_BITS, FANOUT_BITS, peer) || this.p2pHome[g]![home]) return;
    // Sampling hides most short peer exchanges (one or two packets): fewer distinct peers suffice.
    const minPeers = Math.max(4, this.config.p2p.minPeers / Math.sqrt(rate));
    if (hllEstimate(sketch, home << FANOUT_BITS, FANOUT_BITS) >= minPeers) this.p2pHome[g]![home] = 1;
  }

  private recordBotContact(
    e: number,
    botHash: number,
    family: number,
    start: number,
    end: number,
    bytes: number,
    clientPort: number,
    port: number,
    rate: number,
    seen: number,
    continued: boolean,
  ): void {
    const t = this.table;
    const h = (botHash | 1) >>> 0; // 0 marks an empty slot
    const base = e * BOT_SLOTS;
    const used = t.botSlotsUsed[e]!;
    let slot = -1;
    for (let s = 0; s < used; s++) {
      if (t.botSlotHash[base + s] === h) {
        slot = base + s;
        break;
      }
    }
    if (slot >= 0) this.followBot(slot, start, end, bytes, clientPort, seen, continued);
    else if (used < BOT_SLOTS) {
      slot = base + used;
      t.botSlotHash[slot] = h;
      t.botSlotLast[slot] = start;
      t.botSlotLastEnd[slot] = end;
      t.botSlotContacts[slot] = 1;
      t.botSlotEstContacts[slot] = 1 / seen;
      t.botSlotPort[slot] = clientPort;
      t.botSlotFamily[slot] = family;
      t.botSlotsUsed[e] = used + 1;
    }
    hllAdd(t.botHll, e << BOT_HLL_BITS, BOT_HLL_BITS, botHash);
    if (port !== t.port[e]) {
      t.port[e] = port;
      if (t.portChanges[e]! < 65535) t.portChanges[e]! += 1;
    }
    if (rate > t.samplingMax[e]!) t.samplingMax[e] = rate;
    t.seenProbSum[e]! += seen;
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

  /**
   * A known bot again: a record continuing its connection (same client port, right after the
   * last) extends a held session; a new contact adds one interval to that bot's own statistics.
   */
  private followBot(
    slot: number,
    start: number,
    end: number,
    bytes: number,
    clientPort: number,
    seen: number,
    continued: boolean,
  ): void {
    const t = this.table;
    const lastEnd = t.botSlotLastEnd[slot]!;
    if (
      continued &&
      clientPort !== 0 &&
      clientPort === t.botSlotPort[slot] &&
      start - lastEnd <= SESSION_IDLE_MS &&
      end > lastEnd
    ) {
      // The same connection again: never a new contact. It holds a session only while it idles
      // like a command channel; kilobytes a second is a game or a stream.
      if (bytes * 1000 <= this.config.scoring.sessionMaxBytesPerS * Math.max(1000, end - start))
        t.botSlotSessionMs[slot]! += end - lastEnd;
      t.botSlotLastEnd[slot] = end;
      return;
    }
    const gap = start - t.botSlotLast[slot]!;
    if (gap < this.config.scoring.minGapMs) {
      if (end > lastEnd) t.botSlotLastEnd[slot] = end;
      return;
    }
    if (t.botSlotContacts[slot]! < 65535) t.botSlotContacts[slot]! += 1;
    t.botSlotEstContacts[slot]! += 1 / seen;
    if (t.botSlotGapN[slot]! < 65535) {
      const n = ++t.botSlotGapN[slot]!;
      const delta = gap - t.botSlotGapMean[slot]!;
      t.botSlotGapMean[slot]! += delta / n;
      t.botSlotGapM2[slot]! += delta * (gap - t.botSlotGapMean[slot]!);
    }
    t.botSlotLast[slot] = start;
    t.botSlotLastEnd[slot] = end;
    t.botSlotPort[slot] = clientPort;
  }

  private markDirty(e: number): void {
    if (this.table.dirty[e]) return;
    this.table.dirty[e] = 1;
    this.dirtyList[this.dirtyCount++] = e;
  }

  private isAllowlisted(v6: boolean, ip4: number, bytes: Uint8Array, offset: number): boolean {
    if (this.allow.size > 0 && (v6 ? this.allow.has6(bytes, offset) : this.allow.has4(ip4 >>> 0)))
      return true;
    if (this.allowAsns.size > 0 && this.asnTable) {
      const asn = v6 ? this.asnTable.get6(bytes, offset) : this.asnTable.get4(ip4 >>> 0);
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

  /** True when the bot home reached p2p.minPeers distinct high-port peers in the last expiry periods. */
  private isP2pBot(botHash: number): boolean {
    const home = botHash >>> (32 - FANOUT_HOMES_BITS);
    return this.p2pHome[0]![home] === 1 || this.p2pHome[1]![home] === 1;
  }

  private isSuspect(clientHash: number): boolean {
    return this.suspect[clientHash >>> (32 - SUSPECT_BITS)]! >= SUSPECT_PROBES;
  }

  private refreshPopulation(): void {
    this.populationAtMs = this.clockMs;
    const estimate = this.populationEstimate;
    const changed = this.populationChanged;
    for (let k = 0; k < 8; k++) {
      if (!changed[k]) continue;
      changed[k] = 0;
      estimate[k] = hllEstimate(
        k < 4 ? this.botPopulation[k]! : this.cleanPopulation[k - 4]!,
        0,
        POPULATION_BITS,
      );
    }
    for (let v6 = 0; v6 < 2; v6++) {
      this.botHomes[v6] = Math.max(estimate[v6]!, estimate[2 + v6]!);
      this.cleanHomes[v6] = Math.max(estimate[4 + v6]!, estimate[6 + v6]!);
    }
  }

  /** Per-bot evidence of entry `e` into the scratch: returning bots, periodicity, sessions, family, P2P. */
  private perBotEvidence(e: number): void {
    const t = this.table;
    const s = this.s;
    const c = this.config.scoring;
    const used = t.botSlotsUsed[e]!;
    const base = e * BOT_SLOTS;
    let returning = 0;
    let contacts = 0;
    let periodic = 0;
    let periodicity = 0;
    let gapMean = 0;
    let gapCv = 0;
    let held = 0;
    let p2p = 0;
    let returningEst = 0;
    const sampled = t.samplingMax[e]! > 1;
    this.familyVotes.fill(0);
    for (let k = 0; k < used; k++) {
      const slot = base + k;
      const n = t.botSlotContacts[slot]!;
      contacts += n;
      const holds = t.botSlotSessionMs[slot]! >= c.sessionMs;
      if (holds) held++;
      // Under sampling a bot returns when it was seen again and its estimated contacts reach the
      // gate; unsampled, its own contacts do.
      const est = t.botSlotEstContacts[slot]!;
      if (holds || (sampled ? n >= 2 && est >= c.minContacts : n >= c.minContacts)) {
        returning++;
        returningEst += est;
      }
      const gaps = t.botSlotGapN[slot]!;
      if (gaps >= c.minGaps) {
        const mean = t.botSlotGapMean[slot]!;
        const cv = mean > 0 ? Math.sqrt(Math.max(0, t.botSlotGapM2[slot]!) / gaps) / mean : 1;
        periodic++;
        periodicity += Math.max(0, 1 - cv / c.periodicCv);
        gapMean += mean;
        gapCv += cv;
      }
      if (this.isP2pBot(t.botSlotHash[slot]!)) p2p++;
      this.familyVotes[k] = t.botSlotFamily[slot]!;
    }
    s.returning = Math.max(returning, t.baseReturning[e]!);
    s.returningEst = returning ? returningEst / returning : 0;
    s.contactsPerBot = used ? contacts / used : 0;
    s.periodicBots = periodic;
    s.periodicity = periodic ? periodicity / periodic : t.basePeriodicity[e]!;
    s.meanGapMs = periodic ? gapMean / periodic : 0;
    s.gapCv = periodic ? gapCv / periodic : 0;
    s.held = held;
    s.p2pShare = used ? p2p / used : 0;
    this.majorityFamily(used);
  }

  /** The most common named family among the slotted bots, and its share of them. */
  private majorityFamily(used: number): void {
    const votes = this.familyVotes;
    let best = 0;
    let bestCount = 0;
    for (let k = 0; k < used; k++) {
      const family = votes[k]!;
      if (family === 0) continue;
      let count = 0;
      for (let j = 0; j < used; j++) if (votes[j] === family) count++;
      if (count > bestCount || (count === bestCount && family < best)) {
        best = family;
        bestCount = count;
      }
    }
    this.s.family = best;
    this.s.familyShare = used ? bestCount / used : 0;
  }

  /** Clean clients of `e` (suspect homes left out) and the population test into the scratch. */
  private populationTest(e: number): void {
    const t = this.table;
    const s = this.s;
    const used = t.clientSlotsUsed[e]!;
    let suspects = 0;
    for (let k = 0; k < used; k++) if (this.isSuspect(t.clientSlotHash[e * CLIENT_SLOTS + k]!)) suspects++;
    let clients = used - suspects;
    if (used === CLIENT_SLOTS) {
      const beyond = hllEstimate(t.clientHll, e << CLIENT_HLL_BITS, CLIENT_HLL_BITS);
      clients += Math.round(beyond * (clients / CLIENT_SLOTS));
    }
    clients = Math.max(clients, t.baseClients[e]!);
    s.clients = clients;
    s.suspects = suspects;
    const bots = s.bots;
    const v6 = t.family[e] === 6 ? 1 : 0;
    const restored = this.restoredPopulation;
    const floor = this.clockMs < restored.untilMs;
    const botHomes = Math.max(this.botHomes[v6]!, floor ? restored.botHomes[v6]! : 0, bots, 1);
    const cleanHomes = Math.max(this.cleanHomes[v6]!, floor ? restored.cleanHomes[v6]! : 0, clients);
    s.botHomes = botHomes;
    s.cleanHomes = cleanHomes;
    const prior = this.config.scoring.cleanPrior;
    const a = prior[0];
    const b = prior[1];
    const botShare = (bots + 0.5) / (botHomes + 1);
    const cleanShare = (clients + a) / (cleanHomes + a + b);
    // A lower bound (enrichmentZ standard errors of the bots' log share) keeps niche services
    // that two or three bot homes happen to use from looking exclusive by chance; the clean
    // side's uncertainty is in its prior.
    const logSe = Math.sqrt(1 / (bots + 0.5));
    s.enrichment = (botShare / cleanShare) * Math.exp(-this.config.scoring.enrichmentZ * logSe);
    const pooled = (bots + clients) / (botHomes + cleanHomes);
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / botHomes + 1 / Math.max(1, cleanHomes)));
    s.z = se > 0 ? (bots / botHomes - clients / Math.max(1, cleanHomes)) / se : 0;
    const { enrichmentStart, enrichmentFull } = this.config.scoring;
    s.subExclusivity = Math.max(
      0,
      Math.min(1, Math.log(s.enrichment / enrichmentStart) / Math.log(enrichmentFull / enrichmentStart)),
    );
  }

  /** Scores entry `e` (0-100) and leaves its evidence in the scratch; also the peer confidence. */
  private score(e: number): number {
    const t = this.table;
    const c = this.config.scoring;
    const s = this.s;
    s.bots = this.distinctBots(e);
    this.perBotEvidence(e);
    this.populationTest(e);
    const used = t.botSlotsUsed[e]!;
    s.subBots = Math.min(1, s.returning / c.fullBots);
    s.subPersistence = Math.min(1, t.windowsSeen[e]! / c.persistenceWindows);
    const returningShare = used ? s.returning / used : s.returning > 0 ? 1 : 0;
    const periodic = s.periodicity * Math.min(1, s.periodicBots / c.minBots);
    const held = Math.min(1, s.held / c.minBots);
    // Under packet sampling a bot's contacts are seen at random, so its intervals are multiples of
    // its period: returning alone is the repeat evidence, at `sampledRepeat` credit...
    // Only when nearly every bot comes back (a P2P node some bots revisit does not).
    let sampled = 0;
    s.expectedReturning = 1;
    if (t.samplingMax[e]! > 1 && t.botFlows[e]! > 0) {
      // The share of a C&C server's bots that sampling shows at least twice, given they were seen
      // once: q is the mean chance a contact gets through, n the returning bots' estimated
      // contacts. Returning share is judged against it, so missing observations do not count
      // against a server; P2P peers (a few contacts a bot) stay far below it.
      const q = Math.min(1, t.seenProbSum[e]! / t.botFlows[e]!);
      const n = Math.max(c.minContacts, s.returningEst);
      const none = Math.pow(1 - q, n);
      const once = n * q * Math.pow(1 - q, n - 1);
      const expected = none < 1 ? Math.max(0.05, (1 - none - once) / (1 - none)) : 1;
      s.expectedReturning = expected;
      const judged = Math.min(1, returningShare / expected);
      sampled =
        c.sampledRepeat *
        Math.max(0, Math.min(1, (judged - 0.4) / 0.4)) *
        Math.min(1, s.returning / c.minBots);
    }
    const measured = Math.min(1, returningShare) * Math.max(periodic, held, used ? 0 : s.periodicity);
    s.subRepeat = Math.max(measured, Math.min(1, returningShare) * sampled);
    const p2p = this.config.p2p;
    // P2P peers are reached by many bots a few times each at random moments: a destination the
    // bots come back to on their own period is a C&C server even when some of them also run P2P
    // (or BitTorrent) and so have a wide fan-out.
    s.peer = s.p2pShare >= p2p.minShare && t.port[e]! >= SERVICE_PORTS && s.subRepeat < p2p.maxRepeat;
    s.peerConfidence =
      s.peer && s.bots >= p2p.minBots
        ? Math.round(
            100 * Math.min(1, s.bots / c.fullBots) * (t.internal[e] ? 1 : s.subExclusivity) * s.p2pShare,
          )
        : 0;
    // Peers and subscriber addresses are never C&C servers.
    if (s.peer || t.internal[e] || s.returning < c.minBots) return 0;
    const w = c.weights;
    const total = w.base + w.repeat;
    const quality = total === 0 ? 1 : (w.base + w.repeat * s.subRepeat) / total;
    // Persistence multiplies: a destination seen for a few minutes has too little population data.
    return Math.round(100 * s.subBots * s.subExclusivity * s.subPersistence * quality);
  }

  /** Re-scores entry `e` and publishes or withdraws on a threshold crossing. */
  private rescore(e: number): void {
    const t = this.table;
    const confidence = this.score(e);
    t.confidence[e] = confidence;
    const { threshold, hysteresis } = this.config.scoring;
    if (t.published[e] && t.publishedPort[e] !== t.port[e] && confidence >= threshold) {
      // The server moved to another port (fast flux): the old key is withdrawn, the new published.
      this.withdraw(e, confidence, 'port-moved');
    }
    if (!t.published[e] && confidence >= threshold) {
      t.published[e] = 1;
      t.publishedPort[e] = t.port[e]!;
      this.stats.published++;
      this.callbacks.onPublish?.(this.buildCandidate(e, confidence));
    } else if (t.published[e] && confidence < threshold - hysteresis) {
      this.withdraw(e, confidence, 'below-threshold');
    }
    const peerConfidence = this.s.peerConfidence;
    t.peerConfidence[e] = peerConfidence;
    if (!t.peerPublished[e] && peerConfidence >= threshold) {
      t.peerPublished[e] = 1;
      this.stats.peers++;
      this.callbacks.onPeer?.(this.buildPeer(e, peerConfidence));
    }
  }

  private withdraw(e: number, confidence: number, reason: WithdrawReason): void {
    const t = this.table;
    t.published[e] = 0;
    this.stats.withdrawn++;
    this.callbacks.onWithdraw?.(this.buildCandidate(e, confidence, t.publishedPort[e]!), reason);
  }

  private flushDirty(): void {
    const t = this.table;
    // Population sizes move slowly (hour-long sketches): estimating eight sketches per batch cost
    // more than scoring; tick refreshes them every call.
    if (this.dirtyCount > 0 && this.clockMs - this.populationAtMs >= POPULATION_REFRESH_MS)
      this.refreshPopulation();
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
    if (t.published[e]) this.withdraw(e, t.confidence[e]!, reason);
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
        ? (t.published[e] || t.peerPublished[e] ? 6e15 : 0) +
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
    this.refreshPopulation();
    const t = this.table;
    const horizon = nowMs - this.config.expiryMs;
    const minBots = this.config.scoring.minBots;
    const full = this.ticks++ % 10 === 0;
    for (let e = 0; e < t.highWater; e++) {
      if (!t.live[e]) continue;
      if (t.lastSeen[e]! < horizon) {
        this.drop(e, 'expired');
        this.stats.expired++;
      } else if (t.published[e] || (full && (t.botSlotsUsed[e]! >= minBots || t.baseBots[e]! >= minBots))) {
        // Keys with new contact were scored as it came; idle ones only drift with the population.
        this.rescore(e);
      }
    }
    this.rotate(nowMs);
  }

  /**
   * Every expiry period: old scanning fades (halved), and the population, fan-out and suspect
   * sketches start a new generation so they describe recent behaviour.
   */
  private rotate(nowMs: number): void {
    if (nowMs - this.lastRotationMs < this.config.expiryMs) return;
    if (this.lastRotationMs !== 0) {
      for (let p = 0; p < 65536; p++) this.scanByPort[p]! *= 0.5;
      this.scanTotal *= 0.5;
      this.generation ^= 1;
      for (let v6 = 0; v6 < 2; v6++) {
        const k = this.generation * 2 + v6;
        this.botPopulation[k]!.fill(0);
        this.cleanPopulation[k]!.fill(0);
        this.populationChanged[k] = 1;
        this.populationChanged[4 + k] = 1;
      }
      this.fanout[this.generation]!.fill(0);
      this.p2pHome[this.generation]!.fill(0);
      // Each byte halved (>> 1 per byte: the bit shifted in from the next byte is masked off).
      const words = this.suspectWords;
      for (let k = 0; k < words.length; k++) words[k] = (words[k]! >>> 1) & 0x7f7f7f7f;
    }
    this.lastRotationMs = nowMs;
  }

  /** Families of restored aggregates, interned ('' first): their bots are not persisted. */
  private readonly restoredFamilies: string[] = [''];

  /** The bots' majority family of the scored entry, else the one it was restored with. */
  private botFamilyOf(e: number): string {
    if (this.s.family !== 0) return this.bots.families[this.s.family] ?? '';
    return this.restoredFamilies[this.table.baseFamily[e]!] ?? '';
  }

  private ipText(e: number): string {
    const t = this.table;
    return t.family[e] === 6 ? ipv6ToString(t.ip6, e * 16) : ipv4ToString(t.ip4[e]!);
  }

  /** The family file's name for the address when it has one, else the bots' majority family. */
  private familyOf(e: number): string {
    const t = this.table;
    if (this.familyMap.size > 0) {
      const named = this.familyMap.lookup(
        t.family[e] as 4 | 6,
        t.ip4[e]!,
        t.ip6,
        e * 16,
        t.port[e]!,
        t.proto[e]!,
      );
      if (named) return named;
    }
    return this.botFamilyOf(e);
  }

  private buildEvidence(e: number): Evidence {
    const t = this.table;
    const s = this.s;
    const bytesN = t.bytesN[e]!;
    const used = t.botSlotsUsed[e]!;
    return {
      bots: s.bots,
      returningBots: s.returning,
      returningShare: round3(used ? s.returning / used : 0),
      contactsPerBot: round3(s.contactsPerBot),
      periodicBots: s.periodicBots,
      periodicity: round3(s.periodicity),
      meanGapS: round3(s.meanGapMs / 1000),
      gapCv: round3(s.gapCv),
      heldSessions: s.held,
      clients: s.clients,
      suspectClients: s.suspects,
      botHomes: Math.round(s.botHomes),
      cleanHomes: Math.round(s.cleanHomes),
      enrichment: round3(s.enrichment),
      z: round3(s.z),
      familyShare: round3(s.familyShare),
      p2pShare: round3(s.p2pShare),
      ports: t.portChanges[e]!,
      samplingRate: t.samplingMax[e]!,
      flows: t.flows[e]!,
      botFlows: t.botFlows[e]!,
      meanBytesPerFlow: Math.round(t.bytesMean[e]!),
      sdBytesPerFlow: bytesN > 1 ? Math.round(Math.sqrt(t.bytesM2[e]! / (bytesN - 1))) : 0,
      windowsSeen: t.windowsSeen[e]!,
      scanPort: this.isScanPort(t.port[e]!, t.proto[e]!),
      sub: {
        bots: round3(s.subBots),
        exclusivity: round3(s.subExclusivity),
        persistence: round3(s.subPersistence),
        repeat: round3(s.subRepeat),
      },
    };
  }

  /** The published confidence of raw score `raw` for entry `e` (calibrated when a curve is loaded). */
  private published(e: number, raw: number): number {
    return this.calibration ? this.calibration.confidence(raw, this.table.samplingMax[e]! > 1) : raw;
  }

  private buildCandidate(e: number, raw: number, port = this.table.port[e]!): Candidate {
    const t = this.table;
    this.score(e); // refresh the scratch evidence
    const confidence = this.published(e, raw);
    const ip = this.ipText(e);
    const proto = t.proto[e]!;
    return {
      key: `${ip}|${port}|${proto}`,
      ip,
      port,
      proto,
      confidence,
      family: this.familyOf(e),
      evidence: { ...this.buildEvidence(e), score: raw },
      firstSeenMs: t.firstSeen[e]!,
      lastSeenMs: t.lastSeen[e]!,
    };
  }

  private buildPeer(e: number, confidence: number): Peer {
    const t = this.table;
    this.score(e);
    const ip = this.ipText(e);
    return {
      key: `${ip}|${t.port[e]!}|${t.proto[e]!}`,
      ip,
      port: t.port[e]!,
      proto: t.proto[e]!,
      confidence,
      family: this.familyOf(e),
      internal: t.internal[e] === 1,
      evidence: this.buildEvidence(e),
    };
  }

  /**
   * The current score and evidence of the tracked address `ip` (any port), or undefined when it
   * is not tracked: for diagnosis (bench/detect/explain.ts), never on the hot path.
   */
  explain(ip: string, proto: number): { confidence: number; port: number; evidence: Evidence } | undefined {
    this.flushDirty();
    const t = this.table;
    const prefix = parsePrefix(ip);
    const v6 = prefix.family === 6;
    const hash = v6
      ? AggregateTable.hashKey6(prefix.network6, 0, proto)
      : AggregateTable.hashKey4(prefix.network4, proto);
    const e = v6 ? t.find6(prefix.network6, 0, proto, hash) : t.find4(prefix.network4, proto, hash);
    if (e < 0) return undefined;
    this.refreshPopulation();
    const confidence = this.score(e);
    return { confidence, port: t.port[e]!, evidence: this.buildEvidence(e) };
  }

  /** Published candidates, highest confidence first. */
  candidates(): Candidate[] {
    this.flushDirty();
    const t = this.table;
    const out: Candidate[] = [];
    for (let e = 0; e < t.highWater; e++)
      if (t.live[e] && t.published[e])
        out.push(this.buildCandidate(e, t.confidence[e]!, t.publishedPort[e]!));
    return out.sort((a, b) => b.confidence - a.confidence || a.key.localeCompare(b.key));
  }

  /** P2P peers reported and still tracked, highest confidence first. */
  peers(): Peer[] {
    this.flushDirty();
    const t = this.table;
    const out: Peer[] = [];
    for (let e = 0; e < t.highWater; e++)
      if (t.live[e] && t.peerPublished[e]) out.push(this.buildPeer(e, t.peerConfidence[e]!));
    return out.sort((a, b) => b.confidence - a.confidence || a.key.localeCompare(b.key));
  }

  /** Peer rows: external peers by default; `internal: true` gives the ISP's own infected homes instead. */
  peerRows(options: { internal?: boolean } = {}): PeerRow[] {
    const internal = options.internal ?? false;
    return this.peers()
      .filter((p) => p.internal === internal)
      .map((p) => peerRow(p));
  }

  /** The shareable list: ip, port, proto, confidence, family. Nothing else leaves. */
  shareableRows(): ShareRow[] {
    return this.candidates().map((c) => shareRow(c));
  }

  /** Every live external aggregate in its persistable form (counts only; subscriber homes never). */
  exportState(): PersistedAggregate[] {
    this.flushDirty();
    const t = this.table;
    const out: PersistedAggregate[] = [];
    for (let e = 0; e < t.highWater; e++) {
      if (!t.live[e] || t.internal[e]) continue;
      this.score(e);
      const expires = t.lastSeen[e]! + this.config.expiryMs;
      out.push({
        ip: this.ipText(e),
        port: t.port[e]!,
        proto: t.proto[e]!,
        bots: this.s.bots,
        returningBots: this.s.returning,
        periodicity: round3(
          this.s.periodicBots ? this.s.periodicity : Math.max(this.s.periodicity, Math.min(1, this.s.held)),
        ),
        clients: this.s.clients,
        flows: t.flows[e]!,
        botFlows: t.botFlows[e]!,
        bytes: [t.bytesN[e]!, Math.round(t.bytesMean[e]!), Math.round(t.bytesM2[e]!)],
        windowsSeen: t.windowsSeen[e]!,
        expiresAtMs: Math.ceil(expires / EXPIRY_GRANULARITY_MS) * EXPIRY_GRANULARITY_MS,
        ...(this.botFamilyOf(e) ? { family: this.botFamilyOf(e) } : {}),
      });
    }
    return out;
  }

  /** The population sizes (homes, IPv4 and IPv6) the saved aggregates were judged against: counts only. */
  exportPopulation(): PersistedPopulation {
    this.refreshPopulation();
    const restored = this.restoredPopulation;
    const floor = this.clockMs < restored.untilMs;
    const larger = (live: number[], saved: number[]) =>
      [0, 1].map((v6) => Math.round(Math.max(live[v6]!, floor ? saved[v6]! : 0)));
    return {
      botHomes: larger(this.botHomes, restored.botHomes),
      cleanHomes: larger(this.cleanHomes, restored.cleanHomes),
    };
  }

  /**
   * Restores aggregates saved by exportState(); those expired at `nowMs` are skipped. Returns how
   * many. With the saved population, restored evidence is judged against it until it expires.
   */
  importState(rows: PersistedAggregate[], nowMs: number, population?: PersistedPopulation): number {
    const t = this.table;
    let restored = 0;
    if (population) {
      const until = rows.reduce((latest, row) => Math.max(latest, row.expiresAtMs), -Infinity);
      this.restoredPopulation.botHomes = [...population.botHomes];
      this.restoredPopulation.cleanHomes = [...population.cleanHomes];
      this.restoredPopulation.untilMs = until;
    }
    for (const row of rows) {
      if (row.expiresAtMs <= nowMs || t.full) continue;
      const prefix = parsePrefix(row.ip);
      const v6 = prefix.family === 6;
      const bytes = prefix.network6;
      const hash = v6
        ? AggregateTable.hashKey6(bytes, 0, row.proto)
        : AggregateTable.hashKey4(prefix.network4, row.proto);
      const existing = v6 ? t.find6(bytes, 0, row.proto, hash) : t.find4(prefix.network4, row.proto, hash);
      if (existing >= 0) continue;
      const e = t.insert(v6 ? 6 : 4, prefix.network4, v6 ? bytes : undefined, 0, row.port, row.proto, hash);
      t.baseBots[e] = row.bots;
      t.baseReturning[e] = row.returningBots;
      t.basePeriodicity[e] = row.periodicity;
      t.baseClients[e] = row.clients;
      t.flows[e] = row.flows;
      t.botFlows[e] = row.botFlows;
      [t.bytesN[e], t.bytesMean[e], t.bytesM2[e]] = row.bytes;
      t.windowsSeen[e] = row.windowsSeen;
      if (row.family) {
        let index = this.restoredFamilies.indexOf(row.family);
        if (index < 0 && this.restoredFamilies.length < 0xffff)
          index = this.restoredFamilies.push(row.family) - 1;
        t.baseFamily[e] = Math.max(0, index);
      }
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

export function shareRow(c: Candidate): ShareRow {
  return { ip: c.ip, port: c.port, proto: protoName(c.proto), confidence: c.confidence, family: c.family };
}

export function peerRow(p: Peer): PeerRow {
  return {
    ip: p.ip,
    port: p.port,
    proto: protoName(p.proto),
    confidence: p.confidence,
    family: p.family,
    bots: p.evidence.bots,
  };
}
