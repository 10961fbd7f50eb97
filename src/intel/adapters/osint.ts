/**
 * The OSINT intake into intel: indicators extracted from a published document become sightings
 * whose source is the feed (`osint:<feed>`) and whose evidence is the document (its content
 * hash, URL and the sentence around the hit). Structural types, so intel imports nothing of osint.
 *
 * TLP comes from the feed's configured TLP (a public advisory is TLP:CLEAR). The confidence is low
 * on purpose: that a document names an address does not make it malicious (advisories also name
 * victims, sinkholes, researchers' sites and the vendor's own domains), so an OSINT sighting only
 * adds weight to what another source reports, and readers filter on confidence. For the same
 * reason the tier is never public on its own (`osintSightingTier`): public notice carries no
 * confidence, so a CLEAR advisory's victim would stand there as a C&C server like any confirmed
 * one. The analysis centre puts such an indicator in public notice through its review queue, as
 * any council indicator. Hashes, CVE ids and ATT&CK ids stay in the osint room: intel has no kind
 * for them.
 */
import type { SightingInput } from '../normalise.ts';
import { moreRestrictedTier, type Tier, type Tlp } from '../types.ts';
import type { RecordResult } from '../write.ts';
import type { IntelWriter } from './writer.ts';

export interface OsintIndicatorLike {
  type: string;
  value: string;
  port?: number;
  context?: string;
}

export interface OsintDocumentLike {
  /** The document's content hash (SHA-256, hex). */
  id: string;
  /** The feed's name as configured. */
  feed: string;
  url: string;
  title?: string;
  fetchedAt: string;
}

/** What an extraction alone is worth (out of 100). */
export const OSINT_CONFIDENCE = 20;

/** The tier a document's TLP gives it, that is who may read the document itself: CLEAR public, GREEN and AMBER council, RED full. */
export function tierOfTlp(tlp: Tlp): Tier {
  if (tlp === 'clear') return 'public';
  return tlp === 'red' ? 'full' : 'council';
}

/**
 * The tier of what intel records from a document: the document's tier, narrowed by the feed's
 * when one is configured (never widened), and at most council.
 */
export function osintSightingTier(tlp: Tlp, feedTier?: Tier): Tier {
  const tier = feedTier ? moreRestrictedTier(tierOfTlp(tlp), feedTier) : tierOfTlp(tlp);
  return moreRestrictedTier(tier, 'council');
}

function kindOf(type: string): SightingInput['type'] | undefined {
  if (type === 'ipv4' || type === 'ipv6') return 'c2';
  if (type === 'domain' || type === 'url') return type;
  return undefined;
}

export function sightingsFromOsint(
  document: OsintDocumentLike,
  indicators: readonly OsintIndicatorLike[],
  options: { tlp: Tlp; tier?: Tier },
): SightingInput[] {
  const tier = osintSightingTier(options.tlp, options.tier);
  const source = `osint:${document.feed}`;
  const sightings: SightingInput[] = [];
  for (const indicator of indicators) {
    const type = kindOf(indicator.type);
    if (!type) continue;
    const attributes: Record<string, string> = {
      document: document.id,
      documentUrl: document.url.slice(0, 1024),
    };
    if (document.title) attributes.documentTitle = document.title.slice(0, 1024);
    if (indicator.context) attributes.context = indicator.context.slice(0, 1024);
    // The attributes hold the latest document only (each sighting's merge overwrites them); the
    // document also goes with the sighting, which keeps every document that names the value.
    const named = {
      id: document.id,
      url: attributes.documentUrl!,
      ...(attributes.documentTitle ? { title: attributes.documentTitle } : {}),
      ...(attributes.context ? { context: attributes.context } : {}),
    };
    sightings.push({
      type,
      value: indicator.value,
      ...(type === 'c2' && indicator.port ? { port: indicator.port } : {}),
      source,
      confidence: OSINT_CONFIDENCE,
      tier,
      tlp: options.tlp,
      observedAt: document.fetchedAt,
      attributes,
      document: named,
    });
  }
  return sightings;
}

/** Records one document's indicators under `osint:<feed>`, in one transaction. */
export function recordOsintDocument(
  intel: IntelWriter,
  document: OsintDocumentLike,
  indicators: readonly OsintIndicatorLike[],
  options: { tlp: Tlp; tier?: Tier },
): Promise<RecordResult[]> {
  const sightings = sightingsFromOsint(document, indicators, options);
  if (sightings.length === 0) return Promise.resolve([]);
  return intel.recordSightings(sightings, `osint:${document.feed}`);
}
