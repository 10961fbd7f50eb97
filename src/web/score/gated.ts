/**
 * The URL part's gated features: the riskiest word of the path and of the subdomain counted once
 * more, in proportion to how much the host NAME alone already reads as phishing (the gate: the
 * logistic of the host-name model's log-odds less GATE_CENTRE). `/login` or `my.` on a host whose
 * name reads as a small site's (`my.joinmodernhealth.com/login`) then counts for less than on a
 * random-letter name on a risky suffix (`www.jckhc.cn/login`), which the additive path and
 * host-context features alone cannot say.
 *
 * - `path_token_gated`: path_token_max × gate;
 * - `sub_token_gated`: sub_token_max × gate.
 *
 * Fitted with the URL part (bench/web/fit-url.ts), on the same out-of-fold values.
 */
import type { ReasonList } from './reason-list.ts';

export const GATED_FEATURES = ['path_token_gated', 'sub_token_gated'] as const;
export type GatedFeature = (typeof GATED_FEATURES)[number];

/** The host-name log-odds at which the gate is half open. */
export const GATE_CENTRE = -4;

/** The gated part of model.json's URL part. */
export interface GatedModel {
  weights: Record<GatedFeature, number>;
}

/** The gate: how much the host name reads as phishing, 0..1. */
export function hostGate(hostLogOdds: number): number {
  return 1 / (1 + Math.exp(-(hostLogOdds - GATE_CENTRE)));
}

/** A gated feature's value: its word's log-odds times the gate. */
function gated(tokenMax: number, gate: number): number {
  return tokenMax * gate;
}

/** The gated features' values, in GATED_FEATURES order (the fit's form; addGated is the scorer's). */
export function gatedValues(hostLogOdds: number, pathTokenMax: number, subTokenMax: number): number[] {
  const gate = hostGate(hostLogOdds);
  return [gated(pathTokenMax, gate), gated(subTokenMax, gate)];
}

/**
 * The gated part's log-odds, its reasons (non-zero contributions only) added to the URL's
 * sorted reasons. The hot path: no array per URL, the gate computed once. The labels name the
 * words (`path_token_gated(login)`); the features' bare names by default.
 */
export function addGated(
  hostLogOdds: number,
  pathTokenMax: number,
  subTokenMax: number,
  model: GatedModel,
  reasons: ReasonList,
  pathLabel = 'path_token_gated',
  subLabel = 'sub_token_gated',
): number {
  if (pathTokenMax === 0 && subTokenMax === 0) return 0;
  const gate = hostGate(hostLogOdds);
  return (
    addOne(pathLabel, gated(pathTokenMax, gate), model.weights.path_token_gated ?? 0, reasons) +
    addOne(subLabel, gated(subTokenMax, gate), model.weights.sub_token_gated ?? 0, reasons)
  );
}

function addOne(label: string, value: number, weight: number, reasons: ReasonList): number {
  const contribution = value * weight;
  if (contribution === 0) return 0;
  reasons.add(label, round(value), round(contribution));
  return contribution;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
