/**
 * Packet sampling as a router does it (1:N random): each packet of a flow is kept with
 * probability 1/N; a flow with no kept packet is not exported; an exported flow carries the
 * kept packets (and their share of bytes) multiplied by N, and its sampling rate, as a collector
 * hands it on. TCP flags are those of the kept packets: SYN only if the first packet was kept.
 */
import { FlowBatch } from '../core/index.ts';
import { Rng } from './rng.ts';

const SYN = 0x02;
const ACK = 0x10;

/** Number of kept packets among `packets`, each kept with probability p. */
function binomial(rng: Rng, packets: number, p: number): number {
  if (packets <= 64) {
    let k = 0;
    for (let i = 0; i < packets; i++) if (rng.next() < p) k++;
    return k;
  }
  // Large flows: normal approximation, clamped.
  const mean = packets * p;
  const sd = Math.sqrt(mean * (1 - p));
  const u = Math.max(1e-12, rng.next());
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  return Math.max(0, Math.min(packets, Math.round(mean + sd * z)));
}

export class PacketSampler {
  private readonly rng: Rng;
  /** Flows in, flows out (at least one packet kept). */
  flowsIn = 0;
  flowsOut = 0;

  constructor(
    readonly rate: number,
    seed: number,
  ) {
    if (!Number.isInteger(rate) || rate < 1)
      throw new RangeError(`sampling rate must be an integer >= 1, not ${rate}`);
    this.rng = new Rng(seed * 7919 + rate);
  }

  /** A new batch holding the sampled flows of `batch` (the input is not changed). */
  sample(batch: FlowBatch): FlowBatch {
    const out = new FlowBatch(batch.capacity);
    out.exporters.push(...batch.exporters);
    this.flowsIn += batch.length;
    const p = 1 / this.rate;
    for (let i = 0; i < batch.length; i++) {
      const packets = Math.max(1, Math.round(batch.packets[i]! / batch.samplingRate[i]!));
      const kept = this.rate === 1 ? packets : binomial(this.rng, packets, p);
      if (kept === 0) continue;
      const row = out.addRow(batch.exporter[i]!, batch.version[i]!);
      out.startMs[row] = batch.startMs[i]!;
      out.endMs[row] = batch.endMs[i]!;
      out.ipVersion[row] = batch.ipVersion[i]!;
      out.src4[row] = batch.src4[i]!;
      out.dst4[row] = batch.dst4[i]!;
      if (batch.ipVersion[i] === 6) {
        out.src6.set(batch.src6.subarray(i * 16, i * 16 + 16), row * 16);
        out.dst6.set(batch.dst6.subarray(i * 16, i * 16 + 16), row * 16);
      }
      out.srcPort[row] = batch.srcPort[i]!;
      out.dstPort[row] = batch.dstPort[i]!;
      out.proto[row] = batch.proto[i]!;
      out.tcpFlags[row] = this.flags(batch.tcpFlags[i]!, packets, kept);
      const rate = this.rate * batch.samplingRate[i]!;
      out.samplingRate[row] = rate;
      out.packets[row] = kept * rate;
      out.bytes[row] =
        Math.max(kept, Math.round((batch.bytes[i]! / batch.samplingRate[i]! / packets) * kept)) * rate;
    }
    this.flowsOut += out.length;
    return out;
  }

  /** Flags of the kept packets: the first packet carries SYN, the others the rest. */
  private flags(flags: number, packets: number, kept: number): number {
    // Without ACK every packet is alike (SYN retries, UDP): the flags stay.
    if (this.rate === 1 || packets === 1 || !(flags & ACK)) return flags;
    const firstKept = this.rng.next() < kept / packets;
    const others = kept - (firstKept ? 1 : 0);
    return (firstKept ? flags & SYN : 0) | (others > 0 ? flags & ~SYN : 0);
  }
}
