/** Front door of src/scenario/: the seeded traffic scenario generators and their sinks. */
export { ScenarioOptions } from './config.ts';
export {
  generateScenario,
  SCENARIO_EXPORTER,
  type Scenario,
  type ScenarioTruth,
  type C2Truth,
  type PlannedC2,
  type TrapTruth,
} from './generate.ts';
export {
  generateSeededScenario,
  botListCsv,
  SeededOptions,
  SEEDED_EXPORTER,
  type SeededScenario,
  type SeededTruth,
  type BotListRow,
  type InfectedHome,
} from './seeded/generate.ts';
export type { C2Truth as SeededC2Truth } from './seeded/c2.ts';
export type { P2pPeerTruth } from './seeded/p2p.ts';
export type { TrapTruth as SeededTrapTruth, TrapKind } from './seeded/world.ts';
export type { AddressPlanTruth } from './seeded/plan.ts';
export { drawParams, type ScenarioParams, type C2Kind } from './seeded/params.ts';
export { PacketSampler } from './sample.ts';
export { Rng } from './rng.ts';
export { evaluate, type Detection, type Evaluation } from './evaluate.ts';
export {
  scorePublications,
  bandOf,
  BANDS,
  SEEN_MIN_LISTED_BOTS,
  SEEN_MIN_CONTACTS,
  type Publication,
  type Score,
  type RecallUnit,
} from './score.ts';
export { ExportEncoder, writeExportPcap, sendExportUdp, type ExportFormat } from './emit.ts';
export { writePacketPcap, PACKET_SNAPLEN } from './packets.ts';
