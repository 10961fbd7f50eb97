/** Options of the traffic scenario generator, with the defaults of the standard scenario. */
import { z } from 'zod';

/** Stream start (ms since the epoch); fixed by default so that runs repeat exactly. */
export const StartMs = z
  .number()
  .int()
  .min(0)
  .default(Date.UTC(2024, 3, 1));
/** How many hours of traffic (two weeks at the most). */
export const Hours = z
  .number()
  .gt(0)
  .max(24 * 14)
  .default(24);

export const ScenarioOptions = z
  .object({
    seed: z.number().int().default(1),
    startMs: StartMs,
    hours: Hours,
    subscribers: z.number().int().min(10).max(1_000_000).default(2000),
    /** The ISP's subscriber network (IPv4 CIDR); households get addresses inside it. */
    subscriberPrefix: z.string().default('198.18.0.0/15'),
    /** Share of households with an infected device (the bot's address is the household's). */
    botFraction: z.number().min(0).max(1).default(0.04),
    /** Share of infected households that are in the bot list given to the detector. */
    botListCoverage: z.number().min(0).max(1).default(0.8),
    /** Botnet families with central C&C servers. */
    families: z.number().int().min(1).max(26).default(3),
    /** Share of infected households in a P2P botnet (no C&C: peers are bots themselves). */
    p2pFraction: z.number().min(0).max(1).default(0.25),
    /** C&C lifetime range before it migrates to a new address and port. */
    c2LifetimeHours: z.tuple([z.number().gt(0), z.number().gt(0)]).default([2, 6]),
    /** Bot-to-C&C contact period range (s); each family draws one, each contact is jittered. */
    c2PeriodS: z.tuple([z.number().gt(0), z.number().gt(0)]).default([60, 300]),
    /** Relative jitter of each periodic contact (0.15 = +-15 %). */
    jitter: z.number().min(0).max(0.9).default(0.15),
    /** Scan probes per bot per minute (SYN-only, to random addresses on scan ports). */
    scanPerMinute: z.number().min(0).default(6),
    /** Popular services (CDNs, big sites) with Zipf popularity. */
    popularServices: z.number().int().min(1).default(300),
    webPerHour: z.number().min(0).default(20),
    dnsPerHour: z.number().min(0).default(30),
    /** Households with an IoT camera that heartbeats to its vendor cloud. */
    cameraFraction: z.number().min(0).max(1).default(0.15),
    cameraHeartbeatS: z.number().gt(0).default(60),
    ntpPeriodS: z.number().gt(0).default(1024),
    gameServers: z.number().int().min(0).default(5),
    /** Share of households playing online at a given hour. */
    gamerFraction: z.number().min(0).max(1).default(0.05),
    /** Time slice generated and sorted at once (bounds memory). */
    sliceMs: z.number().int().min(1000).default(60_000),
    batchSize: z.number().int().min(16).max(65536).default(4096),
  })
  .prefault({});
export type ScenarioOptions = z.infer<typeof ScenarioOptions>;
