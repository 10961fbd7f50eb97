/**
 * Turning what the detectors emit into sightings, structurally (intel does not import their
 * modules): C&C candidates from detect, infected hosts from darknet, findings from the survey.
 * C&C sightings carry no observation time from the ISP side (law rule 2): intel stamps its own.
 */
import { protocolName } from '../core/index.ts';
import type { SightingInput } from './normalise.ts';
import type { Tier, Tlp } from './types.ts';

export { protocolName } from '../core/index.ts';

export interface CandidateLike {
  ip: string;
  port: number;
  proto: number | string;
  confidence: number;
  family: string;
  /** Counts and sub-scores; kept with the indicator (full tier only) so an analyst can check it. */
  evidence?: unknown;
}

export function sightingsFromCandidates(
  candidates: readonly CandidateLike[],
  source: string,
  options: { tier?: Tier; tlp?: Tlp } = {},
): SightingInput[] {
  return candidates.map((c) => ({
    type: 'c2',
    value: c.ip,
    port: c.port,
    proto: protocolName(c.proto),
    source,
    confidence: Math.max(0, Math.min(100, c.confidence)),
    ...(c.family ? { family: c.family } : {}),
    tier: options.tier ?? 'council',
    tlp: options.tlp ?? 'amber+strict',
    ...(c.evidence !== undefined
      ? { attributes: { evidence: JSON.stringify(c.evidence).slice(0, 1024) } }
      : {}),
  }));
}

/**
 * Infected hosts seen by a darknet sensor: bots, never released below the full tier. The sensor's
 * family of a host (from its fingerprint or bot list), when it has one, goes with it.
 */
export function sightingsFromInfectedHosts(
  ips: readonly string[],
  source: string,
  confidence = 70,
  familyOf: (ip: string) => string | undefined = () => undefined,
): SightingInput[] {
  return ips.map((ip) => {
    const family = familyOf(ip);
    return {
      type: 'bot',
      value: ip,
      source,
      confidence,
      tier: 'full',
      tlp: 'amber+strict',
      ...(family ? { family } : {}),
    };
  });
}

/**
 * The malware family a darknet fingerprint names. Only Mirai's (TCP sequence = destination
 * address) is a family's own mark; masscan and ZMap are tools anyone runs, and user rules may
 * name anything, so they name no family.
 */
export function familyOfDarknetFingerprint(fingerprint: string): string | undefined {
  return fingerprint === 'mirai' ? 'mirai' : undefined;
}

export interface SurveyFindingLike {
  ip: string;
  port: number;
  status: string;
  vendor?: string;
  model?: string;
  firmware?: string;
  service?: unknown;
  cves: readonly { cve: string }[];
  weakCredential: { rule: string } | null;
}

/** Vulnerable devices from the survey: one sighting per finding; the password is never held anywhere. */
export function sightingsFromSurveyFindings(
  findings: readonly SurveyFindingLike[],
  source: string,
): SightingInput[] {
  return findings.map((f) => {
    const attributes: Record<string, string> = { status: f.status };
    if (f.model || f.vendor) attributes.product = [f.vendor, f.model].filter(Boolean).join(' ').slice(0, 200);
    if (f.vendor) attributes.vendor = f.vendor.slice(0, 200);
    if (f.firmware) attributes.version = f.firmware.slice(0, 200);
    if (f.cves[0]) attributes.cve = f.cves[0].cve;
    if (f.weakCredential) attributes.credentialRule = f.weakCredential.rule.slice(0, 200);
    if (typeof f.service === 'string') attributes.service = f.service;
    return {
      type: 'vulnerable-device',
      value: f.ip,
      port: f.port,
      proto: 'tcp',
      source,
      confidence: f.status === 'exposed' ? 40 : 90,
      tier: 'full',
      tlp: 'amber+strict',
      attributes,
    };
  });
}
