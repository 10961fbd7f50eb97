/** The survey's intake into intel: vulnerable devices, one sighting per finding; no password is ever held. */
import type { SightingInput } from '../normalise.ts';
import type { RecordResult } from '../write.ts';
import type { IntelWriter } from './writer.ts';

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

/** Records survey findings under `source`, in one transaction. */
export function recordSurveyFindings(
  intel: IntelWriter,
  findings: readonly SurveyFindingLike[],
  source: string,
  actor = source,
): Promise<RecordResult[]> {
  return intel.recordSightings(sightingsFromSurveyFindings(findings, source), actor);
}
