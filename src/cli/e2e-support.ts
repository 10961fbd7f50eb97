/**
 * Browser-test support of the CLI's end-to-end console tests: a test hub wired as `serve` wires
 * the rooms. Apart from testing.ts, so that what imports that (benchmarks wanting the room list)
 * does not load the console's browser helpers.
 */
import { DIST, startTestHub, type TestHub } from '../console/testing.ts';
import { openStore, type Store } from '../store/index.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';

/**
 * A test hub (console/testing.ts) serving the console's build over a store in memory with every
 * room's tables; `rooms` gives the rooms' readers over that store's database, as `serve` wires
 * them. The hub's close() closes the store.
 */
export async function startRoomsHub(
  rooms: (db: Store['db']) => Pick<NonNullable<Parameters<typeof startTestHub>[0]>, 'web' | 'osint'>,
): Promise<{ hub: TestHub; store: Store }> {
  const store = await openStore({ memory: true }, { migrations: ROOM_MIGRATIONS });
  const hub = await startTestHub({ store, console: { distDir: DIST }, ...rooms(store.db) });
  return { hub, store };
}
