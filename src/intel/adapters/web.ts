/**
 * The web room's intake into intel: malicious verdicts become sightings. Structural types, so
 * intel imports nothing of the web room.
 *
 * What is recorded: the URL (kind `url`) when its URL verdict (host name and path) is malicious,
 * and the host (kind `domain`) only when the web room's whole-host rule holds for it (`wholeHost`,
 * decided by the web room's `blocksWholeHost`, the rule its RPZ and hosts exports apply): then the
 * evidence is against the host itself, not one page on it; a compromised site's phishing path
 * records the URL alone, as does an IP host. Family is the lexicon
 * brand the site imitates (`smbc-card`), left empty when none matched.
 *
 * Tier and TLP: a phishing URL names the attacker's page, which the attacker sends to strangers;
 * it holds no subscriber's data and nothing observed inside an ISP's network, so the tier is
 * `public`. The hub's release rule makes public notice tier public AND TLP:CLEAR, so the TLP
 * decides: TLP:GREEN by default, because the verdict is a model's and may be wrong about an
 * innocent site; GREEN reaches the council (the community that blocks and takes down) and not a
 * public page. A URL that a public source already published (JPCERT/CC's list) is recorded
 * TLP:CLEAR (`tsunagi web ingest --record --tlp clear`) and so reaches public notice.
 */
import type { SightingInput } from '../normalise.ts';
import type { RecordResult } from '../write.ts';
import type { Tier, Tlp } from '../types.ts';
import type { IntelWriter } from './writer.ts';

const HOST_NAME = /^[a-z0-9.-]+$/;

export interface WebVerdictLike {
  url: string;
  host: string;
  registrableDomain: string | null;
  score: number;
  verdict: string;
  /** The web room's whole-host rule holds: the host itself is recorded, not only the URL. */
  wholeHost: boolean;
  brand: string | null;
  reasons: readonly { feature: string; value: number | string; contribution: number }[];
}

export interface WebIntakeOptions {
  tier?: Tier;
  tlp?: Tlp;
}

/** Sightings for the malicious verdicts among `verdicts`, under source `web:<source>`. */
export function sightingsFromWebVerdicts(
  verdicts: readonly WebVerdictLike[],
  source: string,
  options: WebIntakeOptions = {},
): SightingInput[] {
  const tier = options.tier ?? 'public';
  const tlp = options.tlp ?? 'green';
  const sightings: SightingInput[] = [];
  const hosts = new Set<string>();
  for (const v of verdicts) {
    if (v.verdict !== 'malicious') continue;
    const confidence = Math.max(0, Math.min(100, Math.round(v.score * 100)));
    const attributes: Record<string, string> = {
      evidence: v.reasons
        .slice(0, 6)
        .map((r) => `${r.feature}=${r.contribution}`)
        .join(' ')
        .slice(0, 1024),
    };
    if (v.registrableDomain) attributes.registrableDomain = v.registrableDomain;
    const common = {
      source: `web:${source}`,
      confidence,
      tier,
      tlp,
      attributes,
      ...(v.brand ? { family: v.brand } : {}),
    };
    if (v.url.length <= 2048) sightings.push({ type: 'url', value: v.url, ...common });
    // Intel's domains are DNS host names (letters, digits, hyphens); `a_b.example` resolves but is none.
    if (v.wholeHost && HOST_NAME.test(v.host) && !hosts.has(v.host)) {
      hosts.add(v.host);
      sightings.push({ type: 'domain', value: v.host, ...common });
    }
  }
  return sightings;
}

/** Records the malicious verdicts, 5000 sightings a transaction; returns how many indicators were new. */
export async function recordWebVerdicts(
  intel: IntelWriter,
  verdicts: readonly WebVerdictLike[],
  source: string,
  options: WebIntakeOptions & { actor?: string } = {},
): Promise<{ sightings: number; created: number }> {
  const sightings = sightingsFromWebVerdicts(verdicts, source, options);
  let created = 0;
  for (let i = 0; i < sightings.length; i += 5000) {
    const results: RecordResult[] = await intel.recordSightings(
      sightings.slice(i, i + 5000),
      options.actor ?? `web:${source}`,
    );
    created += results.filter((r) => r.created).length;
  }
  return { sightings: sightings.length, created };
}
