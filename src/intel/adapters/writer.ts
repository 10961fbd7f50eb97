/** The part of intel's API an intake writes through (so an adapter needs no more than that). */
import type { SightingInput } from '../normalise.ts';
import type { IndicatorRef, RecordResult } from '../write.ts';

export interface IntelWriter {
  recordSightings(inputs: readonly SightingInput[], actor?: string): Promise<RecordResult[]>;
  withdrawSource(ref: IndicatorRef, source: string, reason: string, actor: string): Promise<unknown>;
}
