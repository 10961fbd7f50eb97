/**
 * The two documents the centre signs for its sensors: the policy (what they may collect and
 * their budgets) and the IoC list (C&C IP:PORTs and domains from intel, executable hashes the
 * operator listed). Each is canonical JSON signed with the centre's Ed25519 key.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { SensorCentreConfig } from './config.ts';
import { canonicalEndpoint } from './endpoints.ts';
import {
  canonicalJson,
  IocListBody,
  signDocument,
  type PolicyBody,
  type ResolvedDomain,
  type SignedDocument,
} from './protocol.ts';

/** The budgets issue #19 sets for every terminal. */
export const SENSOR_BUDGETS = { cpuPercent: 1, rssMb: 80, hashMbPerS: 20, netBytesPerDay: 10_485_760 };

export function policyBody(policy: SensorCentreConfig['policy']): PolicyBody {
  return {
    version: policy.version,
    fields: { process: [...policy.processFields], socket: [...policy.socketFields] },
    // Never asked for: a command line can hold passwords and personal data.
    commandLines: false,
    hashExecutables: policy.hashExecutables,
    fileContents: false,
    scanIntervalMs: policy.scanIntervalMs,
    batchMaxEvents: policy.batchMaxEvents,
    budgets: SENSOR_BUDGETS,
  };
}

/** What intel offers for the list (built by intel's sensor adapter from its indicators). */
export interface IocSourceList {
  ipPorts: readonly string[];
  domains: readonly string[];
}

export interface IocList {
  document: SignedDocument;
  /** Canonical IP:PORTs of the list: a socket.open to one of them is a connection to a known C&C. */
  knownC2: ReadonlySet<string>;
  version: number;
}

const DOMAIN = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * The content of a list (sorted, canonical, valid entries only), without its version. `resolved`
 * (the centre resolver's answers) is kept for the listed domains only.
 */
export function iocContent(
  source: IocSourceList,
  hashes: readonly string[],
  resolved: readonly ResolvedDomain[] = [],
) {
  const ipPorts = [
    ...new Set(source.ipPorts.map(canonicalEndpoint).filter((e): e is string => e !== undefined)),
  ].sort();
  const domains = [
    ...new Set(source.domains.map((d) => d.toLowerCase().replace(/\.$/, '')).filter((d) => DOMAIN.test(d))),
  ].sort();
  const sha256 = [...new Set(hashes.filter((h) => /^[0-9a-f]{64}$/.test(h)))].sort();
  const listed = new Set(domains);
  const answers = resolved
    .filter((r) => listed.has(r.domain))
    .sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
  return { sha256, ipPorts, domains, resolved: answers };
}

/**
 * Keeps the signed IoC list, with a new version only when its content changed (versions are
 * seconds since the epoch, so they grow across restarts too). A domain looked up again is a
 * change (its time of resolution is part of the list), at most once per resolver refresh.
 */
export function createIocListKeeper(signingKey: KeyObject, now: () => Date) {
  let current: (IocList & { digest: string }) | undefined;
  return {
    update(
      source: IocSourceList,
      hashes: readonly string[],
      resolved: readonly ResolvedDomain[] = [],
    ): IocList {
      const content = iocContent(source, hashes, resolved);
      const digest = createHash('sha256').update(canonicalJson(content)).digest('hex');
      if (current?.digest === digest) return current;
      const version = Math.max(Math.floor(now().getTime() / 1000), (current?.version ?? 0) + 1);
      const body = IocListBody.parse({ version, ...content });
      current = {
        document: signDocument(body, signingKey),
        knownC2: new Set(content.ipPorts),
        version,
        digest,
      };
      return current;
    },
    get current(): IocList | undefined {
      return current;
    },
  };
}
