/**
 * Records `tsunagi survey run` output (findings JSONL) into intel as vulnerable-device sightings
 * of a named source, so the publisher routes each device to its ISP's own-network collection.
 */
import { InputError } from '../core/index.ts';
import { sightingsFromSurveyFindings, type Intel } from '../intel/index.ts';
import { readFindings } from '../survey/index.ts';

export interface FindingsImport {
  findings: number;
  /** Indicators that did not exist before. */
  created: number;
}

/** Reads a findings file (each line validated by the survey's schema) and records it; all or nothing per 5000. */
export async function importSurveyFindings(
  intel: Intel,
  path: string,
  source: string,
  actor = 'import-findings',
): Promise<FindingsImport> {
  if (!/^[\w .:@/-]{1,200}$/.test(source))
    throw new InputError(`bad source name "${source.slice(0, 80)}": letters, digits and . : @ / - only`);
  const findings = readFindings(path);
  const sightings = sightingsFromSurveyFindings(findings, source);
  let created = 0;
  for (let i = 0; i < sightings.length; i += 5000) {
    const results = await intel.recordSightings(sightings.slice(i, i + 5000), actor);
    created += results.filter((r) => r.created).length;
  }
  return { findings: findings.length, created };
}
