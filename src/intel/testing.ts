/** Test helper: intel over a store opened for the test (by default in memory), closed when it is done. */
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { openStore, type RoomMigrations, type StoreOptions } from '../store/index.ts';
import { createIntel, IntelConfig, intelMigrations, type Intel } from './index.ts';

/**
 * Runs `use` with intel (default configuration, silent) over a store of its own: in memory with
 * intel's tables unless `at` names another store and the migrations it is opened with.
 */
export async function withIntel<T>(
  use: (intel: Intel) => Promise<T>,
  at: { store: StoreOptions; migrations: readonly RoomMigrations[] } = {
    store: { memory: true },
    migrations: [intelMigrations],
  },
): Promise<T> {
  const store = await openStore(at.store, { migrations: at.migrations });
  try {
    return await use(
      createIntel(IntelConfig.parse({}), { store, logger: silentLogger(), registry: new Registry() }),
    );
  } finally {
    await store.close();
  }
}
