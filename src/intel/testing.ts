/** Test helper: intel over a fresh in-memory store with intel's tables, closed when the test is done. */
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { createIntel, IntelConfig, intelMigrations, type Intel } from './index.ts';

/** Runs `use` with intel (default configuration, silent) over its own in-memory store. */
export async function withMemoryIntel(use: (intel: Intel) => Promise<void>): Promise<void> {
  const store = await openStore({ memory: true }, { migrations: [intelMigrations] });
  try {
    await use(
      createIntel(IntelConfig.parse({}), { store, logger: silentLogger(), registry: new Registry() }),
    );
  } finally {
    await store.close();
  }
}
