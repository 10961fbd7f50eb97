/** Scores a detector's output against a scenario's truth: precision, recall, traps hit, delays. */
import type { ScenarioTruth } from './generate.ts';

export interface Detection {
  ip: string;
  port: number;
  /** tcp/udp or the protocol number as text. */
  proto: string;
  /** Stream time of publication, when known (for delays). */
  publishedAtMs?: number;
}

export interface Evaluation {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  /**
   * Recall over the detectable C&C servers: contacted by at least `minKnownBots` listed bots and
   * seen in the stream for at least three contact periods (so repeat contact could show).
   */
  detectableRecall: number;
  detectable: number;
  trapsHit: { ip: string; port: number; proto: string; kind: string }[];
  /** Per true positive: publication time minus first bot contact (stream ms). */
  delaysMs: number[];
  missed: { ip: string; port: number; proto: string; knownBots: number; bots: number }[];
  unexpected: Detection[];
}

const keyOf = (ip: string, port: number, proto: string) => `${ip}|${port}|${proto}`;

export function evaluate(
  detections: readonly Detection[],
  truth: ScenarioTruth,
  minKnownBots = 2,
): Evaluation {
  const c2 = new Map(truth.c2.map((c) => [keyOf(c.ip, c.port, c.proto), c]));
  const traps = new Map(truth.traps.map((t) => [keyOf(t.ip, t.port, t.proto), t]));
  const found = new Set<string>();
  const delaysMs: number[] = [];
  const unexpected: Detection[] = [];
  const trapsHit: Evaluation['trapsHit'] = [];
  for (const d of detections) {
    const key = keyOf(d.ip, d.port, d.proto);
    const truthRow = c2.get(key);
    if (truthRow) {
      if (!found.has(key) && d.publishedAtMs !== undefined)
        delaysMs.push(d.publishedAtMs - truthRow.firstContactMs);
      found.add(key);
      continue;
    }
    unexpected.push(d);
    const trap = traps.get(key);
    if (trap) trapsHit.push({ ip: trap.ip, port: trap.port, proto: trap.proto, kind: trap.kind });
  }
  const tp = found.size;
  const fp = new Set(unexpected.map((d) => keyOf(d.ip, d.port, d.proto))).size;
  const missed = truth.c2
    .filter((c) => !found.has(keyOf(c.ip, c.port, c.proto)))
    .map((c) => ({ ip: c.ip, port: c.port, proto: c.proto, knownBots: c.knownBots, bots: c.bots }));
  const detectableRows = truth.c2.filter(
    (c) => c.knownBots >= minKnownBots && c.toMs - c.firstContactMs >= 3 * c.periodMs,
  );
  const detectableFound = detectableRows.filter((c) => found.has(keyOf(c.ip, c.port, c.proto))).length;
  return {
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: truth.c2.length - tp,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: truth.c2.length === 0 ? 1 : tp / truth.c2.length,
    detectableRecall: detectableRows.length === 0 ? 1 : detectableFound / detectableRows.length,
    detectable: detectableRows.length,
    trapsHit,
    delaysMs,
    missed,
    unexpected,
  };
}
