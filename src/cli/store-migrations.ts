/**
 * The rooms' tables the CLI's store is opened with. The order is fixed: the parts of a migration
 * that spans rooms (0001_initial) run in it, intel's before share's, as they shipped.
 */
import { hygieneMigrations } from '../hygiene/index.ts';
import { intelMigrations } from '../intel/index.ts';
import { osintMigrations } from '../osint/index.ts';
import { sensorMigrations } from '../sensor/index.ts';
import { shareMigrations } from '../share/index.ts';
import type { RoomMigrations } from '../store/index.ts';
import { webMigrations, webTakedownMigrations } from '../web/index.ts';

export const ROOM_MIGRATIONS: readonly RoomMigrations[] = [
  intelMigrations,
  shareMigrations,
  () => hygieneMigrations,
  () => osintMigrations,
  () => sensorMigrations,
  () => webMigrations,
  () => webTakedownMigrations,
];
