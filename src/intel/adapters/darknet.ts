/**
 * The darknet's intake into intel: infected hosts become bot sightings. This is the one mapping
 * from a darknet host to intel (`tsunagi start`'s live sensor and the demo both use it).
 *
 * Tier: a bot names a subscriber's host, and share's release rule (src/share/README.md) never
 * sends a host below the full tier except as the addressed copy to the organisation holding it
 * (which that rule makes whatever the indicator's tier). So a darknet bot is tier `full`, whatever
 * the sensor's own export settings say: a sensor configured `public` must not make an infected
 * host answer the public self-check. TLP is the sensor's when it is more careful than
 * AMBER+STRICT (RED keeps it from the holder too), else AMBER+STRICT.
 */
import type { SightingInput } from '../normalise.ts';
import { moreRestrictedTlp, type Tlp } from '../types.ts';
import type { IntelWriter } from './writer.ts';

/** An infected host as a darknet sensor reports it (darknet's BotIndicator, structurally). */
export interface InfectedHostLike {
  ip: string;
  /** The sensor's fingerprint (mirai, masscan, zmap, a user rule's name). */
  fingerprint?: string;
  /** The family the sensor knows otherwise (a bot list), used when the fingerprint names none. */
  family?: string;
  /** When the sensor last saw it (intel stamps its own time when absent). */
  lastSeen?: string;
  ports?: readonly number[];
  tlp?: Tlp;
}

/**
 * The malware family a darknet fingerprint names. Only Mirai's (TCP sequence = destination
 * address) is a family's own mark; masscan and ZMap are tools anyone runs, and user rules may
 * name anything, so they name no family.
 */
export function familyOfDarknetFingerprint(fingerprint: string): string | undefined {
  return fingerprint === 'mirai' ? 'mirai' : undefined;
}

export function sightingsFromInfectedHosts(
  hosts: readonly InfectedHostLike[],
  source: string,
  confidence = 70,
): SightingInput[] {
  return hosts.map((host) => {
    const family = (host.fingerprint && familyOfDarknetFingerprint(host.fingerprint)) || host.family;
    const attributes: Record<string, string> = {};
    if (host.fingerprint) attributes.fingerprint = host.fingerprint;
    if (host.ports?.length) attributes.ports = host.ports.slice(0, 16).join(';');
    return {
      type: 'bot',
      value: host.ip,
      source,
      confidence,
      tier: 'full',
      tlp: moreRestrictedTlp(host.tlp ?? 'amber+strict', 'amber+strict'),
      ...(host.lastSeen ? { observedAt: host.lastSeen } : {}),
      ...(family ? { family } : {}),
      ...(Object.keys(attributes).length ? { attributes } : {}),
    };
  });
}

export interface DarknetIntake {
  /** Sends the infected hosts not yet sent, or seen again since; returns how many went. */
  push(hosts: readonly (InfectedHostLike & { class?: string; lastSeen: string })[]): Promise<number>;
}

/** A live sensor's hosts into intel: only infected ones, and only what is news since the last push. */
export function createDarknetIntake(
  intel: IntelWriter,
  options: { source: string; confidence: number },
): DarknetIntake {
  /** lastSeen of each infected host as last sent to intel. */
  const sent = new Map<string, string>();
  return {
    async push(hosts) {
      const fresh = hosts.filter(
        (h) => (h.class === undefined || h.class === 'infected') && sent.get(h.ip) !== h.lastSeen,
      );
      if (fresh.length === 0) return 0;
      await intel.recordSightings(
        sightingsFromInfectedHosts(fresh, options.source, options.confidence),
        options.source,
      );
      for (const h of fresh) sent.set(h.ip, h.lastSeen);
      return fresh.length;
    },
  };
}
