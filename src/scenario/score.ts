/**
 * Scores a detector's publications against a seeded scenario's truth, by rules that do not
 * depend on the detector's own gates (bench/detect/README.md states them):
 *
 * - A published C&C candidate is correct when its ip:port/proto is a true C&C server of the day,
 *   or its ip is a fast-flux C&C address and its port one that address served (or 0: the whole
 *   address). Anything else (traps, P2P peers, unknown destinations) is a false positive.
 * - Recall counts servers that were "seen": reached by >= 2 listed bots (bots whose own entry is
 *   in the bot list, for IPv6 servers an entry for their IPv6 home) with >= 3 bot contacts in the
 *   unsampled stream. A fast-flux family counts once per address (found when any of its ports,
 *   or the address, was published), the others once per ip:port/proto.
 * - Candidates the detector labels as P2P peers are scored against the truth's peers instead.
 */
import type { SeededTruth } from './seeded/generate.ts';

export interface Publication {
  ip: string;
  port: number;
  /** tcp/udp or the protocol number as text. */
  proto: string;
  /** Highest confidence the candidate reached (0-100). */
  confidence: number;
  /** 'p2p-peer' when the detector says so; anything else is a C&C claim. */
  role?: string;
  /** Stream time of the first publication, when known (for publication delays). */
  firstPublishedMs?: number;
  /** The family the detector names ('' or absent when it names none). */
  family?: string;
}

export interface RecallUnit {
  key: string;
  family: string;
  kind: string;
  seen: boolean;
  found: boolean;
  /** First claim minus the server's first bot contact (stream ms), when found and timed. */
  delayMs?: number;
}

export interface Score {
  published: number;
  correct: number;
  precision: number;
  /** Recall over seen servers, and over every server that had any bot contact. */
  recall: number;
  recallAll: number;
  seen: number;
  units: RecallUnit[];
  /** False positives by what they were: trap kind, 'p2p-peer', or 'other'. */
  falseByKind: Record<string, number>;
  falsePositives: Publication[];
  /** Per confidence band (50-59 ... 90-100, and <50): published, correct, and the sum of their confidences (expected share = sum / 100 / published). */
  bands: Record<string, { published: number; correct: number; confidenceSum: number }>;
  /** Peer claims: published, true peers among them; peers reached by >= 2 listed bots, found. */
  peers: { published: number; correct: number; truth: number; found: number };
  /** Correct C&C claims that name a family, and those naming the true one. */
  families: { named: number; right: number };
}

export const BANDS = ['<50', '50-59', '60-69', '70-79', '80-89', '90-100'] as const;

export function bandOf(confidence: number): (typeof BANDS)[number] {
  if (confidence < 50) return '<50';
  if (confidence >= 90) return '90-100';
  return `${Math.floor(confidence / 10) * 10}-${Math.floor(confidence / 10) * 10 + 9}` as (typeof BANDS)[number];
}

const keyOf = (ip: string, port: number, proto: string) => `${ip}|${port}|${proto}`;

/** Minimum listed bots and contacts for a server to count as seen. */
export const SEEN_MIN_LISTED_BOTS = 2;
export const SEEN_MIN_CONTACTS = 3;

export function scorePublications(publications: readonly Publication[], truth: SeededTruth): Score {
  const exact = new Set(truth.c2.map((c) => keyOf(c.ip, c.port, c.proto)));
  const familyOf = new Map(truth.c2.map((c) => [c.ip, c.family]));
  const families = { named: 0, right: 0 };
  const fluxPorts = new Map<string, Set<number>>();
  for (const c of truth.c2) {
    if (c.kind !== 'fast-flux') continue;
    let ports = fluxPorts.get(c.ip);
    if (!ports) fluxPorts.set(c.ip, (ports = new Set()));
    ports.add(c.port);
  }
  const trapKind = new Map(truth.traps.map((t) => [keyOf(t.ip, t.port, t.proto), t.kind]));
  const peerKeys = new Set(truth.p2pPeers.map((p) => keyOf(p.ip, p.port, p.proto)));
  // Peers a detector could know of: reached by >= 2 listed bots.
  const seenPeers = new Set(
    truth.p2pPeers
      .filter((p) => p.knownBots >= SEEN_MIN_LISTED_BOTS)
      .map((p) => keyOf(p.ip, p.port, p.proto)),
  );

  const bands = Object.fromEntries(
    BANDS.map((b) => [b, { published: 0, correct: 0, confidenceSum: 0 }]),
  ) as Score['bands'];
  const falseByKind: Record<string, number> = {};
  const falsePositives: Publication[] = [];
  // Found servers, with the stream time of their first claim (Infinity when not timed).
  const foundExact = new Map<string, number>();
  const foundFlux = new Map<string, number>();
  const found = (map: Map<string, number>, key: string, at: number | undefined) =>
    map.set(key, Math.min(map.get(key) ?? Infinity, at ?? Infinity));
  const peers = { published: 0, correct: 0, truth: seenPeers.size, found: 0 };
  const foundPeers = new Set<string>();
  let published = 0;
  let correct = 0;
  const distinct = new Map<string, Publication>();
  for (const p of publications) {
    const key = `${p.role ?? ''}|${keyOf(p.ip, p.port, p.proto)}`;
    const seen = distinct.get(key);
    if (!seen || p.confidence > seen.confidence) distinct.set(key, p);
  }
  for (const p of distinct.values()) {
    const key = keyOf(p.ip, p.port, p.proto);
    if (p.role === 'p2p-peer') {
      peers.published++;
      if (peerKeys.has(key)) peers.correct++;
      if (seenPeers.has(key)) foundPeers.add(key);
      continue;
    }
    published++;
    const flux = fluxPorts.get(p.ip);
    const ok = exact.has(key) || (flux !== undefined && (p.port === 0 || flux.has(p.port)));
    const band = bands[bandOf(p.confidence)]!;
    band.published++;
    band.confidenceSum += p.confidence;
    if (ok) {
      correct++;
      band.correct++;
      if (p.family) {
        families.named++;
        if (familyOf.get(p.ip) === p.family) families.right++;
      }
      if (exact.has(key)) found(foundExact, key, p.firstPublishedMs);
      if (flux) found(foundFlux, p.ip, p.firstPublishedMs);
    } else {
      const kind = trapKind.get(key) ?? (peerKeys.has(key) ? 'p2p-peer' : 'other');
      falseByKind[kind] = (falseByKind[kind] ?? 0) + 1;
      falsePositives.push(p);
    }
  }
  peers.found = foundPeers.size;

  const units = recallUnits(truth, foundExact, foundFlux);
  const seenUnits = units.filter((u) => u.seen);
  return {
    published,
    correct,
    precision: published === 0 ? 1 : correct / published,
    recall: seenUnits.length === 0 ? 1 : seenUnits.filter((u) => u.found).length / seenUnits.length,
    recallAll: units.length === 0 ? 1 : units.filter((u) => u.found).length / units.length,
    seen: seenUnits.length,
    units,
    falseByKind,
    falsePositives,
    bands,
    peers,
    families,
  };
}

function recallUnits(
  truth: SeededTruth,
  foundExact: Map<string, number>,
  foundFlux: Map<string, number>,
): RecallUnit[] {
  const units: RecallUnit[] = [];
  const delay = (at: number | undefined, first: number) =>
    at === undefined || at === Infinity ? undefined : at - first;
  const flux = new Map<string, { family: string; knownBots: number; contacts: number; first: number }>();
  for (const c of truth.c2) {
    if (c.kind === 'fast-flux') {
      const u = flux.get(c.ip) ?? { family: c.family, knownBots: 0, contacts: 0, first: c.firstContactMs };
      u.first = Math.min(u.first, c.firstContactMs);
      // Per address: the most listed bots of any one of its ports (a lower bound), all contacts.
      u.knownBots = Math.max(u.knownBots, c.knownBots);
      u.contacts += c.contacts;
      flux.set(c.ip, u);
      continue;
    }
    const key = keyOf(c.ip, c.port, c.proto);
    units.push({
      key,
      family: c.family,
      kind: c.kind,
      seen: c.knownBots >= SEEN_MIN_LISTED_BOTS && c.contacts >= SEEN_MIN_CONTACTS,
      found: foundExact.has(key),
      delayMs: delay(foundExact.get(key), c.firstContactMs),
    });
  }
  for (const [ip, u] of flux) {
    units.push({
      key: ip,
      family: u.family,
      kind: 'fast-flux',
      seen: u.knownBots >= SEEN_MIN_LISTED_BOTS && u.contacts >= SEEN_MIN_CONTACTS,
      found: foundFlux.has(ip),
      delayMs: delay(foundFlux.get(ip), u.first),
    });
  }
  return units;
}
