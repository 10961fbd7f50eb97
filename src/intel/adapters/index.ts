/**
 * Each source's intake into intel, one module per source, each taking the source's output
 * (structurally: intel imports none of the detector modules) and intel's write API.
 */
export { protocolName } from '../../core/index.ts';
export type { IntelWriter } from './writer.ts';
export {
  createDetectorIntake,
  sightingsFromCandidates,
  type DetectorIntake,
  type CandidateLike,
  type WithdrawnCandidateLike,
} from './detector.ts';
export {
  createDarknetIntake,
  familyOfDarknetFingerprint,
  sightingsFromInfectedHosts,
  type DarknetIntake,
  type InfectedHostLike,
} from './darknet.ts';
export { recordSurveyFindings, sightingsFromSurveyFindings, type SurveyFindingLike } from './survey.ts';
export {
  OSINT_CONFIDENCE,
  recordOsintDocument,
  sightingsFromOsint,
  osintSightingTier,
  tierOfTlp,
  type OsintDocumentLike,
  type OsintIndicatorLike,
} from './osint.ts';
export {
  createSensorIntake,
  iocListFromIndicators,
  iocListFromIntel,
  sensorSource,
  sightingsFromSensorObservations,
  type IocIndicatorLike,
  type SensorIntake,
  type SensorObservationLike,
} from './sensor.ts';
export {
  recordWebVerdicts,
  sightingsFromWebVerdicts,
  type WebIntakeOptions,
  type WebVerdictLike,
} from './web.ts';
