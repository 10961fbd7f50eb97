/** The web room's vocabulary: a URL's keys, its verdict with the reasons, and the room's tables. */
import type { KitPathBasis } from './campaign/kit-paths.ts';

/** What a certificate-transparency entry says of the certificate (input/certificate.ts reads it). */
export interface CertificateFacts {
  /** The issuer's organisation (O), else its common name; null when the entry names none. */
  issuer: string | null;
  notBefore: string | null;
  notAfter: string | null;
  /** Days between notBefore and notAfter, one decimal; null when either is missing. */
  validityDays: number | null;
  /** DNS names in the subjectAltName extension (all_domains when the extension is absent). */
  sanCount: number;
}

export const VERDICTS = ['benign', 'suspicious', 'malicious'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** A URL reduced to the three keys the room files it under. */
export interface NormalisedUrl {
  /** The WHATWG serialisation: scheme and host lower-case, the host in punycode, no fragment. */
  url: string;
  /** The host as DNS knows it (punycode, no trailing dot); an IPv6 host without brackets. */
  host: string;
  /** The host for people to read (IDNA decoded). */
  unicodeHost: string;
  hostKind: 'domain' | 'ipv4' | 'ipv6';
  /**
   * The registrable domain under the public suffix list WITH private domains, so a tenant of a
   * shared platform (`evil.pages.dev`) is its own domain; null for an IP host or a bare suffix.
   */
  registrableDomain: string | null;
  /** The public suffix (`co.jp`, `pages.dev`); '' for an IP host. */
  publicSuffix: string;
  /** Whether the suffix is a private (platform) one such as `web.app` or `duckdns.org`. */
  privateSuffix: boolean;
  /** Labels left of the registrable domain, '' when none. */
  subdomain: string;
  /** Path, query and all: what follows the host and port. */
  path: string;
}

/** One feature's part in a score: its value and what it added to the log-odds. */
export interface Reason {
  feature: string;
  value: number | string;
  contribution: number;
}

export interface ScoredUrl extends NormalisedUrl {
  /**
   * The URL verdict: probability of phishing from the additive model over the host name AND the
   * path and query (score/url-features.ts), 0..1; for URL lists and URL indicators.
   */
  score: number;
  verdict: Verdict;
  /**
   * The host-name verdict: the same model on the name alone (no path feature), for host-level
   * filters (RPZ, Unbound, hosts files): one compromised site's path must not block its host.
   */
  hostScore: number;
  hostVerdict: Verdict;
  /** The lexicon brand the URL imitates (its key, e.g. `smbc-card`), null when none. */
  brand: string | null;
  /**
   * Every non-zero contribution to the URL verdict, largest first: the host name's, then the
   * path's (the URL part's bias listed as `url_bias`); the model's bias is not listed.
   */
  reasons: Reason[];
}

/** One URL as a source gave it, before normalising. */
export interface IngestRecord {
  url: string;
  /** When the source saw it (ISO 8601), when the source says. */
  seenAt?: string;
  /** The source's free text (JPCERT/CC's brand name column). */
  description?: string;
  /** The certificate the host was logged with (certificate transparency), when known. */
  certificate?: CertificateFacts;
}

/** A stored verdict, as the read API hands it out. */
export interface StoredVerdict extends ScoredUrl {
  firstSeen: string;
  lastSeen: string;
  /** The sources that gave the URL, with the first time each did. */
  sources: { source: string; firstSeen: string; description: string | null }[];
}

/** What the room knows of one host, for host-level filtering (RPZ, Unbound, hosts files). */
export interface HostSummary {
  host: string;
  registrableDomain: string | null;
  urls: number;
  malicious: number;
  suspicious: number;
  maxScore: number;
  brands: string[];
  /**
   * The host's verdict: malicious when one of its URLs is malicious by BOTH the host-name verdict
   * (name only, no path feature: the name itself carries the evidence) and the URL verdict, so a
   * whole-host block needs both; a compromised site's name scores benign and its phishing paths
   * are left to URL-level lists.
   */
  verdict: Verdict;
  firstSeen: string;
  lastSeen: string;
}

export interface WebTables {
  /** One row per normalised URL: its keys and latest verdict. */
  web_urls: {
    url: string;
    host: string;
    registrable_domain: string | null;
    score: number;
    verdict: Verdict;
    /** The host-name verdict; null only on rows stored before it was kept (read as score/verdict). */
    host_score: number | null;
    host_verdict: Verdict | null;
    brand: string | null;
    /** JSON array of Reason. */
    reasons: string;
    /**
     * What a tie that made the URL malicious stood on (kitPathTieBasis of the reasons, written with
     * them: a kit path's `confirmed` or `judged`, a registered domain's `judged`), null for no tie:
     * what the tie readers select on, never the reasons' JSON.
     */
    kit_tie: KitPathBasis | null;
    model: string;
    first_seen: string;
    last_seen: string;
  };
  /** First and last time each source gave a URL. */
  web_sightings: {
    source: string;
    url: string;
    first_seen: string;
    last_seen: string;
    description: string | null;
  };
}
