/**
 * A MISP feed (manifest.json, hashes.csv and one event file) of C&C servers, domains and URLs, as
 * a MISP instance pulls it with its "feed" setting. Per tier, one event whose uuid never changes;
 * attributes carry no observation times (law rule 2): the only time is the export's own.
 */
import { createHash } from 'node:crypto';
import type { Indicator, Tier } from '../intel/index.ts';
import { safeAddress, safeDomain, safeLabel, safePort, safeUrl } from './exports.ts';
import { uuidv5 } from './stix.ts';

const MISP_NAMESPACE = '6cd54954-09f2-43dc-bd3a-dc18678b18c7';

export interface MispFeed {
  eventUuid: string;
  manifest: Record<string, unknown>;
  hashes: string;
  event: { Event: Record<string, unknown> };
}

/** The attribute of an indicator; values failing their allow-list leave the indicator out. */
function attributeOf(ind: Indicator): { type: string; value: string } | undefined {
  if (ind.kind === 'c2') {
    const address = safeAddress(ind.value, 'misp');
    const port = safePort(ind.port, 'misp');
    if (!address || port === undefined) return undefined;
    return port ? { type: 'ip-dst|port', value: `${address}|${port}` } : { type: 'ip-dst', value: address };
  }
  if (ind.kind === 'domain') {
    const domain = safeDomain(ind.value, 'misp');
    return domain ? { type: 'domain', value: domain } : undefined;
  }
  if (ind.kind === 'url') {
    const url = safeUrl(ind.value, 'misp');
    return url ? { type: 'url', value: url } : undefined;
  }
  return undefined;
}

const TIER_TLP: Record<Tier, string> = { full: 'tlp:red', council: 'tlp:amber+strict', public: 'tlp:clear' };

export function mispFeed(
  indicators: readonly Indicator[],
  tier: Tier,
  org: { name: string },
  now = new Date(),
): MispFeed {
  const eventUuid = uuidv5(`misp-event|${tier}`, MISP_NAMESPACE);
  const orgc = { name: org.name, uuid: uuidv5(`misp-org|${org.name}`, MISP_NAMESPACE) };
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const date = now.toISOString().slice(0, 10);
  const tags = [{ name: TIER_TLP[tier] }, { name: `tsunagi:tier="${tier}"` }];
  const info = `tsunagi C&C servers and malicious sites (${tier} tier)`;
  const attributes: Record<string, unknown>[] = [];
  const hashes: string[] = [];
  for (const ind of indicators) {
    const attr = attributeOf(ind);
    if (!attr) continue;
    const family = safeLabel(ind.family, 'misp');
    attributes.push({
      uuid: uuidv5(`misp-attribute|${tier}|${ind.id}`, MISP_NAMESPACE),
      type: attr.type,
      category: 'Network activity',
      value: attr.value,
      to_ids: true,
      comment: [family && `family ${family}`, tier !== 'public' && `confidence ${ind.confidence}`]
        .filter(Boolean)
        .join(', '),
    });
    for (const part of attr.value.split('|'))
      hashes.push(`${createHash('md5').update(part).digest('hex')},${eventUuid}`);
  }
  const header = {
    uuid: eventUuid,
    info,
    date,
    timestamp,
    publish_timestamp: timestamp,
    published: true,
    analysis: '2',
    threat_level_id: '2',
    distribution: '0',
    Orgc: orgc,
    Tag: tags,
  };
  return {
    eventUuid,
    manifest: {
      [eventUuid]: { info, date, timestamp, analysis: 2, threat_level_id: 2, Orgc: orgc, Tag: tags },
    },
    hashes: hashes.map((h) => `${h}\n`).join(''),
    event: { Event: { ...header, Attribute: attributes } },
  };
}
