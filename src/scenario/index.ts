/** Front door of src/scenario/: the seeded traffic scenario generator and its sinks. */
export { ScenarioOptions } from './config.ts';
export {
  generateScenario,
  SCENARIO_EXPORTER,
  type Scenario,
  type ScenarioTruth,
  type C2Truth,
  type TrapTruth,
} from './generate.ts';
export { Rng } from './rng.ts';
export { evaluate, type Detection, type Evaluation } from './evaluate.ts';
export { ExportEncoder, writeExportPcap, sendExportUdp, type ExportFormat } from './emit.ts';
