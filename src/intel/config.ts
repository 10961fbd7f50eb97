/** Intel configuration: how long each kind of indicator stays current without a new sighting, and the change feed. */
import { z } from 'zod';

const days = z.number().positive().max(3650);

export const IntelConfig = z
  .object({
    /** Days after the last sighting before an indicator expires, per kind. */
    ttlDays: z
      .object({
        c2: days.default(30),
        bot: days.default(7),
        'vulnerable-device': days.default(90),
        url: days.default(30),
        domain: days.default(30),
      })
      .prefault({}),
    /** Most sightings accepted in one recordSightings call. */
    maxBatch: z.number().int().positive().max(100_000).default(10_000),
    feed: z
      .object({
        /**
         * How often the change feed looks for writes this process did not announce (another
         * process on the same store, a write inside a caller's transaction); 0 never.
         */
        catchUpMs: z.number().int().min(0).max(3_600_000).default(1000),
        /** PostgreSQL: also catch up as soon as any process commits a write (LISTEN/NOTIFY). */
        listen: z.boolean().default(true),
        /**
         * Scaled out over NATS: the subjects the feed goes out and comes in on,
         * `<prefix>.indicator.added|updated|withdrawn` and `<prefix>.sighting.added`.
         */
        subjectPrefix: z
          .string()
          .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'NATS subject tokens separated by dots, no wildcards')
          .max(128)
          .default('tsunagi.intel'),
      })
      .prefault({}),
  })
  .prefault({});
export type IntelConfig = z.infer<typeof IntelConfig>;
