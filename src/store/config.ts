/** Store configuration: where the data lives. */
import { z } from 'zod';

export const StoreConfig = z
  .object({
    /** Directory for the embedded SQLite database; used when no database URL is set. */
    dataDir: z.string().default('./data'),
    /** PostgreSQL URL; read from TSUNAGI_DATABASE_URL by the CLI. */
    databaseUrl: z.string().default(''),
  })
  .prefault({});
export type StoreConfig = z.infer<typeof StoreConfig>;
