/** Test door of detect: hand-made flow records for the detector's tests, and traffic shapes. */
import type { Candidate, Peer } from './types.ts';

export { batchOf, MID_SESSION, MINUTE, SESSION, SYN_ONLY, T0, TCP, UDP, type Row } from '../core/testing.ts';
import { MINUTE, T0, type Row } from '../core/testing.ts';

/** A small deterministic generator (xorshift) so tests draw the same "random" moments each run. */
export function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** Each client contacts `server:port` every `periodMs` (times 1 +- jitter) for `rounds` rounds, new client port each time. */
export function beacons(
  clients: readonly string[],
  server: string,
  port: number,
  rounds: number,
  options: { periodMs?: number; jitter?: number; startMs?: number; proto?: number; seed?: number } = {},
): Row[] {
  const period = options.periodMs ?? MINUTE;
  const jitter = options.jitter ?? 0.05;
  const random = seeded(options.seed ?? 7);
  const rows: Row[] = [];
  clients.forEach((client, k) => {
    let t = (options.startMs ?? T0) + k * 1000 + random() * period;
    for (let r = 0; r < rounds; r++) {
      rows.push({
        t,
        src: client,
        dst: server,
        sport: 30000 + ((r * 37 + k * 101) % 30000),
        dport: port,
        proto: options.proto,
      });
      t += period * (1 + jitter * (2 * random() - 1));
    }
  });
  return rows;
}

export function collect() {
  const published: Candidate[] = [];
  const withdrawn: Candidate[] = [];
  const peers: Peer[] = [];
  return {
    published,
    withdrawn,
    peers,
    deps: {
      onPublish: (c: Candidate) => published.push(c),
      onWithdraw: (c: Candidate) => withdrawn.push(c),
      onPeer: (p: Peer) => peers.push(p),
    },
  };
}

/** `count` subscriber addresses in 198.18.0.0/15 starting at index `from`. */
export function homes(count: number, from = 0): string[] {
  return Array.from(
    { length: count },
    (_, k) => `198.18.${Math.floor((from + k) / 250)}.${((from + k) % 250) + 1}`,
  );
}

/** Clean homes browsing `sites` (port 443) a few times an hour: the population the tests compare with. */
export function browsing(
  clients: readonly string[],
  sites: readonly string[],
  hours: number,
  seed = 3,
): Row[] {
  const random = seeded(seed);
  const rows: Row[] = [];
  for (const client of clients) {
    for (let visit = 0; visit < hours * 4; visit++) {
      const site = sites[Math.floor(random() * sites.length)]!;
      rows.push({
        t: T0 + random() * hours * 3_600_000,
        src: client,
        dst: site,
        sport: 40000 + visit,
        dport: 443,
      });
    }
  }
  return rows;
}
