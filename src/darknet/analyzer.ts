/**
 * Darknet analysis: each packet to the darknet updates its source's state (counts, sketches,
 * fingerprints) and the port statistics; sources are classified with their evidence on demand
 * and when they expire. Nothing here allocates per packet.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  hllAdd,
  hllCount,
  ipv4FromString,
  ipv4ToString,
  ipv6FromString,
  type Logger,
  mix32,
  parsePrefix,
  type Prefix,
  prefixContains6,
} from '../core/index.ts';
import {
  type CaptureStats,
  type OpenCaptureOptions,
  PacketInfo,
  parseFrame,
  ParseResult,
  type PcapFormat,
} from '../packet/index.ts';
import type { DarknetConfig, SourceClass } from './config.ts';
import type { RangeTable } from './ranges.ts';
import { loadNativeDarknet, NativeSlot, type NativeDarknetBinding } from './native/index.ts';
import { CompiledRules } from './rules.ts';
import { formatHostRow, HOSTS_CSV_HEADER, type SourceRecord } from './source-record.ts';
import {
  F_KEY,
  B_DST_SKETCH,
  B_PORT_SKETCH,
  B_PORTS_OVERFLOW,
  B_PROTO_MASK,
  D_FIRST_SEEN,
  D_LAST_SEEN,
  D_PACKETS,
  DST_BITS,
  F_BACKSCATTER,
  F_FRAGMENTS,
  F_MASSCAN,
  F_MIRAI,
  F_PROBES,
  F_SYN,
  F_ZMAP,
  PORT_BITS,
  PORT_SLOTS,
  PROTO_BIT_ICMP,
  PROTO_BIT_OTHER,
  PROTO_BIT_TCP,
  PROTO_BIT_UDP,
  RECORD_BYTES,
  RECORD_F64,
  RECORD_U32,
  SourceTable,
} from './sources.ts';
import { PortStats, type StatsRow, type StatsRowBatch, type Surge } from './stats.ts';

/** ZMap's fixed IP identification before version 2.1 (and in many forks since). */
export const ZMAP_IP_ID = 54321;

const TCP_SYN = 2;
const TCP_RST = 4;
const TCP_ACK = 16;

export interface DarknetDeps {
  logger?: Logger;
  registry?: Registry;
  /** ASN ranges (`start,end,asn,name`) for per-ASN statistics and ISP lists by ASN. */
  asn?: RangeTable;
  /** Country ranges (`start,end,country`) for per-country statistics. */
  country?: RangeTable;
  /** Known research/benign scanner networks. */
  scanners?: RangeTable;
  /** Receives statistics rows as buckets close (for streaming to a file). */
  onStatsRow?: (row: StatsRow) => void;
  /** Receives the same rows a closing layer at a time, as columns (no object per row). */
  onStatsRows?: (batch: StatsRowBatch) => void;
  onSurge?: (surge: Surge) => void;
  /** Use the C hot loop for classic pcap input when it is built (default true). */
  native?: boolean;
  /** Bytes of a capture file mapped at once with the C loop (default 32 MiB; a multiple of 4096). */
  mapWindowBytes?: number;
}

/** The record handed to the hub (intel) for each infected host. */
export interface BotIndicator {
  type: 'bot';
  ip: string;
  fingerprint: string;
  class: SourceClass;
  firstSeen: string;
  lastSeen: string;
  packets: number;
  ports: number[];
  tier: DarknetConfig['indicators']['tier'];
  tlp: DarknetConfig['indicators']['tlp'];
  evidence: string;
}

export interface DarknetCounters {
  /** Frames offered (parsed or not). */
  frames: number;
  /** Packets whose destination is in the darknet. */
  darknet: number;
  /** IP packets to other destinations: counted and ignored. */
  notDarknet: number;
  /** Parse outcomes that stop a frame before an IP header: not IP, unknown link, bad header. */
  notIp: number;
  unsupportedLink: number;
  badHeader: number;
  /** Frames cut inside their headers (snaplen or corruption): addresses used when read, transport ignored. */
  truncated: number;
  /** Non-first fragments (no transport header). */
  fragments: number;
  /** Darknet packets whose source could not get a slot (table full). */
  untracked: number;
  /** Sources expired from the table after idling. */
  expired: number;
}

/** A source's strongest fingerprint: its name, the class it gives, the user rule (-1 built in) and the matching probes. */
interface FingerprintMatch {
  name: string;
  cls: SourceClass;
  rule: number;
  hits: number;
  of: number;
}

/**
 * Bytes of a capture mapped at once. Small enough that a live mapping never looks like memory
 * pressure to V8 (which counts it and collects garbage to relieve it), large enough that mapping
 * costs nothing per packet.
 */
const MAP_WINDOW_BYTES = 32 << 20;

const CLASS_RANK: Record<SourceClass, number> = { infected: 3, benign: 2, backscatter: 1, unknown: 0 };

export class DarknetAnalyzer {
  readonly table: SourceTable;
  readonly stats: PortStats;
  readonly rules: CompiledRules;
  readonly counters: DarknetCounters = {
    frames: 0,
    darknet: 0,
    notDarknet: 0,
    notIp: 0,
    unsupportedLink: 0,
    badHeader: 0,
    truncated: 0,
    fragments: 0,
    untracked: 0,
    expired: 0,
  };
  /** Per ASN / country row: packets and sources (sources count table entries, so a source that expires and returns counts twice). */
  readonly asnPackets: Float64Array;
  readonly asnSources: Float64Array;
  readonly countryPackets: Float64Array;
  readonly countrySources: Float64Array;
  /** Latest capture time seen. */
  now = 0;
  /**
   * Capture time of the packet being observed. Hot internal calls read it from here: a double
   * passed as an argument to a call that is not inlined is boxed on the heap, once per packet.
   */
  private frameTimeMs = 0;
  private readonly info = new PacketInfo();
  /** Whether ASN or country tables were given (else no packet reads a source's rows). */
  private readonly hasGeo: boolean;
  private readonly start4: Float64Array;
  private readonly end4: Float64Array;
  private readonly prefixes6: Prefix[];
  private readonly acceptAll: boolean;
  private nextSweep = 0;
  private readonly sweepEveryMs: number;
  /** Classified sources that left the table (unknowns are only counted). */
  private readonly finished = new Map<string, SourceRecord>();
  private readonly isps: { name: string; prefixes: Prefix[]; asns: Set<string> }[];
  /** The C hot loop, when built and allowed (never with user rules, which it does not apply). */
  private readonly native: NativeDarknetBinding | undefined;
  private readonly nativeState = new Float64Array(NativeSlot.COUNT);
  /** Darknet IPv4 ranges as [start, end] pairs, for the C hot loop. */
  private readonly ranges4: Float64Array;

  constructor(
    readonly config: DarknetConfig,
    private readonly deps: DarknetDeps = {},
  ) {
    this.rules = new CompiledRules(config.rules);
    this.table = new SourceTable(config.sources.capacity, this.rules.count);
    this.stats = new PortStats({
      ...config.stats,
      onRow: deps.onStatsRow,
      onRows: deps.onStatsRows,
      onSurge: deps.onSurge,
    });
    const prefixes = config.prefixes.map((p) => parsePrefix(p));
    this.acceptAll = prefixes.length === 0;
    const ranges = prefixes
      .filter((p) => p.family === 4)
      .map((p) => [p.network4, (p.network4 | (~p.mask4 >>> 0)) >>> 0] as [number, number])
      .sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    this.start4 = Float64Array.from(merged.map((r) => r[0]));
    this.end4 = Float64Array.from(merged.map((r) => r[1]));
    this.prefixes6 = prefixes.filter((p) => p.family === 6);
    this.ranges4 = Float64Array.from(merged.flat());
    const load = loadNativeDarknet();
    this.native = deps.native !== false && this.rules.count === 0 ? load.binding : undefined;
    if (this.native) this.stats.useNative(this.native);
    this.nativeUnavailable =
      deps.native === false
        ? 'turned off'
        : this.rules.count > 0
          ? 'user rules are applied in TypeScript'
          : (load.error ?? '');
    this.asnPackets = new Float64Array(deps.asn?.size ?? 0);
    this.asnSources = new Float64Array(deps.asn?.size ?? 0);
    this.countryPackets = new Float64Array(deps.country?.size ?? 0);
    this.countrySources = new Float64Array(deps.country?.size ?? 0);
    this.hasGeo = this.asnPackets.length > 0 || this.countryPackets.length > 0;
    this.sweepEveryMs = Math.max(60_000, Math.floor(config.sources.idleTimeoutMs / 4));
    this.isps = config.isps.map((isp) => ({
      name: isp.name,
      prefixes: isp.prefixes.map((p) => parsePrefix(p)),
      asns: new Set(isp.asns.map(String)),
    }));
    if (deps.registry) this.registerMetrics(deps.registry);
  }

  /** True when IPv4 `address` is in a darknet prefix (empty configuration: every address). */
  inDarknet4(address: number): boolean {
    if (this.acceptAll) return true;
    const starts = this.start4;
    const n = starts.length;
    if (n <= 4) {
      for (let i = 0; i < n; i++) if (address >= starts[i]! && address <= this.end4[i]!) return true;
      return false;
    }
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! > address) hi = mid - 1;
      else if (this.end4[mid]! < address) lo = mid + 1;
      else return true;
    }
    return false;
  }

  inDarknet6(bytes: Uint8Array): boolean {
    if (this.acceptAll) return true;
    for (const p of this.prefixes6) if (prefixContains6(p, bytes)) return true;
    return false;
  }

  /**
   * Parses one captured frame, `data[offset, end)` (the whole of `data` by default, so readers
   * can pass their buffer without a view per packet), and observes it; unparseable frames are
   * counted by kind.
   */
  observeFrame(linkType: number, data: Uint8Array, timestampMs: number, offset = 0, end = data.length): void {
    const info = this.info;
    const result = parseFrame(linkType, data, info, offset, end);
    if (result === ParseResult.OK) {
      this.counters.frames++;
      this.frameTimeMs = timestampMs;
      this.observeCounted(info, true);
      return;
    }
    this.counters.frames++;
    if (result === ParseResult.TRUNCATED) {
      this.counters.truncated++;
      // The addresses are still good when the cut came after them: count the packet, skip the transport.
      if (info.ipVersion !== 0) {
        this.frameTimeMs = timestampMs;
        this.observeCounted(info, false);
      }
    } else if (result === ParseResult.UNSUPPORTED_LINK) this.counters.unsupportedLink++;
    else if (result === ParseResult.BAD_HEADER) this.counters.badHeader++;
    else this.counters.notIp++;
  }

  /** Why the C hot loop is not used ('' when it is). */
  readonly nativeUnavailable: string;
  /** Frames the C hot loop observed (the rest took the TypeScript path). */
  nativeFrames = 0;

  /**
   * How capture files are read when the hot loop is used: mapped into memory by the C addon
   * (no copy into a read buffer), in windows released as soon as the reader has passed them.
   */
  get fileMapping(): Pick<OpenCaptureOptions, 'map' | 'unmap' | 'mapSegmentBytes'> | undefined {
    const native = this.native;
    if (!native) return undefined;
    return {
      map: native.mapFile,
      unmap: native.unmapFile,
      mapSegmentBytes: this.deps.mapWindowBytes ?? MAP_WINDOW_BYTES,
    };
  }

  /**
   * Before a large input: faults in the tables the C loop writes at random all over (the
   * new-source index, the open statistics slots) with one call each, instead of a page fault at
   * a time as sources arrive, and asks for huge pages for them and for the source records. Costs
   * a few milliseconds, so only worth it for big captures.
   */
  prefault(): void {
    const native = this.native;
    if (!native) return;
    native.adviseHugePages(this.table.bytes);
    native.populate(this.table.nativeArrays().newIndex);
    native.populate(this.stats.nativeArrays().slots);
  }

  /** Whether classic pcap input runs through the C hot loop. */
  get usesNative(): boolean {
    return this.native !== undefined;
  }

  /**
   * Observes the classic pcap records in `buffer[offset, end)` in the C hot loop, counting them in
   * `capture` as the parser would, and returns the offset of the first record it left: the
   * caller parses that one and gives it to `observeFrame` (so a sweep, a bucket roll, a table
   * that must grow or a frame the loop does not handle takes the TypeScript path), then calls
   * again. Returns `offset` when the loop is not built.
   */
  observePcapRecords(
    buffer: Uint8Array,
    offset: number,
    end: number,
    format: PcapFormat,
    capture: CaptureStats,
  ): number {
    const native = this.native;
    if (native === undefined) return offset;
    const state = this.nativeState;
    const table = this.table;
    const counters = this.counters;
    state[NativeSlot.NOW] = this.now;
    state[NativeSlot.NEXT_SWEEP] = this.nextSweep;
    state[NativeSlot.FRAMES] = counters.frames;
    state[NativeSlot.DARKNET] = counters.darknet;
    state[NativeSlot.NOT_DARKNET] = counters.notDarknet;
    state[NativeSlot.UNTRACKED] = counters.untracked;
    state[NativeSlot.PACKETS] = capture.packets;
    state[NativeSlot.CAPTURED_BYTES] = capture.capturedBytes;
    state[NativeSlot.LITTLE_ENDIAN] = format.littleEndian ? 1 : 0;
    state[NativeSlot.RECORD_HEADER] = format.recordHeader;
    state[NativeSlot.FRACTION_TO_MS] = format.fractionToMs;
    state[NativeSlot.LINK_TYPE] = format.linkType;
    state[NativeSlot.ACCEPT_ALL] = this.acceptAll ? 1 : 0;
    state[NativeSlot.HAS_GEO] = this.hasGeo ? 1 : 0;
    table.saveNative(state);
    this.stats.saveNative(state);
    const { newIndex, hotIndex, newFree, hotFree } = table.nativeArrays();
    const { slots, keys, dense } = this.stats.nativeArrays();
    const next = native.observe(
      buffer,
      offset,
      end,
      state,
      this.ranges4,
      table.bytes,
      table.side,
      newIndex,
      hotIndex,
      newFree,
      hotFree,
      slots,
      keys,
      dense,
      this.asnPackets,
      this.countryPackets,
    );
    if (next === offset) return offset;
    this.nativeFrames += state[NativeSlot.FAST_FRAMES]!;
    this.now = state[NativeSlot.NOW]!;
    this.frameTimeMs = state[NativeSlot.CLOCK_MS]!;
    counters.frames = state[NativeSlot.FRAMES]!;
    counters.darknet = state[NativeSlot.DARKNET]!;
    counters.notDarknet = state[NativeSlot.NOT_DARKNET]!;
    counters.untracked = state[NativeSlot.UNTRACKED]!;
    capture.packets = state[NativeSlot.PACKETS]!;
    capture.capturedBytes = state[NativeSlot.CAPTURED_BYTES]!;
    table.loadNative(state);
    this.stats.loadNative(state);
    return next;
  }

  /** Observes one parsed packet; `complete` is false when its transport header may be missing. */
  observe(p: PacketInfo, timestampMs: number, complete = true): void {
    this.counters.frames++;
    this.frameTimeMs = timestampMs;
    this.observeCounted(p, complete);
  }

  /** Observes `p`, captured at `frameTimeMs`. */
  private observeCounted(p: PacketInfo, complete: boolean): void {
    const timestampMs = this.frameTimeMs;
    if (timestampMs > this.now) {
      this.now = timestampMs;
      if (timestampMs >= this.nextSweep) this.sweep(timestampMs);
    }
    const table = this.table;
    let slot: number;
    const v4 = p.ipVersion === 4;
    if (v4) {
      if (!this.inDarknet4(p.dst4)) {
        this.counters.notDarknet++;
        return;
      }
      slot = table.find4(p.src4, true);
    } else if (p.ipVersion === 6) {
      if (!this.inDarknet6(p.dst6)) {
        this.counters.notDarknet++;
        return;
      }
      slot = table.find6(p.src6, true);
    } else {
      this.counters.notIp++;
      return;
    }
    this.counters.darknet++;
    const sourceHash = table.lastHash;
    const proto = p.proto;
    const hasTransport = complete && !p.fragment;
    if (p.fragment) this.counters.fragments++;

    // Packet kind: 1 probe, 2 backscatter, 0 neither; and the statistics key.
    let kind = 0;
    let protoIndex: number;
    let protoBit: number;
    let port = -1;
    let flags = 0;
    if (proto === 6) {
      protoIndex = 0;
      protoBit = PROTO_BIT_TCP;
      if (hasTransport) {
        port = p.dstPort;
        flags = p.tcpFlags;
        const synAck = flags & (TCP_SYN | TCP_ACK);
        if (synAck === TCP_SYN) kind = 1;
        else if (synAck === (TCP_SYN | TCP_ACK) || (flags & TCP_RST) !== 0) kind = 2;
      }
    } else if (proto === 17) {
      protoIndex = 1;
      protoBit = PROTO_BIT_UDP;
      if (hasTransport) {
        port = p.dstPort;
        kind = 1;
      }
    } else if (proto === 1 || proto === 58) {
      protoIndex = 2;
      protoBit = PROTO_BIT_ICMP;
      if (hasTransport) {
        const type = p.icmpType;
        port = type;
        if (proto === 1) {
          // Echo and timestamp requests probe; replies and errors answer someone else's traffic.
          if (type === 8 || type === 13) kind = 1;
          else if (
            type === 0 ||
            type === 3 ||
            type === 4 ||
            type === 5 ||
            type === 11 ||
            type === 12 ||
            type === 14
          )
            kind = 2;
        } else if (type === 128) kind = 1;
        else if (type === 129 || (type >= 1 && type <= 4)) kind = 2;
      }
    } else {
      protoIndex = 3;
      protoBit = PROTO_BIT_OTHER;
      port = proto;
    }
    this.stats.clockMs = timestampMs;
    this.stats.addNow(protoIndex, port, sourceHash);

    if (slot < 0) {
      this.counters.untracked++;
      return;
    }
    const f64 = table.f64;
    const d = slot * RECORD_F64;
    if (table.inserted) {
      f64[d + D_FIRST_SEEN] = timestampMs;
      f64[d + D_LAST_SEEN] = timestampMs;
      this.enrich(slot, p);
    } else {
      // firstSeen <= lastSeen, so only a packet older than lastSeen can move firstSeen.
      if (timestampMs > f64[d + D_LAST_SEEN]!) f64[d + D_LAST_SEEN] = timestampMs;
      else if (timestampMs < f64[d + D_FIRST_SEEN]!) f64[d + D_FIRST_SEEN] = timestampMs;
    }
    f64[d + D_PACKETS]!++;
    const u32 = table.u32;
    const bytes = table.bytes;
    const w = slot * RECORD_U32;
    const b = slot * RECORD_BYTES;
    bytes[b + B_PROTO_MASK]! |= protoBit;
    if (this.hasGeo) {
      const asnRow = table.asnRow(slot);
      if (asnRow >= 0) this.asnPackets[asnRow]!++;
      const countryRow = table.countryRow(slot);
      if (countryRow >= 0) this.countryPackets[countryRow]!++;
    }
    const dstHash = v4
      ? mix32(p.dst4 ^ 0x5bd1e995) | 0
      : mix32(p.dst6[12]! | (p.dst6[13]! << 8) | (p.dst6[14]! << 16) | (p.dst6[15]! << 24)) | 0;
    hllAdd(bytes, b + B_DST_SKETCH, DST_BITS, dstHash);
    if (p.fragment) u32[w + F_FRAGMENTS]!++;
    if (port >= 0 && protoIndex < 2) {
      // Once the exact list has overflowed, adding a port changes nothing.
      if (bytes[b + B_PORTS_OVERFLOW] === 0) table.addPort(slot, port);
      hllAdd(bytes, b + B_PORT_SKETCH, PORT_BITS, mix32(port + protoIndex * 65536) | 0);
    }
    if (kind === 1) {
      u32[w + F_PROBES]!++;
      if (protoIndex === 0) {
        u32[w + F_SYN]!++;
        if (v4) {
          const seq = p.tcpSeq;
          if (seq === p.dst4) u32[w + F_MIRAI]!++;
          if (((p.dst4 ^ port ^ seq) & 0xffff) === p.ipId) u32[w + F_MASSCAN]!++;
        }
      }
      if (v4 && p.ipId === ZMAP_IP_ID) u32[w + F_ZMAP]!++;
    } else if (kind === 2) {
      u32[w + F_BACKSCATTER]!++;
    }
    if (this.rules.count > 0 && hasTransport) this.rules.apply(p, table.ruleHits, slot * this.rules.count);
  }

  /** Looks up ASN and country for a new source (once per source, not per packet). */
  private enrich(slot: number, p: PacketInfo): void {
    const { asn, country } = this.deps;
    if (!asn && !country) return;
    let asnRow = -1;
    let countryRow = -1;
    if (asn) {
      asnRow = p.ipVersion === 4 ? asn.lookup4(p.src4) : asn.lookup6(p.src6);
      if (asnRow >= 0) this.asnSources[asnRow]!++;
    }
    if (country) {
      countryRow = p.ipVersion === 4 ? country.lookup4(p.src4) : country.lookup6(p.src6);
      if (countryRow >= 0) this.countrySources[countryRow]!++;
    }
    this.table.setGeo(slot, asnRow, countryRow);
  }

  /** Expires sources idle longer than the timeout (capture time); classified ones are kept as records. */
  sweep(now: number = this.now): void {
    this.nextSweep = now + this.sweepEveryMs;
    const table = this.table;
    const cutoff = now - this.config.sources.idleTimeoutMs;
    if (table.size === 0) return;
    const ranges = table.idRanges();
    for (let r = 0; r < ranges.length; r += 2) {
      for (let slot = ranges[r]!; slot < ranges[r + 1]!; slot++) {
        if (table.familyOf(slot) !== 0 && table.lastSeen(slot) < cutoff) {
          this.retire(slot);
          table.remove(slot);
          this.counters.expired++;
        }
      }
    }
  }

  private retire(slot: number): void {
    const record = this.recordOf(slot);
    if (record.class === 'unknown') return;
    mergeInto(this.finished, record);
  }

  /** Classifies the source in `slot` and explains why. */
  recordOf(slot: number): SourceRecord {
    const t = this.table;
    const c = this.config.classify;
    const ip = t.addressOf(slot);
    const packets = t.packets(slot);
    const probes = t.counter(slot, F_PROBES);
    const syn = t.counter(slot, F_SYN);
    const backscatter = t.counter(slot, F_BACKSCATTER);
    const ports = t.portsOf(slot);
    ports.sort((a, b) => a - b);
    const protocols: string[] = [];
    const mask = t.protoMask(slot);
    if (mask & PROTO_BIT_TCP) protocols.push('tcp');
    if (mask & PROTO_BIT_UDP) protocols.push('udp');
    if (mask & PROTO_BIT_ICMP) protocols.push('icmp');
    if (mask & PROTO_BIT_OTHER) protocols.push('other');
    const asnRow = t.asnRow(slot);
    const countryRow = t.countryRow(slot);
    const asnInfo = asnRow >= 0 ? this.deps.asn!.rows[asnRow]! : undefined;
    const counts = `${packets} packets, ${probes} probes (${syn} TCP SYN), ${backscatter} backscatter`;

    let cls: SourceClass = 'unknown';
    let fingerprint = '';
    let evidence = '';
    const scannerRow = this.deps.scanners ? this.deps.scanners.lookupText(ip) : -1;
    const share = (hits: number, of: number) => (of > 0 ? hits / of : 0);
    if (scannerRow >= 0) {
      cls = 'benign';
      fingerprint = this.fingerprintOf(slot) ?? '';
      evidence = `in known scanner network "${this.deps.scanners!.rows[scannerRow]!.value}"; ${counts}`;
    } else if (packets < c.minPackets) {
      evidence = `${counts}: fewer than ${c.minPackets} packets`;
    } else if (share(backscatter, packets) >= c.minBackscatterShare) {
      cls = 'backscatter';
      evidence = `${counts}: ${(share(backscatter, packets) * 100).toFixed(0)}% SYN-ACK/RST/ICMP replies (victim of spoofed traffic)`;
    } else {
      const decided = this.decideFingerprint(slot);
      if (decided) {
        cls = decided.cls;
        fingerprint = decided.name;
        evidence = `${counts}: ${this.whyOf(decided)}`;
      } else {
        evidence = `${counts}: no fingerprint reached ${(c.minFingerprintShare * 100).toFixed(0)}% of probes`;
      }
    }
    return {
      ip,
      class: cls,
      fingerprint,
      packets,
      probes,
      backscatter,
      firstSeen: t.firstSeen(slot),
      lastSeen: t.lastSeen(slot),
      ports,
      morePorts: t.portsOverflow(slot),
      distinctDestinations: hllCount(t.bytes, slot * RECORD_BYTES + B_DST_SKETCH, DST_BITS),
      distinctPorts: Math.max(
        ports.length,
        hllCount(t.bytes, slot * RECORD_BYTES + B_PORT_SKETCH, PORT_BITS),
      ),
      protocols,
      asn: asnInfo?.value ?? '',
      asName: asnInfo?.name ?? '',
      country: countryRow >= 0 ? this.deps.country!.rows[countryRow]!.value : '',
      evidence,
    };
  }

  /**
   * The strongest fingerprint that passes its thresholds: Mirai, masscan, user rules, ZMap, with
   * the matching probes (`hits` of `of`). Classifying needs only the match; `whyOf` words it.
   */
  private decideFingerprint(slot: number): FingerprintMatch | undefined {
    const t = this.table;
    const c = this.config.classify;
    const syn = t.counter(slot, F_SYN);
    const mirai = t.counter(slot, F_MIRAI);
    if (mirai > 0 && mirai >= c.minFingerprintShare * syn)
      return { name: 'mirai', cls: c.fingerprintClass.mirai, rule: -1, hits: mirai, of: syn };
    const masscan = t.counter(slot, F_MASSCAN);
    // One match in 65536 happens by chance, so masscan needs two.
    if (masscan >= 2 && masscan >= c.minFingerprintShare * syn)
      return { name: 'masscan', cls: c.fingerprintClass.masscan, rule: -1, hits: masscan, of: syn };
    const probes = t.counter(slot, F_PROBES);
    const rules = this.rules;
    for (let r = 0; r < rules.count; r++) {
      const hits = t.ruleHits[slot * rules.count + r]!;
      if (hits >= rules.minHits[r]! && hits >= c.minFingerprintShare * Math.max(probes, 1))
        return { name: rules.names[r]!, cls: rules.classes[r]!, rule: r, hits, of: Math.max(probes, hits) };
    }
    const zmap = t.counter(slot, F_ZMAP);
    if (zmap >= 2 && zmap >= c.minFingerprintShare * probes)
      return { name: 'zmap', cls: c.fingerprintClass.zmap, rule: -1, hits: zmap, of: probes };
    return undefined;
  }

  /** The evidence sentence for a fingerprint match. */
  private whyOf(match: FingerprintMatch): string {
    const share = `${match.hits}/${match.of} (${((match.hits / match.of) * 100).toFixed(0)}%)`;
    if (match.rule >= 0) return `rule "${match.name}" matched ${share} probes`;
    switch (match.name) {
      case 'mirai':
        return `TCP sequence = destination address in ${share} SYN probes (Mirai family)`;
      case 'masscan':
        return `IP id = (dst ^ dport ^ seq) & 0xffff in ${share} SYN probes (masscan)`;
      default:
        return `IP id ${ZMAP_IP_ID} in ${share} probes (ZMap)`;
    }
  }

  private fingerprintOf(slot: number): string | undefined {
    return this.decideFingerprint(slot)?.name;
  }

  /** Closes the statistics (call once at the end of a file run). */
  finish(): void {
    this.stats.finish();
  }

  /**
   * Every source: those in the table and those already retired, merged by address; most
   * significant first (class, then packets, then address).
   */
  sources(): SourceRecord[] {
    const out = new Map(this.finished);
    const t = this.table;
    const ranges = t.idRanges();
    for (let r = 0; r < ranges.length; r += 2) {
      for (let slot = ranges[r]!; slot < ranges[r + 1]!; slot++) {
        if (t.familyOf(slot) !== 0) mergeInto(out, this.recordOf(slot));
      }
    }
    return sortSources([...out.values()]);
  }

  /**
   * hosts.csv (formatHostsCsv of `sources()`), written through `write` in chunks of about 64 KiB,
   * and the number of sources per class. A darknet's sources are nearly all one-packet senders
   * still in the table's new generation: those rows are written straight from their records,
   * ordered by a numeric sort, instead of becoming a record with evidence each (which, for the
   * hundreds of thousands of a few minutes of a /16, cost seconds of garbage collection).
   */
  writeHostsCsv(write: (chunk: string) => void): Record<SourceClass, number> {
    const { ordered, once, counts } = this.hostTable();
    let chunk = HOSTS_CSV_HEADER + '\n';
    const emit = (row: string) => {
      chunk += row;
      if (chunk.length >= 1 << 16) {
        write(chunk);
        chunk = '';
      }
    };
    // The one-packet senders are 'unknown' with one packet, so they come after every record
    // with a higher class or more packets; the only other such records are IPv6 senders (retired
    // records are never 'unknown', a retired address merges into its class), which sort after
    // every IPv4 address.
    let i = 0;
    while (i < ordered.length && (CLASS_RANK[ordered[i]!.class] > 0 || ordered[i]!.packets > 1))
      emit(formatHostRow(ordered[i++]!));
    for (let j = 0; j < once.length; j++) {
      const key = once[j]!;
      const address = Math.floor(key / ONCE_PORT_SPACE);
      const port = key - address * ONCE_PORT_SPACE - 1;
      emit(`${ipv4ToString(address)},unknown,,1,${port >= 0 ? port : ''}\n`);
    }
    while (i < ordered.length) emit(formatHostRow(ordered[i++]!));
    if (chunk) write(chunk);
    return counts;
  }

  /** The number of sources per class (what writeHostsCsv counts, without writing). */
  sourceCounts(): Record<SourceClass, number> {
    return this.hostTable().counts;
  }

  /**
   * Sources split for writeHostsCsv: `once`, the one-packet IPv4 senders of the new generation
   * that nothing else claims (no scanner list, no retired record of the same address), as
   * sorted `address * ONCE_PORT_SPACE + port + 1` keys (0: no port); `ordered`, full records of
   * every other source in sources() order.
   */
  private hostTable(): { ordered: SourceRecord[]; once: Float64Array; counts: Record<SourceClass, number> } {
    const t = this.table;
    const [newStart, newEnd, hotStart, hotEnd] = t.idRanges() as [number, number, number, number];
    // With minPackets above one a single packet decides nothing, so the class is 'unknown' and
    // the fingerprint empty, unless a scanner list marks the address benign.
    const plain = this.config.classify.minPackets > 1 && !this.deps.scanners;
    const retired4 = new Set<number>();
    if (plain) for (const ip of this.finished.keys()) if (!ip.includes(':')) retired4.add(ipv4FromString(ip));
    const once = new Float64Array(plain ? newEnd - newStart : 0);
    let onceCount = 0;
    const out = new Map(this.finished);
    const add = (slot: number) => mergeInto(out, this.recordOf(slot));
    for (let slot = newStart; slot < newEnd; slot++) {
      const family = t.familyOf(slot);
      if (family === 0) continue;
      const address = t.counter(slot, F_KEY);
      if (plain && family === 4 && !retired4.has(address)) {
        const ports = t.portsOf(slot);
        once[onceCount++] = address * ONCE_PORT_SPACE + (ports.length > 0 ? ports[0]! + 1 : 0);
      } else add(slot);
    }
    for (let slot = hotStart; slot < hotEnd; slot++) if (t.familyOf(slot) !== 0) add(slot);
    const ordered = sortSources([...out.values()]);
    const counts: Record<SourceClass, number> = {
      infected: 0,
      benign: 0,
      backscatter: 0,
      unknown: onceCount,
    };
    for (const r of ordered) counts[r.class]++;
    return { ordered, once: once.subarray(0, onceCount).sort(), counts };
  }

  /**
   * Infected-host addresses: the bot list the C&C detector takes. Without `records` it decides
   * each source's class without building its evidence (cheap for large tables).
   */
  infectedHosts(records?: SourceRecord[]): string[] {
    if (records) return records.filter((r) => r.class === 'infected').map((r) => r.ip);
    const out = new Set<string>();
    for (const r of this.finished.values()) if (r.class === 'infected') out.add(r.ip);
    const slots = this.infectedSlots();
    for (let i = 0; i < slots.length; i++) out.add(this.table.addressOf(slots[i]!));
    return [...out];
  }

  /** The records of the infected sources only (retired ones and those in the table). */
  infectedRecords(): SourceRecord[] {
    const out = new Map<string, SourceRecord>();
    for (const r of this.finished.values()) if (r.class === 'infected') out.set(r.ip, r);
    const slots = this.infectedSlots();
    for (let i = 0; i < slots.length; i++) {
      const record = this.recordOf(slots[i]!);
      // Merged with a retired record of any class, as sources() merges them.
      const previous = this.finished.get(record.ip);
      out.set(record.ip, previous ? mergeRecords(previous, record) : record);
    }
    return [...out.values()];
  }

  /** Ids of the table's records that classOf calls infected, in id order. */
  private infectedSlots(): ArrayLike<number> {
    const t = this.table;
    // A source still in the new generation has sent exactly one packet (its second moves it),
    // so with minPackets above one none of those records can be infected: skip them unread.
    const ranges = t.idRanges().slice(this.config.classify.minPackets > 1 ? 2 : 0);
    if (this.native && !this.deps.scanners) {
      // The addon classifies as classOf does (it runs only without user rules).
      const c = this.config.classify;
      const infected = (cls: SourceClass) => (cls === 'infected' ? 1 : 0);
      let most = 0;
      for (let r = 0; r < ranges.length; r += 2) most += ranges[r + 1]! - ranges[r]!;
      const ids = new Int32Array(most);
      const count = this.native.infectedSlots(
        t.bytes,
        Float64Array.from(ranges),
        c.minPackets,
        c.minBackscatterShare,
        c.minFingerprintShare,
        infected(c.fingerprintClass.mirai) |
          (infected(c.fingerprintClass.masscan) << 1) |
          (infected(c.fingerprintClass.zmap) << 2),
        ids,
      );
      return ids.subarray(0, count);
    }
    const ids: number[] = [];
    for (let r = 0; r < ranges.length; r += 2) {
      for (let slot = ranges[r]!; slot < ranges[r + 1]!; slot++) {
        if (t.familyOf(slot) !== 0 && this.classOf(slot) === 'infected') ids.push(slot);
      }
    }
    return ids;
  }

  /** The class of the source in `slot`, by the same steps as recordOf, without the evidence text. */
  classOf(slot: number): SourceClass {
    const t = this.table;
    const c = this.config.classify;
    if (this.deps.scanners && this.deps.scanners.lookupText(t.addressOf(slot)) >= 0) return 'benign';
    const packets = t.packets(slot);
    if (packets < c.minPackets) return 'unknown';
    if (t.counter(slot, F_BACKSCATTER) >= c.minBackscatterShare * packets) return 'backscatter';
    return this.decideFingerprint(slot)?.cls ?? 'unknown';
  }

  /** Infected hosts per configured ISP (by prefix, or by ASN when an ASN file is given). */
  infectedHostsByIsp(records: SourceRecord[] = this.infectedRecords()): Map<string, string[]> {
    const out = new Map<string, string[]>(this.isps.map((isp) => [isp.name, []]));
    for (const r of records) {
      if (r.class !== 'infected') continue;
      for (const isp of this.isps) {
        if (isp.asns.has(r.asn) || isp.prefixes.some((p) => prefixHasText(p, r.ip)))
          out.get(isp.name)!.push(r.ip);
      }
    }
    return out;
  }

  /** Indicator records for the hub: one per infected host. */
  indicators(records: SourceRecord[] = sortSources(this.infectedRecords())): BotIndicator[] {
    const { tier, tlp } = this.config.indicators;
    return records
      .filter((r) => r.class === 'infected')
      .map((r) => ({
        type: 'bot' as const,
        ip: r.ip,
        fingerprint: r.fingerprint,
        class: r.class,
        firstSeen: new Date(r.firstSeen).toISOString(),
        lastSeen: new Date(r.lastSeen).toISOString(),
        packets: r.packets,
        ports: r.ports,
        tier,
        tlp,
        evidence: r.evidence,
      }));
  }

  /** Per-ASN and per-country packets and sources, largest first. */
  groups(
    kind: 'asn' | 'country',
    limit = 20,
  ): { key: string; name: string; packets: number; sources: number }[] {
    const table = kind === 'asn' ? this.deps.asn : this.deps.country;
    if (!table) return [];
    const packets = kind === 'asn' ? this.asnPackets : this.countryPackets;
    const sources = kind === 'asn' ? this.asnSources : this.countrySources;
    // Rows of one ASN may be many ranges: sum by key.
    const byKey = new Map<string, { key: string; name: string; packets: number; sources: number }>();
    for (let i = 0; i < packets.length; i++) {
      if (packets[i] === 0) continue;
      const row = table.rows[i]!;
      const entry = byKey.get(row.value) ?? { key: row.value, name: row.name, packets: 0, sources: 0 };
      entry.packets += packets[i]!;
      entry.sources += sources[i]!;
      byKey.set(row.value, entry);
    }
    return [...byKey.values()].sort((a, b) => b.packets - a.packets).slice(0, limit);
  }

  private registerMetrics(registry: Registry): void {
    const counters = this.counters;
    const table = this.table;
    new Counter({
      name: 'tsunagi_darknet_frames_total',
      help: 'Frames offered to darknet analysis, by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ outcome: 'darknet' }, counters.darknet);
        this.inc({ outcome: 'not_darknet' }, counters.notDarknet);
        this.inc({ outcome: 'not_ip' }, counters.notIp);
        this.inc({ outcome: 'unsupported_link' }, counters.unsupportedLink);
        this.inc({ outcome: 'bad_header' }, counters.badHeader);
      },
    });
    new Counter({
      name: 'tsunagi_darknet_anomalies_total',
      help: 'Darknet packets handled specially: truncated headers, fragments, no slot for the source.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ kind: 'truncated' }, counters.truncated);
        this.inc({ kind: 'fragment' }, counters.fragments);
        this.inc({ kind: 'untracked' }, counters.untracked);
      },
    });
    new Counter({
      name: 'tsunagi_darknet_sources_expired_total',
      help: 'Sources expired from the table after idling.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(counters.expired);
      },
    });
    new Gauge({
      name: 'tsunagi_darknet_sources',
      help: 'Sources held in the table now.',
      registers: [registry],
      collect() {
        this.set(table.size);
      },
    });
  }
}

function prefixHasText(prefix: Prefix, ip: string): boolean {
  if (prefix.family === 4) {
    if (ip.includes(':')) return false;
    const parts = ip.split('.').map(Number);
    const value = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
    return (value & prefix.mask4) >>> 0 === prefix.network4;
  }
  if (!ip.includes(':')) return false;
  const p = parsePrefix(ip);
  return prefixContains6(prefix, p.network6);
}

/** Combines two records of one address (a source that expired and came back). */
export function mergeRecords(a: SourceRecord, b: SourceRecord): SourceRecord {
  const winner = CLASS_RANK[b.class] >= CLASS_RANK[a.class] ? b : a;
  const ports = [...new Set([...a.ports, ...b.ports])].sort((x, y) => x - y);
  return {
    ...winner,
    packets: a.packets + b.packets,
    probes: a.probes + b.probes,
    backscatter: a.backscatter + b.backscatter,
    firstSeen: Math.min(a.firstSeen, b.firstSeen),
    lastSeen: Math.max(a.lastSeen, b.lastSeen),
    ports: ports.slice(0, PORT_SLOTS),
    morePorts: a.morePorts || b.morePorts || ports.length > PORT_SLOTS,
    distinctDestinations: Math.max(a.distinctDestinations, b.distinctDestinations),
    distinctPorts: Math.max(a.distinctPorts, b.distinctPorts, ports.length),
    protocols: [...new Set([...a.protocols, ...b.protocols])],
  };
}

/** Puts `record` in `records`, merged with the record of the same address already there. */
function mergeInto(records: Map<string, SourceRecord>, record: SourceRecord): void {
  const previous = records.get(record.ip);
  records.set(record.ip, previous ? mergeRecords(previous, record) : record);
}

/** Ports of a one-packet sender fit in a sort key below this (65535 + 1, 0 for none). */
const ONCE_PORT_SPACE = 65537;

/** The order of sources() and hosts.csv: class (infected first), then packets, then address. */
function sortSources(records: SourceRecord[]): SourceRecord[] {
  const keys = new Map<string, string>();
  for (const r of records) keys.set(r.ip, addressSortKey(r.ip));
  return records.sort(
    (a, b) =>
      CLASS_RANK[b.class] - CLASS_RANK[a.class] ||
      b.packets - a.packets ||
      (keys.get(a.ip)! < keys.get(b.ip)! ? -1 : 1),
  );
}

/** Text that sorts as addresses do: IPv4 by value, then IPv6 by value. */
function addressSortKey(ip: string): string {
  if (!ip.includes(':')) return '4' + ipv4FromString(ip).toString(16).padStart(8, '0');
  return '6' + Buffer.from(ipv6FromString(ip)).toString('hex');
}
