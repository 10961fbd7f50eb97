/**
 * Calibrated confidence: the detector's raw score (0-100, the threshold applies to it) mapped to
 * the probability that a published address is a real C&C server, fitted on the tuning seeds by
 * bench/detect/calibrate.ts (isotonic regression, one curve for unsampled and one for
 * packet-sampled evidence) and shipped as calibration.json. "90" then means about nine in ten.
 */
import { z } from 'zod';
import fitted from './calibration.json' with { type: 'json' };

/** One step of a monotone curve: raw scores from `from` up map to `probability`. */
const Curve = z.array(z.tuple([z.number().min(0).max(100), z.number().min(0).max(1)])).min(1);

export const CalibrationFile = z.object({
  format: z.literal('tsunagi-detect-calibration'),
  version: z.literal(1),
  /** How the curves were fitted (script, seeds, rates, candidates): shown, never used. */
  fitted: z.string(),
  unsampled: Curve,
  sampled: Curve,
});
export type CalibrationFile = z.infer<typeof CalibrationFile>;

export class Calibration {
  private readonly unsampled: Float64Array;
  private readonly sampled: Float64Array;

  constructor(file: CalibrationFile) {
    this.unsampled = Calibration.table(file.unsampled);
    this.sampled = Calibration.table(file.sampled);
  }

  /** A lookup table by integer raw score (0-100), non-decreasing. */
  private static table(curve: readonly (readonly [number, number])[]): Float64Array {
    const steps = [...curve].sort((a, b) => a[0] - b[0]);
    const out = new Float64Array(101);
    let level = 0;
    let k = 0;
    for (let score = 0; score <= 100; score++) {
      while (k < steps.length && steps[k]![0] <= score) level = Math.max(level, steps[k++]![1]);
      out[score] = level;
    }
    return out;
  }

  /** The published confidence (0-100) of a raw score, from the curve of its sampling regime. */
  confidence(rawScore: number, sampled: boolean): number {
    const score = Math.max(0, Math.min(100, Math.round(rawScore)));
    return Math.round(100 * (sampled ? this.sampled : this.unsampled)[score]!);
  }
}

/** The curves shipped with the detector. */
export const shippedCalibration = new Calibration(CalibrationFile.parse(fitted));
