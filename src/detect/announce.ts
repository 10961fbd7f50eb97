/**
 * What the detector tells the outside world, and when: a candidate is announced when it is
 * published, announced again when its confidence has moved by at least `minChange` points or
 * its family changed since it was last announced (so a later rise reaches intel, while score
 * jitter does not flood it), and withdrawn with the detector's reason. Offline `detect` and the
 * live paths (start, detect --nats workers) announce through this one policy, which is why
 * their lists agree.
 */
import type { WithdrawReason } from './detector.ts';
import type { Candidate } from './types.ts';

/** Smallest confidence change (points) announced again. */
export const REANNOUNCE_MIN_CHANGE = 5;

export type AnnounceKind = 'new' | 'changed';

export interface AnnouncerDeps {
  onAnnounce: (candidate: Candidate, kind: AnnounceKind) => void;
  onWithdraw: (candidate: Candidate, reason: WithdrawReason) => void;
  minChange?: number;
}

export interface Announcer {
  /** The detector's onPublish. */
  publish(candidate: Candidate): void;
  /** The detector's onWithdraw. */
  withdraw(candidate: Candidate, reason: WithdrawReason): void;
  /** Announces again the published candidates that moved enough; returns how many. */
  review(published: Iterable<Candidate>): number;
  readonly counts: { announced: number; reannounced: number; withdrawn: Record<WithdrawReason, number> };
}

export function createAnnouncer(deps: AnnouncerDeps): Announcer {
  const minChange = deps.minChange ?? REANNOUNCE_MIN_CHANGE;
  const last = new Map<string, { confidence: number; family: string }>();
  const counts = {
    announced: 0,
    reannounced: 0,
    withdrawn: { expired: 0, evicted: 0, 'below-threshold': 0, 'port-moved': 0 } as Record<
      WithdrawReason,
      number
    >,
  };
  const announce = (candidate: Candidate, kind: AnnounceKind) => {
    last.set(candidate.key, { confidence: candidate.confidence, family: candidate.family });
    if (kind === 'new') counts.announced++;
    else counts.reannounced++;
    deps.onAnnounce(candidate, kind);
  };
  return {
    counts,
    publish(candidate) {
      announce(candidate, last.has(candidate.key) ? 'changed' : 'new');
    },
    withdraw(candidate, reason) {
      last.delete(candidate.key);
      counts.withdrawn[reason]++;
      deps.onWithdraw(candidate, reason);
    },
    review(published) {
      let changed = 0;
      for (const candidate of published) {
        const seen = last.get(candidate.key);
        if (!seen) {
          announce(candidate, 'new');
          changed++;
        } else if (
          Math.abs(candidate.confidence - seen.confidence) >= minChange ||
          candidate.family !== seen.family
        ) {
          announce(candidate, 'changed');
          changed++;
        }
      }
      return changed;
    },
  };
}

/** One line of English for a withdrawal reason (logs, status). */
export function withdrawReasonText(reason: WithdrawReason): string {
  switch (reason) {
    case 'expired':
      return 'evidence expired at the detector (no bot contact within the expiry, stream time)';
    case 'evicted':
      return 'evicted from the detector at its memory ceiling';
    case 'below-threshold':
      return 'confidence fell below the threshold minus hysteresis';
    case 'port-moved':
      return 'the server moved to another port (published there)';
  }
}
