/**
 * What DNSSEC validation concludes for a name: secure, insecure, bogus or indeterminate, with the
 * reason. The validator (dnssec.ts) and the denial proofs (denial.ts) both answer in these terms.
 */
export type Verdict = 'secure' | 'insecure' | 'bogus' | 'indeterminate';

export interface DnssecResult {
  verdict: Verdict;
  reason: string;
  /** The deepest zone reached on the chain. */
  zone?: string;
}
