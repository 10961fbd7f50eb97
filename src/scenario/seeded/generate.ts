/**
 * The seeded scenario: a deterministic ISP day whose every parameter is drawn from the seed
 * (params.ts), so that a detector tuned on some seeds can be judged on others it never saw.
 * Families: periodic, long-lived, fast-flux and beacon C&C; P2P botnets; research scanners;
 * benign look-alikes (device clouds, games, DNS/NTP, CDNs, BitTorrent DHT, updates); and
 * dedicated, MAP-E or DS-Lite IPv4 with optional native IPv6. See ../README.md.
 */
import { z } from 'zod';
import { type FlowBatch, ipv6ToString } from '../../core/index.ts';
import { Hours, StartMs } from '../config.ts';
import { Rng } from '../rng.ts';
import { BotScanning, Households, ResearchScanners, Services } from './benign.ts';
import { C2Family, type C2Truth } from './c2.ts';
import { P2pFamily, type P2pPeerTruth } from './p2p.ts';
import { drawParams, type ScenarioParams } from './params.ts';
import type { AddressPlanTruth } from './plan.ts';
import { SliceStager } from './staging.ts';
import { addrText, World, type Source, type TrapTruth } from './world.ts';

export const SEEDED_EXPORTER = '192.0.2.1';

export const SeededOptions = z
  .object({
    seed: z.number().int().min(0).default(1),
    startMs: StartMs,
    hours: Hours,
    subscribers: z.number().int().min(20).max(200_000).default(1000),
    sliceMs: z.number().int().min(1000).default(60_000),
    batchSize: z.number().int().min(16).max(65536).default(4096),
  })
  .prefault({});
export type SeededOptions = z.infer<typeof SeededOptions>;

export interface BotListRow {
  /** An address, `ip:port` (a shared IPv4 and the source port a darknet saw), or a prefix. */
  bot: string;
  /** The family when the list names it, else ''. */
  family: string;
}

export interface InfectedHome {
  /** The home's public IPv4 (shared ones are shared by homesPerAddress homes). */
  ip: string;
  family: string;
  listed: boolean;
  camera: boolean;
  /** The home's IPv6 prefix ('' without IPv6). */
  v6Prefix: string;
}

export interface SeededTruth {
  profile: 'seeded';
  seed: number;
  startMs: number;
  endMs: number;
  subscriberPrefixes: string[];
  addressPlan: AddressPlanTruth;
  params: ScenarioParams;
  /** Filled while the flows are generated: read them after the last batch. */
  c2: C2Truth[];
  p2pPeers: P2pPeerTruth[];
  /** The bot list given to the detector: entries, and the same with the family column. */
  botList: string[];
  botListRows: BotListRow[];
  infected: InfectedHome[];
  /** Public IPv4 of infected homes not in the list (compatible with the classic truth). */
  unknownBots: string[];
  traps: TrapTruth[];
  flows: number;
}

export interface SeededScenario {
  readonly options: SeededOptions;
  readonly truth: SeededTruth;
  /** Time-ordered batches (each a fresh FlowBatch the consumer owns). Iterate once. */
  batches(): Generator<FlowBatch, void, undefined>;
}

/** The bot list as a `bot,family` CSV (the header names the columns). */
export function botListCsv(rows: readonly BotListRow[]): string {
  return `bot,family\n${rows.map((r) => `${r.bot},${r.family}`).join('\n')}${rows.length ? '\n' : ''}`;
}

/**
 * Builds a seeded scenario. `params` overrides drawn parameters (tests pin one family or plan);
 * nothing is generated until batches() is iterated.
 */
export function generateSeededScenario(
  input: Partial<SeededOptions> = {},
  params: Partial<ScenarioParams> = {},
): SeededScenario {
  const o = SeededOptions.parse(input);
  const drawn = { ...drawParams(o.seed), ...params };
  const start = o.startMs;
  const end = start + Math.round(o.hours * 3_600_000);
  const out = new SliceStager(SEEDED_EXPORTER, o.batchSize);
  const world = new World(drawn, o.seed, o.subscribers, start, end, out);
  const services = new Services(world);
  const c2 = drawn.c2.map((f, i) => new C2Family(world, i, f, services.resolverAddresses()));
  const p2p = drawn.p2p.map((f, i) => new P2pFamily(world, drawn.c2.length + i, f, services.bootstrap));
  const sources: Source[] = [
    new Households(world, services),
    new BotScanning(world),
    new ResearchScanners(world),
    ...c2,
    ...p2p,
  ];
  const familyName = (f: number) =>
    f < drawn.c2.length ? drawn.c2[f]!.name : drawn.p2p[f - drawn.c2.length]!.name;

  const truth: SeededTruth = {
    profile: 'seeded',
    seed: o.seed,
    startMs: start,
    endMs: end,
    subscriberPrefixes: world.plan.subscriberPrefixes(),
    addressPlan: world.plan.truth(),
    params: drawn,
    c2: [],
    p2pPeers: [],
    ...botList(world, familyName),
    traps: world.traps,
    flows: 0,
  };

  function* batches(): Generator<FlowBatch, void, undefined> {
    for (let sliceStart = start; sliceStart < end; sliceStart += o.sliceMs) {
      const sliceEnd = Math.min(end, sliceStart + o.sliceMs);
      for (const source of sources) source.fill(sliceEnd);
      yield* out.drain(sliceEnd);
    }
    truth.flows = out.total;
    truth.c2 = c2.flatMap((f) => f.truth());
    truth.p2pPeers = p2p.flatMap((f) => f.truth());
  }

  return { options: o, truth, batches };
}

/**
 * The bot list as a darknet would build it: a listed bot behind a dedicated IPv4 by address;
 * behind a shared IPv4 by `ip:port` (the source port of its scans) or now and then by the bare
 * shared address; with native IPv6 also by its prefix or by one privacy address it used.
 */
function botList(world: World, familyName: (f: number) => string) {
  const rng = new Rng(world.seed * 31 + 7);
  const { plan, params } = world;
  const rows: BotListRow[] = [];
  const infected: InfectedHome[] = [];
  const unknownBots: string[] = [];
  for (let h = 0; h < world.homes; h++) {
    const f = world.family[h]!;
    if (f < 0) continue;
    const ip = addrText(plan.v4[h]!);
    const family = familyName(f);
    infected.push({
      ip,
      family,
      listed: world.listed[h] === 1,
      camera: world.camera[h] === 1,
      v6Prefix: plan.hasV6 ? plan.v6PrefixText(h) : '',
    });
    if (!world.listed[h]) {
      unknownBots.push(ip);
      continue;
    }
    const named = rng.chance(params.familyColumnShare) ? family : '';
    const shared = params.plan.v4 !== 'dedicated';
    const bare = !shared || rng.chance(params.plan.bareSharedShare);
    rows.push({ bot: bare ? ip : `${ip}:${plan.sourcePort(h, rng)}`, family: named });
    // A bot whose C&C is reached over IPv6 is seen over IPv6 more often.
    const v6Family = f < params.c2.length && params.c2[f]!.ipv6;
    if (plan.hasV6 && rng.chance(v6Family ? 0.8 : 0.5)) {
      const byPrefix = rng.chance(params.plan.v6PrefixShare);
      world.listedV6[h] = byPrefix ? 1 : 2;
      const seenAt = world.start + rng.uniform(0, world.end - world.start);
      rows.push({
        bot: byPrefix ? plan.v6PrefixText(h) : ipv6ToString(plan.v6Address(h, 0, seenAt)),
        family: named,
      });
    }
  }
  // A bare shared address can be named for several homes: the list holds it once.
  const unique = [...new Map(rows.map((r) => [r.bot, r])).values()];
  return { botList: unique.map((r) => r.bot), botListRows: unique, infected, unknownBots };
}
